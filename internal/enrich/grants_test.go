package enrich

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/event"
)

// grantEvent builds an event of the account 111122223333 with the given source, name and
// request parameters (JSON).
func grantEvent(t testing.TB, source, name, params string) *event.Event {
	t.Helper()
	return mustEvent(t, fmt.Sprintf(`{"eventVersion":"1.09","eventSource":%q,"eventName":%q,"recipientAccountId":"111122223333","requestParameters":%s}`, source, name, params))
}

// policyString is a policy document as IAM, KMS and Secrets Manager log it: a JSON string.
func policyString(t testing.TB, statements ...string) string {
	t.Helper()
	b, err := json.Marshal(`{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSharedWith(t *testing.T) {
	allowAWS := func(p string) string {
		return `{"Effect":"Allow","Principal":{"AWS":` + p + `},"Action":"sts:AssumeRole"}`
	}
	cases := []struct {
		name, source, event, params string
		want                        []string
	}{
		// Role trust policies (a JSON string in requestParameters).
		{"trust adds another account beside a service", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"roleName":"app","policyDocument":` + policyString(t, `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`, allowAWS(`"arn:aws:iam::193672423079:root"`)) + `}`,
			[]string{"193672423079"}},
		{"trust to the account itself", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, allowAWS(`"arn:aws:iam::111122223333:role/admin"`)) + `}`, nil},
		{"trust to the own account and a foreign one", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, allowAWS(`["arn:aws:iam::111122223333:root","444455556666"]`)) + `}`, []string{"444455556666"}},
		{"trust to anyone", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, allowAWS(`"*"`)) + `}`, []string{GranteePublic}},
		{"trust to anyone of the organisation", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, `{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3"}}}`) + `}`, nil},
		{"wildcard with a condition that narrows nothing", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`) + `}`, []string{GranteePublic}},
		{"deny statements grant nothing", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, `{"Effect":"Deny","Principal":{"AWS":"999988887777"},"Action":"sts:AssumeRole"}`) + `}`, nil},
		{"NotPrincipal in an Allow is anyone", "iam.amazonaws.com", "UpdateAssumeRolePolicy",
			`{"policyDocument":` + policyString(t, `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}`) + `}`, []string{GranteePublic}},
		{"web identity and SAML federation name no account", "iam.amazonaws.com", "CreateRole",
			`{"roleName":"ci","assumeRolePolicyDocument":` + policyString(t, `{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}`) + `}`, nil},
		{"new role trusting another account's role, one statement without brackets", "iam.amazonaws.com", "CreateRole",
			`{"assumeRolePolicyDocument":` + mustJSON(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::555566667777:assumed-role/ops/alice"},"Action":"sts:AssumeRole"}}`) + `}`,
			[]string{"555566667777"}},
		{"unreadable policy", "iam.amazonaws.com", "UpdateAssumeRolePolicy", `{"policyDocument":"{not json"}`, nil},
		// S3 logs bucket policies as objects.
		{"bucket policy to another account", "s3.amazonaws.com", "PutBucketPolicy",
			`{"bucketName":"data","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::193672423079:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}}`,
			[]string{"193672423079"}},
		{"public bucket policy", "s3.amazonaws.com", "PutBucketPolicy",
			`{"bucketName":"site","bucketPolicy":{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::site/*"}]}}`, []string{GranteePublic}},
		{"bucket policy for CloudTrail", "s3.amazonaws.com", "PutBucketPolicy",
			`{"bucketName":"trail","bucketPolicy":{"Statement":[{"Action":"s3:PutObject","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}}`, nil},
		{"wildcard limited to a VPC endpoint", "s3.amazonaws.com", "PutBucketPolicy",
			`{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b"}}}]}}`, nil},
		{"invalid policy text", "s3.amazonaws.com", "PutBucketPolicy", `{"bucketPolicy":"invalid-json-policy"}`, nil},
		// S3 ACLs.
		{"canned public ACL", "s3.amazonaws.com", "PutBucketAcl", `{"bucketName":"b","x-amz-acl":["public-read"]}`, []string{GranteePublic}},
		{"private canned ACL", "s3.amazonaws.com", "PutBucketAcl", `{"bucketName":"b","x-amz-acl":["private"]}`, nil},
		{"grant header to AllUsers", "s3.amazonaws.com", "PutObjectAcl", `{"x-amz-grant-read":"uri=http://acs.amazonaws.com/groups/global/AllUsers"}`, []string{GranteePublic}},
		{"ACL document grants AuthenticatedUsers", "s3.amazonaws.com", "PutBucketAcl",
			`{"AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"ID":"abc","xsi:type":"CanonicalUser"},"Permission":"FULL_CONTROL"},{"Grantee":{"URI":"http://acs.amazonaws.com/groups/global/AuthenticatedUsers","xsi:type":"Group"},"Permission":"READ"}]}}}`,
			[]string{GranteePublic}},
		{"ACL document to the log delivery group", "s3.amazonaws.com", "PutBucketAcl",
			`{"AccessControlPolicy":{"AccessControlList":{"Grant":{"Grantee":{"URI":"http://acs.amazonaws.com/groups/s3/LogDelivery"},"Permission":"WRITE"}}}}`, nil},
		// Lambda permissions.
		{"function invocable by anyone", "lambda.amazonaws.com", "AddPermission20150331v2", `{"action":"lambda:InvokeFunction","functionName":"f","principal":"*","statementId":"backdoor"}`, []string{GranteePublic}},
		{"function invocable by another account", "lambda.amazonaws.com", "AddPermission20150331", `{"functionName":"f","principal":"arn:aws:iam::444455556666:root"}`, []string{"444455556666"}},
		{"function invocable by S3 of one bucket", "lambda.amazonaws.com", "AddPermission20150331v2", `{"functionName":"f","principal":"s3.amazonaws.com","sourceArn":"arn:aws:s3:::uploads","sourceAccount":"111122223333"}`, nil},
		{"wildcard narrowed to an organisation", "lambda.amazonaws.com", "AddPermission20150331v2", `{"functionName":"f","principal":"*","principalOrgID":"o-a1b2c3"}`, nil},
		{"layer shared with an account", "lambda.amazonaws.com", "AddLayerVersionPermission20181031", `{"layerName":"l","principal":"444455556666","action":"lambda:GetLayerVersion"}`, []string{"444455556666"}},
		// Snapshots and images.
		{"EBS snapshot shared", "ec2.amazonaws.com", "ModifySnapshotAttribute",
			`{"snapshotId":"snap-1","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"098797384747"}]}}}`, []string{"098797384747"}},
		{"EBS snapshot made public", "ec2.amazonaws.com", "ModifySnapshotAttribute",
			`{"snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"group":"all"}]}}}`, []string{GranteePublic}},
		{"EBS snapshot sharing removed", "ec2.amazonaws.com", "ModifySnapshotAttribute",
			`{"snapshotId":"snap-1","createVolumePermission":{"remove":{"items":[{"userId":"098797384747"}]}}}`, nil},
		{"AMI shared with two accounts", "ec2.amazonaws.com", "ModifyImageAttribute",
			`{"imageId":"ami-1","launchPermission":{"add":{"items":[{"userId":"846424999548"},{"userId":"222233334444"}]}}}`, []string{"222233334444", "846424999548"}},
		{"AMI shared with an organisation", "ec2.amazonaws.com", "ModifyImageAttribute",
			`{"imageId":"ami-1","launchPermission":{"add":{"items":[{"organizationArn":"arn:aws:organizations::111122223333:organization/o-a1b2c3"}]}}}`, nil},
		{"RDS snapshot shared", "rds.amazonaws.com", "ModifyDBSnapshotAttribute",
			`{"attributeName":"restore","dBSnapshotIdentifier":"exfiltration","valuesToAdd":["503161813013"]}`, []string{"503161813013"}},
		{"RDS cluster snapshot made public", "rds.amazonaws.com", "ModifyDBClusterSnapshotAttribute",
			`{"attributeName":"restore","dBClusterSnapshotIdentifier":"c","valuesToAdd":["all"]}`, []string{GranteePublic}},
		{"RDS snapshot sharing removed", "rds.amazonaws.com", "ModifyDBSnapshotAttribute",
			`{"attributeName":"restore","dBSnapshotIdentifier":"s","valuesToRemove":["503161813013"]}`, nil},
		// Other resource policies.
		{"KMS key policy lets another account decrypt", "kms.amazonaws.com", "PutKeyPolicy",
			`{"keyId":"k","policyName":"default","policy":` + policyString(t, `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`, `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"kms:Decrypt","Resource":"*"}`) + `}`,
			[]string{"777788889999"}},
		{"secret readable by another account", "secretsmanager.amazonaws.com", "PutResourcePolicy",
			`{"secretId":"s","resourcePolicy":` + policyString(t, `{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`) + `}`, []string{"444455556666"}},
		{"queue policy open to anyone", "sqs.amazonaws.com", "SetQueueAttributes",
			`{"queueUrl":"q","attributes":{"Policy":` + policyString(t, `{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}`) + `}}`, []string{GranteePublic}},
		// Requests that are not grants.
		{"an unrelated call", "iam.amazonaws.com", "CreateUser", `{"userName":"x","policyDocument":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\"}}"}`, nil},
		{"no request parameters", "lambda.amazonaws.com", "AddPermission20150331v2", `null`, nil},
	}
	var g grants
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Clone(g.SharedWith(grantEvent(t, tc.source, tc.event, tc.params)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SharedWith (-want +got):\n%s", diff)
			}
		})
	}
}

func mustJSON(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEnrichSharedWith: the grantees reach the event as the array trailhound.shared_with.
func TestEnrichSharedWith(t *testing.T) {
	s := mustOpen(t, Config{}).NewState()
	ev := grantEvent(t, "ec2.amazonaws.com", "ModifyImageAttribute", `{"launchPermission":{"add":{"items":[{"userId":"846424999548"},{"group":"all"}]}}}`)
	s.Enrich(ev)
	var got []string
	for _, v := range ev.Enrichment.GetArray(FieldSharedWith) {
		got = append(got, string(v.GetStringBytes()))
	}
	if diff := cmp.Diff([]string{"846424999548", GranteePublic}, got); diff != "" {
		t.Errorf("shared_with (-want +got):\n%s", diff)
	}
	plain := grantEvent(t, "ec2.amazonaws.com", "DescribeImages", `{}`)
	s.Enrich(plain)
	if plain.Enrichment.Exists(FieldSharedWith) {
		t.Errorf("shared_with on an event that grants nothing: %s", plain.Enrichment)
	}
}

// FuzzSharedWith feeds any policy text and any request parameters to every kind of grant:
// SharedWith never panics and returns only account IDs other than the event's own and
// "public", sorted and each once.
func FuzzSharedWith(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*","arn:aws:iam::444455556666:root","111122223333"]}}]}`, `{"principal":"*","valuesToAdd":["all"]}`)
	f.Add(`{"Statement":{"Effect":"Allow","NotPrincipal":"x","Condition":{"StringEquals":{"aws:SourceVpce":"v"}}}}`, `{"createVolumePermission":{"add":{"items":[{"userId":"1"},{"group":"ALL"}]}}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::*:root"},null,7]}`, `{"x-amz-acl":"public-read","AccessControlPolicy":{"AccessControlList":{"Grant":[null]}}}`)
	f.Add(`[]`, `null`)
	type target struct{ source, name string }
	var targets []target
	for src, names := range grantEvents {
		for name := range names {
			targets = append(targets, target{src, name})
		}
	}
	slices.SortFunc(targets, func(a, b target) int { return strings.Compare(a.source+a.name, b.source+b.name) })
	f.Fuzz(func(t *testing.T, policy, params string) {
		var pp fastjson.Parser
		rp, err := pp.Parse(params)
		if err != nil {
			rp = fastjson.MustParse(`{}`)
		}
		var g grants
		for _, tg := range targets {
			// The policy both as a string (IAM) and as the parameters' own object (S3).
			var a fastjson.Arena
			obj := a.NewObject()
			obj.Set("eventSource", a.NewString(tg.source))
			obj.Set("eventName", a.NewString(tg.name))
			obj.Set("recipientAccountId", a.NewString("111122223333"))
			params := a.NewObject()
			if rp.Type() == fastjson.TypeObject {
				params = rp
			}
			for _, k := range []string{"policyDocument", "assumeRolePolicyDocument", "bucketPolicy", "policy", "resourcePolicy", "policyText", "attributeValue"} {
				params.Set(k, a.NewString(policy))
			}
			obj.Set("requestParameters", params)
			got := g.SharedWith(&event.Event{Value: obj})
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("%s %s: %q not sorted or repeated", tg.source, tg.name, got)
			}
			for _, v := range got {
				if v == "111122223333" || (v != GranteePublic && !isAccountID(v)) {
					t.Fatalf("%s %s: grantee %q", tg.source, tg.name, v)
				}
			}
		}
	})
}
