package simulate

import (
	"strconv"
	"time"
)

// ciUserNames name the busy CI users of an account.
var ciUserNames = []string{"ci-deploy", "terraform-ci", "github-deployer", "jenkins-prod", "gitlab-runner", "spinnaker-deploy", "buildkite-agent", "atlantis-apply"}

// ciUser is a busy CI/deployment IAM user: one long-term access key that the organisation's
// pipeline uses all day from its own runners (Terraform and the AWS CLI): test instances
// launched and terminated a run later, ECS deployments of its own services, IAM roles of
// ephemeral environments created and deleted, new versions of a managed policy. It is the
// shape of the owner of a leaked key (Options.BusyOwners) and of benign busy users
// (Options.CIUsers).
type ciUser struct {
	name, key string
	// ips are the runners' addresses (self-hosted, behind fixed NAT addresses); uas the
	// pipeline's two clients.
	ips      []string
	tfUA     string
	cliUA    string
	policy   string              // customer managed policy the pipeline versions
	versions []string            // its non-default versions, oldest first
	live     map[string][]string // region → instances launched and not yet terminated
	roles    []string            // ephemeral roles not yet deleted, oldest first
	rev      int                 // revision of its task definitions
	version  int                 // latest version of policy
	runs     int
	truth    *OwnerTruth
}

// DefaultCIRunsPerDay is the number of pipeline runs of a CI user on a weekday.
const DefaultCIRunsPerDay = 100

// newCIUser returns a CI user of account a named name with key, drawing its runners from r.
func newCIUser(r rnd, a *account, name, key string) *ciUser {
	c := &ciUser{name: name, key: key, live: map[string][]string{}, rev: r.between(10, 90), version: 1}
	net := "198.18." + strconv.Itoa(10+a.idx*16+r.IntN(16))
	for range r.between(2, 4) {
		c.ips = append(c.ips, r.ipIn(net))
	}
	c.tfUA = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.78.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 exec-env/" + name
	c.cliUA = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/" + name + " cfg/retry-mode#standard md/installer#exe md/prompt#off"
	c.policy = "arn:aws:iam::" + a.id + ":policy/" + name + "-deploy"
	return c
}

// scheduleCI plans the runs of the CI users of every account on the day starting at day.
func (g *gen) scheduleCI(day time.Time, weekday bool) {
	runs := g.opts.CIRunsPerDay
	if !weekday {
		runs = max(1, runs/4)
	}
	for _, a := range g.w.accounts {
		for _, c := range a.ci {
			// Runs spread over the day, every ~24h/runs, with jitter: CI never sleeps.
			step := 86400 / runs
			for i := range runs {
				at := day.Add(time.Duration(i*step+g.r.IntN(max(1, step))) * time.Second)
				g.schedule(at, func(t time.Time) { g.ciRun(a, c, t) })
			}
		}
	}
}

// ciRun is one pipeline run: identity check, a few reads, the previous run's test instances
// terminated and new ones launched, every third run an ECS deployment, every eighth an
// ephemeral IAM role made (and the oldest removed), every twelfth a new policy version.
func (g *gen) ciRun(a *account, c *ciUser, t time.Time) {
	region := a.regions[c.runs%len(a.regions)]
	c.runs++
	ip := pick(g.r, c.ips)
	tf := g.w.iamUser(a, c.name, c.key, time.Time{}, false).with(ip, c.tfUA)
	cli := tf.with(ip, c.cliUA)
	r := g.call(t, a, "us-east-1", &cli, "sts.amazonaws.com", "GetCallerIdentity")
	c.truth.Events++
	g.emit(r)
	for i, name := range []string{"DescribeInstances", "DescribeSubnets", "DescribeSecurityGroups"} {
		r := g.call(sec(t, 2+i), a, region, &tf, "ec2.amazonaws.com", name)
		r.req = g.q().o("").o("filterSet").c().c().b
		c.truth.Events++
		g.emit(r)
	}
	at := sec(t, 8)
	if old := c.live[region]; len(old) > 0 {
		r := g.call(at, a, region, &tf, "ec2.amazonaws.com", "TerminateInstances")
		w := g.q().o("").o("instancesSet").a("items")
		for _, id := range old {
			w.o("").s("instanceId", id).c()
		}
		r.req = w.ca().c().c().b
		w = g.p().o("").s("requestId", g.r.uuid()).o("instancesSet").a("items")
		for _, id := range old {
			w.o("").s("instanceId", id).o("currentState").n("code", 32).s("name", "shutting-down").c().o("previousState").n("code", 16).s("name", "running").c().c()
		}
		r.resp = w.ca().c().c().b
		c.truth.Events++
		g.emit(r)
		c.live[region] = old[:0]
		at = sec(at, 3)
	}
	for range g.r.between(2, 4) {
		typ := a.types[g.r.IntN(len(a.types))]
		inst, _ := g.runInstance(at, a, region, &tf, typ)
		c.truth.Events++
		c.live[region] = append(c.live[region], inst)
		c.truth.Resources = append(c.truth.Resources, Resource{Kind: "ec2-instance", Account: a.id, Region: region, ID: inst, Name: typ})
		at = sec(at, g.r.between(1, 3))
	}
	if c.runs%3 == 0 {
		s := a.services[c.runs/3%len(a.services)]
		family := s.name + "-" + c.name
		c.rev++
		image := a.id + ".dkr.ecr." + region + ".amazonaws.com/" + s.name + ":" + g.r.str(hexChars, 7)
		g.registerTaskDef(sec(at, 5), a, region, &cli, family, image, s.cpu, s.memory, c.rev)
		c.truth.Events++
		c.truth.Resources = append(c.truth.Resources, Resource{Kind: "ecs-task-definition", Account: a.id, Region: region, Name: family + ":" + strconv.Itoa(c.rev), Image: image})
		r := g.call(sec(at, 7), a, region, &cli, "ecs.amazonaws.com", "UpdateService")
		r.req = g.q().o("").s("cluster", a.cluster).s("service", family).s("taskDefinition", family+":"+strconv.Itoa(c.rev)).c().b
		r.resp = g.p().o("").o("service").s("serviceArn", "arn:aws:ecs:"+region+":"+a.id+":service/"+a.cluster+"/"+family).s("serviceName", family).
			s("status", "ACTIVE").n("desiredCount", 1).s("launchType", "FARGATE").s("taskDefinition", "arn:aws:ecs:"+region+":"+a.id+":task-definition/"+family+":"+strconv.Itoa(c.rev)).c().c().b
		c.truth.Events++
		g.emit(r)
	}
	if c.runs%8 == 0 {
		g.ciRoles(a, c, sec(at, 12))
	}
	if c.runs%12 == 0 {
		g.ciPolicyVersion(a, c, sec(at, 20))
	}
}

// ciRoles creates the role of an ephemeral environment with an inline policy and deletes
// the oldest one once three are alive.
func (g *gen) ciRoles(a *account, c *ciUser, t time.Time) {
	tf := g.w.iamUser(a, c.name, c.key, time.Time{}, false).with(pick(g.r, c.ips), c.tfUA)
	name := "preview-" + g.r.str(lowerAlnum, 8) + "-task"
	arn := "arn:aws:iam::" + a.id + ":role/" + name
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	r := g.call(t, a, "us-east-1", &tf, "iam.amazonaws.com", "CreateRole")
	r.req = g.q().o("").s("roleName", name).s("assumeRolePolicyDocument", trust).s("description", "Managed by Terraform").c().b
	r.resp = g.p().o("").o("role").s("path", "/").s("roleName", name).s("roleId", g.w.pid("AROA", a, name)).s("arn", arn).
		s("createDate", t.UTC().Format("Jan 2, 2006, 3:04:05 PM")).s("assumeRolePolicyDocument", trust).c().c().b
	c.truth.Events++
	g.emit(r)
	r = g.call(sec(t, 1), a, "us-east-1", &tf, "iam.amazonaws.com", "PutRolePolicy")
	r.req = g.q().o("").s("roleName", name).s("policyName", "app").
		s("policyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::`+a.buckets[0]+`/*"}]}`).c().b
	c.truth.Events++
	g.emit(r)
	c.truth.Resources = append(c.truth.Resources, Resource{Kind: "iam-role", Account: a.id, Region: "global", Name: name, ARN: arn},
		Resource{Kind: "iam-role-policy", Account: a.id, Region: "global", Parent: name, Policy: "app"})
	c.roles = append(c.roles, name)
	if len(c.roles) <= 3 {
		return
	}
	old := c.roles[0]
	c.roles = c.roles[1:]
	r = g.call(sec(t, 3), a, "us-east-1", &tf, "iam.amazonaws.com", "DeleteRolePolicy")
	r.req = g.q().o("").s("roleName", old).s("policyName", "app").c().b
	c.truth.Events++
	g.emit(r)
	r = g.call(sec(t, 4), a, "us-east-1", &tf, "iam.amazonaws.com", "DeleteRole")
	r.req = g.q().o("").s("roleName", old).c().b
	c.truth.Events++
	g.emit(r)
}

// ciPolicyVersion publishes a new default version of the pipeline's managed policy and
// deletes the oldest once four remain (IAM keeps five).
func (g *gen) ciPolicyVersion(a *account, c *ciUser, t time.Time) {
	tf := g.w.iamUser(a, c.name, c.key, time.Time{}, false).with(pick(g.r, c.ips), c.tfUA)
	c.version++
	v := "v" + strconv.Itoa(c.version)
	r := g.call(t, a, "us-east-1", &tf, "iam.amazonaws.com", "CreatePolicyVersion")
	r.req = g.q().o("").s("policyArn", c.policy).t("setAsDefault", true).
		s("policyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:UpdateService","ecs:RegisterTaskDefinition"],"Resource":"*"}]}`).c().b
	r.resp = g.p().o("").o("policyVersion").s("versionId", v).t("isDefaultVersion", true).s("createDate", t.UTC().Format("Jan 2, 2006, 3:04:05 PM")).c().c().b
	c.truth.Events++
	g.emit(r)
	c.truth.Resources = append(c.truth.Resources, Resource{Kind: "iam-policy-version", Account: a.id, Region: "global", Name: v, ARN: c.policy})
	c.versions = append(c.versions, v)
	if len(c.versions) <= 4 {
		return
	}
	old := c.versions[0]
	c.versions = c.versions[1:]
	r = g.call(sec(t, 2), a, "us-east-1", &tf, "iam.amazonaws.com", "DeletePolicyVersion")
	r.req = g.q().o("").s("policyArn", c.policy).s("versionId", old).c().b
	c.truth.Events++
	g.emit(r)
}

// runInstance emits an ec2:RunInstances of one instance of typ in the account's web subnet
// and group, and returns the instance id and the eventID (valid until the next emit); g.cur
// is the record.
func (g *gen) runInstance(t time.Time, a *account, region string, who *actor, typ string) (string, []byte) {
	r := g.call(t, a, region, who, "ec2.amazonaws.com", "RunInstances")
	inst := g.r.hexID("i-0", 17)
	r.req = g.q().o("").o("instancesSet").a("items").o("").s("imageId", pick(g.r, amiIDs)).n("minCount", 1).n("maxCount", 1).c().ca().c().
		s("instanceType", typ).o("groupSet").a("items").o("").s("groupId", a.webSG[region]).c().ca().c().s("subnetId", a.subnets[region][0]).
		o("monitoring").t("enabled", true).c().t("disableApiTermination", false).c().b
	r.resp = g.p().o("").s("requestId", g.r.uuid()).s("reservationId", g.r.hexID("r-0", 17)).s("ownerId", a.id).o("instancesSet").a("items").
		o("").s("instanceId", inst).s("imageId", pick(g.r, amiIDs)).o("instanceState").n("code", 0).s("name", "pending").c().s("instanceType", typ).
		s("subnetId", a.subnets[region][0]).s("vpcId", a.vpc[region]).c().ca().c().c().b
	return inst, g.emit(r)
}
