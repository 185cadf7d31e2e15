package benchcorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

var regions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// account is one AWS account and the principals that act in it.
type account struct {
	id    string
	users []identity // IAM users calling with long-term keys
	roles []identity // assumed-role sessions
	root  identity
}

// identity is a CloudTrail userIdentity block.
type identity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
}

type sessionContext struct {
	SessionIssuer *sessionIssuer `json:"sessionIssuer,omitempty"`
	Attributes    struct {
		CreationDate     string `json:"creationDate"`
		MFAAuthenticated string `json:"mfaAuthenticated"`
	} `json:"attributes"`
}

type sessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// record is a CloudTrail event, its keys in the order AWS writes them.
type record struct {
	EventVersion        string    `json:"eventVersion"`
	UserIdentity        *identity `json:"userIdentity"`
	EventTime           string    `json:"eventTime"`
	EventSource         string    `json:"eventSource"`
	EventName           string    `json:"eventName"`
	AWSRegion           string    `json:"awsRegion"`
	SourceIPAddress     string    `json:"sourceIPAddress"`
	UserAgent           string    `json:"userAgent"`
	ErrorCode           string    `json:"errorCode,omitempty"`
	ErrorMessage        string    `json:"errorMessage,omitempty"`
	RequestParameters   any       `json:"requestParameters"`
	ResponseElements    any       `json:"responseElements"`
	AdditionalEventData any       `json:"additionalEventData,omitempty"`
	RequestID           string    `json:"requestID"`
	EventID             string    `json:"eventID"`
	ReadOnly            bool      `json:"readOnly"`
	Resources           []obj     `json:"resources,omitempty"`
	EventType           string    `json:"eventType"`
	ManagementEvent     bool      `json:"managementEvent"`
	RecipientAccountID  string    `json:"recipientAccountId"`
	EventCategory       string    `json:"eventCategory"`
	TLSDetails          *tls      `json:"tlsDetails,omitempty"`
	FromConsole         string    `json:"sessionCredentialFromConsole,omitempty"`
}

type tls struct {
	TLSVersion  string `json:"tlsVersion"`
	CipherSuite string `json:"cipherSuite"`
	Host        string `json:"clientProvidedHostHeader"`
}

type obj = map[string]any

// call is what an API generator fills in beyond the common envelope.
type call struct {
	req, resp, extra any
	resources        []obj
}

// api is one CloudTrail eventName and how to make its parameters.
type api struct {
	source, name string
	weight       int
	readOnly     bool
	data         bool // an S3 data event
	make         func(g *generator, c *ctx) call
}

// ctx is the per-event state an API generator may read.
type ctx struct {
	acct   *account
	region string
	who    *identity
}

// generator draws everything from one seeded source.
type generator struct {
	r        *rand.Rand
	accounts []*account
	apis     []api
	cum      []int // cumulative API weights
	enc      *json.Encoder
	buf      bytes.Buffer
}

func newGenerator(seed uint64) *generator {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x7472_6169_6c68_6f75))}
	g.enc = json.NewEncoder(&g.buf)
	g.enc.SetEscapeHTML(false)
	for _, id := range []string{"111122223333", "444455556666"} {
		g.accounts = append(g.accounts, g.newAccount(id))
	}
	g.apis = catalog()
	total := 0
	for _, a := range g.apis {
		total += a.weight
		g.cum = append(g.cum, total)
	}
	return g
}

var (
	userNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "ci-deploy"}
	roleNames = []string{"OrganizationAccountAccessRole", "AdminRole", "ReadOnly", "ecsTaskExecutionRole",
		"lambda-orders-exec", "github-actions-deploy", "AWSReservedSSO_PowerUserAccess_0a1b2c3d4e5f6789",
		"eks-node-group-role", "DataPipelineRole", "SecurityAudit"}
	sessionNames = []string{"i-0a1b2c3d4e5f67890", "botocore-session-1709251200", "alice@example.com",
		"GitHubActions", "aws-go-sdk-1709251200000", "terraform", "AssumeRoleSession"}
	userAgents = []string{
		"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.164.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/ec2.describe-instances",
		"aws-cli/2.13.5 Python/3.11.4 Darwin/23.3.0 exe/x86_64 prompt/off command/s3.ls",
		"Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.51",
		"aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.149.1",
		"APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.39.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
		"AWS Internal",
		"console.amazonaws.com",
		"aws-sdk-java/1.12.670 Linux/5.10.209-198.858.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+8-LTS java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE",
	}
	rareAgents = []string{
		"S3 Browser 11.5.7 https://s3browser.com",
		"Boto3/1.34.51 Python/3.11.8 Linux/6.6.9-amd64 distrib#kali.2024 Botocore/1.34.51",
		"TruffleHog",
		"aws-cli/1.18.69 Python/3.8.10 Linux/5.15.0-1051-aws botocore/1.16.19 (parrot)",
	}
	services = []string{"ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com",
		"cloudformation.amazonaws.com", "autoscaling.amazonaws.com", "ssm.amazonaws.com"}
	instanceTypes = []string{"t3.micro", "t3.medium", "m6i.large", "c7g.xlarge", "r6i.2xlarge", "p4d.24xlarge"}
	buckets       = []string{"acme-prod-logs", "acme-data-lake", "acme-terraform-state", "acme-backups", "public-assets-acme"}
	errs          = []struct{ code, msg string }{
		{"AccessDenied", "User: %s is not authorized to perform: %s on resource: * because no identity-based policy allows the action"},
		{"Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: %s is not authorized to perform: %s"},
		{"NoSuchEntityException", "The user with name %s cannot be found. (%s)"},
		{"ThrottlingException", "Rate exceeded for %s calling %s"},
	}
)

func (g *generator) newAccount(id string) *account {
	a := &account{id: id}
	for _, n := range userNames {
		a.users = append(a.users, identity{Type: "IAMUser", PrincipalID: "AIDA" + g.upper(17),
			ARN: "arn:aws:iam::" + id + ":user/" + n, AccountID: id, AccessKeyID: "AKIA" + g.upper(16), UserName: n})
	}
	for _, rn := range roleNames {
		roleID := "AROA" + g.upper(17)
		for _, sn := range sessionNames[:3+g.r.IntN(len(sessionNames)-2)] {
			sc := &sessionContext{SessionIssuer: &sessionIssuer{Type: "Role", PrincipalID: roleID,
				ARN: "arn:aws:iam::" + id + ":role/" + rn, AccountID: id, UserName: rn}}
			sc.Attributes.MFAAuthenticated = "false"
			a.roles = append(a.roles, identity{Type: "AssumedRole", PrincipalID: roleID + ":" + sn,
				ARN: "arn:aws:sts::" + id + ":assumed-role/" + rn + "/" + sn, AccountID: id,
				AccessKeyID: "ASIA" + g.upper(16), SessionContext: sc})
		}
	}
	a.root = identity{Type: "Root", PrincipalID: id, ARN: "arn:aws:iam::" + id + ":root", AccountID: id, AccessKeyID: "ASIA" + g.upper(16)}
	return a
}

// event appends one synthetic event to dst.
func (g *generator) event(dst []byte, a *account, region string, at time.Time) []byte {
	i := g.r.IntN(g.cum[len(g.cum)-1])
	k := 0
	for g.cum[k] <= i {
		k++
	}
	ap := &g.apis[k]
	c := &ctx{acct: a, region: region}
	rec := record{
		EventVersion: "1.09", EventTime: at.Format(time.RFC3339), EventSource: ap.source, EventName: ap.name,
		AWSRegion: region, RequestID: g.uuid(), EventID: g.uuid(), ReadOnly: ap.readOnly,
		EventType: "AwsApiCall", ManagementEvent: !ap.data, RecipientAccountID: a.id, EventCategory: "Management",
	}
	if ap.data {
		rec.EventCategory = "Data"
	}
	// Caller: mostly roles, then users, rarely root, sometimes an AWS service.
	switch w := g.r.IntN(100); {
	case w < 55:
		id := a.roles[g.r.IntN(len(a.roles))]
		sc := *id.SessionContext
		sc.Attributes.CreationDate = at.Add(-time.Duration(g.r.IntN(3600)) * time.Second).Format(time.RFC3339)
		id.SessionContext = &sc
		c.who = &id
	case w < 88:
		id := a.users[g.r.IntN(len(a.users))]
		c.who = &id
	case w < 90:
		id := a.root
		c.who = &id
	default:
		svc := services[g.r.IntN(len(services))]
		c.who = &identity{Type: "AWSService", InvokedBy: svc}
	}
	rec.UserIdentity = c.who
	if c.who.Type == "AWSService" {
		rec.SourceIPAddress, rec.UserAgent = c.who.InvokedBy, c.who.InvokedBy
	} else {
		rec.SourceIPAddress = g.ip()
		rec.UserAgent = userAgents[g.r.IntN(len(userAgents))]
		if g.r.IntN(200) == 0 {
			rec.UserAgent = rareAgents[g.r.IntN(len(rareAgents))]
		}
		host := strings.TrimSuffix(ap.source, ".amazonaws.com") + "." + region + ".amazonaws.com"
		rec.TLSDetails = &tls{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", Host: host}
		if g.r.IntN(4) == 0 {
			rec.TLSDetails.TLSVersion, rec.TLSDetails.CipherSuite = "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"
		}
	}
	cl := ap.make(g, c)
	rec.RequestParameters, rec.ResponseElements, rec.AdditionalEventData, rec.Resources = cl.req, cl.resp, cl.extra, cl.resources
	if ap.source == "signin.amazonaws.com" {
		rec.EventType = "AwsConsoleSignIn"
		rec.TLSDetails = nil
	}
	if !ap.readOnly && g.r.IntN(20) == 0 || ap.readOnly && g.r.IntN(40) == 0 {
		e := errs[g.r.IntN(len(errs))]
		rec.ErrorCode = e.code
		rec.ErrorMessage = fmt.Sprintf(e.msg, c.who.ARN, strings.TrimSuffix(ap.source, ".amazonaws.com")+":"+ap.name)
		rec.ResponseElements = nil
	}
	g.buf.Reset()
	if err := g.enc.Encode(&rec); err != nil {
		// Only plain values are encoded: an error here is a bug in this package.
		panic(fmt.Sprintf("benchcorpus: encoding an event: %v", err))
	}
	return append(dst, bytes.TrimSuffix(g.buf.Bytes(), []byte("\n"))...)
}

func (g *generator) pick(s []string) string { return s[g.r.IntN(len(s))] }

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func (g *generator) upper(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = upperAlnum[g.r.IntN(len(upperAlnum))]
	}
	return string(b)
}

func (g *generator) alnum(n int) string {
	const s = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = s[g.r.IntN(len(s))]
	}
	return string(b)
}

func (g *generator) hex(n int) string {
	const s = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = s[g.r.IntN(len(s))]
	}
	return string(b)
}

func (g *generator) uuid() string {
	return g.hex(8) + "-" + g.hex(4) + "-4" + g.hex(3) + "-8" + g.hex(3) + "-" + g.hex(12)
}

// ip returns a documentation-range address (RFC 5737), or a private one.
func (g *generator) ip() string {
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("198.51.100.%d", g.r.IntN(254)+1)
	case 1:
		return fmt.Sprintf("203.0.113.%d", g.r.IntN(254)+1)
	case 2:
		return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(4), g.r.IntN(256), g.r.IntN(254)+1)
	}
	return fmt.Sprintf("192.0.2.%d", g.r.IntN(254)+1)
}

func (g *generator) instanceID() string { return "i-0" + g.hex(16) }

// policy returns a URL-encoded IAM policy document, as IAM events carry them.
func (g *generator) policy(c *ctx) string {
	actions := []string{`"s3:GetObject"`, `"s3:ListBucket"`, `"ec2:Describe*"`, `"iam:PassRole"`, `"kms:Decrypt"`, `"logs:PutLogEvents"`}
	n := 1 + g.r.IntN(len(actions))
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Stmt%d","Effect":"Allow","Action":[%s],"Resource":["arn:aws:s3:::%s/*","arn:aws:s3:::%s"]}]}`,
		g.r.IntN(1e9), strings.Join(actions[:n], ","), g.pick(buckets), g.pick(buckets))
	return url.QueryEscape(doc)
}

func simple(req func(g *generator, c *ctx) obj) func(g *generator, c *ctx) call {
	return func(g *generator, c *ctx) call { return call{req: req(g, c)} }
}

func noParams(*generator, *ctx) call { return call{} }
