package enrich

import (
	"bytes"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/event"
)

// Grantees outside the account, the values of the shared_with field besides account IDs.
const (
	// GranteePublic is anyone: a wildcard principal with no condition that narrows it, an
	// AllUsers or AuthenticatedUsers ACL grant, a public canned ACL, a snapshot or image
	// shared with the group "all".
	GranteePublic = "public"
)

// grantKind says how a request names the principals it grants access to.
type grantKind uint8

const (
	// grantPolicy: an IAM policy document (a JSON string, or an object as S3 logs it) at
	// path; its Allow statements' principals are the grantees.
	grantPolicy grantKind = iota + 1
	// grantLambdaPrincipal: requestParameters.principal of a Lambda permission, narrowed by
	// sourceArn, sourceAccount, principalOrgID or organizationId.
	grantLambdaPrincipal
	// grantAddList: items of an "add" list (EC2 snapshot and image attributes) holding
	// userId (an account) or group "all".
	grantAddList
	// grantRDSRestore: valuesToAdd of an RDS snapshot's "restore" attribute: accounts or "all".
	grantRDSRestore
	// grantS3ACL: an S3 ACL: a canned ACL (x-amz-acl), x-amz-grant-* headers, or the
	// AccessControlPolicy grants; only the AllUsers and AuthenticatedUsers groups are
	// recognised (canonical user IDs do not say which account they belong to).
	grantS3ACL
)

// grantSource is where one kind of request carries its grant.
type grantSource struct {
	kind grantKind
	path []string
}

// grantEvents are the requests that grant access to a resource, by eventSource and then
// eventName. Lambda's versioned event names (AddPermission20150331v2) are found by prefix.
var grantEvents = map[string]map[string]grantSource{
	"iam.amazonaws.com": {
		"UpdateAssumeRolePolicy": {grantPolicy, []string{"requestParameters", "policyDocument"}},
		"CreateRole":             {grantPolicy, []string{"requestParameters", "assumeRolePolicyDocument"}},
	},
	"s3.amazonaws.com": {
		"PutBucketPolicy": {grantPolicy, []string{"requestParameters", "bucketPolicy"}},
		"PutBucketAcl":    {kind: grantS3ACL},
		"PutObjectAcl":    {kind: grantS3ACL},
	},
	"kms.amazonaws.com": {
		"PutKeyPolicy": {grantPolicy, []string{"requestParameters", "policy"}},
		"CreateKey":    {grantPolicy, []string{"requestParameters", "policy"}},
	},
	"secretsmanager.amazonaws.com": {
		"PutResourcePolicy": {grantPolicy, []string{"requestParameters", "resourcePolicy"}},
	},
	"ecr.amazonaws.com": {
		"SetRepositoryPolicy": {grantPolicy, []string{"requestParameters", "policyText"}},
	},
	"sns.amazonaws.com": {
		"SetTopicAttributes": {grantPolicy, []string{"requestParameters", "attributeValue"}},
	},
	"sqs.amazonaws.com": {
		"SetQueueAttributes": {grantPolicy, []string{"requestParameters", "attributes", "Policy"}},
	},
	"elasticfilesystem.amazonaws.com": {
		"PutFileSystemPolicy": {grantPolicy, []string{"requestParameters", "policy"}},
	},
	"lambda.amazonaws.com": {
		"AddPermission":             {kind: grantLambdaPrincipal},
		"AddLayerVersionPermission": {kind: grantLambdaPrincipal},
	},
	"ec2.amazonaws.com": {
		"ModifySnapshotAttribute": {grantAddList, []string{"requestParameters", "createVolumePermission", "add", "items"}},
		"ModifyImageAttribute":    {grantAddList, []string{"requestParameters", "launchPermission", "add", "items"}},
	},
	"rds.amazonaws.com": {
		"ModifyDBSnapshotAttribute":        {kind: grantRDSRestore},
		"ModifyDBClusterSnapshotAttribute": {kind: grantRDSRestore},
	},
}

// grantSourceOf returns where ev carries a grant, if it is a request that grants access.
func grantSourceOf(ev *event.Event) (grantSource, bool) {
	names := grantEvents[string(ev.Str("eventSource"))]
	if names == nil {
		return grantSource{}, false
	}
	name := ev.Str("eventName")
	if g, ok := names[string(name)]; ok {
		return g, true
	}
	// Lambda names its events with the API version: AddPermission20150331v2.
	for prefix, g := range names {
		if g.kind == grantLambdaPrincipal && bytes.HasPrefix(name, []byte(prefix+"2")) {
			return g, true
		}
	}
	return grantSource{}, false
}

// grants collects the grantees outside the resource's account that a request grants access
// to. It owns a parser for policy documents written as JSON strings. It is not safe for
// concurrent use.
type grants struct {
	p   fastjson.Parser
	out []string
}

// SharedWith returns the grantees outside the account owning the resource that ev grants
// access to: account IDs (12 digits) other than recipientAccountId, and GranteePublic,
// sorted, each once. It returns nil for events that grant nothing, grant only within the
// account or to AWS services and identity providers, or whose policy cannot be read. The
// result is valid until the next call.
func (g *grants) SharedWith(ev *event.Event) []string {
	src, ok := grantSourceOf(ev)
	if !ok {
		return nil
	}
	own := string(ev.Str("recipientAccountId"))
	if own == "" {
		own = string(ev.Str("userIdentity", "accountId"))
	}
	g.out = g.out[:0]
	rp := ev.Value.Get("requestParameters")
	switch src.kind {
	case grantPolicy:
		v := ev.Value.Get(src.path...)
		if v != nil && v.Type() == fastjson.TypeString {
			doc, err := g.p.ParseBytes(v.GetStringBytes())
			if err != nil {
				return nil
			}
			v = doc
		}
		g.policy(v)
	case grantLambdaPrincipal:
		if rp == nil {
			return nil
		}
		narrowed := false
		for _, k := range []string{"sourceArn", "sourceAccount", "principalOrgID", "organizationId"} {
			if len(rp.GetStringBytes(k)) > 0 {
				narrowed = true
			}
		}
		g.principal(string(rp.GetStringBytes("principal")), narrowed)
	case grantAddList:
		for _, item := range arrayOrOne(ev.Value.Get(src.path...)) {
			if u := string(item.GetStringBytes("userId")); u != "" {
				g.principal(u, false)
			}
			if strings.EqualFold(string(item.GetStringBytes("group")), "all") {
				g.add(GranteePublic)
			}
		}
	case grantRDSRestore:
		if rp == nil || !strings.EqualFold(string(rp.GetStringBytes("attributeName")), "restore") {
			return nil
		}
		for _, v := range arrayOrOne(rp.Get("valuesToAdd")) {
			if s := string(v.GetStringBytes()); strings.EqualFold(s, "all") {
				g.add(GranteePublic)
			} else {
				g.principal(s, false)
			}
		}
	case grantS3ACL:
		g.s3ACL(rp)
	}
	g.out = slices.DeleteFunc(g.out, func(a string) bool { return a == own })
	slices.Sort(g.out)
	g.out = slices.Compact(g.out)
	if len(g.out) == 0 {
		return nil
	}
	return g.out
}

// policy adds the principals of the Allow statements of an IAM policy document.
func (g *grants) policy(doc *fastjson.Value) {
	if doc == nil || doc.Type() != fastjson.TypeObject {
		return
	}
	for _, st := range arrayOrOne(doc.Get("Statement")) {
		if st.Type() != fastjson.TypeObject || !strings.EqualFold(string(st.GetStringBytes("Effect")), "Allow") {
			continue
		}
		narrowed := narrows(st.Get("Condition"))
		if st.Exists("NotPrincipal") {
			// Allow to everyone but the principals named: as good as anyone.
			g.principal("*", narrowed)
			continue
		}
		p := st.Get("Principal")
		if p == nil {
			continue
		}
		if p.Type() == fastjson.TypeString {
			g.principal(string(p.GetStringBytes()), narrowed)
			continue
		}
		// {"AWS": ...}; Service, Federated and CanonicalUser principals name no account.
		for _, a := range arrayOrOne(p.Get("AWS")) {
			g.principal(string(a.GetStringBytes()), narrowed)
		}
	}
}

// narrowingKeys are the condition keys that keep a wildcard principal from meaning anyone
// (the keys S3 and IAM Access Analyzer accept as making a policy not public).
var narrowingKeys = []string{
	"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
	"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
	"aws:sourcevpc", "aws:sourcevpce", "aws:userid", "aws:sourceip", "s3:dataaccesspointarn",
	"s3:dataaccesspointaccount", "lambda:functionurlauthtype", "kms:calleraccount", "kms:viaservice",
}

// narrows reports whether a statement's Condition names a key that limits who the
// statement's principals are.
func narrows(cond *fastjson.Value) bool {
	if cond == nil || cond.Type() != fastjson.TypeObject {
		return false
	}
	found := false
	o, _ := cond.Object()
	o.Visit(func(_ []byte, ops *fastjson.Value) {
		if ops.Type() != fastjson.TypeObject {
			return
		}
		inner, _ := ops.Object()
		inner.Visit(func(k []byte, _ *fastjson.Value) {
			if slices.Contains(narrowingKeys, strings.ToLower(string(k))) {
				found = true
			}
		})
	})
	return found
}

// principal adds one principal: "*" is public unless narrowed; an account ID or an IAM or
// STS ARN adds its account; anything else (a service, a canonical user) adds nothing.
func (g *grants) principal(p string, narrowed bool) {
	p = strings.TrimSpace(p)
	switch {
	case p == "*":
		if !narrowed {
			g.add(GranteePublic)
		}
	case isAccountID(p):
		g.add(p)
	case strings.HasPrefix(p, "arn:"):
		// arn:PARTITION:iam::ACCOUNT:root|user/...|role/..., arn:PARTITION:sts::ACCOUNT:...
		parts := strings.SplitN(p, ":", 6)
		if len(parts) == 6 && (parts[2] == "iam" || parts[2] == "sts") {
			if isAccountID(parts[4]) {
				g.add(parts[4])
			} else if parts[4] == "*" && !narrowed {
				g.add(GranteePublic)
			}
		}
	}
}

func (g *grants) add(s string) { g.out = append(g.out, s) }

// s3ACL adds the public grants of an S3 ACL request.
func (g *grants) s3ACL(rp *fastjson.Value) {
	if rp == nil {
		return
	}
	for _, v := range arrayOrOne(rp.Get("x-amz-acl")) {
		switch strings.ToLower(string(v.GetStringBytes())) {
		case "public-read", "public-read-write", "authenticated-read":
			g.add(GranteePublic)
		}
	}
	for _, h := range []string{"x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control"} {
		for _, v := range arrayOrOne(rp.Get(h)) {
			if publicGroup(string(v.GetStringBytes())) {
				g.add(GranteePublic)
			}
		}
	}
	for _, gr := range arrayOrOne(rp.Get("AccessControlPolicy", "AccessControlList", "Grant")) {
		if publicGroup(string(gr.GetStringBytes("Grantee", "URI"))) {
			g.add(GranteePublic)
		}
	}
}

// publicGroup reports whether s names the S3 AllUsers or AuthenticatedUsers group.
func publicGroup(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "acs.amazonaws.com/groups/global/allusers") || strings.Contains(s, "acs.amazonaws.com/groups/global/authenticatedusers")
}

// arrayOrOne returns the elements of an array, or v alone (IAM policies write one
// statement or principal without brackets).
func arrayOrOne(v *fastjson.Value) []*fastjson.Value {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	if v.Type() == fastjson.TypeArray {
		a, _ := v.Array()
		return a
	}
	return []*fastjson.Value{v}
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
