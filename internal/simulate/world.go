package simulate

import (
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

var (
	orgNames     = []string{"acme", "globex", "initech", "umbrella", "hooli", "vandelay", "soylent", "tyrell", "wonka", "cyberdyne", "oscorp", "aperture", "monarch", "gringotts", "zorg", "massive"}
	accountNames = []string{"prod", "dev", "staging", "shared", "data", "sandbox", "security", "logs"}
	people       = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "lena", "mateo", "nina", "omar", "priya", "quinn", "rosa", "sam", "tara", "uma", "victor", "wei", "yara", "zoe"}
	serviceNames = []string{"web", "api", "worker", "billing", "search", "checkout", "auth", "notify", "reports", "ingest", "catalog", "gateway"}
	mailerUsers  = []string{"ses-mailer", "smtp-relay", "newsletter-sender", "mail-notifier", "marketing-ses"}
	legacyUsers  = []string{"terraform-legacy", "jenkins-deployer", "backup-sync", "ci-bot-old", "s3-uploader"}
	functions    = []string{"thumbnailer", "report-builder", "webhook-relay", "nightly-export", "audit-forwarder", "cache-warmer"}
	usualTypes   = []string{"t3.micro", "t3.small", "t3.medium", "t3.large", "m5.large", "m5.xlarge", "m5.2xlarge"}
	amiIDs       = []string{"ami-0c7217cdde317cfec", "ami-04b70fa74e45c3917", "ami-0e001c9271cf7f3b9", "ami-0a0e5d9c7acc336f1"}
)

// world is everything fixed by the seed: the organisation, its accounts and people.
type world struct {
	seed     uint64
	org      string
	domain   string
	accounts []*account
	sso      string // the one person who signs in through SAML single sign-on
}

// account is one AWS account of the organisation and the resources it already has.
type account struct {
	idx      int
	id, name string
	regions  []string // used by the organisation; regions[0] is home
	admins   []string
	devs     []string
	ssoRole  string
	ciRole   string
	tfRole   string
	monRole  string
	cluster  string
	services []*service
	buckets  []string
	kmsKey   string
	funcs    []string
	inst     map[string][]string // region → instance IDs
	vpc      map[string]string
	subnets  map[string][]string
	webSG    map[string]string
	// types are the instance types this account's infrastructure runs: two of usualTypes,
	// the same all along, as a team's Terraform modules pin them.
	types   []string
	tfRuns  int    // Terraform runs so far: they take the regions in turn
	repo    string // GitHub repository deploying here
	mailer  string // IAM user whose key leaks in attack 1 ("" when not here)
	mailKey string
	legacy  string // IAM user whose key leaks in attack 2 ("" when not here)
	legKey  string
	// ci are the busy CI users of the account (Options.BusyOwners, Options.CIUsers).
	ci []*ciUser
}

// service is an ECS service the organisation runs; rev is its latest task definition.
type service struct {
	name        string
	rev         int
	desired     int
	cpu, memory string
}

func newWorld(o Options) *world {
	r := newRnd(o.Seed, 0x776f726c64) // "world"
	w := &world{seed: o.Seed, org: pick(r, orgNames)}
	w.domain = w.org + ".example.com"
	names := slices.Clone(people)
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	w.sso = names[0] + "." + names[1] + "@" + w.domain
	names = names[2:]
	for i := range o.Accounts {
		a := &account{
			idx: i, id: r.digits(12), name: accountNames[i], regions: o.Regions,
			ciRole: "github-actions-deploy", tfRole: "codebuild-" + w.org + "-infra-service-role",
			monRole: pick(r, []string{"datadog-integration", "observability-readonly", "cloudhealth-readonly"}),
			ssoRole: "AWSReservedSSO_" + pick(r, []string{"AdministratorAccess", "PowerUserAccess"}) + "_" + r.str(hexChars, 16),
			inst:    map[string][]string{}, vpc: map[string]string{}, subnets: map[string][]string{}, webSG: map[string]string{},
			kmsKey: r.uuid(),
		}
		a.cluster = a.name
		// From a stream of their own, so that the rest of the world is as before.
		tr := newRnd(o.Seed, 0x7479706573+uint64(i)) // "types"
		a.types = slices.Clone(usualTypes)
		tr.Shuffle(len(a.types), func(i, j int) { a.types[i], a.types[j] = a.types[j], a.types[i] })
		a.types = a.types[:2]
		a.repo = w.org + "/" + pick(r, []string{"platform", "infra", "monorepo", "services"})
		take := func(n int) []string {
			n = min(n, len(names))
			out := names[:n]
			names = names[n:]
			return out
		}
		a.admins = take(r.between(1, 2))
		a.devs = take(r.between(3, 5))
		if len(a.devs) == 0 {
			a.devs = a.admins
		}
		svcs := slices.Clone(serviceNames)
		r.Shuffle(len(svcs), func(i, j int) { svcs[i], svcs[j] = svcs[j], svcs[i] })
		for _, s := range svcs[:r.between(2, 4)] {
			cpu := pick(r, []string{"512", "1024", "2048"})
			mem := map[string]string{"512": "1024", "1024": "2048", "2048": "4096"}[cpu]
			a.services = append(a.services, &service{name: s, rev: r.between(20, 180), desired: r.between(1, 4), cpu: cpu, memory: mem})
		}
		for _, s := range []string{"assets", "uploads", "backups", "data-lake"}[:r.between(2, 4)] {
			a.buckets = append(a.buckets, w.org+"-"+a.name+"-"+s+"-"+r.str(lowerAlnum, 6))
		}
		fs := slices.Clone(functions)
		r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		a.funcs = fs[:r.between(2, 4)]
		for _, reg := range standardRegions {
			a.vpc[reg] = r.hexID("vpc-0", 16)
			a.subnets[reg] = []string{r.hexID("subnet-0", 16), r.hexID("subnet-0", 16), r.hexID("subnet-0", 16)}
		}
		for _, reg := range a.regions {
			for range r.between(4, 12) {
				a.inst[reg] = append(a.inst[reg], r.hexID("i-0", 16))
			}
			a.webSG[reg] = r.hexID("sg-0", 16)
		}
		w.accounts = append(w.accounts, a)
	}
	prod := w.accounts[0]
	prod.mailer, prod.mailKey = pick(r, mailerUsers), r.key("AKIA")
	dev := w.accounts[len(w.accounts)-1]
	dev.legacy, dev.legKey = pick(r, legacyUsers), r.key("AKIA")
	if o.BusyOwners || o.CIUsers > 0 {
		// From a stream of their own, so that the rest of the world is as without them.
		cr := newRnd(o.Seed, 0x6369757365727300) // "ciusers"
		for _, a := range w.accounts {
			names := slices.Clone(ciUserNames)
			cr.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
			next := func() string { n := names[0]; names = names[1:]; return n }
			if o.BusyOwners && a.mailer != "" {
				a.mailer = next()
				a.ci = append(a.ci, newCIUser(cr, a, a.mailer, a.mailKey))
			}
			if o.BusyOwners && a.legacy != "" {
				a.legacy = next()
				a.ci = append(a.ci, newCIUser(cr, a, a.legacy, a.legKey))
			}
			for range o.CIUsers {
				a.ci = append(a.ci, newCIUser(cr, a, next(), cr.key("AKIA")))
			}
		}
	}
	return w
}

// pid returns a stable principal ID (AIDA…, AROA…) for a name in an account; it depends on
// the seed, so names repeat across seeds but IDs do not.
func (w *world) pid(prefix string, a *account, name string) string {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(w.seed, 10) + "/" + a.id + "/" + name))
	return newRnd(h.Sum64(), 1).key(prefix)
}

// actor is who makes calls: the rendered userIdentity, the source address and user agent,
// and whether the credentials come from a console session.
type actor struct {
	id      []byte
	arn     string
	key     string
	ip, ua  string
	console bool
	kind    string // userIdentity.type
}

func (a actor) with(ip, ua string) actor { a.ip, a.ua = ip, ua; return a }

// iamUser is an IAM user calling with a long-term key (AKIA…), or, when session is not zero,
// with the temporary key of a console session opened then.
func (w *world) iamUser(a *account, name, key string, session time.Time, mfa bool) actor {
	arn := "arn:aws:iam::" + a.id + ":user/" + name
	var j jw
	j.o("").s("type", "IAMUser").s("principalId", w.pid("AIDA", a, name)).s("arn", arn).s("accountId", a.id)
	if key != "" {
		j.s("accessKeyId", key)
	}
	j.s("userName", name)
	if !session.IsZero() {
		j.o("sessionContext").o("sessionIssuer").c().o("webIdFederationData").c()
		j.o("attributes").ts("creationDate", session).s("mfaAuthenticated", strconv.FormatBool(mfa)).c().c()
	}
	j.c()
	return actor{id: j.b, arn: arn, key: key, console: !session.IsZero(), kind: "IAMUser"}
}

// role is a session of an assumed role; invokedBy is set when an AWS service calls on its
// behalf.
func (w *world) role(a *account, role, session, key string, created time.Time, mfa bool, invokedBy string) actor {
	rid := w.pid("AROA", a, role)
	arn := "arn:aws:sts::" + a.id + ":assumed-role/" + role + "/" + session
	var j jw
	j.o("").s("type", "AssumedRole").s("principalId", rid+":"+session).s("arn", arn).s("accountId", a.id).s("accessKeyId", key)
	j.o("sessionContext").o("sessionIssuer").s("type", "Role").s("principalId", rid).s("arn", "arn:aws:iam::"+a.id+":role/"+role).s("accountId", a.id).s("userName", role).c()
	j.o("webIdFederationData").c().o("attributes").ts("creationDate", created).s("mfaAuthenticated", strconv.FormatBool(mfa)).c().c()
	if invokedBy != "" {
		j.s("invokedBy", invokedBy)
	}
	j.c()
	return actor{id: j.b, arn: arn, key: key, kind: "AssumedRole"}
}

// root is the account's root user in a console session.
func (w *world) root(a *account, key string, session time.Time) actor {
	arn := "arn:aws:iam::" + a.id + ":root"
	var j jw
	j.o("").s("type", "Root").s("principalId", a.id).s("arn", arn).s("accountId", a.id)
	if key != "" {
		j.s("accessKeyId", key).o("sessionContext").o("sessionIssuer").c().o("webIdFederationData").c()
		j.o("attributes").ts("creationDate", session).s("mfaAuthenticated", "true").c().c()
	}
	j.c()
	return actor{id: j.b, arn: arn, key: key, console: key != "", kind: "Root"}
}

// awsService is an AWS service calling on its own behalf.
func awsService(name string) actor {
	var j jw
	j.o("").s("type", "AWSService").s("invokedBy", name).c()
	return actor{id: j.b, ip: name, ua: name, kind: "AWSService"}
}

const (
	ciUA        = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#ecs.register-task-definition"
	terraformUA = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.78.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 exec-env/CodeBuild api/ec2#1.193.0"
	pollerUA    = "aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.190.0 m/E"
	appUA       = "aws-sdk-java/2.29.20 Linux/5.10.228-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/standard"
	boto3UA     = "Boto3/1.35.60 md/Botocore#1.35.60 ua/2.0 os/linux#5.15.0-1071-aws md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.60"
	attackerUA  = "Boto3/1.26.45 Python/3.8.10 Linux/5.4.0-150-generic Botocore/1.29.45"
	attacker2UA = "aws-cli/1.22.34 Python/3.10.12 Linux/5.15.0-91-generic botocore/1.23.34"
	browserMac  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	browserWin  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
	consoleUA   = "AWS Internal"
)
