package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memSink keeps files in memory.
type memSink map[string][]byte

func (m memSink) WriteFile(name string, data []byte) error {
	if _, ok := m[name]; ok {
		return fmt.Errorf("%s written twice", name)
	}
	m[name] = bytes.Clone(data)
	return nil
}

// testOpts is a small week: about 25,000 events.
func testOpts(seed uint64) Options {
	return Options{Seed: seed, EventsPerDay: 3000, Digests: true}
}

// event holds the fields the tests look at.
type event struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
	} `json:"userIdentity"`
	EventTime           time.Time       `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	EventID             string          `json:"eventID"`
	EventType           string          `json:"eventType"`
	ReadOnly            *bool           `json:"readOnly"`
	ManagementEvent     *bool           `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	EventCategory       string          `json:"eventCategory"`
}

// file is one decoded delivery file.
type file struct {
	path    string
	slot    time.Time // start of the delivery slot (the name holds its end)
	records []event
}

// corpus is a generated history, decoded once per seed for all tests.
type corpus struct {
	files   memSink
	truth   *GroundTruth
	gen     *gen
	decoded []file
	byID    map[string][]event
}

var (
	corpora   = map[uint64]*corpus{}
	corporaMu sync.Mutex
)

var logPath = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
var digestPath = regexp.MustCompile(`^AWSLogs/\d{12}/CloudTrail-Digest/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail-Digest_[a-z0-9-]+_.+_\d{8}T\d{6}Z\.json\.gz$`)

// load generates (once) and decodes the history of a seed, failing t on any malformed file.
func load(t *testing.T, seed uint64) *corpus {
	t.Helper()
	corporaMu.Lock()
	defer corporaMu.Unlock()
	if c, ok := corpora[seed]; ok {
		return c
	}
	c := &corpus{files: memSink{}, byID: map[string][]event{}}
	g, err := generate(context.Background(), testOpts(seed), c.files)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	c.gen, c.truth = g, g.truth
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		if p == GroundTruthFile || digestPath.MatchString(p) {
			continue
		}
		m := logPath.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("path %s does not follow the CloudTrail layout", p)
		}
		delivered, err := time.Parse("20060102T1504Z", m[6])
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if m[1] != m[4] || m[2] != m[5] || delivered.Format("2006/01/02") != m[3] {
			t.Fatalf("%s: account, region or date differ between folder and name", p)
		}
		raw := gunzip(t, p, c.files[p])
		var doc struct {
			Records []event `json:"Records"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: not a Records document: %v", p, err)
		}
		if len(doc.Records) == 0 {
			t.Fatalf("%s: no records", p)
		}
		f := file{path: p, slot: delivered.Add(-5 * time.Minute), records: doc.Records}
		for _, e := range doc.Records {
			if e.RecipientAccountID != m[1] || e.AWSRegion != m[2] {
				t.Fatalf("%s: event %s of %s/%s", p, e.EventID, e.RecipientAccountID, e.AWSRegion)
			}
			c.byID[e.EventID] = append(c.byID[e.EventID], e)
		}
		c.decoded = append(c.decoded, f)
	}
	corpora[seed] = c
	return c
}

func gunzip(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

func TestDeterministic(t *testing.T) {
	a := load(t, 7)
	b := memSink{}
	if _, err := Generate(context.Background(), testOpts(7), b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(a.files)), slices.Sorted(maps.Keys(b))); diff != "" {
		t.Fatalf("file names differ between two runs (-first +second):\n%s", diff)
	}
	for p, data := range a.files {
		if !bytes.Equal(data, b[p]) {
			t.Errorf("%s: bytes differ between two runs of seed 7", p)
		}
	}
}

func TestSeedsDiffer(t *testing.T) {
	names := func(c *corpus) map[string]bool {
		out := map[string]bool{}
		for _, at := range c.truth.Attacks {
			for _, r := range at.Resources {
				if r.Name != "" {
					out[r.Name] = true
				}
			}
			for _, id := range at.Identities {
				out[id.AccessKeyID] = true
			}
		}
		for _, a := range c.truth.Accounts {
			out[a.ID] = true
		}
		return out
	}
	a, b := names(load(t, 7)), names(load(t, 8))
	if len(a) < 50 {
		t.Fatalf("seed 7 has only %d attacker names and IDs", len(a))
	}
	for n := range a {
		if b[n] && n != "" && !strings.HasPrefix(n, "default") && !strings.HasPrefix(n, "launch-wizard") && !strings.HasPrefix(n, "ssh-access") && !strings.HasPrefix(n, "allow-all") {
			t.Errorf("name or ID %q occurs for seeds 7 and 8", n)
		}
	}
}

func TestEventIDsUniqueExceptDuplicates(t *testing.T) {
	c := load(t, 7)
	dups := map[string]bool{}
	for _, id := range c.truth.Duplicates {
		dups[id] = true
	}
	if len(dups) == 0 || len(dups) != len(c.truth.Duplicates) {
		t.Fatalf("got %d distinct duplicates of %d listed, want some and all distinct", len(dups), len(c.truth.Duplicates))
	}
	total := 0
	for id, evs := range c.byID {
		total += len(evs)
		want := 1
		if dups[id] {
			want = 2
		}
		if len(evs) != want {
			t.Errorf("eventID %s occurs %d times, want %d", id, len(evs), want)
		}
	}
	if total != c.truth.Stats.Events || len(c.byID)+len(dups) != total {
		t.Errorf("files hold %d records, %d distinct; ground truth says %d events, %d duplicates", total, len(c.byID), c.truth.Stats.Events, len(dups))
	}
}

func TestRecordsComplete(t *testing.T) {
	c := load(t, 7)
	types := map[string]int{}
	for _, f := range c.decoded {
		for _, e := range f.records {
			types[e.UserIdentity.Type]++
			if e.EventVersion < "1.08" || e.EventVersion > "1.11" || e.EventSource == "" || e.EventName == "" || e.EventTime.IsZero() ||
				e.ReadOnly == nil || e.ManagementEvent == nil || e.EventCategory == "" || e.SourceIPAddress == "" || e.UserAgent == "" {
				t.Fatalf("%s: incomplete record %+v", f.path, e)
			}
			if (e.EventCategory == "Data") == *e.ManagementEvent {
				t.Fatalf("%s: event %s: category %s but managementEvent %v", f.path, e.EventID, e.EventCategory, *e.ManagementEvent)
			}
		}
	}
	for _, typ := range []string{"IAMUser", "AssumedRole", "Root", "AWSService", "SAMLUser", "WebIdentityUser"} {
		if types[typ] == 0 {
			t.Errorf("no event by a %s", typ)
		}
	}
}

func TestDigestsAndGroundTruthFile(t *testing.T) {
	c := load(t, 7)
	digests := 0
	for p, data := range c.files {
		if digestPath.MatchString(p) {
			digests++
			var d struct {
				LogFiles []struct {
					S3Object string `json:"s3Object"`
				} `json:"logFiles"`
			}
			if err := json.Unmarshal(gunzip(t, p, data), &d); err != nil || len(d.LogFiles) == 0 {
				t.Fatalf("%s: bad digest (%v)", p, err)
			}
			if _, ok := c.files[d.LogFiles[0].S3Object]; !ok {
				t.Fatalf("%s names missing log file %s", p, d.LogFiles[0].S3Object)
			}
		}
	}
	if digests == 0 || digests != c.truth.Stats.DigestFiles {
		t.Errorf("got %d digest files, ground truth says %d", digests, c.truth.Stats.DigestFiles)
	}
	var gt GroundTruth
	if err := json.Unmarshal(c.files[GroundTruthFile], &gt); err != nil {
		t.Fatalf("reading %s: %v", GroundTruthFile, err)
	}
	if diff := cmp.Diff(c.truth, &gt); diff != "" {
		t.Errorf("%s differs from the returned ground truth:\n%s", GroundTruthFile, diff)
	}
}

// stepsOf returns the steps of an attack, failing t when it is missing.
func stepsOf(t *testing.T, c *corpus, a Attack) *AttackTruth {
	t.Helper()
	for i := range c.truth.Attacks {
		if c.truth.Attacks[i].Attack == a {
			return &c.truth.Attacks[i]
		}
	}
	t.Fatalf("attack %d missing from the ground truth", a)
	return nil
}

func TestAttackSteps(t *testing.T) {
	c := load(t, 7)
	a1, a2 := stepsOf(t, c, AttackLeakedKeyAdmin), stepsOf(t, c, AttackECSCryptomining)
	leaked1, leaked2 := a1.Identities[0], a2.Identities[0]
	newUser := ""
	for _, r := range a1.Resources {
		if r.Kind == "iam-user" && strings.HasPrefix(r.Name, "aws_dev") {
			newUser = r.ARN
		}
	}
	tests := []struct {
		step, eventName string
		count           int    // exact number of events
		regions         int    // distinct regions
		region          string // every event in it, when set
		identity        string // every event by this ARN, when set
		errorCode       string
	}{
		{"recon-ses-get-send-quota", "GetSendQuota", 1, 1, "", leaked1.ARN, ""},
		{"recon-ses-list-identities", "ListIdentities", 1, 1, "", leaked1.ARN, ""},
		{"recon-iam-list-users", "ListUsers", 1, 1, "us-east-1", leaked1.ARN, ""},
		{"create-user", "CreateUser", 1, 1, "us-east-1", leaked1.ARN, ""},
		{"attach-user-policy", "AttachUserPolicy", 1, 1, "us-east-1", leaked1.ARN, ""},
		{"create-login-profile", "CreateLoginProfile", 1, 1, "us-east-1", leaked1.ARN, ""},
		{"console-login", "ConsoleLogin", 1, 1, "us-east-1", newUser, ""},
		{"resource-explorer-search", "Search", 1, 1, "", newUser, ""},
		{"send-ssh-public-key", "SendSSHPublicKey", 1, 1, "", newUser, ""},
		{"import-key-pair", "ImportKeyPair", 1, 1, "us-west-1", leaked1.ARN, ""},
		{"create-security-group", "CreateSecurityGroup", 1, 1, "us-west-1", leaked1.ARN, ""},
		{"authorize-ssh-from-anywhere", "AuthorizeSecurityGroupIngress", 1, 1, "us-west-1", leaked1.ARN, ""},
		{"run-instances-metal", "RunInstances", 2, 1, "us-west-1", leaked1.ARN, "Client.PendingVerification"},
		{"persist-create-user", "CreateUser", 2, 1, "us-east-1", leaked1.ARN, ""},
		{"persist-attach-user-policy", "AttachUserPolicy", 2, 1, "us-east-1", leaked1.ARN, ""},
		{"persist-create-login-profile", "CreateLoginProfile", 2, 1, "us-east-1", leaked1.ARN, ""},
		{"persist-create-access-key", "CreateAccessKey", 2, 1, "us-east-1", leaked1.ARN, ""},
		{"ecs-create-cluster", "CreateCluster", 17, 17, "", leaked2.ARN, ""},
		{"ecs-register-task-definition", "RegisterTaskDefinition", 17, 17, "", leaked2.ARN, ""},
		{"ecs-create-service", "CreateService", 17, 17, "", leaked2.ARN, ""},
	}
	all := append(slices.Clone(a1.Steps), a2.Steps...)
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			var got []event
			regions := map[string]bool{}
			for _, s := range all {
				if s.Step != tt.step {
					continue
				}
				evs := c.byID[s.EventID]
				if len(evs) == 0 {
					t.Fatalf("step event %s is in no file", s.EventID)
				}
				e := evs[0]
				got = append(got, e)
				regions[e.AWSRegion] = true
				if e.EventName != tt.eventName || e.AWSRegion != s.Region || e.ErrorCode != tt.errorCode {
					t.Errorf("event %s: got %s in %s (error %q), want %s in %s (error %q)", e.EventID, e.EventName, e.AWSRegion, e.ErrorCode, tt.eventName, s.Region, tt.errorCode)
				}
				if tt.region != "" && e.AWSRegion != tt.region {
					t.Errorf("event %s: region %s, want %s", e.EventID, e.AWSRegion, tt.region)
				}
				if tt.identity != "" && e.UserIdentity.ARN != tt.identity {
					t.Errorf("event %s: identity %s, want %s", e.EventID, e.UserIdentity.ARN, tt.identity)
				}
				if !strings.HasPrefix(e.SourceIPAddress, "140.213.52.") {
					t.Errorf("event %s: source %s, want 140.213.52.0/24", e.EventID, e.SourceIPAddress)
				}
			}
			if len(got) != tt.count || len(regions) != tt.regions {
				t.Errorf("got %d events in %d regions, want %d in %d", len(got), len(regions), tt.count, tt.regions)
			}
		})
	}

	t.Run("attack 1 opens within 11 seconds", func(t *testing.T) {
		first := a1.Steps[0].EventTime
		for _, s := range a1.Steps[:6] {
			if s.EventTime.Sub(first) > 11*time.Second {
				t.Errorf("%s at +%v", s.Step, s.EventTime.Sub(first))
			}
		}
		login := c.byID[stepID(a1, "console-login")][0]
		if !strings.Contains(string(login.AdditionalEventData), `"MFAUsed":"No"`) || login.EventTime.Sub(first) < 2*time.Hour {
			t.Errorf("console login %s at +%v, want MFAUsed No hours later", login.AdditionalEventData, login.EventTime.Sub(first))
		}
		if !strings.HasPrefix(newUser, "arn:aws:iam::") || !regexp.MustCompile(`user/aws_dev\d+$`).MatchString(newUser) {
			t.Errorf("created user %q, want aws_dev<digits>", newUser)
		}
		cli := 0
		for _, r := range a1.Resources {
			if r.Kind == "access-key" && strings.HasPrefix(r.Parent, "aws-cli") {
				cli++
			}
		}
		if cli != 2 {
			t.Errorf("got %d access keys of aws-cli users, want 2", cli)
		}
	})

	t.Run("attack 2 is large Fargate tasks within two minutes", func(t *testing.T) {
		first, last := a2.Steps[0].EventTime, a2.Steps[len(a2.Steps)-1].EventTime
		if d := last.Sub(first); d > 2*time.Minute {
			t.Errorf("attack 2 lasts %v", d)
		}
		for _, s := range a2.Steps {
			e := c.byID[s.EventID][0]
			req := string(e.RequestParameters)
			switch e.EventName {
			case "RegisterTaskDefinition":
				img := regexp.MustCompile(`"image":"([^"]+)"`).FindStringSubmatch(req)
				if !strings.Contains(req, `"cpu":"16384","memory":"32768"`) || !strings.Contains(req, `"networkMode":"awsvpc"`) || img == nil || !slices.Contains(minerImages, img[1]) {
					t.Errorf("task definition %s", req)
				}
			case "CreateService":
				if !strings.Contains(req, `"desiredCount":25,"launchType":"FARGATE"`) || !strings.Contains(req, `"assignPublicIp":"ENABLED"`) ||
					!strings.Contains(string(e.ResponseElements), `"serviceArn":"arn:aws:ecs:`+e.AWSRegion) {
					t.Errorf("service %s", req)
				}
			}
		}
		kinds := map[string]int{}
		for _, r := range a2.Resources {
			kinds[r.Kind]++
		}
		if diff := cmp.Diff(map[string]int{"ecs-cluster": 17, "ecs-task-definition": 17, "ecs-service": 17}, kinds); diff != "" {
			t.Errorf("resources of attack 2 (-want +got):\n%s", diff)
		}
	})
}

func stepID(a *AttackTruth, step string) string {
	for _, s := range a.Steps {
		if s.Step == step {
			return s.EventID
		}
	}
	return ""
}

func TestLookAlikes(t *testing.T) {
	c := load(t, 7)
	kinds := map[string]int{}
	for _, l := range c.truth.LookAlikes {
		kinds[l.Kind]++
		if evs := c.byID[l.EventID]; len(evs) == 0 || evs[0].EventName != l.EventName {
			t.Errorf("look-alike %s (%s) not found as %s", l.EventID, l.Kind, l.EventName)
		}
	}
	for _, k := range []string{"console-login-mfa", "sso-console-login", "root-console-login-mfa", "create-user", "attach-user-policy",
		"create-access-key-self", "security-group-open-443", "ecs-register-task-definition", "ecs-create-service", "run-instances-usual", "ses-get-send-quota"} {
		if kinds[k] == 0 {
			t.Errorf("no look-alike of kind %s (have %v)", k, kinds)
		}
	}
}

func TestLateAndUnordered(t *testing.T) {
	c := load(t, 7)
	late, unordered := 0, 0
	for _, f := range c.decoded {
		for i, e := range f.records {
			if own := e.EventTime.Truncate(5 * time.Minute); f.slot.After(own) {
				late++
			} else if f.slot.Before(own) {
				t.Fatalf("%s: event %s at %s delivered before its time", f.path, e.EventID, e.EventTime)
			}
			if i > 0 && e.EventTime.Before(f.records[i-1].EventTime) {
				unordered++
			}
		}
	}
	if late == 0 || unordered == 0 {
		t.Errorf("got %d late events and %d out-of-order pairs, want some of both", late, unordered)
	}
	if c.truth.Stats.Late == 0 || late < c.truth.Stats.Late {
		t.Errorf("found %d late records, ground truth counts %d", late, c.truth.Stats.Late)
	}
}

func TestStreams(t *testing.T) {
	c := load(t, 7)
	if c.gen.peak == 0 || c.gen.peak > c.truth.Stats.Events/20 {
		t.Errorf("held up to %d of %d events at once, want under 5%%", c.gen.peak, c.truth.Stats.Events)
	}
	if c.gen.buffered != 0 {
		t.Errorf("%d events left unwritten", c.gen.buffered)
	}
}

func TestOptionsInvalid(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"negative days", Options{Days: -1}, "days"},
		{"too many accounts", Options{Accounts: 99}, "accounts"},
		{"unknown region", Options{Regions: []string{"mars-1"}}, "regions"},
		{"attack 1 region in use", Options{Regions: []string{"us-east-1", "us-west-1"}}, "us-west-1"},
		{"unknown attack", Options{Attacks: []Attack{4}}, "attack"},
		{"too many CI users", Options{CIUsers: 7}, "CI users"},
		{"negative CI runs", Options{CIRunsPerDay: -1}, "CI runs"},
		{"duplicate rate", Options{DuplicateRate: 0.9}, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(context.Background(), tt.opts, memSink{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one about %q", err, tt.want)
			}
		})
	}
}

func TestOptionsVariants(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		attacks int
		regions int // distinct regions with logs
	}{
		{"one account, one day, attack 2", Options{Days: 1, Accounts: 1, EventsPerDay: 500, Attacks: []Attack{AttackECSCryptomining}}, 1, 17},
		{"benign only", Options{Days: 2, Accounts: 3, EventsPerDay: 500, NoAttacks: true, Regions: []string{"eu-central-1"}}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memSink{}
			gt, err := Generate(context.Background(), tt.opts, m)
			if err != nil {
				t.Fatal(err)
			}
			regions := map[string]bool{}
			for p := range m {
				if m := logPath.FindStringSubmatch(p); m != nil {
					regions[m[2]] = true
				}
			}
			if len(gt.Attacks) != tt.attacks || len(regions) != tt.regions {
				t.Errorf("got %d attacks and regions %v, want %d attacks and %d regions", len(gt.Attacks), slices.Sorted(maps.Keys(regions)), tt.attacks, tt.regions)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Options{}, memSink{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestDirSink(t *testing.T) {
	dir := t.TempDir()
	gt, err := Generate(context.Background(), Options{Days: 1, Accounts: 1, EventsPerDay: 200, NoAttacks: true, Digests: true}, NewDirSink(dir))
	if err != nil {
		t.Fatal(err)
	}
	var logs, digests int
	err = fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
			return err
		case logPath.MatchString(p):
			logs++
		case digestPath.MatchString(p):
			digests++
		case p != GroundTruthFile:
			t.Errorf("unexpected file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if logs != gt.Stats.Files || digests != gt.Stats.DigestFiles || logs == 0 {
		t.Errorf("found %d log and %d digest files, ground truth says %d and %d", logs, digests, gt.Stats.Files, gt.Stats.DigestFiles)
	}
}
