package simulate

import (
	"strconv"
	"time"
)

const (
	// instanceUA is the application on the instance of attack 3.
	instanceUA = "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.1.102-111.182.amzn2023.x86_64 md/arch#x86_64 lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144"
	// attacker3UA is the AWS CLI on the attacker's machine in attack 3.
	attacker3UA = "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/s3.ls"
)

// attacker3Nets are hosting networks outside the built-in IOC lists.
var attacker3Nets = []string{"45.155.205", "185.220.101", "193.142.146", "91.92.251"}

// instanceState is the application instance of attack 3 and its current credentials.
type instanceState struct {
	id, role, roleARN, region, ip string
	key, issueID                  string
	issuedAt                      time.Time
	buckets                       []string
}

// planAttack3 schedules instance-role credential theft in the first account. An application
// instance with an instance profile works all along: every hour ec2.amazonaws.com assumes its
// role for it (the session is named after the instance) and it reads and writes S3 objects,
// reads a parameter and puts metrics, from its private address. At t an attacker who read
// the credentials from the instance metadata service (through an SSRF in the application)
// uses them from a hosting network with their own client: identity check, a denied look at
// the role's policies, bucket listings and object reads.
func (g *gen) planAttack3(r rnd, at *AttackTruth, t time.Time) {
	a := g.w.accounts[0]
	at.Name = "stolen instance-profile credentials: S3 listing and reads from outside the instance"
	svc := pick(r, serviceNames)
	st := &instanceState{id: r.hexID("i-0", 17), role: g.w.org + "-" + svc + "-ec2-role", region: a.regions[0],
		ip: "10.0." + strconv.Itoa(r.between(1, 30)) + "." + strconv.Itoa(r.between(4, 250)), buckets: a.buckets}
	st.roleARN = "arn:aws:iam::" + a.id + ":role/" + st.role
	ip := r.ipIn(pick(r, attacker3Nets))
	at.addIP(ip)
	end := g.opts.Start.Add(time.Duration(g.opts.Days) * 24 * time.Hour)
	for h := g.opts.Start; h.Before(end); h = h.Add(time.Hour) {
		g.schedule(h.Add(time.Duration(r.IntN(240))*time.Second), func(t time.Time) { g.instanceHour(a, st, t) })
	}
	g.schedule(t, func(t time.Time) {
		thief := g.w.role(a, st.role, st.id, st.key, st.issuedAt, false, "").with(ip, attacker3UA)
		at.Identities = append(at.Identities, Identity{Account: a.id, Type: "AssumedRole", ARN: thief.arn, AccessKeyID: st.key,
			How: "stolen instance-profile credentials", RoleARN: st.roleARN, InstanceID: st.id, Region: st.region, IssueEventID: st.issueID})
		r := g.call(t, a, "us-east-1", &thief, "sts.amazonaws.com", "GetCallerIdentity")
		g.step(at, "theft-get-caller-identity", r, g.emit(r))
		t = sec(t, g.r.between(20, 90))
		r = g.call(t, a, "us-east-1", &thief, "iam.amazonaws.com", "ListAttachedRolePolicies")
		r.req = g.q().o("").s("roleName", st.role).c().b
		r.errCode = "AccessDenied"
		r.errMsg = "User: " + thief.arn + " is not authorized to perform: iam:ListAttachedRolePolicies on resource: role " + st.role
		g.step(at, "theft-list-role-policies", r, g.emit(r))
		t = sec(t, g.r.between(10, 60))
		r = g.call(t, a, "us-east-1", &thief, "s3.amazonaws.com", "ListBuckets")
		r.req = g.q().o("").s("Host", "s3.amazonaws.com").c().b
		g.step(at, "theft-list-buckets", r, g.emit(r))
		viaS3 := thief.withInvokedBy("s3.amazonaws.com")
		buckets := a.buckets[:min(3, len(a.buckets))]
		perBucket := g.r.between(60, 100) / len(buckets) // a copy of what the role can read
		for _, bucket := range buckets {
			t = sec(t, g.r.between(15, 120))
			r = g.call(t, a, st.region, &thief, "s3.amazonaws.com", "ListObjects")
			r.data = true
			r.req = g.q().o("").s("bucketName", bucket).s("Host", bucket+".s3."+st.region+".amazonaws.com").s("list-type", "2").s("prefix", "").c().b
			r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("type", "AWS::S3::Bucket").s("ARN", "arn:aws:s3:::"+bucket).c().ca().b
			g.step(at, "theft-s3-list-objects", r, g.emit(r))
			at.BucketsRead = append(at.BucketsRead, bucket)
			for range perBucket {
				t = sec(t, g.r.between(0, 4))
				_, key := g.s3Object(a)
				r = g.call(t, a, st.region, &thief, "s3.amazonaws.com", "GetObject")
				g.s3Data(r, bucket, key, 0, 500+g.r.IntN(5_000_000))
				g.step(at, "theft-s3-get-object", r, g.emit(r))
				id := g.kmsDecryptFor(a, &viaS3, t, st.region, bucket, key)
				g.step(at, "kms-decrypt-by-s3", &g.cur, id)
			}
		}
	})
}

// instanceHour is one hour of the application instance: its role's credentials renewed by
// EC2 and a few calls with them from its private address.
func (g *gen) instanceHour(a *account, st *instanceState, t time.Time) {
	ec2 := awsService("ec2.amazonaws.com")
	key := g.r.key("ASIA")
	r := g.call(t, a, st.region, &ec2, "sts.amazonaws.com", "AssumeRole")
	r.req = g.q().o("").s("roleArn", st.roleARN).s("roleSessionName", st.id).c().b
	r.resp = g.p().o("").o("credentials").s("accessKeyId", key).s("sessionToken", "IQoJb3JpZ2luX2VjEXAMPLE").s("expiration", t.Add(6*time.Hour).UTC().Format("Jan 2, 2006, 3:04:05 PM")).c().
		o("assumedRoleUser").s("assumedRoleId", g.w.pid("AROA", a, st.role)+":"+st.id).s("arn", "arn:aws:sts::"+a.id+":assumed-role/"+st.role+"/"+st.id).c().c().b
	r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("type", "AWS::IAM::Role").s("ARN", st.roleARN).c().ca().b
	st.key, st.issueID, st.issuedAt = key, string(g.emit(r)), t
	app := g.w.role(a, st.role, st.id, key, t, false, "").with(st.ip, instanceUA)
	for i := range g.r.between(3, 8) {
		at := sec(t, 60+i*g.r.between(200, 420))
		switch g.r.IntN(4) {
		case 0:
			r := g.call(at, a, st.region, &app, "monitoring.amazonaws.com", "PutMetricData")
			r.req = g.q().o("").s("namespace", "App/"+st.role).c().b
			g.emit(r)
		case 1:
			r := g.call(at, a, st.region, &app, "ssm.amazonaws.com", "GetParameter")
			r.req = g.q().o("").s("name", "/"+st.role+"/config").t("withDecryption", false).c().b
			g.emit(r)
		case 2:
			bucket, key := st.buckets[0], "uploads/"+g.r.str(lowerAlnum, 12)+".json"
			r := g.call(at, a, st.region, &app, "s3.amazonaws.com", "PutObject")
			g.s3Data(r, bucket, key, 200+g.r.IntN(50_000), 0)
			g.emit(r)
		default:
			bucket, key := g.s3Object(a)
			r := g.call(at, a, st.region, &app, "s3.amazonaws.com", "GetObject")
			g.s3Data(r, bucket, key, 0, 200+g.r.IntN(200_000))
			g.emit(r)
		}
	}
}
