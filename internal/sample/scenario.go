package sample

import (
	"fmt"
	"strings"
	"time"
)

// record is one CloudTrail event; the field order is the order AWS writes.
type record struct {
	EventVersion                 string      `json:"eventVersion"`
	UserIdentity                 identity    `json:"userIdentity"`
	EventTime                    string      `json:"eventTime"`
	EventSource                  string      `json:"eventSource"`
	EventName                    string      `json:"eventName"`
	AWSRegion                    string      `json:"awsRegion"`
	SourceIPAddress              string      `json:"sourceIPAddress"`
	UserAgent                    string      `json:"userAgent"`
	ErrorCode                    string      `json:"errorCode,omitempty"`
	ErrorMessage                 string      `json:"errorMessage,omitempty"`
	RequestParameters            any         `json:"requestParameters"`
	ResponseElements             any         `json:"responseElements"`
	AdditionalEventData          any         `json:"additionalEventData,omitempty"`
	RequestID                    string      `json:"requestID,omitempty"`
	EventID                      string      `json:"eventID"`
	ReadOnly                     bool        `json:"readOnly"`
	EventType                    string      `json:"eventType"`
	ManagementEvent              bool        `json:"managementEvent"`
	RecipientAccountID           string      `json:"recipientAccountId"`
	EventCategory                string      `json:"eventCategory"`
	TLSDetails                   *tlsDetails `json:"tlsDetails,omitempty"`
	SessionCredentialFromConsole string      `json:"sessionCredentialFromConsole,omitempty"`

	at time.Time
}

type identity struct {
	Type             string          `json:"type"`
	PrincipalID      string          `json:"principalId,omitempty"`
	ARN              string          `json:"arn,omitempty"`
	AccountID        string          `json:"accountId,omitempty"`
	AccessKeyID      string          `json:"accessKeyId,omitempty"`
	UserName         string          `json:"userName,omitempty"`
	IdentityProvider string          `json:"identityProvider,omitempty"`
	SessionContext   *sessionContext `json:"sessionContext,omitempty"`
	InvokedBy        string          `json:"invokedBy,omitempty"`
}

type sessionContext struct {
	SessionIssuer *sessionIssuer `json:"sessionIssuer,omitempty"`
	Attributes    attributes     `json:"attributes"`
}

type sessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type attributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type tlsDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// actor is who makes a call: identity, source address, user agent, and whether the calls
// come from a console session.
type actor struct {
	id      identity
	ip, ua  string
	console bool
}

type obj = map[string]any

const (
	browser    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	browserWin = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	ciUA       = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#ecs.update-service"
	pollerUA   = "aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.190.0 m/E"
	attackerUA = "Boto3/1.26.45 Python/3.8.10 Linux/5.4.0-150-generic Botocore/1.29.45"
	console    = "AWS Internal"

	trailARN = "arn:aws:cloudtrail:us-east-1:" + Account + ":trail/management-events"
)

// builder accumulates the records of the day.
type builder struct {
	rng     rng
	records []*record
	// paused is the interval in which the trail was stopped: calls made then are not logged.
	pausedFrom, pausedTo time.Time
}

func at(hh, mm, ss int) time.Time { return time.Date(2026, 11, 20, hh, mm, ss, 0, time.UTC) }

func (b *builder) add(r *record) *record {
	r.EventTime = r.at.Format("2006-01-02T15:04:05Z")
	r.EventID = b.rng.uuid()
	r.ManagementEvent = true
	r.RecipientAccountID = Account
	r.EventCategory = "Management"
	if r.at.After(b.pausedFrom) && r.at.Before(b.pausedTo) {
		return r // made while the trail was stopped: never delivered
	}
	b.records = append(b.records, r)
	return r
}

// api records a call; Search and names starting with Describe, List or Get are read-only.
func (b *builder) api(t time.Time, region string, who actor, source, name string, req, resp any) *record {
	host := strings.TrimSuffix(source, ".amazonaws.com") + "." + region + ".amazonaws.com"
	if source == "iam.amazonaws.com" {
		host = "iam.amazonaws.com"
	}
	r := &record{
		at: t, EventVersion: "1.10", UserIdentity: who.id, EventSource: source, EventName: name,
		AWSRegion: region, SourceIPAddress: who.ip, UserAgent: who.ua,
		RequestParameters: req, ResponseElements: resp, RequestID: b.rng.uuid(), EventType: "AwsApiCall",
		ReadOnly: name == "Search" || strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Get"),
	}
	if who.ip != who.id.InvokedBy {
		r.TLSDetails = &tlsDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: host}
	}
	if who.console {
		r.SessionCredentialFromConsole = "true"
	}
	return b.add(r)
}

func (b *builder) fail(r *record, code, msg string) {
	r.ErrorCode, r.ErrorMessage, r.ResponseElements = code, msg, nil
}

// login records a console sign-in of an IAM user and returns the console session it opens.
func (b *builder) login(t time.Time, user, ip, ua string, mfa, ok bool) actor {
	extra := obj{"LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_" + b.rng.alnum(16), "MobileVersion": "No", "MFAUsed": "No"}
	if mfa {
		extra["MFAUsed"] = "Yes"
		extra["MFAIdentifier"] = fmt.Sprintf("arn:aws:iam::%s:mfa/%s", Account, user)
	}
	result := "Success"
	r := &record{
		at: t, EventVersion: "1.09", UserIdentity: iamUser(user, ""), EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin",
		AWSRegion: "us-east-1", SourceIPAddress: ip, UserAgent: ua, AdditionalEventData: extra, EventType: "AwsConsoleSignIn",
		TLSDetails: &tlsDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: "signin.aws.amazon.com"},
	}
	if !ok {
		result, r.ErrorMessage = "Failure", "Failed authentication"
	}
	r.ResponseElements = obj{"ConsoleLogin": result}
	b.add(r)
	id := iamUser(user, "ASIA"+b.rng.upper(16))
	id.SessionContext = &sessionContext{Attributes: attributes{CreationDate: r.EventTime, MFAAuthenticated: fmt.Sprint(mfa)}}
	return actor{id: id, ip: ip, ua: console, console: true}
}

func principalID(prefix, name string) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	g := rng{state: h}
	return prefix + g.upper(17)
}

func iamUser(name, key string) identity {
	return identity{Type: "IAMUser", PrincipalID: principalID("AIDA", name), ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", Account, name),
		AccountID: Account, AccessKeyID: key, UserName: name}
}

func assumedRole(role, session, key string, created time.Time) identity {
	rid := principalID("AROA", role)
	return identity{
		Type: "AssumedRole", PrincipalID: rid + ":" + session, ARN: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", Account, role, session),
		AccountID: Account, AccessKeyID: key,
		SessionContext: &sessionContext{
			SessionIssuer: &sessionIssuer{Type: "Role", PrincipalID: rid, ARN: fmt.Sprintf("arn:aws:iam::%s:role/%s", Account, role), AccountID: Account, UserName: role},
			Attributes:    attributes{CreationDate: created.Format("2006-01-02T15:04:05Z"), MFAAuthenticated: "false"},
		},
	}
}

func awsService(name string) actor {
	return actor{id: identity{Type: "AWSService", InvokedBy: name}, ip: name, ua: name}
}

// day writes the whole scenario.
func (b *builder) day() {
	b.pausedFrom, b.pausedTo = at(13, 47, 6), at(16, 31, 0)
	leakedKey := "AKIA" + b.rng.upper(16)
	b.monitoring()
	b.deploys()
	b.developers()
	b.admin()
	b.attack(leakedKey)
}

// monitoring: an observability role polls inventory every two hours in two regions.
func (b *builder) monitoring() {
	for h := 0; h < 24; h += 2 {
		for i, region := range []string{"us-east-1", "eu-west-1"} {
			t := at(h, 7, 11+i*23)
			who := actor{id: assumedRole("observability-readonly", "inventory-poller", "ASIA"+b.rng.upper(16), t.Add(-time.Minute)), ip: "198.51.100.45", ua: pollerUA}
			b.api(t, region, who, "ec2.amazonaws.com", "DescribeInstances", obj{"instancesSet": obj{}, "filterSet": obj{}, "maxResults": 1000}, nil)
			b.api(t.Add(2*time.Second), region, who, "ec2.amazonaws.com", "DescribeVolumes", obj{"volumeSet": obj{}, "filterSet": obj{}, "maxResults": 500}, nil)
			b.api(t.Add(3*time.Second), region, who, "ec2.amazonaws.com", "DescribeSecurityGroups", obj{"securityGroupSet": obj{}, "securityGroupIdSet": obj{}, "filterSet": obj{}}, nil)
		}
	}
	// A scheduled Lambda function assumes its role every hour.
	for h := range 24 {
		t := at(h, 8, 3)
		b.api(t, "us-east-1", awsService("lambda.amazonaws.com"), "sts.amazonaws.com", "AssumeRole",
			obj{"roleArn": "arn:aws:iam::" + Account + ":role/report-builder-exec", "roleSessionName": "report-builder"},
			obj{"credentials": obj{"accessKeyId": "ASIA" + b.rng.upper(16), "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE", "expiration": t.Add(12 * time.Hour).Format("Jan 2, 2006, 3:04:05 PM")}})
	}
}

// deploys: GitHub Actions assumes the deploy role over OIDC and rolls out the web service.
func (b *builder) deploys() {
	for run, start := range []time.Time{at(7, 31, 4), at(10, 16, 40), at(12, 41, 9), at(17, 45, 30), at(20, 11, 52)} {
		sub := "repo:example-corp/web:ref:refs/heads/main"
		oidc := actor{id: identity{Type: "WebIdentityUser", PrincipalID: "arn:aws:iam::" + Account + ":oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:" + sub,
			UserName: sub, IdentityProvider: "arn:aws:iam::" + Account + ":oidc-provider/token.actions.githubusercontent.com"},
			ip: fmt.Sprintf("198.51.100.%d", 60+run), ua: ciUA}
		key := "ASIA" + b.rng.upper(16)
		b.api(start, "us-east-1", oidc, "sts.amazonaws.com", "AssumeRoleWithWebIdentity",
			obj{"roleArn": "arn:aws:iam::" + Account + ":role/github-actions-deploy", "roleSessionName": "GitHubActions"},
			obj{"credentials": obj{"accessKeyId": key, "expiration": start.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM")},
				"assumedRoleUser": obj{"assumedRoleId": principalID("AROA", "github-actions-deploy") + ":GitHubActions", "arn": "arn:aws:sts::" + Account + ":assumed-role/github-actions-deploy/GitHubActions"},
				"provider":        "arn:aws:iam::" + Account + ":oidc-provider/token.actions.githubusercontent.com", "audience": "sts.amazonaws.com", "subjectFromWebIdentityToken": sub})
		ci := actor{id: assumedRole("github-actions-deploy", "GitHubActions", key, start), ip: oidc.ip, ua: ciUA}
		rev := 41 + run
		image := fmt.Sprintf("%s.dkr.ecr.us-east-1.amazonaws.com/web:%s", Account, b.rng.alnum(7))
		b.api(start.Add(3*time.Second), "us-east-1", ci, "ecr.amazonaws.com", "GetAuthorizationToken", obj{}, nil)
		b.api(start.Add(38*time.Second), "us-east-1", ci, "ecs.amazonaws.com", "DescribeTaskDefinition", obj{"taskDefinition": "web"}, nil)
		b.api(start.Add(40*time.Second), "us-east-1", ci, "ecs.amazonaws.com", "RegisterTaskDefinition",
			obj{"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": []string{"FARGATE"}, "cpu": "512", "memory": "1024",
				"containerDefinitions": []obj{{"name": "web", "image": image, "portMappings": []obj{{"containerPort": 8080, "protocol": "tcp"}}, "essential": true}}},
			obj{"taskDefinition": obj{"taskDefinitionArn": fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/web:%d", Account, rev), "family": "web", "revision": rev, "status": "ACTIVE"}})
		b.api(start.Add(42*time.Second), "us-east-1", ci, "ecs.amazonaws.com", "UpdateService",
			obj{"cluster": "prod", "service": "web", "taskDefinition": fmt.Sprintf("web:%d", rev)},
			obj{"service": obj{"serviceName": "web", "clusterArn": "arn:aws:ecs:us-east-1:" + Account + ":cluster/prod", "desiredCount": 2, "status": "ACTIVE"}})
		for i := range 3 {
			b.api(start.Add(time.Duration(55+30*i)*time.Second), "us-east-1", ci, "ecs.amazonaws.com", "DescribeServices", obj{"cluster": "prod", "services": []string{"web"}}, nil)
		}
		for i := range 2 {
			t := start.Add(time.Duration(71+i*4) * time.Second)
			b.api(t, "us-east-1", awsService("ecs-tasks.amazonaws.com"), "sts.amazonaws.com", "AssumeRole",
				obj{"roleArn": "arn:aws:iam::" + Account + ":role/web-task", "roleSessionName": b.rng.alnum(32)},
				obj{"credentials": obj{"accessKeyId": "ASIA" + b.rng.upper(16), "expiration": t.Add(6 * time.Hour).Format("Jan 2, 2006, 3:04:05 PM")}})
		}
	}
}

// developers sign in with MFA and look around.
func (b *builder) developers() {
	look := func(s actor, t time.Time, region string) {
		b.api(t, region, s, "ec2.amazonaws.com", "DescribeInstances", obj{"instancesSet": obj{}, "filterSet": obj{}}, nil)
		b.api(t.Add(4*time.Second), region, s, "ecs.amazonaws.com", "ListClusters", obj{}, nil)
		b.api(t.Add(9*time.Second), region, s, "ecs.amazonaws.com", "DescribeServices", obj{"cluster": "prod", "services": []string{"web"}}, nil)
		b.api(t.Add(47*time.Second), region, s, "monitoring.amazonaws.com", "DescribeAlarms", obj{"maxRecords": 100}, nil)
		b.api(t.Add(95*time.Second), region, s, "logs.amazonaws.com", "DescribeLogGroups", obj{"limit": 50}, nil)
	}
	alice := b.login(at(8, 47, 12), "alice", "203.0.113.21", browser, true, true)
	look(alice, at(8, 47, 40), "us-east-1")
	look(alice, at(9, 2, 5), "eu-west-1")

	b.login(at(9, 31, 2), "bob", "203.0.113.22", browser, false, false) // mistyped password
	bob := b.login(at(9, 31, 20), "bob", "203.0.113.22", browser, true, true)
	look(bob, at(9, 32, 1), "us-east-1")
	b.api(at(9, 40, 33), "us-east-1", bob, "ec2.amazonaws.com", "DescribeSecurityGroups", obj{"securityGroupSet": obj{}, "filterSet": obj{}}, nil)
	b.api(at(9, 41, 2), "us-east-1", bob, "ec2.amazonaws.com", "DescribeInstanceStatus", obj{"instancesSet": obj{}, "filterSet": obj{}, "includeAllInstances": false}, nil)
	b.api(at(9, 42, 15), "us-east-1", bob, "ecs.amazonaws.com", "DescribeTasks", obj{"cluster": "prod", "tasks": []string{b.rng.alnum(32)}}, nil)
	b.api(at(9, 42, 50), "us-east-1", bob, "logs.amazonaws.com", "FilterLogEvents", obj{"logGroupName": "/ecs/web", "startTime": 1763625600000, "limit": 100}, nil)

	alice = b.login(at(17, 5, 48), "alice", "203.0.113.21", browser, true, true)
	look(alice, at(17, 6, 10), "us-east-1")
	bob = b.login(at(18, 20, 9), "bob", "203.0.113.23", browser, true, true)
	look(bob, at(18, 21, 0), "eu-west-1")
}

// admin onboards a user, opens the web security group to the office, and restores logging.
func (b *builder) admin() {
	carol := b.login(at(10, 58, 40), "carol", "203.0.113.12", browser, true, true)
	b.api(at(10, 59, 30), "us-east-1", carol, "iam.amazonaws.com", "ListUsers", obj{}, nil)
	b.api(at(11, 0, 5), "us-east-1", carol, "iam.amazonaws.com", "CreateUser", obj{"userName": "erin"},
		obj{"user": obj{"path": "/", "userName": "erin", "userId": principalID("AIDA", "erin"), "arn": "arn:aws:iam::" + Account + ":user/erin", "createDate": "Nov 20, 2026, 11:00:05 AM"}})
	b.api(at(11, 0, 20), "us-east-1", carol, "iam.amazonaws.com", "AttachUserPolicy", obj{"userName": "erin", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, nil)
	b.api(at(11, 0, 41), "us-east-1", carol, "iam.amazonaws.com", "CreateLoginProfile", obj{"userName": "erin", "passwordResetRequired": true},
		obj{"loginProfile": obj{"userName": "erin", "createDate": "Nov 20, 2026, 11:00:41 AM", "passwordResetRequired": true}})
	b.api(at(11, 1, 2), "us-east-1", carol, "iam.amazonaws.com", "ListAttachedUserPolicies", obj{"userName": "erin"}, nil)

	b.api(at(11, 19, 30), "us-east-1", carol, "ec2.amazonaws.com", "DescribeSecurityGroups", obj{"securityGroupIdSet": obj{"items": []obj{{"groupId": "sg-0c5e7a9b1d3f2e468"}}}}, nil)
	b.api(at(11, 20, 4), "us-east-1", carol, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
		obj{"groupId": "sg-0c5e7a9b1d3f2e468", "ipPermissions": obj{"items": []obj{{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "groups": obj{},
			"ipRanges": obj{"items": []obj{{"cidrIp": "203.0.113.0/24", "description": "office"}}}, "ipv6Ranges": obj{}, "prefixListIds": obj{}}}}},
		obj{"requestId": b.rng.uuid(), "_return": true, "securityGroupRuleSet": obj{"items": []obj{{"groupOwnerId": Account, "groupId": "sg-0c5e7a9b1d3f2e468",
			"securityGroupRuleId": "sgr-" + strings.ToLower(b.rng.alnum(17)), "isEgress": false, "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "203.0.113.0/24", "description": "office"}}}})

	// The trail is found stopped in the afternoon; the sign-in itself happened while it was off.
	carol = b.login(at(16, 28, 55), "carol", "203.0.113.12", browser, true, true)
	b.api(at(16, 31, 2), "us-east-1", carol, "cloudtrail.amazonaws.com", "StartLogging", obj{"name": trailARN}, nil)
	b.api(at(16, 31, 30), "us-east-1", carol, "cloudtrail.amazonaws.com", "GetTrailStatus", obj{"name": trailARN}, nil)
	b.api(at(16, 32, 11), "us-east-1", carol, "cloudtrail.amazonaws.com", "DescribeTrails", obj{"includeShadowTrails": false}, nil)
}

// attack: the access key of ses-mailer leaked; the attacker checks SES limits, makes an admin
// user, comes back through the console, then tries to start large instances in an unused
// region and stops the trail.
func (b *builder) attack(leakedKey string) {
	key := actor{id: iamUser("ses-mailer", leakedKey), ip: "140.213.52.17", ua: attackerUA}
	newUser := fmt.Sprintf("aws_dev%d", 1000+b.rng.intn(9000))

	b.api(at(9, 14, 2), "us-east-1", key, "ses.amazonaws.com", "GetSendQuota", nil, nil)
	b.api(at(9, 14, 4), "us-east-1", key, "ses.amazonaws.com", "ListIdentities", obj{"maxItems": 100}, nil)
	b.api(at(9, 14, 6), "us-east-1", key, "iam.amazonaws.com", "ListUsers", obj{}, nil)
	b.api(at(9, 14, 8), "us-east-1", key, "iam.amazonaws.com", "CreateUser", obj{"userName": newUser},
		obj{"user": obj{"path": "/", "userName": newUser, "userId": principalID("AIDA", newUser), "arn": "arn:aws:iam::" + Account + ":user/" + newUser, "createDate": "Nov 20, 2026, 9:14:08 AM"}})
	b.api(at(9, 14, 10), "us-east-1", key, "iam.amazonaws.com", "AttachUserPolicy", obj{"userName": newUser, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, nil)
	b.api(at(9, 14, 13), "us-east-1", key, "iam.amazonaws.com", "CreateLoginProfile", obj{"userName": newUser, "passwordResetRequired": false},
		obj{"loginProfile": obj{"userName": newUser, "createDate": "Nov 20, 2026, 9:14:13 AM", "passwordResetRequired": false}})

	s := b.login(at(13, 2, 40), newUser, "140.213.52.88", browserWin, false, true)
	b.api(at(13, 3, 12), "us-east-1", s, "ec2.amazonaws.com", "DescribeInstances", obj{"instancesSet": obj{}, "filterSet": obj{}}, nil)
	b.api(at(13, 3, 13), "us-east-1", s, "ec2.amazonaws.com", "DescribeVolumes", obj{"volumeSet": obj{}, "filterSet": obj{}}, nil)
	b.api(at(13, 3, 51), "us-east-1", s, "ec2.amazonaws.com", "DescribeSecurityGroups", obj{"securityGroupSet": obj{}, "securityGroupIdSet": obj{}, "filterSet": obj{}}, nil)
	b.api(at(13, 4, 30), "us-east-1", s, "elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", obj{"pageSize": 400}, nil)
	b.api(at(13, 6, 2), "us-east-1", s, "resource-explorer-2.amazonaws.com", "Search", obj{"QueryString": "", "MaxResults": 1000}, nil)

	west := key
	west.ip = "140.213.52.23"
	b.api(at(13, 40, 10), "us-west-1", west, "ec2.amazonaws.com", "ImportKeyPair", obj{"keyName": "k" + b.rng.alnum(6), "publicKeyMaterial": "<sensitiveDataRemoved>"},
		obj{"requestId": b.rng.uuid(), "keyFingerprint": "SHA256:" + b.rng.alnum(43), "keyPairId": "key-0" + strings.ToLower(b.rng.upper(16))})
	sg := "sg-0" + strings.ToLower(b.rng.upper(16))
	b.api(at(13, 40, 14), "us-west-1", west, "ec2.amazonaws.com", "CreateSecurityGroup", obj{"groupName": "default-ssh", "groupDescription": "default-ssh", "vpcId": "vpc-0" + strings.ToLower(b.rng.upper(16))},
		obj{"requestId": b.rng.uuid(), "_return": true, "groupId": sg})
	b.api(at(13, 40, 17), "us-west-1", west, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
		obj{"groupId": sg, "ipPermissions": obj{"items": []obj{{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": obj{},
			"ipRanges": obj{"items": []obj{{"cidrIp": "0.0.0.0/0"}}}, "ipv6Ranges": obj{}, "prefixListIds": obj{}}}}},
		obj{"requestId": b.rng.uuid(), "_return": true})
	for i := range 2 {
		r := b.api(at(13, 40, 25+i), "us-west-1", west, "ec2.amazonaws.com", "RunInstances",
			obj{"instancesSet": obj{"items": []obj{{"imageId": "ami-0" + strings.ToLower(b.rng.upper(16)), "minCount": 1, "maxCount": 4}}},
				"instanceType": "r6i.metal", "keyName": "default", "groupSet": obj{"items": []obj{{"groupId": sg}}},
				"blockDeviceMapping": obj{}, "monitoring": obj{"enabled": false}, "disableApiTermination": false, "disableApiStop": false}, nil)
		b.fail(r, "Client.PendingVerification", "Your request for accessing resources in this region is being validated, and you will not be able to launch additional resources in this region until the validation is complete. We will notify you by email once your request has been validated. While normally resolved within minutes, please allow up to 4 hours for this process to complete. If the issue still persists, please let us know by writing to aws-verification@amazon.com for further assistance.")
	}
	b.api(at(13, 47, 5), "us-east-1", key, "cloudtrail.amazonaws.com", "StopLogging", obj{"name": trailARN}, nil)
}
