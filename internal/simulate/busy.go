package simulate

import (
	"strconv"
	"time"
)

// The busy benign shapes of a healthy account that flat thresholds mistake for attacks
// (Options.S3Readers, Options.Scanners), and attacker infrastructure outside the built-in
// IOC lists (Options.UnlistedInfra). Each draws from a generator of its own, so turning one
// on leaves the shapes of the others (and the attacks) as they were.

// readerNames name the heavy S3 readers of an account: ECS task roles of batch jobs.
var readerNames = []string{"etl-export", "report-builder", "image-resizer", "search-indexer"}

// readerUA is the batch job's SDK inside its Fargate task.
const readerUA = "Boto3/1.35.66 md/Botocore#1.35.66 ua/2.0 os/linux#5.10.228-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE cfg/retry-mode#legacy Botocore/1.35.66"

// scannerUA is Prowler's user agent (botocore with its AWS Partner Network id), as its
// documentation gives it.
const scannerUA = "Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#6.1.112 md/arch#x86_64 lang/python#3.11.10 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.35.54 APN_1826889"

// scannerCalls are what a CSPM scanner lists and describes, every hour, in every region.
var scannerCalls = [][2]string{
	{"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeSecurityGroups"},
	{"ec2.amazonaws.com", "DescribeVpcs"}, {"ec2.amazonaws.com", "DescribeSnapshots"},
	{"ec2.amazonaws.com", "DescribeVolumes"}, {"ec2.amazonaws.com", "DescribeImages"},
	{"ec2.amazonaws.com", "DescribeFlowLogs"}, {"iam.amazonaws.com", "ListUsers"},
	{"iam.amazonaws.com", "ListRoles"}, {"iam.amazonaws.com", "ListPolicies"},
	{"iam.amazonaws.com", "GetAccountPasswordPolicy"}, {"iam.amazonaws.com", "ListAccessKeys"},
	{"s3.amazonaws.com", "ListBuckets"}, {"s3.amazonaws.com", "GetBucketPolicy"},
	{"s3.amazonaws.com", "GetBucketAcl"}, {"cloudtrail.amazonaws.com", "DescribeTrails"},
	{"cloudtrail.amazonaws.com", "GetTrailStatus"}, {"kms.amazonaws.com", "ListKeys"},
	{"lambda.amazonaws.com", "ListFunctions20150331"}, {"rds.amazonaws.com", "DescribeDBInstances"},
	{"guardduty.amazonaws.com", "ListDetectors"}, {"config.amazonaws.com", "DescribeConfigurationRecorders"},
	{"secretsmanager.amazonaws.com", "ListSecrets"}, {"ssm.amazonaws.com", "DescribeParameters"},
}

// planBusy schedules the heavy S3 readers and the scanners of every account, day by day.
func (g *gen) planBusy(end time.Time) {
	if g.opts.S3Readers == 0 && !g.opts.Scanners {
		return
	}
	r := newRnd(g.opts.Seed, 0x62757379) // "busy"
	for _, a := range g.w.accounts {
		for i := range g.opts.S3Readers {
			role := readerNames[i%len(readerNames)] + "-task"
			// Each reader has its usual size of job; a day's jobs vary around it.
			perJob, jobs := r.between(300, 900), r.between(3, 6)
			for day := g.opts.Start; day.Before(end); day = day.Add(24 * time.Hour) {
				for range jobs {
					n := perJob * r.between(70, 130) / 100
					at := day.Add(time.Duration(r.IntN(86400-3600)) * time.Second)
					g.schedule(at, func(t time.Time) { g.s3Job(a, role, n, t) })
				}
			}
		}
		if g.opts.Scanners {
			vendor := r.digits(12)
			for h := g.opts.Start; h.Before(end); h = h.Add(time.Hour) {
				g.schedule(h.Add(time.Duration(r.IntN(600))*time.Second), func(t time.Time) { g.scan(a, vendor, t) })
			}
		}
	}
}

// s3Job is one run of a batch job: a new task (a session of the reader's role, from a
// private address in the VPC) reads n objects of one prefix in 10 to 30 minutes.
func (g *gen) s3Job(a *account, role string, n int, t time.Time) {
	sess := g.r.str(hexChars, 32)
	ip := "10.0." + strconv.Itoa(g.r.between(16, 47)) + "." + strconv.Itoa(g.r.between(4, 250))
	who := g.w.role(a, role, sess, g.r.key("ASIA"), t.Add(-time.Minute), false, "").with(ip, readerUA)
	bucket := a.buckets[g.r.IntN(len(a.buckets))]
	prefix := "batch/" + role + "/" + t.Format("2006-01-02") + "/"
	span := g.r.between(600, 1800)
	for i := range n {
		r := g.call(sec(t, i*span/n), a, a.regions[0], &who, "s3.amazonaws.com", "GetObject")
		g.s3Data(r, bucket, prefix+"part-"+strconv.Itoa(i)+".json.gz", 0, 2000+g.r.IntN(400_000))
		g.emit(r)
	}
}

// scan is one hourly pass of a CSPM scanner: its vendor's account assumes the audit role
// (session ProwlerAssessmentSession), then lists and describes everything in every region
// the account uses.
func (g *gen) scan(a *account, vendor string, t time.Time) {
	const role = "cspm-audit"
	key := g.r.key("ASIA")
	src := "52.94." + strconv.Itoa(g.r.between(0, 255)) + "." + strconv.Itoa(g.r.between(2, 254))
	vend := actor{id: []byte(`{"type":"AWSAccount","principalId":"AROAVENDOR:scanner","accountId":"` + vendor + `"}`), arn: "", kind: "AWSAccount"}
	vend = vend.with(src, scannerUA)
	r := g.call(t, a, "us-east-1", &vend, "sts.amazonaws.com", "AssumeRole")
	r.req = g.q().o("").s("roleArn", "arn:aws:iam::"+a.id+":role/"+role).s("roleSessionName", "ProwlerAssessmentSession").n("durationSeconds", 3600).c().b
	r.resp = g.p().o("").o("credentials").s("accessKeyId", key).ts("expiration", t.Add(time.Hour)).c().
		o("assumedRoleUser").s("assumedRoleId", "AROACSPM:ProwlerAssessmentSession").s("arn", "arn:aws:sts::"+a.id+":assumed-role/"+role+"/ProwlerAssessmentSession").c().c().b
	g.emit(r)
	who := g.w.role(a, role, "ProwlerAssessmentSession", key, t, false, "").with(src, scannerUA)
	k := 1
	for _, region := range a.regions {
		for _, c := range scannerCalls {
			if (c[0] == "iam.amazonaws.com" || c[0] == "s3.amazonaws.com") && region != a.regions[0] {
				continue // global services, read once
			}
			r := g.call(sec(t, k), a, region, &who, c[0], c[1])
			r.req = g.q().o("").c().b
			g.emit(r)
			k++
		}
	}
}

// attackerIP returns an address for an attack's infrastructure: from the published range
// 140.213.52.0/24 as always, or with Options.UnlistedInfra one time in four from it and
// otherwise from a random hosting network no built-in list names.
func (g *gen) attackerIP(r rnd) string {
	listed := r.ipIn("140.213.52")
	if !g.opts.UnlistedInfra || g.infra.IntN(4) == 0 {
		return listed
	}
	first := pick(g.infra, []int{5, 23, 37, 45, 62, 77, 80, 89, 91, 103, 139, 146, 159, 176, 185, 193, 194, 195, 212})
	return strconv.Itoa(first) + "." + strconv.Itoa(g.infra.between(1, 254)) + "." + strconv.Itoa(g.infra.between(0, 255)) + "." + strconv.Itoa(g.infra.between(2, 254))
}

// minerImage returns attack 2's image for one task definition: from the 40 known images as
// always, or with Options.UnlistedInfra one time in four from them and otherwise a fresh
// repository and tag no list names.
func (g *gen) minerImage(r rnd) string {
	known := pick(r, minerImages)
	if !g.opts.UnlistedInfra || g.infra.IntN(4) == 0 {
		return known
	}
	return g.infra.str(lowerAlnum, g.infra.between(5, 10)) + "/" + g.infra.str(lowerChars, g.infra.between(2, 6)) + ":" + g.infra.str(lowerAlnum, g.infra.between(2, 5))
}
