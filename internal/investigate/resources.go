package investigate

import (
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
	"github.com/valyala/fastjson"
)

// resOp says what an API call does to a resource.
type resOp uint8

const (
	opNone resOp = iota
	opCreate
	opChange
	opDelete
)

// resourceOp classifies the calls whose raw JSON the index keeps: those that create, change
// or delete a resource the report tracks.
func resourceOp(source, name string) resOp {
	switch source {
	case "iam.amazonaws.com":
		switch name {
		case "CreateUser", "CreateAccessKey", "CreateLoginProfile", "AttachUserPolicy", "AttachRolePolicy",
			"AttachGroupPolicy", "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "CreateRole":
			return opCreate
		case "AddUserToGroup":
			return opCreate
		case "UpdateLoginProfile", "UpdateAccessKey", "UpdateAssumeRolePolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion":
			return opChange
		case "RemoveUserFromGroup", "DeletePolicy",
			"DeleteUser", "DeleteAccessKey", "DeleteLoginProfile", "DetachUserPolicy", "DetachRolePolicy",
			"DetachGroupPolicy", "DeleteUserPolicy", "DeleteRolePolicy", "DeleteGroupPolicy", "DeleteRole":
			return opDelete
		}
	case "ec2.amazonaws.com":
		switch name {
		case "CreateKeyPair", "ImportKeyPair", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RunInstances":
			return opCreate
		case "DeleteKeyPair", "DeleteSecurityGroup", "RevokeSecurityGroupIngress", "TerminateInstances":
			return opDelete
		}
	case "ecs.amazonaws.com":
		switch name {
		case "CreateCluster", "RegisterTaskDefinition", "CreateService":
			return opCreate
		case "UpdateService":
			return opChange
		case "DeleteCluster", "DeregisterTaskDefinition", "DeleteService":
			return opDelete
		}
	case "lambda.amazonaws.com":
		// Lambda writes API versions into event names: CreateFunction20150331.
		switch {
		case strings.HasPrefix(name, "CreateFunction"):
			return opCreate
		case strings.HasPrefix(name, "UpdateFunctionCode"), strings.HasPrefix(name, "UpdateFunctionConfiguration"):
			return opChange
		case strings.HasPrefix(name, "DeleteFunction"):
			return opDelete
		}
	}
	return opNone
}

// dataKindOf is what kind of data read a call is.
type dataKindOf uint8

const (
	dataNone dataKindOf = iota
	dataS3
	dataSecret
	dataSSM
	dataKMS
)

func dataKind(source, name string) dataKindOf {
	switch source {
	case "s3.amazonaws.com":
		switch name {
		case "GetObject", "HeadObject", "ListObjects", "ListObjectsV2", "ListObjectVersions", "GetObjectVersion":
			return dataS3
		}
	case "secretsmanager.amazonaws.com":
		if name == "GetSecretValue" || name == "BatchGetSecretValue" {
			return dataSecret
		}
	case "ssm.amazonaws.com":
		switch name {
		case "GetParameter", "GetParameters", "GetParametersByPath", "GetParameterHistory":
			return dataSSM
		}
	case "kms.amazonaws.com":
		if name == "Decrypt" {
			return dataKMS
		}
	}
	return dataNone
}

// tracked is a resource with the keys a deletion may name it by.
type tracked struct {
	incident.Resource
	keys []string
	op   resOp
}

// str returns the string or number at keys as text ("" when absent).
func str(v *fastjson.Value, keys ...string) string {
	x := v.Get(keys...)
	if x == nil {
		return ""
	}
	switch x.Type() {
	case fastjson.TypeString:
		return string(x.GetStringBytes())
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		return x.String()
	}
	return ""
}

// items returns the elements of an EC2-style list ({"items":[...]}) or a plain array at keys.
func items(v *fastjson.Value, keys ...string) []*fastjson.Value {
	x := v.Get(keys...)
	if x == nil {
		return nil
	}
	if x.Type() == fastjson.TypeArray {
		a, _ := x.Array()
		return a
	}
	return x.GetArray("items")
}

// lastPart returns what follows the last "/" of an ARN (a cluster or function name), or s.
func lastPart(s string) string {
	if strings.HasPrefix(s, "arn:") {
		if i := strings.LastIndexAny(s, "/:"); i >= 0 {
			return s[i+1:]
		}
	}
	return s
}

// afterType returns what follows "TYPE/" in an ARN (task-definition/family:rev), or s.
func afterType(s, typ string) string {
	if i := strings.Index(s, ":"+typ+"/"); i >= 0 {
		return s[i+len(typ)+2:]
	}
	return s
}

// evctx is what resource extraction needs to know about the event besides its JSON.
type evctx struct {
	account, region, actor, id, errCode string
	at                                  time.Time
}

func (c evctx) res(t incident.ResourceType, id, name, arn string, keys ...string) tracked {
	r := tracked{Resource: incident.Resource{
		Type: t, Account: c.account, Region: c.region, ID: id, Name: name, ARN: arn,
		CreatedBy: c.actor, CreatedAt: c.at, CreateEventID: c.id, Details: map[string]string{},
	}, keys: keys}
	if t.Global() {
		r.Region = incident.GlobalRegion
	}
	if c.errCode != "" {
		r.Failed, r.ErrorCode = true, c.errCode
	}
	return r
}

func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// principalOf returns the type and name of the user, role or group a policy call names.
func principalOf(rp *fastjson.Value) (string, string) {
	for _, t := range []string{"user", "role", "group"} {
		if n := str(rp, t+"Name"); n != "" {
			return t, n
		}
	}
	return "", ""
}

// extract returns the resources an event creates or changes (op opCreate or opChange, as
// resourceOp says of the call), or the keys of those it deletes (op opDelete).
func extract(v *fastjson.Value, c evctx, source, name string) []tracked {
	out := resourcesOf(v, c, source, name)
	op := resourceOp(source, name)
	for i := range out {
		if out[i].op != opDelete {
			out[i].op = op
		}
	}
	return out
}

// resourcesOf returns what extract does, with the op set for deletions only.
func resourcesOf(v *fastjson.Value, c evctx, source, name string) []tracked {
	rp := v.Get("requestParameters")
	if rp == nil {
		rp = &fastjson.Value{}
	}
	re := v.Get("responseElements")
	if re == nil {
		re = &fastjson.Value{}
	}
	a, reg := c.account, c.region
	del := func(keys ...string) []tracked { return []tracked{{keys: keys, op: opDelete}} }
	one := func(t tracked) []tracked { return []tracked{t} }
	switch name {
	// IAM.
	case "CreateUser":
		u := str(rp, "userName")
		return one(c.res(incident.IAMUser, "", u, str(re, "user", "arn"), "user|"+a+"|"+u))
	case "DeleteUser":
		return del("user|" + a + "|" + str(rp, "userName"))
	case "CreateAccessKey", "UpdateAccessKey":
		k, u := str(re, "accessKey", "accessKeyId"), str(rp, "userName")
		if k == "" {
			k = str(rp, "accessKeyId")
		}
		if u == "" {
			u = str(re, "accessKey", "userName")
		}
		t := c.res(incident.IAMAccessKey, k, u, "", "key|"+k)
		setIf(t.Details, "user", u)
		setIf(t.Details, "status", str(rp, "status"))
		return one(t)
	case "DeleteAccessKey":
		return del("key|" + str(rp, "accessKeyId"))
	case "CreateLoginProfile", "UpdateLoginProfile":
		u := str(rp, "userName")
		t := c.res(incident.IAMLoginProfile, "", u, "", "lp|"+a+"|"+u)
		setIf(t.Details, "password_reset_required", str(rp, "passwordResetRequired"))
		return one(t)
	case "DeleteLoginProfile":
		return del("lp|" + a + "|" + str(rp, "userName"))
	case "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy":
		pt, p := principalOf(rp)
		pol := str(rp, "policyArn")
		t := c.res(incident.IAMPolicyAttachment, pt+"/"+p+" "+pol, pol, pol, "pa|"+a+"|"+pt+"|"+p+"|"+pol)
		t.Details["principal_type"], t.Details["principal"] = pt, p
		return one(t)
	case "DetachUserPolicy", "DetachRolePolicy", "DetachGroupPolicy":
		pt, p := principalOf(rp)
		return del("pa|" + a + "|" + pt + "|" + p + "|" + str(rp, "policyArn"))
	case "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy":
		pt, p := principalOf(rp)
		pol := str(rp, "policyName")
		t := c.res(incident.IAMInlinePolicy, pt+"/"+p+" "+pol, pol, "", "ip|"+a+"|"+pt+"|"+p+"|"+pol)
		t.Details["principal_type"], t.Details["principal"] = pt, p
		setIf(t.Details, "policy_document", str(rp, "policyDocument"))
		return one(t)
	case "DeleteUserPolicy", "DeleteRolePolicy", "DeleteGroupPolicy":
		pt, p := principalOf(rp)
		return del("ip|" + a + "|" + pt + "|" + p + "|" + str(rp, "policyName"))
	case "AddUserToGroup":
		g, u := str(rp, "groupName"), str(rp, "userName")
		t := c.res(incident.IAMGroupMembership, g+"/"+u, g, "", "gm|"+a+"|"+g+"|"+u)
		t.Details["group"], t.Details["user"] = g, u
		return one(t)
	case "RemoveUserFromGroup":
		return del("gm|" + a + "|" + str(rp, "groupName") + "|" + str(rp, "userName"))
	case "CreatePolicyVersion", "SetDefaultPolicyVersion":
		pol := str(rp, "policyArn")
		t := c.res(incident.IAMManagedPolicy, pol, lastPart(pol), pol, "pol|"+pol)
		if name == "CreatePolicyVersion" {
			setIf(t.Details, "version", str(re, "policyVersion", "versionId"))
			setIf(t.Details, "set_as_default", str(rp, "setAsDefault"))
			setIf(t.Details, "policy_document", str(rp, "policyDocument"))
			if str(rp, "setAsDefault") == "true" {
				setIf(t.Details, "default_version", str(re, "policyVersion", "versionId"))
			}
		} else {
			setIf(t.Details, "default_version", str(rp, "versionId"))
		}
		return one(t)
	case "DeletePolicy":
		return del("pol|" + str(rp, "policyArn"))
	case "CreateRole", "UpdateAssumeRolePolicy":
		n := str(rp, "roleName")
		t := c.res(incident.IAMRole, "", n, str(re, "role", "arn"), "role|"+a+"|"+n)
		setIf(t.Details, "assume_role_policy", str(rp, "assumeRolePolicyDocument"))
		setIf(t.Details, "assume_role_policy", str(rp, "policyDocument"))
		return one(t)
	case "DeleteRole":
		return del("role|" + a + "|" + str(rp, "roleName"))
	// EC2.
	case "CreateKeyPair", "ImportKeyPair":
		n, id := str(rp, "keyName"), str(re, "keyPairId")
		keys := []string{"kp|" + a + "|" + reg + "|" + n}
		if id != "" {
			keys = append(keys, "kpid|"+a+"|"+reg+"|"+id)
		}
		t := c.res(incident.EC2KeyPair, id, n, "", keys...)
		setIf(t.Details, "fingerprint", str(re, "keyFingerprint"))
		return one(t)
	case "DeleteKeyPair":
		if id := str(rp, "keyPairId"); id != "" {
			return del("kpid|" + a + "|" + reg + "|" + id)
		}
		return del("kp|" + a + "|" + reg + "|" + str(rp, "keyName"))
	case "CreateSecurityGroup":
		id, n := str(re, "groupId"), str(rp, "groupName")
		t := c.res(incident.EC2SecurityGroup, id, n, "", "sg|"+a+"|"+reg+"|"+id, "sgn|"+a+"|"+reg+"|"+n)
		setIf(t.Details, "vpc_id", str(rp, "vpcId"))
		setIf(t.Details, "description", str(rp, "groupDescription"))
		return one(t)
	case "DeleteSecurityGroup":
		if id := str(rp, "groupId"); id != "" {
			return del("sg|" + a + "|" + reg + "|" + id)
		}
		return del("sgn|" + a + "|" + reg + "|" + str(rp, "groupName"))
	case "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress":
		return sgRules(rp, re, c, name == "RevokeSecurityGroupIngress")
	case "RunInstances":
		typ := str(rp, "instanceType")
		img := str(rp, "instancesSet", "items", "0", "imageId")
		var out []tracked
		for _, it := range items(re, "instancesSet") {
			id := str(it, "instanceId")
			t := c.res(incident.EC2Instance, id, id, "", "i|"+a+"|"+reg+"|"+id)
			t.Details["instance_type"], t.Details["count"] = firstNonEmpty(str(it, "instanceType"), typ), "1"
			setIf(t.Details, "image_id", firstNonEmpty(str(it, "imageId"), img))
			setIf(t.Details, "key_name", str(rp, "keyName"))
			out = append(out, t)
		}
		if len(out) == 0 {
			// A refused launch: one resource for the request, named by its eventID.
			t := c.res(incident.EC2Instance, "", c.id, "", "req|"+c.id)
			t.Details["instance_type"] = typ
			t.Details["count"] = firstNonEmpty(str(rp, "instancesSet", "items", "0", "maxCount"), "1")
			setIf(t.Details, "image_id", img)
			setIf(t.Details, "key_name", str(rp, "keyName"))
			out = append(out, t)
		}
		return out
	case "TerminateInstances":
		var keys []string
		for _, it := range items(rp, "instancesSet") {
			keys = append(keys, "i|"+a+"|"+reg+"|"+str(it, "instanceId"))
		}
		return del(keys...)
	}
	switch source {
	case "ecs.amazonaws.com":
		return ecs(rp, re, c, name)
	case "lambda.amazonaws.com":
		fn := lastPart(str(rp, "functionName"))
		switch resourceOp(source, name) {
		case opCreate, opChange:
			t := c.res(incident.LambdaFunction, fn, fn, str(re, "functionArn"), "fn|"+a+"|"+reg+"|"+fn)
			setIf(t.Details, "runtime", firstNonEmpty(str(rp, "runtime"), str(re, "runtime")))
			setIf(t.Details, "role", firstNonEmpty(str(rp, "role"), str(re, "role")))
			setIf(t.Details, "memory", str(re, "memorySize"))
			return one(t)
		case opDelete:
			return del("fn|" + a + "|" + reg + "|" + fn)
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// sgRules returns the ingress rules of an Authorize (resources) or Revoke (deletion keys) call.
func sgRules(rp, re *fastjson.Value, c evctx, revoke bool) []tracked {
	a, reg := c.account, c.region
	gid := str(rp, "groupId")
	sgKey := "sg|" + a + "|" + reg + "|" + gid
	type rule struct{ id, proto, from, to, cidr string }
	var rules []rule
	for _, p := range items(rp, "ipPermissions") {
		base := rule{proto: str(p, "ipProtocol"), from: str(p, "fromPort"), to: str(p, "toPort")}
		for _, r := range items(p, "ipRanges") {
			x := base
			x.cidr = str(r, "cidrIp")
			rules = append(rules, x)
		}
		for _, r := range items(p, "ipv6Ranges") {
			x := base
			x.cidr = str(r, "cidrIpv6")
			rules = append(rules, x)
		}
		for _, r := range items(p, "groups") {
			x := base
			x.cidr = str(r, "groupId")
			rules = append(rules, x)
		}
	}
	if ids := items(re, "securityGroupRuleSet"); len(ids) == len(rules) {
		for i := range rules {
			rules[i].id = str(ids[i], "securityGroupRuleId")
		}
	}
	var out []tracked
	if revoke {
		var keys []string
		for _, r := range rules {
			keys = append(keys, "sgr|"+a+"|"+reg+"|"+gid+"|"+r.proto+"|"+r.from+"|"+r.to+"|"+r.cidr)
		}
		for _, id := range items(rp, "securityGroupRuleIds") {
			keys = append(keys, "sgrid|"+string(id.GetStringBytes()))
		}
		return []tracked{{keys: keys, op: opDelete}}
	}
	for _, r := range rules {
		keys := []string{"sgr|" + a + "|" + reg + "|" + gid + "|" + r.proto + "|" + r.from + "|" + r.to + "|" + r.cidr, sgKey}
		if r.id != "" {
			keys = append(keys, "sgrid|"+r.id)
		}
		t := c.res(incident.EC2SecurityGroupRule, r.id, gid+" "+r.proto+" "+r.from+"-"+r.to+" "+r.cidr, "", keys...)
		t.Details["group_id"], t.Details["protocol"], t.Details["from_port"], t.Details["to_port"] = gid, r.proto, r.from, r.to
		if strings.Contains(r.cidr, ":") {
			t.Details["cidr_ipv6"] = r.cidr
		} else {
			t.Details["cidr"] = r.cidr
		}
		out = append(out, t)
	}
	return out
}

// ecs returns the ECS resources of a call (clusters, task definitions, services).
func ecs(rp, re *fastjson.Value, c evctx, name string) []tracked {
	a, reg := c.account, c.region
	cluster := func(s string) string {
		if s = lastPart(s); s == "" {
			return "default"
		}
		return s
	}
	switch name {
	case "CreateCluster":
		n := cluster(firstNonEmpty(str(rp, "clusterName"), str(re, "cluster", "clusterName")))
		t := c.res(incident.ECSCluster, n, n, str(re, "cluster", "clusterArn"), "ecsc|"+a+"|"+reg+"|"+n)
		return []tracked{t}
	case "DeleteCluster":
		return []tracked{{keys: []string{"ecsc|" + a + "|" + reg + "|" + cluster(str(rp, "cluster"))}, op: opDelete}}
	case "RegisterTaskDefinition":
		fam := str(rp, "family")
		arn := str(re, "taskDefinition", "taskDefinitionArn")
		id := fam
		if rev := str(re, "taskDefinition", "revision"); rev != "" {
			id = fam + ":" + rev
		}
		t := c.res(incident.ECSTaskDefinition, id, id, arn, "ecstd|"+a+"|"+reg+"|"+id)
		setIf(t.Details, "family", fam)
		setIf(t.Details, "cpu", str(rp, "cpu"))
		setIf(t.Details, "memory", str(rp, "memory"))
		setIf(t.Details, "network_mode", str(rp, "networkMode"))
		var images, compat []string
		for _, cd := range rp.GetArray("containerDefinitions") {
			images = append(images, str(cd, "image"))
		}
		for _, x := range rp.GetArray("requiresCompatibilities") {
			compat = append(compat, string(x.GetStringBytes()))
		}
		setIf(t.Details, "images", strings.Join(images, ","))
		setIf(t.Details, "requires_compatibilities", strings.Join(compat, ","))
		setIf(t.Details, "task_role_arn", str(rp, "taskRoleArn"))
		return []tracked{t}
	case "DeregisterTaskDefinition":
		return []tracked{{keys: []string{"ecstd|" + a + "|" + reg + "|" + afterType(str(rp, "taskDefinition"), "task-definition")}, op: opDelete}}
	case "CreateService", "UpdateService":
		cl := cluster(str(rp, "cluster"))
		svc := lastPart(firstNonEmpty(str(rp, "serviceName"), str(rp, "service")))
		t := c.res(incident.ECSService, svc, svc, str(re, "service", "serviceArn"), "ecss|"+a+"|"+reg+"|"+cl+"|"+svc)
		t.Details["cluster"] = cl
		td := firstNonEmpty(str(re, "service", "taskDefinition"), str(rp, "taskDefinition"))
		setIf(t.Details, "task_definition", td)
		setIf(t.Details, "desired_count", str(rp, "desiredCount"))
		setIf(t.Details, "launch_type", str(rp, "launchType"))
		setIf(t.Details, "public_ip", str(rp, "networkConfiguration", "awsvpcConfiguration", "assignPublicIp"))
		return []tracked{t}
	case "DeleteService":
		return []tracked{{keys: []string{"ecss|" + a + "|" + reg + "|" + cluster(str(rp, "cluster")) + "|" + lastPart(str(rp, "service"))}, op: opDelete}}
	}
	return nil
}

// taskDefKey returns the key of the task definition a service names (an ARN or family:rev).
func taskDefKey(account, region, td string) string {
	return "ecstd|" + account + "|" + region + "|" + afterType(td, "task-definition")
}
