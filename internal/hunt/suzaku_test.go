package hunt

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/signal"
)

// suzakuCorrelations are the public rule files holding Sigma correlations.
var suzakuCorrelations = []string{
	"aws_cloudtrail_iam_persistence_chain.yml",
	"aws_cloudtrail_many_access_denied.yml",
	"aws_cloudtrail_many_failed_logins.yml",
	"aws_cloudtrail_many_recon_events.yml",
	"aws_cloudtrail_s3_enum_after_getcalleridentity.yml",
}

// suzakuStream fires each correlation once and includes a near miss for each.
func suzakuStream() []streamEvent {
	t0 := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	at := func(m, s int) time.Time { return t0.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second) }
	n := 0
	mk := func(t time.Time, ip, key, source, name, extra string) streamEvent {
		n++
		return streamEvent{t, fmt.Sprintf(`{"eventVersion":"1.09","eventID":"sz-%03d","eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1",`+
			`"sourceIPAddress":%q,"userAgent":"aws-cli/2.15.0","recipientAccountId":"111122223333",`+
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","accessKeyId":%q,"userName":%q}%s}`,
			n, t.Format(time.RFC3339), source, name, ip, strings.ToLower(key), key, strings.ToLower(key), extra)}
	}
	const atk, ok = "140.213.52.7", "198.51.100.20"
	var out []streamEvent
	// Persistence chain: CreateUser then CreateAccessKey from one IP and key; the benign
	// admin does them the other way round.
	out = append(out,
		mk(at(0, 0), atk, "AKIAATTACKER1", "iam.amazonaws.com", "CreateUser", ""),
		mk(at(1, 0), atk, "AKIAATTACKER1", "iam.amazonaws.com", "CreateAccessKey", ""),
		mk(at(0, 0), ok, "AKIAADMIN0001", "iam.amazonaws.com", "CreateAccessKey", ""),
		mk(at(1, 0), ok, "AKIAADMIN0001", "iam.amazonaws.com", "CreateUser", ""),
	)
	// Ten AccessDenied in 10 minutes from one IP and key; nine from another.
	for i := range 10 {
		out = append(out, mk(at(10+i/2, i), atk, "AKIAATTACKER2", "ec2.amazonaws.com", "DescribeInstances", `,"errorCode":"Client.UnauthorizedOperation"`))
	}
	for i := range 9 {
		out = append(out, mk(at(10+i, 0), ok, "AKIAADMIN0002", "s3.amazonaws.com", "GetBucketPolicy", `,"errorCode":"AccessDenied"`))
	}
	// Three failed console logins from one IP in 5 minutes; two from another.
	fail := `,"responseElements":{"ConsoleLogin":"Failure"}`
	for i := range 3 {
		out = append(out, mk(at(30+i, 0), atk, "", "signin.amazonaws.com", "ConsoleLogin", fail))
	}
	out = append(out, mk(at(30, 0), ok, "", "signin.amazonaws.com", "ConsoleLogin", fail), mk(at(33, 0), ok, "", "signin.amazonaws.com", "ConsoleLogin", fail))
	// Three different IAM recon calls within a minute; the same call three times.
	for i, name := range []string{"ListUsers", "ListRoles", "GetAccountAuthorizationDetails"} {
		out = append(out, mk(at(40, i*10), atk, "AKIAATTACKER3", "iam.amazonaws.com", name, ""))
	}
	for i := range 3 {
		out = append(out, mk(at(40, i*10), ok, "AKIAADMIN0003", "iam.amazonaws.com", "ListUsers", ""))
	}
	// GetCallerIdentity then ListBuckets within 5 minutes; and 10 minutes apart.
	out = append(out,
		mk(at(50, 0), atk, "AKIAATTACKER4", "sts.amazonaws.com", "GetCallerIdentity", ""),
		mk(at(52, 0), atk, "AKIAATTACKER4", "s3.amazonaws.com", "ListBuckets", ""),
		mk(at(50, 0), ok, "AKIAADMIN0004", "sts.amazonaws.com", "GetCallerIdentity", ""),
		mk(at(60, 0), ok, "AKIAADMIN0004", "s3.amazonaws.com", "ListBuckets", ""),
	)
	return out
}

func TestSuzakuCorrelationsGolden(t *testing.T) {
	shared := shareddata.Dir(t, "rules", "suzaku-cloudtrail")
	var paths []string
	for _, f := range suzakuCorrelations {
		paths = append(paths, filepath.Join(shared, f))
	}
	set, err := ruleset.Load(context.Background(), ruleset.Options{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(set.Correlations.Rules); got != len(suzakuCorrelations) {
		t.Fatalf("%d correlations loaded, want %d", got, len(suzakuCorrelations))
	}
	dir := t.TempDir()
	writeStream(t, dir, suzakuStream(), 3, 42)
	sigs := hunt(t, set, Config{}, dir)
	var corr []signal.Signal
	for _, s := range sigs {
		if _, ok := set.Correlations.Info[s.RuleID]; ok {
			corr = append(corr, s)
		}
	}
	var b bytes.Buffer
	if err := signal.WriteJSONL(&b, corr); err != nil {
		t.Fatal(err)
	}
	goldenfile.Check(t, filepath.Join("testdata", "suzaku_correlations.golden.jsonl"), b.Bytes())
	if len(corr) != len(suzakuCorrelations) {
		t.Errorf("%d correlation signals, want one per correlation (%d):\n%s", len(corr), len(suzakuCorrelations), b.String())
	}
	for _, s := range corr {
		for _, id := range s.SourceIPs {
			if id != "140.213.52.7" {
				t.Errorf("%s fired on the near miss from %s", s.Title, id)
			}
		}
	}
}
