package simulate

import (
	"strconv"
	"time"
)

// bulkState keeps the role sessions background traffic uses; they are renewed hourly.
type bulkState struct {
	until    time.Time
	mon      actor
	app      []actor // one task-role session per service
	appViaS3 []actor
	fn       []actor
	exec     actor
	nat      string
	ownIP    string // address of AWS-hosted callers (Lambda)
}

// renew starts fresh role sessions for the hour starting at t.
func (g *gen) renew(a *account, b *bulkState, t time.Time) {
	b.until = t.Add(time.Hour)
	if b.nat == "" {
		b.nat = "198.51.100." + strconv.Itoa(10+a.idx*20+g.r.IntN(10))
		b.ownIP = "192.0.2." + strconv.Itoa(100+a.idx*20+g.r.IntN(10))
	}
	created := t.Add(-time.Duration(g.r.IntN(600)) * time.Second)
	b.mon = g.w.role(a, a.monRole, a.monRole, g.r.key("ASIA"), created, false, "").with(b.nat, pollerUA)
	b.app, b.appViaS3 = b.app[:0], b.appViaS3[:0]
	for _, s := range a.services {
		sess := g.r.str(hexChars, 32)
		key := g.r.key("ASIA")
		b.app = append(b.app, g.w.role(a, s.name+"-task", sess, key, created, false, "").with(b.nat, appUA))
		b.appViaS3 = append(b.appViaS3, g.w.role(a, s.name+"-task", sess, key, created, false, "s3.amazonaws.com").with("s3.amazonaws.com", "s3.amazonaws.com"))
	}
	b.fn = b.fn[:0]
	for _, f := range a.funcs {
		b.fn = append(b.fn, g.w.role(a, f+"-exec", f, g.r.key("ASIA"), created, false, "").with(b.ownIP, "aws-sdk-nodejs/3.693.0 linux/v20.18.0 exec-env/AWS_Lambda_nodejs20.x"))
	}
	b.exec = g.w.role(a, "ecsTaskExecutionRole", g.r.str(hexChars, 32), g.r.key("ASIA"), created, false, "ecs-tasks.amazonaws.com").with("ecs-tasks.amazonaws.com", "ecs-tasks.amazonaws.com")
}

// share returns the part of background traffic account a carries.
func (g *gen) share(a *account) float64 {
	n := len(g.w.accounts)
	if n == 1 {
		return 1
	}
	if a.idx == 0 {
		return 0.6
	}
	return 0.4 / float64(n-1)
}

// background emits the steady traffic of account a between from and to: monitoring polls,
// S3 and Lambda data events, KMS, role sessions of services, image pulls.
func (g *gen) background(a *account, from, to time.Time) {
	h := from.Hour()
	f := 0.75
	if h >= 7 && h < 20 {
		f = 1.25
	}
	if wd := from.Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 0.8
	}
	want := float64(g.opts.EventsPerDay) * g.share(a) * f * to.Sub(from).Seconds() / 86400
	n := int(want)
	if g.r.Float64() < want-float64(n) {
		n++
	}
	b := g.bulk[a.idx]
	if !from.Before(b.until) {
		g.renew(a, b, from)
	}
	span := int64(to.Sub(from) / time.Second)
	for range n {
		t := from.Add(time.Duration(g.r.Int64N(span)) * time.Second)
		switch k := g.r.IntN(100); {
		case k < 30:
			g.poll(a, b, t)
		case k < 54:
			g.s3Read(a, b, t)
		case k < 60:
			g.s3Write(a, b, t)
		case k < 72:
			g.kmsDecrypt(a, b, t)
		case k < 80:
			g.lambdaInvoke(a, b, t)
		case k < 88:
			g.serviceAssumeRole(a, b, t)
		case k < 94:
			g.logStream(a, b, t)
		default:
			g.imagePull(a, b, t)
		}
	}
}

type pollCall struct{ source, name string }

var polls = []pollCall{
	{"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeVolumes"},
	{"ec2.amazonaws.com", "DescribeSecurityGroups"}, {"ec2.amazonaws.com", "DescribeSnapshots"},
	{"ec2.amazonaws.com", "DescribeSubnets"}, {"ec2.amazonaws.com", "DescribeInstanceStatus"},
	{"elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers"}, {"elasticloadbalancing.amazonaws.com", "DescribeTargetHealth"},
	{"monitoring.amazonaws.com", "ListMetrics"}, {"monitoring.amazonaws.com", "DescribeAlarms"},
	{"rds.amazonaws.com", "DescribeDBInstances"}, {"lambda.amazonaws.com", "ListFunctions20150331"},
	{"ecs.amazonaws.com", "ListClusters"}, {"ecs.amazonaws.com", "DescribeServices"},
	{"s3.amazonaws.com", "ListBuckets"}, {"iam.amazonaws.com", "GetAccountSummary"}, {"iam.amazonaws.com", "ListRoles"},
	{"s3.amazonaws.com", "GetBucketPolicy"}, {"secretsmanager.amazonaws.com", "ListSecrets"},
}

func (g *gen) poll(a *account, b *bulkState, t time.Time) {
	// The last two polls are denied; they are rarer than the others.
	c := polls[g.r.IntN(len(polls)-2)]
	if g.r.IntN(100) == 0 {
		c = polls[len(polls)-1-g.r.IntN(2)]
	}
	region := a.regions[g.r.IntN(len(a.regions))]
	switch c.source {
	case "iam.amazonaws.com", "s3.amazonaws.com":
		region = "us-east-1"
	}
	r := g.call(t, a, region, &b.mon, c.source, c.name)
	switch c.name {
	case "DescribeInstances", "DescribeVolumes", "DescribeSnapshots", "DescribeSubnets", "DescribeInstanceStatus":
		r.req = g.q().o("").o("filterSet").c().n("maxResults", 1000).c().b
	case "DescribeSecurityGroups":
		r.req = g.q().o("").o("securityGroupSet").c().o("securityGroupIdSet").c().o("filterSet").c().c().b
	case "DescribeLoadBalancers":
		r.req = g.q().o("").n("pageSize", 400).c().b
	case "DescribeServices":
		s := a.services[g.r.IntN(len(a.services))]
		r.req = g.q().o("").s("cluster", a.cluster).a("services").s("", s.name).ca().c().b
	case "GetBucketPolicy":
		r.req = g.q().o("").s("bucketName", a.buckets[g.r.IntN(len(a.buckets))]).s("Host", "s3.amazonaws.com").o("policy").c().c().b
		r.errCode, r.errMsg = "AccessDenied", "Access Denied"
	case "ListSecrets":
		r.errCode = "AccessDenied"
		r.errMsg = "User: " + b.mon.arn + " is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action"
	case "DescribeAlarms":
		r.req = g.q().o("").n("maxRecords", 100).c().b
	}
	g.emit(r)
}

// s3Object picks a bucket and an object key of account a.
func (g *gen) s3Object(a *account) (bucket, key string) {
	bucket = a.buckets[g.r.IntN(len(a.buckets))]
	g.rq.reset()
	g.rq.b = append(g.rq.b, pick(g.r, []string{"images/", "exports/", "invoices/", "static/", "uploads/"})...)
	g.rq.b = g.r.appendStr(g.rq.b, lowerAlnum, 12)
	g.rq.b = append(g.rq.b, pick(g.r, []string{".json", ".png", ".pdf", ".csv.gz", ".jpg"})...)
	return bucket, string(g.rq.b)
}

// s3Data fills the request, resources and extra data of an S3 object data event.
func (g *gen) s3Data(r *rec, bucket, key string, in, out int) {
	r.data = true
	r.req = g.q().o("").s("bucketName", bucket).s("Host", bucket+".s3."+r.region+".amazonaws.com").s("key", key).c().b
	r.extra = g.ex.reset().o("").s("SignatureVersion", "SigV4").s("CipherSuite", "TLS_AES_128_GCM_SHA256").n("bytesTransferredIn", int64(in)).
		s("SSEApplied", "SSE_KMS").s("AuthenticationMethod", "AuthHeader").n("bytesTransferredOut", int64(out)).c().b
	r.resources = g.res.reset().a("").o("").s("type", "AWS::S3::Object").s("ARN", "arn:aws:s3:::"+bucket+"/"+key).c().
		o("").s("accountId", r.acct.id).s("type", "AWS::S3::Bucket").s("ARN", "arn:aws:s3:::"+bucket).c().ca().b
}

func (g *gen) s3Read(a *account, b *bulkState, t time.Time) {
	i := g.r.IntN(len(b.app))
	bucket, key := g.s3Object(a)
	r := g.call(t, a, a.regions[0], &b.app[i], "s3.amazonaws.com", "GetObject")
	g.s3Data(r, bucket, key, 0, 200+g.r.IntN(2_000_000))
	if g.r.IntN(400) == 0 {
		r.errCode, r.errMsg = "NoSuchKey", "The specified key does not exist."
	}
	g.emit(r)
}

func (g *gen) s3Write(a *account, b *bulkState, t time.Time) {
	i := g.r.IntN(len(b.app))
	bucket, key := g.s3Object(a)
	r := g.call(t, a, a.regions[0], &b.app[i], "s3.amazonaws.com", "PutObject")
	g.s3Data(r, bucket, key, 200+g.r.IntN(500_000), 0)
	r.resp = g.p().o("").s("x-amz-server-side-encryption", "aws:kms").s("x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:"+r.region+":"+a.id+":key/"+a.kmsKey).c().b
	g.emit(r)
}

// kmsDecryptFor emits the KMS Decrypt S3 makes when who reads an SSE-KMS object.
func (g *gen) kmsDecryptFor(a *account, who *actor, t time.Time, region, bucket, key string) []byte {
	r := g.call(t, a, region, who, "kms.amazonaws.com", "Decrypt")
	keyARN := "arn:aws:kms:" + region + ":" + a.id + ":key/" + a.kmsKey
	r.req = g.q().o("").o("encryptionContext").s("aws:s3:arn", "arn:aws:s3:::"+bucket+"/"+key).c().s("encryptionAlgorithm", "SYMMETRIC_DEFAULT").c().b
	r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("type", "AWS::KMS::Key").s("ARN", keyARN).c().ca().b
	return g.emit(r)
}

func (g *gen) kmsDecrypt(a *account, b *bulkState, t time.Time) {
	i := g.r.IntN(len(b.app))
	bucket, key := g.s3Object(a)
	g.kmsDecryptFor(a, &b.appViaS3[i], t, a.regions[0], bucket, key)
}

func (g *gen) lambdaInvoke(a *account, b *bulkState, t time.Time) {
	f := a.funcs[g.r.IntN(len(a.funcs))]
	who := &g.events
	if g.r.IntN(3) == 0 {
		who = &b.app[g.r.IntN(len(b.app))]
	}
	r := g.call(t, a, a.regions[0], who, "lambda.amazonaws.com", "Invoke")
	r.data, r.readOnly = true, false
	fnARN := "arn:aws:lambda:" + r.region + ":" + a.id + ":function:" + f
	r.req = g.q().o("").s("functionName", fnARN).s("invocationType", "Event").c().b
	r.extra = g.ex.reset().o("").s("functionVersion", fnARN+":$LATEST").c().b
	r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("type", "AWS::Lambda::Function").s("ARN", fnARN).c().ca().b
	g.emit(r)
}

func (g *gen) serviceAssumeRole(a *account, b *bulkState, t time.Time) {
	var who *actor
	var role, session string
	if g.r.IntN(2) == 0 {
		who, role, session = &g.ecsTasks, a.services[g.r.IntN(len(a.services))].name+"-task", g.r.str(hexChars, 32)
	} else {
		f := a.funcs[g.r.IntN(len(a.funcs))]
		who, role, session = &g.lambda, f+"-exec", f
	}
	region := a.regions[g.r.IntN(len(a.regions))]
	g.assumeRole(t, a, region, who, role, session, time.Hour)
}

// assumeRole emits an sts:AssumeRole of role by who and returns the new session key.
func (g *gen) assumeRole(t time.Time, a *account, region string, who *actor, role, session string, d time.Duration) string {
	key := g.r.key("ASIA")
	r := g.call(t, a, region, who, "sts.amazonaws.com", "AssumeRole")
	roleARN := "arn:aws:iam::" + a.id + ":role/" + role
	r.req = g.q().o("").s("roleArn", roleARN).s("roleSessionName", session).n("durationSeconds", int64(d/time.Second)).c().b
	r.resp = g.p().o("").o("credentials").s("accessKeyId", key).s("sessionToken", "IQoJb3JpZ2luX2VjEXAMPLE").s("expiration", t.Add(d).UTC().Format("Jan 2, 2006, 3:04:05 PM")).c().
		o("assumedRoleUser").s("assumedRoleId", g.w.pid("AROA", a, role)+":"+session).s("arn", "arn:aws:sts::"+a.id+":assumed-role/"+role+"/"+session).c().c().b
	r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("type", "AWS::IAM::Role").s("ARN", roleARN).c().ca().b
	g.emit(r)
	return key
}

func (g *gen) logStream(a *account, b *bulkState, t time.Time) {
	i := g.r.IntN(len(b.fn))
	r := g.call(t, a, a.regions[0], &b.fn[i], "logs.amazonaws.com", "CreateLogStream")
	g.rq.reset().o("").s("logGroupName", "/aws/lambda/"+a.funcs[i]).key("logStreamName")
	g.rq.b = append(g.rq.b, '"')
	g.rq.b = t.AppendFormat(g.rq.b, "2006/01/02")
	g.rq.b = append(g.rq.b, "/[$LATEST]"...)
	g.rq.b = g.r.appendStr(g.rq.b, hexChars, 32)
	g.rq.b = append(g.rq.b, '"')
	g.rq.comma = true
	r.req = g.rq.c().b
	g.emit(r)
}

func (g *gen) imagePull(a *account, b *bulkState, t time.Time) {
	s := a.services[g.r.IntN(len(a.services))]
	name := "GetDownloadUrlForLayer"
	if g.r.IntN(3) == 0 {
		name = "BatchGetImage"
	}
	r := g.call(t, a, a.regions[0], &b.exec, "ecr.amazonaws.com", name)
	if name == "BatchGetImage" {
		r.req = g.q().o("").s("registryId", a.id).s("repositoryName", s.name).a("imageIds").o("").s("imageTag", "latest").c().ca().c().b
	} else {
		g.rq.reset().o("").s("registryId", a.id).s("repositoryName", s.name).key("layerDigest")
		g.rq.b = append(g.rq.b, `"sha256:`...)
		g.rq.b = append(g.r.appendStr(g.rq.b, hexChars, 64), '"')
		g.rq.comma = true
		r.req = g.rq.c().b
	}
	r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("ARN", "arn:aws:ecr:"+r.region+":"+a.id+":repository/"+s.name).c().ca().b
	g.emit(r)
}
