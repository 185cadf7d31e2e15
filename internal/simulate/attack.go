package simulate

import "time"

// minerImages are the 40 Docker Hub images of seed attack 2's task definitions.
var minerImages = []string{
	"ahnoyp/ak:ma", "ahnoyp/ku:mi", "cxgdyr/ca:da", "cxgdyr/ku:en", "dilgrw/ca:za", "dilgrw/ku:lo", "enicfc/ca:mu", "enicfc/mu:ja",
	"etiuaz/ac:an", "etiuaz/uj:ku", "flmmov/ad:ai", "flmmov/ol:ak", "fmrfyl/yu:da", "fmrfyl/ba:ki", "gqjbmv/mu:sa", "gqjbmv/sa:ba",
	"itzwsl/gi:lq", "itzwsl/kl:al", "lhnxzb/ak:am", "lhnxzb/ik:mu", "lktbai/ti:ab", "lktbai/ki:bu", "oaersw/do:ra", "oaersw/bu:sa",
	"pecxnp/pu:pi", "pecxnp/bo:bi", "uroicm/ri:do", "uroicm/ku:do", "vxfegj/ja:an", "vxfegj/ka:je", "vykixv/ad:nu", "vykixv/ka:mj",
	"xpgsmf/fa:an", "xpgsmf/lu:an", "yzsqbe/se:ab", "yzsqbe/ka:si", "zopklw/wi:ab", "zopklw/ko:sy", "zsztqa/yi:an", "zsztqa/ak:ha",
}

const pendingVerification = "Your request for accessing resources in this region is being validated, and you will not be able to launch additional resources in this region until the validation is complete. We will notify you by email once your request has been validated. While normally resolved within minutes, please allow up to 4 hours for this process to complete. If the issue still persists, please let us know by writing to aws-verification@amazon.com for further assistance."

// planAttacks schedules the selected attacks. Their names and addresses come from a
// generator of their own, so they depend on the seed only.
func (g *gen) planAttacks() {
	r := newRnd(g.opts.Seed, 0x61747461636b) // "attack"
	days := g.opts.Days
	for _, which := range []Attack{AttackLeakedKeyAdmin, AttackECSCryptomining, AttackRoleTheft} {
		if g.opts.has(which) {
			g.truth.Attacks = append(g.truth.Attacks, AttackTruth{Attack: which})
		}
	}
	for i := range g.truth.Attacks {
		at := &g.truth.Attacks[i]
		switch at.Attack {
		// In a week, the attacks fall on the second day and the fourth or fifth; in a
		// longer history, as many days before its end (after a week or more of normal
		// activity, which first-seen rules learn from).
		case AttackLeakedKeyAdmin:
			day := max(min(1, days-1), days-6)
			t := g.opts.Start.Add(time.Duration(day)*24*time.Hour + time.Duration(2*3600+r.IntN(3*3600))*time.Second)
			g.planAttack1(r, at, t)
		case AttackECSCryptomining:
			day := days - 1
			if days >= 5 {
				day = max(3, days-4) + r.IntN(2)
			}
			t := g.opts.Start.Add(time.Duration(day)*24*time.Hour + time.Duration(10*3600+r.IntN(12*3600))*time.Second)
			g.planAttack2(r, at, t)
		case AttackRoleTheft:
			// In the middle of the history, after a day of the instance's own activity.
			day := max(min(1, days-1), days/2)
			t := g.opts.Start.Add(time.Duration(day)*24*time.Hour + time.Duration(13*3600+r.IntN(6*3600))*time.Second)
			g.planAttack3(r, at, t)
		}
	}
}

// withInvokedBy returns who as seen when an AWS service calls on its behalf.
func (a actor) withInvokedBy(service string) actor {
	id := append([]byte(nil), a.id[:len(a.id)-1]...)
	id = append(id, `,"invokedBy":"`+service+`"}`...)
	a.id, a.ip, a.ua, a.console = id, service, service, false
	return a
}

func (at *AttackTruth) addIP(ip string) {
	for _, x := range at.SourceIPs {
		if x == ip {
			return
		}
	}
	at.SourceIPs = append(at.SourceIPs, ip)
}

// planAttack1 schedules seed attack 1 on the mailer key of the first account, starting at t.
func (g *gen) planAttack1(r rnd, at *AttackTruth, t time.Time) {
	a := g.w.accounts[0]
	at.Name = "leaked IAM user key: admin users, console, S3, metal instances in us-west-1"
	ipKey, ipConsole, ipWest := g.attackerIP(r), g.attackerIP(r), g.attackerIP(r)
	newUser := "aws_dev" + r.digits(r.between(3, 5))
	cli := [2]string{"aws-cli" + r.str(lowerAlnum, 8), "aws-cli" + r.str(lowerAlnum, 8)}
	keyName, sgName := r.str(lowerAlnum, 10), pick(r, []string{"default-ssh", "launch-wizard-1", "ssh-access", "allow-all"})
	leaked := g.w.iamUser(a, a.mailer, a.mailKey, time.Time{}, false).with(ipKey, attackerUA)
	west := leaked.with(ipWest, attackerUA)
	at.Identities = append(at.Identities, Identity{Account: a.id, Type: "IAMUser", ARN: leaked.arn, UserName: a.mailer, AccessKeyID: a.mailKey, How: "leaked access key"})
	for _, ip := range []string{ipKey, ipConsole, ipWest} {
		at.addIP(ip)
	}
	user := func(name string) Resource {
		return Resource{Kind: "iam-user", Account: a.id, Region: "global", Name: name, ARN: "arn:aws:iam::" + a.id + ":user/" + name}
	}
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	mark := func(prefix string) func(string, []byte) {
		return func(kind string, id []byte) { g.step(at, prefix+kind, &g.cur, id) }
	}

	// Stage 1: reconnaissance and a backdoor admin user, all within 11 seconds.
	g.schedule(t, func(t time.Time) {
		r := g.call(t, a, a.regions[0], &leaked, "ses.amazonaws.com", "GetSendQuota")
		g.step(at, "recon-ses-get-send-quota", r, g.emit(r))
		r = g.call(sec(t, 1), a, a.regions[0], &leaked, "ses.amazonaws.com", "ListIdentities")
		r.req = g.q().o("").n("maxItems", 100).c().b
		g.step(at, "recon-ses-list-identities", r, g.emit(r))
		r = g.call(sec(t, 3), a, "us-east-1", &leaked, "iam.amazonaws.com", "ListUsers")
		r.req = g.q().o("").c().b
		g.step(at, "recon-iam-list-users", r, g.emit(r))
		g.createUser(sec(t, 5), a, &leaked, newUser, 3, mark(""), admin, false)
		at.Resources = append(at.Resources, user(newUser),
			Resource{Kind: "iam-user-policy", Account: a.id, Region: "global", Parent: newUser, Policy: admin},
			Resource{Kind: "login-profile", Account: a.id, Region: "global", Parent: newUser})
	})

	// Stage 2: hours later, the new user signs in without MFA and looks around.
	t2 := t.Add(time.Duration(3*3600+r.IntN(3*3600)) * time.Second)
	g.schedule(t2, func(t time.Time) {
		s, id := g.login(t, a, newUser, ipConsole, browserWin, false, true)
		g.step(at, "console-login", &g.cur, id)
		at.Identities = append(at.Identities, Identity{Account: a.id, Type: "IAMUser", ARN: s.arn, UserName: newUser, How: "created user (console)"})
		t = sec(t, 25)
		for _, region := range a.regions[:min(2, len(a.regions))] {
			for _, c := range []pollCall{{"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeVolumes"},
				{"ec2.amazonaws.com", "DescribeSecurityGroups"}, {"elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers"}} {
				t = sec(t, g.r.between(1, 20))
				r := g.call(t, a, region, &s, c.source, c.name)
				r.req = g.q().o("").o("filterSet").c().c().b
				g.step(at, "console-discovery", r, g.emit(r))
			}
		}
		t = sec(t, 40)
		r := g.call(t, a, a.regions[0], &s, "resource-explorer-2.amazonaws.com", "Search")
		r.req = g.q().o("").s("QueryString", "").n("MaxResults", 1000).c().b
		g.step(at, "resource-explorer-search", r, g.emit(r))
		t = sec(t, 75)
		inst := a.inst[a.regions[0]][0]
		r = g.call(t, a, a.regions[0], &s, "ec2-instance-connect.amazonaws.com", "SendSSHPublicKey")
		r.req = g.q().o("").s("instanceId", inst).s("instanceOSUser", "ec2-user").s("sSHPublicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"+g.r.str(mixedAlnum, 43)).c().b
		r.resp = g.p().o("").s("requestId", g.r.uuid()).t("success", true).c().b
		g.step(at, "send-ssh-public-key", r, g.emit(r))
		viaS3 := s.withInvokedBy("s3.amazonaws.com")
		for _, bucket := range a.buckets {
			t = sec(t, g.r.between(20, 60))
			r = g.call(t, a, a.regions[0], &s, "s3.amazonaws.com", "ListObjects")
			r.data = true
			r.req = g.q().o("").s("bucketName", bucket).s("Host", bucket+".s3."+a.regions[0]+".amazonaws.com").s("list-type", "2").s("prefix", "").s("delimiter", "/").c().b
			r.resources = g.res.reset().a("").o("").s("accountId", a.id).s("type", "AWS::S3::Bucket").s("ARN", "arn:aws:s3:::"+bucket).c().ca().b
			g.step(at, "s3-list-objects", r, g.emit(r))
			for range g.r.between(3, 8) {
				t = sec(t, g.r.between(0, 2))
				_, key := g.s3Object(a)
				r = g.call(t, a, a.regions[0], &s, "s3.amazonaws.com", "HeadObject")
				g.s3Data(r, bucket, key, 0, 0)
				g.step(at, "s3-head-object", r, g.emit(r))
			}
			for range g.r.between(15, 50) {
				t = sec(t, g.r.between(0, 3))
				_, key := g.s3Object(a)
				r = g.call(t, a, a.regions[0], &s, "s3.amazonaws.com", "GetObject")
				g.s3Data(r, bucket, key, 0, 1000+g.r.IntN(20_000_000))
				g.step(at, "s3-get-object", r, g.emit(r))
				id := g.kmsDecryptFor(a, &viaS3, t, a.regions[0], bucket, key)
				g.step(at, "kms-decrypt-by-s3", &g.cur, id)
			}
		}
	})

	// Stage 3: with the original key, in unused us-west-1: SSH access and metal instances.
	t3 := t2.Add(time.Duration(40*60+r.IntN(50*60)) * time.Second)
	const west1 = "us-west-1"
	g.schedule(t3, func(t time.Time) {
		keyPairID := g.r.hexID("key-0", 17)
		r := g.call(t, a, west1, &west, "ec2.amazonaws.com", "ImportKeyPair")
		r.req = g.q().o("").s("keyName", keyName).s("publicKeyMaterial", "<sensitiveDataRemoved>").c().b
		r.resp = g.p().o("").s("requestId", g.r.uuid()).s("keyName", keyName).s("keyFingerprint", g.r.str(hexChars, 32)).s("keyPairId", keyPairID).c().b
		g.step(at, "import-key-pair", r, g.emit(r))
		at.Resources = append(at.Resources, Resource{Kind: "key-pair", Account: a.id, Region: west1, Name: keyName, ID: keyPairID})
		sg := g.r.hexID("sg-0", 17)
		r = g.call(sec(t, 4), a, west1, &west, "ec2.amazonaws.com", "CreateSecurityGroup")
		r.req = g.q().o("").s("groupName", sgName).s("groupDescription", sgName).s("vpcId", a.vpc[west1]).c().b
		r.resp = g.p().o("").s("requestId", g.r.uuid()).t("_return", true).s("groupId", sg).c().b
		g.step(at, "create-security-group", r, g.emit(r))
		at.Resources = append(at.Resources, Resource{Kind: "security-group", Account: a.id, Region: west1, Name: sgName, ID: sg})
		id := g.authorize(sec(t, 7), a, west1, &west, sg, 22, "0.0.0.0/0", "")
		g.step(at, "authorize-ssh-from-anywhere", &g.cur, id)
		at.Resources = append(at.Resources, Resource{Kind: "security-group-rule", Account: a.id, Region: west1, Parent: sg, Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"})
		for i := range 2 {
			r = g.call(sec(t, 15+i), a, west1, &west, "ec2.amazonaws.com", "RunInstances")
			r.req = g.q().o("").o("instancesSet").a("items").o("").s("imageId", "ami-0"+g.r.str(hexChars, 16)).n("minCount", 1).n("maxCount", 4).c().ca().c().
				s("instanceType", "r6i.metal").s("keyName", keyName).o("groupSet").a("items").o("").s("groupId", sg).c().ca().c().
				o("blockDeviceMapping").c().o("monitoring").t("enabled", false).c().t("disableApiTermination", false).t("disableApiStop", false).c().b
			r.errCode, r.errMsg = "Client.PendingVerification", pendingVerification
			g.step(at, "run-instances-metal", r, g.emit(r))
		}
	})

	// Stage 4: two more admin users with console passwords and access keys, then a little
	// use of those keys.
	t4 := t3.Add(time.Duration(20*60+r.IntN(40*60)) * time.Second)
	newKeys := make([]string, 2)
	g.schedule(t4, func(t time.Time) {
		for i, u := range cli {
			t = g.createUser(sec(t, g.r.between(5, 30)), a, &west, u, 4, mark("persist-"), admin, false)
			at.Resources = append(at.Resources, user(u),
				Resource{Kind: "iam-user-policy", Account: a.id, Region: "global", Parent: u, Policy: admin},
				Resource{Kind: "login-profile", Account: a.id, Region: "global", Parent: u})
			var id []byte
			t = sec(t, g.r.between(1, 4))
			newKeys[i], id = g.createAccessKey(t, a, &west, u, false)
			g.step(at, "persist-create-access-key", &g.cur, id)
			at.Resources = append(at.Resources, Resource{Kind: "access-key", Account: a.id, Region: "global", Parent: u, ID: newKeys[i]})
			at.Identities = append(at.Identities, Identity{Account: a.id, Type: "IAMUser", ARN: "arn:aws:iam::" + a.id + ":user/" + u, UserName: u, AccessKeyID: newKeys[i], How: "created access key"})
		}
	})
	g.schedule(t4.Add(time.Duration(15*60+r.IntN(30*60))*time.Second), func(t time.Time) {
		for i, u := range cli {
			who := g.w.iamUser(a, u, newKeys[i], time.Time{}, false).with(ipWest, attackerUA)
			r := g.call(sec(t, 60*i), a, "us-east-1", &who, "sts.amazonaws.com", "GetCallerIdentity")
			g.step(at, "use-created-key", r, g.emit(r))
			r = g.call(sec(t, 60*i+2), a, "us-east-1", &who, "iam.amazonaws.com", "ListAttachedUserPolicies")
			r.req = g.q().o("").s("userName", u).c().b
			g.step(at, "use-created-key", r, g.emit(r))
			r = g.call(sec(t, 60*i+5), a, west1, &who, "ec2.amazonaws.com", "DescribeRegions")
			r.req = g.q().o("").o("regionSet").c().c().b
			g.step(at, "use-created-key", r, g.emit(r))
		}
	})
}

// planAttack2 schedules seed attack 2 on the legacy key of the last account, starting at t.
func (g *gen) planAttack2(r rnd, at *AttackTruth, t time.Time) {
	a := g.w.accounts[len(g.w.accounts)-1]
	at.Name = "leaked IAM user key: ECS Fargate miners in 17 regions"
	ip := g.attackerIP(r)
	leaked := g.w.iamUser(a, a.legacy, a.legKey, time.Time{}, false).with(ip, attacker2UA)
	at.Identities = append(at.Identities, Identity{Account: a.id, Type: "IAMUser", ARN: leaked.arn, UserName: a.legacy, AccessKeyID: a.legKey, How: "leaked access key"})
	at.addIP(ip)
	regions := append([]string(nil), standardRegions...)
	r.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
	type plan struct{ cluster, family, service, image, sg string }
	plans := make([]plan, len(regions))
	for i := range plans {
		plans[i] = plan{r.str(lowerChars, r.between(8, 12)), r.str(lowerChars, r.between(6, 10)), r.str(lowerChars, r.between(6, 10)), g.minerImage(r), r.hexID("sg-0", 17)}
	}
	g.schedule(t, func(t0 time.Time) {
		for i, region := range regions {
			p := plans[i]
			t := sec(t0, i*6+g.r.IntN(2))
			id := g.createCluster(t, a, region, &leaked, p.cluster)
			g.step(at, "ecs-create-cluster", &g.cur, id)
			clusterARN := "arn:aws:ecs:" + region + ":" + a.id + ":cluster/" + p.cluster
			at.Resources = append(at.Resources, Resource{Kind: "ecs-cluster", Account: a.id, Region: region, Name: p.cluster, ARN: clusterARN})
			id = g.registerTaskDef(sec(t, 1+g.r.IntN(2)), a, region, &leaked, p.family, p.image, "16384", "32768", 1)
			g.step(at, "ecs-register-task-definition", &g.cur, id)
			tdARN := "arn:aws:ecs:" + region + ":" + a.id + ":task-definition/" + p.family + ":1"
			at.Resources = append(at.Resources, Resource{Kind: "ecs-task-definition", Account: a.id, Region: region, Name: p.family + ":1", ARN: tdARN, Image: p.image})
			id = g.createService(sec(t, 3+g.r.IntN(2)), a, region, &leaked, p.cluster, p.service, p.family, 1, 25, true, a.subnets[region][0], p.sg)
			g.step(at, "ecs-create-service", &g.cur, id)
			at.Resources = append(at.Resources, Resource{Kind: "ecs-service", Account: a.id, Region: region, Name: p.service,
				ARN: "arn:aws:ecs:" + region + ":" + a.id + ":service/" + p.cluster + "/" + p.service, Cluster: clusterARN, TaskDefinition: tdARN, Image: p.image, DesiredCount: 25})
		}
	})
}
