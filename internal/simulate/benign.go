package simulate

import (
	"strconv"
	"strings"
	"time"
)

// planBenign schedules the human and CI activity of every account and day.
func (g *gen) planBenign(end time.Time) {
	r := g.r
	for day := g.opts.Start.Truncate(24 * time.Hour); day.Before(end); day = day.Add(24 * time.Hour) {
		weekday := day.Weekday() != time.Saturday && day.Weekday() != time.Sunday
		at := func(fromHour, toHour int) time.Time {
			return day.Add(time.Duration(fromHour*3600+r.IntN((toHour-fromHour)*3600)) * time.Second)
		}
		for _, a := range g.w.accounts {
			deploys, tf := r.between(0, 2), 0
			if weekday {
				deploys, tf = r.between(3, 8), r.between(1, 2)
			}
			for range deploys {
				g.schedule(at(7, 19), func(t time.Time) { g.deploy(a, t) })
			}
			for range tf {
				g.schedule(at(8, 18), func(t time.Time) { g.terraform(a, t) })
			}
			for _, u := range append(a.devs, a.admins...) {
				if weekday && r.chance(0.7) {
					g.schedule(at(7, 10), func(t time.Time) { g.consoleSession(a, u, t) })
				}
				if (weekday && r.chance(0.35)) || r.chance(0.05) {
					g.schedule(at(12, 20), func(t time.Time) { g.consoleSession(a, u, t) })
				}
			}
			if weekday && r.chance(0.6) {
				g.schedule(at(8, 17), func(t time.Time) { g.ssoSession(a, t) })
			}
			if weekday && r.chance(0.4) {
				g.schedule(at(9, 17), func(t time.Time) { g.onboard(a, t) })
			}
			if weekday && r.chance(0.2) {
				g.schedule(at(9, 17), func(t time.Time) { g.rotateOwnKey(a, t) })
			}
			// A busy owner's key is its pipeline's (scheduleCI), not a cron job's.
			if a.mailer != "" && !g.opts.BusyOwners {
				g.schedule(at(5, 6), func(t time.Time) { g.mailerCheck(a, t) })
			}
			if a.legacy != "" && !g.opts.BusyOwners {
				g.schedule(at(1, 3), func(t time.Time) { g.legacySync(a, t) })
			}
			if a.idx > 0 && day.Weekday() == time.Wednesday {
				g.schedule(at(10, 16), func(t time.Time) { g.previewEnv(a, t) })
			}
		}
		if g.opts.BusyOwners || g.opts.CIUsers > 0 {
			g.scheduleCI(day, weekday)
		}
		if day.Weekday() == time.Tuesday || day.Equal(g.opts.Start.Truncate(24*time.Hour)) {
			g.schedule(at(9, 17), func(t time.Time) { g.rootVisit(g.w.accounts[0], t) })
		}
	}
}

func officeIP(r rnd) string { return r.ipIn("203.0.113") }

// credentials writes the credentials member of an STS response.
func credentials(w *jw, key string, exp time.Time) *jw {
	return w.o("credentials").s("accessKeyId", key).s("sessionToken", "IQoJb3JpZ2luX2VjEXAMPLE").s("expiration", exp.UTC().Format("Jan 2, 2006, 3:04:05 PM")).c()
}

// deploy: GitHub Actions assumes the deploy role over OIDC, pushes an image to ECR,
// registers a task definition and updates an ECS service.
func (g *gen) deploy(a *account, t time.Time) {
	s := pick(g.r, a.services)
	region := a.regions[0]
	if len(a.regions) > 1 && g.r.IntN(3) == 0 {
		region = a.regions[1]
	}
	ci := g.githubSession(a, t, region, "ecs.register-task-definition")
	sha := g.r.str(hexChars, 7)
	image := a.id + ".dkr.ecr." + region + ".amazonaws.com/" + s.name + ":" + sha

	r := g.call(sec(t, 3), a, region, &ci, "ecr.amazonaws.com", "GetAuthorizationToken")
	r.req = g.q().o("").c().b
	g.emit(r)
	r = g.call(sec(t, 9), a, region, &ci, "ecr.amazonaws.com", "BatchCheckLayerAvailability")
	r.req = g.q().o("").s("repositoryName", s.name).s("registryId", a.id).a("layerDigests").s("", "sha256:"+g.r.str(hexChars, 64)).ca().c().b
	g.emit(r)
	r = g.call(sec(t, 31), a, region, &ci, "ecr.amazonaws.com", "PutImage")
	r.req = g.q().o("").s("repositoryName", s.name).s("imageTag", sha).s("registryId", a.id).s("imageManifestMediaType", "application/vnd.docker.distribution.manifest.v2+json").c().b
	r.resp = g.p().o("").o("image").s("registryId", a.id).s("repositoryName", s.name).o("imageId").s("imageDigest", "sha256:"+g.r.str(hexChars, 64)).s("imageTag", sha).c().c().c().b
	g.emit(r)
	r = g.call(sec(t, 38), a, region, &ci, "ecs.amazonaws.com", "DescribeTaskDefinition")
	r.req = g.q().o("").s("taskDefinition", s.name).c().b
	g.emit(r)

	s.rev++
	td := g.registerTaskDef(sec(t, 40), a, region, &ci, s.name, image, s.cpu, s.memory, s.rev)
	g.lookAlike("ecs-register-task-definition", &g.cur, td)

	r = g.call(sec(t, 42), a, region, &ci, "ecs.amazonaws.com", "UpdateService")
	tdARN := "arn:aws:ecs:" + region + ":" + a.id + ":task-definition/" + s.name + ":" + strconv.Itoa(s.rev)
	r.req = g.q().o("").s("cluster", a.cluster).s("service", s.name).s("taskDefinition", s.name+":"+strconv.Itoa(s.rev)).c().b
	r.resp = g.p().o("").o("service").s("serviceArn", "arn:aws:ecs:"+region+":"+a.id+":service/"+a.cluster+"/"+s.name).s("serviceName", s.name).
		s("clusterArn", "arn:aws:ecs:"+region+":"+a.id+":cluster/"+a.cluster).s("status", "ACTIVE").n("desiredCount", int64(s.desired)).
		s("launchType", "FARGATE").s("taskDefinition", tdARN).c().c().b
	g.emit(r)
	for i := range 3 {
		r = g.call(sec(t, 55+30*i), a, region, &ci, "ecs.amazonaws.com", "DescribeServices")
		r.req = g.q().o("").s("cluster", a.cluster).a("services").s("", s.name).ca().c().b
		g.emit(r)
	}
	for i := range s.desired {
		g.assumeRole(sec(t, 70+5*i), a, region, &g.ecsTasks, s.name+"-task", g.r.str(hexChars, 32), 6*time.Hour)
	}
}

// githubSession emits the OIDC AssumeRoleWithWebIdentity of a GitHub Actions run and returns
// the deploy role session.
func (g *gen) githubSession(a *account, t time.Time, region, command string) actor {
	sub := "repo:" + a.repo + ":ref:refs/heads/main"
	provider := "arn:aws:iam::" + a.id + ":oidc-provider/token.actions.githubusercontent.com"
	var j jw
	j.o("").s("type", "WebIdentityUser").s("principalId", provider+":sts.amazonaws.com:"+sub).s("userName", sub).s("identityProvider", provider).c()
	ip := g.r.ipIn("198.51.100")
	ua := strings.Replace(ciUA, "ecs.register-task-definition", command, 1)
	oidc := actor{id: j.b, arn: provider, ip: ip, ua: ua, kind: "WebIdentityUser"}
	key := g.r.key("ASIA")
	roleARN := "arn:aws:iam::" + a.id + ":role/" + a.ciRole
	r := g.call(t, a, region, &oidc, "sts.amazonaws.com", "AssumeRoleWithWebIdentity")
	r.req = g.q().o("").s("roleArn", roleARN).s("roleSessionName", "GitHubActions").n("durationSeconds", 3600).c().b
	w := g.p().o("")
	credentials(w, key, t.Add(time.Hour)).s("subjectFromWebIdentityToken", sub).
		o("assumedRoleUser").s("assumedRoleId", g.w.pid("AROA", a, a.ciRole)+":GitHubActions").s("arn", "arn:aws:sts::"+a.id+":assumed-role/"+a.ciRole+"/GitHubActions").c().
		s("provider", provider).s("audience", "sts.amazonaws.com")
	r.resp = w.c().b
	g.emit(r)
	return g.w.role(a, a.ciRole, "GitHubActions", key, t, false, "").with(ip, ua)
}

// registerTaskDef emits an ecs:RegisterTaskDefinition of a one-container Fargate task and
// returns its eventID (valid until the next emit); g.cur is the record.
func (g *gen) registerTaskDef(t time.Time, a *account, region string, who *actor, family, image, cpu, memory string, rev int) []byte {
	r := g.call(t, a, region, who, "ecs.amazonaws.com", "RegisterTaskDefinition")
	container := family
	w := g.q().o("").s("family", family)
	if strings.Contains(image, ".dkr.ecr.") {
		w.s("taskRoleArn", "arn:aws:iam::"+a.id+":role/"+family+"-task").s("executionRoleArn", "arn:aws:iam::"+a.id+":role/ecsTaskExecutionRole")
	} else {
		container = g.r.str(lowerChars, 8)
	}
	w.s("networkMode", "awsvpc").a("containerDefinitions").o("").s("name", container).s("image", image).n("cpu", 0).
		a("portMappings").o("").n("containerPort", 8080).n("hostPort", 8080).s("protocol", "tcp").c().ca().t("essential", true).c().ca().
		a("requiresCompatibilities").s("", "FARGATE").ca().s("cpu", cpu).s("memory", memory).c()
	r.req = w.b
	arn := "arn:aws:ecs:" + region + ":" + a.id + ":task-definition/" + family + ":" + strconv.Itoa(rev)
	r.resp = g.p().o("").o("taskDefinition").s("taskDefinitionArn", arn).a("containerDefinitions").o("").s("name", container).s("image", image).n("cpu", 0).t("essential", true).c().ca().
		s("family", family).s("networkMode", "awsvpc").n("revision", int64(rev)).s("status", "ACTIVE").a("compatibilities").s("", "EC2").s("", "FARGATE").ca().
		a("requiresCompatibilities").s("", "FARGATE").ca().s("cpu", cpu).s("memory", memory).ts("registeredAt", t).s("registeredBy", who.arn).c().c().b
	return g.emit(r)
}

// createService emits an ecs:CreateService and returns its eventID; g.cur is the record.
func (g *gen) createService(t time.Time, a *account, region string, who *actor, cluster, name, family string, rev, desired int, publicIP bool, subnet, sg string) []byte {
	r := g.call(t, a, region, who, "ecs.amazonaws.com", "CreateService")
	assign := "DISABLED"
	if publicIP {
		assign = "ENABLED"
	}
	clusterARN := "arn:aws:ecs:" + region + ":" + a.id + ":cluster/" + cluster
	tdARN := "arn:aws:ecs:" + region + ":" + a.id + ":task-definition/" + family + ":" + strconv.Itoa(rev)
	net := func(w *jw) *jw {
		return w.o("networkConfiguration").o("awsvpcConfiguration").a("subnets").s("", subnet).ca().a("securityGroups").s("", sg).ca().s("assignPublicIp", assign).c().c()
	}
	w := g.q().o("").s("cluster", cluster).s("serviceName", name).s("taskDefinition", family+":"+strconv.Itoa(rev)).n("desiredCount", int64(desired)).s("launchType", "FARGATE")
	r.req = net(w).c().b
	w = g.p().o("").o("service").s("serviceArn", "arn:aws:ecs:"+region+":"+a.id+":service/"+cluster+"/"+name).s("serviceName", name).s("clusterArn", clusterARN).
		s("status", "ACTIVE").n("desiredCount", int64(desired)).n("runningCount", 0).n("pendingCount", 0).s("launchType", "FARGATE").s("platformVersion", "LATEST").s("taskDefinition", tdARN)
	r.resp = net(w).ts("createdAt", t).s("createdBy", who.arn).s("schedulingStrategy", "REPLICA").c().c().b
	return g.emit(r)
}

// createCluster emits an ecs:CreateCluster and returns its eventID; g.cur is the record.
func (g *gen) createCluster(t time.Time, a *account, region string, who *actor, name string) []byte {
	r := g.call(t, a, region, who, "ecs.amazonaws.com", "CreateCluster")
	r.req = g.q().o("").s("clusterName", name).c().b
	r.resp = g.p().o("").o("cluster").s("clusterArn", "arn:aws:ecs:"+region+":"+a.id+":cluster/"+name).s("clusterName", name).s("status", "ACTIVE").
		n("registeredContainerInstancesCount", 0).n("runningTasksCount", 0).n("pendingTasksCount", 0).n("activeServicesCount", 0).c().c().b
	return g.emit(r)
}

// previewEnv: CI creates a preview ECS cluster with one small service in the dev account.
func (g *gen) previewEnv(a *account, t time.Time) {
	region := a.regions[0]
	ci := g.githubSession(a, t, region, "ecs.create-service")
	s := pick(g.r, a.services)
	name := "preview-" + strconv.Itoa(g.r.between(100, 999))
	id := g.createCluster(sec(t, 5), a, region, &ci, name)
	g.lookAlike("ecs-create-cluster", &g.cur, id)
	s.rev++
	id = g.registerTaskDef(sec(t, 9), a, region, &ci, s.name, a.id+".dkr.ecr."+region+".amazonaws.com/"+s.name+":"+g.r.str(hexChars, 7), s.cpu, s.memory, s.rev)
	g.lookAlike("ecs-register-task-definition", &g.cur, id)
	id = g.createService(sec(t, 14), a, region, &ci, name, s.name, s.name, s.rev, 1, false, a.subnets[region][0], a.webSG[region])
	g.lookAlike("ecs-create-service", &g.cur, id)
}

// terraform: a CodeBuild job applies infrastructure: a web security group open on 443 and
// an instance of each of the account's usual types (its web and worker tiers).
func (g *gen) terraform(a *account, t time.Time) {
	// Runs take the organisation's regions in turn, as a pipeline per region would.
	region := a.regions[a.tfRuns%len(a.regions)]
	a.tfRuns++
	build := awsService("codebuild.amazonaws.com")
	session := "AWSCodeBuild-" + g.r.uuid()
	key := g.assumeRole(t, a, region, &build, a.tfRole, session, time.Hour)
	tf := g.w.role(a, a.tfRole, session, key, t, false, "").with(g.r.ipIn("192.0.2"), terraformUA)
	for i, name := range []string{"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeImages"} {
		r := g.call(sec(t, 20+i), a, region, &tf, "ec2.amazonaws.com", name)
		r.req = g.q().o("").o("filterSet").c().c().b
		g.emit(r)
	}
	at := sec(t, 30)
	if g.r.IntN(2) == 0 {
		sg := g.r.hexID("sg-0", 17)
		name := "web-" + pick(g.r, a.services).name + "-" + g.r.str(lowerAlnum, 6)
		r := g.call(at, a, region, &tf, "ec2.amazonaws.com", "CreateSecurityGroup")
		r.req = g.q().o("").s("groupName", name).s("groupDescription", "Managed by Terraform").s("vpcId", a.vpc[region]).c().b
		r.resp = g.p().o("").s("requestId", g.r.uuid()).t("_return", true).s("groupId", sg).c().b
		g.emit(r)
		id := g.authorize(sec(at, 2), a, region, &tf, sg, 443, "0.0.0.0/0", "HTTPS from anywhere")
		g.lookAlike("security-group-open-443", &g.cur, id)
		at = sec(at, 10)
	}
	for _, typ := range a.types {
		inst, id := g.runInstance(at, a, region, &tf, typ)
		g.lookAlike("run-instances-usual", &g.cur, id)
		a.inst[region] = append(a.inst[region], inst)
		at = sec(at, 3)
	}
}

// authorize emits an ec2:AuthorizeSecurityGroupIngress of one TCP port from cidr; returns
// the eventID.
func (g *gen) authorize(t time.Time, a *account, region string, who *actor, sg string, port int, cidr, desc string) []byte {
	r := g.call(t, a, region, who, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress")
	w := g.q().o("").s("groupId", sg).o("ipPermissions").a("items").o("").s("ipProtocol", "tcp").n("fromPort", int64(port)).n("toPort", int64(port)).
		o("groups").c().o("ipRanges").a("items").o("").s("cidrIp", cidr)
	if desc != "" {
		w.s("description", desc)
	}
	r.req = w.c().ca().c().o("ipv6Ranges").c().o("prefixListIds").c().c().ca().c().c().b
	r.resp = g.p().o("").s("requestId", g.r.uuid()).t("_return", true).o("securityGroupRuleSet").a("items").o("").s("groupOwnerId", a.id).s("groupId", sg).
		s("securityGroupRuleId", g.r.hexID("sgr-0", 16)).t("isEgress", false).s("ipProtocol", "tcp").n("fromPort", int64(port)).n("toPort", int64(port)).s("cidrIpv4", cidr).c().ca().c().c().b
	return g.emit(r)
}

// login emits a console sign-in of an IAM user and returns the console session.
func (g *gen) login(t time.Time, a *account, user, ip, ua string, mfa, ok bool) (actor, []byte) {
	who := g.w.iamUser(a, user, "", time.Time{}, false).with(ip, ua)
	r := g.call(t, a, "us-east-1", &who, "signin.amazonaws.com", "ConsoleLogin")
	r.eventType, r.readOnly = "AwsConsoleSignIn", false
	w := g.ex.reset().o("").s("LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"+g.r.str(hexChars, 16)).
		s("MobileVersion", "No")
	if mfa {
		w.s("MFAIdentifier", "arn:aws:iam::"+a.id+":mfa/"+user).s("MFAUsed", "Yes")
	} else {
		w.s("MFAUsed", "No")
	}
	r.extra = w.c().b
	if ok {
		r.resp = g.p().o("").s("ConsoleLogin", "Success").c().b
	} else {
		r.errMsg = "Failed authentication"
		r.resp = g.p().o("").s("ConsoleLogin", "Failure").c().b
	}
	id := g.emit(r)
	return g.w.iamUser(a, user, g.r.key("ASIA"), t, mfa).with(ip, consoleUA), id
}

type consoleCall struct {
	source, name string
	global       bool
}

var consoleReads = []consoleCall{
	{"ec2.amazonaws.com", "DescribeInstances", false}, {"ec2.amazonaws.com", "DescribeSecurityGroups", false},
	{"ec2.amazonaws.com", "DescribeVolumes", false}, {"ec2.amazonaws.com", "DescribeAddresses", false},
	{"ecs.amazonaws.com", "ListClusters", false}, {"ecs.amazonaws.com", "DescribeServices", false}, {"ecs.amazonaws.com", "ListTasks", false},
	{"logs.amazonaws.com", "DescribeLogGroups", false}, {"logs.amazonaws.com", "FilterLogEvents", false},
	{"monitoring.amazonaws.com", "DescribeAlarms", false}, {"monitoring.amazonaws.com", "GetMetricData", false},
	{"s3.amazonaws.com", "ListBuckets", true}, {"iam.amazonaws.com", "ListUsers", true}, {"iam.amazonaws.com", "ListRoles", true},
	{"elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", false}, {"cloudtrail.amazonaws.com", "LookupEvents", false},
}

// browse emits n console reads by who over a few minutes from t; a developer gets the odd
// AccessDenied on IAM.
func (g *gen) browse(a *account, who *actor, t time.Time, n int, deniedIAM bool) time.Time {
	region := a.regions[g.r.IntN(len(a.regions))]
	for range n {
		t = sec(t, g.r.between(2, 90))
		c := pick(g.r, consoleReads)
		reg := region
		if c.global {
			reg = "us-east-1"
		}
		r := g.call(t, a, reg, who, c.source, c.name)
		switch c.name {
		case "DescribeServices", "ListTasks":
			r.req = g.q().o("").s("cluster", a.cluster).c().b
		case "DescribeInstances", "DescribeVolumes", "DescribeSecurityGroups", "DescribeAddresses":
			r.req = g.q().o("").o("filterSet").c().c().b
		default:
			r.req = g.q().o("").c().b
		}
		if deniedIAM && c.source == "iam.amazonaws.com" {
			r.errCode = "AccessDenied"
			r.errMsg = "User: " + who.arn + " is not authorized to perform: iam:" + c.name + " on resource: arn:aws:iam::" + a.id + ":user/ because no identity-based policy allows the iam:" + c.name + " action"
		}
		g.emit(r)
	}
	return t
}

// consoleSession: a person signs in with MFA (sometimes after a mistyped password) and
// looks around.
func (g *gen) consoleSession(a *account, user string, t time.Time) {
	ip, ua := officeIP(g.r), pick(g.r, []string{browserMac, browserWin})
	if g.r.IntN(25) == 0 {
		g.login(t, a, user, ip, ua, false, false)
		t = sec(t, g.r.between(8, 40))
	}
	s, id := g.login(t, a, user, ip, ua, true, true)
	g.lookAlike("console-login-mfa", &g.cur, id)
	isAdmin := false
	for _, ad := range a.admins {
		isAdmin = isAdmin || ad == user
	}
	g.browse(a, &s, t, g.r.between(4, 25), !isAdmin)
}

// ssoSession: the single sign-on user federates through IAM Identity Center (SAML) and
// browses with the permission-set role.
func (g *gen) ssoSession(a *account, t time.Time) {
	email := g.w.sso
	ip := officeIP(g.r)
	idp := "arn:aws:iam::" + a.id + ":saml-provider/AWSSSO_" + g.r.str(hexChars, 16) + "_DO_NOT_DELETE"
	var j jw
	j.o("").s("type", "SAMLUser").s("principalId", "ZXhhbXBsZQ==:"+email).s("userName", email).s("identityProvider", "ZXhhbXBsZQ==").c()
	saml := actor{id: j.b, arn: idp, ip: ip, ua: browserMac, kind: "SAMLUser"}
	key := g.r.key("ASIA")
	r := g.call(t, a, "us-east-1", &saml, "sts.amazonaws.com", "AssumeRoleWithSAML")
	roleARN := "arn:aws:iam::" + a.id + ":role/aws-reserved/sso.amazonaws.com/" + a.ssoRole
	r.req = g.q().o("").s("roleArn", roleARN).s("principalArn", idp).n("durationSeconds", 43200).c().b
	w := g.p().o("")
	credentials(w, key, t.Add(12*time.Hour)).o("assumedRoleUser").s("assumedRoleId", g.w.pid("AROA", a, a.ssoRole)+":"+email).
		s("arn", "arn:aws:sts::"+a.id+":assumed-role/"+a.ssoRole+"/"+email).c().s("subject", email).s("subjectType", "persistent").
		s("issuer", "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/"+g.r.str(mixedAlnum, 20)).s("audience", "https://signin.aws.amazon.com/saml")
	r.resp = w.c().b
	id := g.emit(r)
	g.lookAlike("sso-assume-role-with-saml", &g.cur, id)

	s := g.w.role(a, a.ssoRole, email, key, t, false, "").with(ip, consoleUA)
	s.console = true
	fed := s.with(ip, browserMac)
	fed.console = false
	r = g.call(sec(t, 2), a, "us-east-1", &fed, "signin.amazonaws.com", "ConsoleLogin")
	r.eventType, r.readOnly = "AwsConsoleSignIn", false
	r.extra = g.ex.reset().o("").s("LoginTo", "https://console.aws.amazon.com/console/home").s("MobileVersion", "No").s("MFAUsed", "No").c().b
	r.resp = g.p().o("").s("ConsoleLogin", "Success").c().b
	id = g.emit(r)
	g.lookAlike("sso-console-login", &g.cur, id)
	g.browse(a, &s, sec(t, 5), g.r.between(5, 30), false)
}

// onboard: an admin creates a read-only user with a console password.
func (g *gen) onboard(a *account, t time.Time) {
	admin := pick(g.r, a.admins)
	s, _ := g.login(t, a, admin, officeIP(g.r), browserMac, true, true)
	newUser := pick(g.r, people) + "." + pick(g.r, []string{"contractor", "auditor", "analyst", "intern"}) + strconv.Itoa(g.r.IntN(10))
	at := sec(t, g.r.between(20, 120))
	r := g.call(at, a, "us-east-1", &s, "iam.amazonaws.com", "ListUsers")
	r.req = g.q().o("").c().b
	g.emit(r)
	g.createUser(sec(at, 25), a, &s, newUser, 20, func(kind string, id []byte) { g.lookAlike(kind, &g.cur, id) },
		"arn:aws:iam::aws:policy/ReadOnlyAccess", true)
}

// createUser emits iam:CreateUser, AttachUserPolicy and CreateLoginProfile, each at most
// maxGap seconds after the previous; mark is called after each with a step kind and the
// eventID. It returns the time of the last call.
func (g *gen) createUser(t time.Time, a *account, who *actor, user string, maxGap int, mark func(kind string, id []byte), policy string, reset bool) time.Time {
	r := g.call(t, a, "us-east-1", who, "iam.amazonaws.com", "CreateUser")
	r.req = g.q().o("").s("userName", user).c().b
	r.resp = g.p().o("").o("user").s("path", "/").s("userName", user).s("userId", g.w.pid("AIDA", a, user)).s("arn", "arn:aws:iam::"+a.id+":user/"+user).
		s("createDate", t.UTC().Format("Jan 2, 2006, 3:04:05 PM")).c().c().b
	mark("create-user", g.emit(r))
	t = sec(t, g.r.between(1, maxGap))
	r = g.call(t, a, "us-east-1", who, "iam.amazonaws.com", "AttachUserPolicy")
	r.req = g.q().o("").s("userName", user).s("policyArn", policy).c().b
	mark("attach-user-policy", g.emit(r))
	t = sec(t, g.r.between(1, maxGap))
	r = g.call(t, a, "us-east-1", who, "iam.amazonaws.com", "CreateLoginProfile")
	r.req = g.q().o("").s("userName", user).t("passwordResetRequired", reset).c().b
	r.resp = g.p().o("").o("loginProfile").s("userName", user).s("createDate", t.UTC().Format("Jan 2, 2006, 3:04:05 PM")).t("passwordResetRequired", reset).c().c().b
	mark("create-login-profile", g.emit(r))
	return t
}

// createAccessKey emits iam:CreateAccessKey for user (for the caller itself when forSelf)
// and returns the new key and the eventID.
func (g *gen) createAccessKey(t time.Time, a *account, who *actor, user string, forSelf bool) (string, []byte) {
	key := g.r.key("AKIA")
	r := g.call(t, a, "us-east-1", who, "iam.amazonaws.com", "CreateAccessKey")
	if forSelf {
		r.req = g.q().o("").c().b
	} else {
		r.req = g.q().o("").s("userName", user).c().b
	}
	r.resp = g.p().o("").o("accessKey").s("userName", user).s("accessKeyId", key).s("status", "Active").s("createDate", t.UTC().Format("Jan 2, 2006, 3:04:05 PM")).c().c().b
	return key, g.emit(r)
}

// rotateOwnKey: an admin creates a new access key for themselves and deactivates the old.
func (g *gen) rotateOwnKey(a *account, t time.Time) {
	admin := pick(g.r, a.admins)
	s, _ := g.login(t, a, admin, officeIP(g.r), browserMac, true, true)
	_, id := g.createAccessKey(sec(t, g.r.between(30, 200)), a, &s, admin, true)
	g.lookAlike("create-access-key-self", &g.cur, id)
	r := g.call(sec(g.cur.at, 40), a, "us-east-1", &s, "iam.amazonaws.com", "UpdateAccessKey")
	r.req = g.q().o("").s("accessKeyId", g.r.key("AKIA")).s("status", "Inactive").c().b
	g.emit(r)
}

// rootVisit: the root user signs in with MFA to look at billing.
func (g *gen) rootVisit(a *account, t time.Time) {
	ip := officeIP(g.r)
	who := g.w.root(a, "", time.Time{}).with(ip, browserMac)
	r := g.call(t, a, "us-east-1", &who, "signin.amazonaws.com", "ConsoleLogin")
	r.eventType, r.readOnly = "AwsConsoleSignIn", false
	r.extra = g.ex.reset().o("").s("LoginTo", "https://console.aws.amazon.com/billing/home").s("MobileVersion", "No").s("MFAUsed", "Yes").c().b
	r.resp = g.p().o("").s("ConsoleLogin", "Success").c().b
	id := g.emit(r)
	g.lookAlike("root-console-login-mfa", &g.cur, id)
	s := g.w.root(a, g.r.key("ASIA"), t).with(ip, consoleUA)
	for i, name := range []string{"GetCostAndUsage", "GetCostForecast", "GetCostAndUsage"} {
		r = g.call(sec(t, 20+15*i), a, "us-east-1", &s, "ce.amazonaws.com", name)
		r.req = g.q().o("").o("TimePeriod").s("Start", t.AddDate(0, -1, 0).Format("2006-01-02")).s("End", t.Format("2006-01-02")).c().s("Granularity", "MONTHLY").c().b
		g.emit(r)
	}
}

// mailerCheck: a cron job checks the SES quota with the mailer's key, the key attack 1
// later abuses.
func (g *gen) mailerCheck(a *account, t time.Time) {
	who := g.w.iamUser(a, a.mailer, a.mailKey, time.Time{}, false).with(g.bulk[a.idx].natOr("198.51.100.9"), boto3UA)
	r := g.call(t, a, a.regions[0], &who, "ses.amazonaws.com", "GetSendQuota")
	id := g.emit(r)
	g.lookAlike("ses-get-send-quota", &g.cur, id)
	if t.Weekday() == time.Monday {
		r = g.call(sec(t, 2), a, a.regions[0], &who, "ses.amazonaws.com", "ListIdentities")
		r.req = g.q().o("").s("identityType", "Domain").n("maxItems", 20).c().b
		id = g.emit(r)
		g.lookAlike("ses-list-identities", &g.cur, id)
	}
}

func (b *bulkState) natOr(def string) string {
	if b.nat != "" {
		return b.nat
	}
	return def
}

// legacySync: a nightly on-premises job uploads backups with the long-lived key attack 2
// later abuses.
func (g *gen) legacySync(a *account, t time.Time) {
	who := g.w.iamUser(a, a.legacy, a.legKey, time.Time{}, false).with("203.0.113.200", boto3UA)
	r := g.call(t, a, "us-east-1", &who, "sts.amazonaws.com", "GetCallerIdentity")
	g.emit(r)
	r = g.call(sec(t, 1), a, "us-east-1", &who, "s3.amazonaws.com", "ListBuckets")
	r.req = g.q().o("").s("Host", "s3.amazonaws.com").c().b
	g.emit(r)
	for i := range g.r.between(2, 6) {
		bucket, key := g.s3Object(a)
		r = g.call(sec(t, 3+i*7), a, a.regions[0], &who, "s3.amazonaws.com", "PutObject")
		g.s3Data(r, bucket, key, 100_000+g.r.IntN(5_000_000), 0)
		g.emit(r)
	}
}
