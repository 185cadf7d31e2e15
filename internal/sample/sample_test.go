package sample

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestEmbeddedUpToDate fails when data/ is not what Generate produces: run `go generate`.
func TestEmbeddedUpToDate(t *testing.T) {
	want, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err = fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		got[p], err = fs.ReadFile(FS(), p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		b, ok := got[f.Path]
		switch {
		case !ok:
			t.Errorf("%s: generated but not embedded; run go generate", f.Path)
		case !bytes.Equal(b, f.Data) && bytes.Equal(gunzip(t, b), gunzip(t, f.Data)):
			// A different Go release may compress differently; the records are what matter.
			t.Logf("%s: same records, different gzip stream (compress/flate changed?); go generate would refresh it", f.Path)
		case !bytes.Equal(b, f.Data):
			t.Errorf("%s: embedded records differ from generated ones; run go generate", f.Path)
		}
		delete(got, f.Path)
	}
	for p := range got {
		t.Errorf("%s: embedded but not generated; run go generate", p)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("got %d files, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("file %d differs between two runs: %s vs %s", i, a[i].Path, b[i].Path)
		}
	}
}

var nameRE = regexp.MustCompile(`^AWSLogs/111122223333/CloudTrail/([a-z0-9-]+)/2026/11/20/111122223333_CloudTrail_([a-z0-9-]+)_20261120T[0-9]{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)

// TestSample checks what the demo relies on: CloudTrail's S3 layout, valid gzip'd JSON,
// unique event IDs, the size budget, and the attack steps.
func TestSample(t *testing.T) {
	ids := map[string]string{}
	names := map[string]int{}
	total, events := 0, 0
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(FS(), p)
		if err != nil {
			return err
		}
		total += len(raw)
		m := nameRE.FindStringSubmatch(p)
		if m == nil || m[1] != m[2] {
			t.Errorf("%s: not a CloudTrail S3 key", p)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("%s: gzip header has name %q, mtime %v; want neither", p, zr.Name, zr.ModTime)
		}
		var doc struct {
			Records []struct {
				EventID   string `json:"eventID"`
				EventName string `json:"eventName"`
				AWSRegion string `json:"awsRegion"`
				ErrorCode string `json:"errorCode"`
				Request   struct {
					UserName string `json:"userName"`
				} `json:"requestParameters"`
			}
		}
		dec := json.NewDecoder(zr)
		if err := dec.Decode(&doc); err != nil {
			t.Errorf("%s: decoding: %v", p, err)
			return nil
		}
		if len(doc.Records) == 0 {
			t.Errorf("%s: no records", p)
		}
		for _, r := range doc.Records {
			events++
			if r.AWSRegion != path.Base(path.Dir(path.Dir(path.Dir(path.Dir(p))))) {
				t.Errorf("%s: event %s of region %s", p, r.EventID, r.AWSRegion)
			}
			if prev, dup := ids[r.EventID]; dup || r.EventID == "" {
				t.Errorf("%s: eventID %q empty or already in %s", p, r.EventID, prev)
			}
			ids[r.EventID] = p
			key := r.EventName
			if r.EventName == "CreateUser" && strings.HasPrefix(r.Request.UserName, "aws_dev") {
				key = "CreateUser aws_dev"
			}
			if r.ErrorCode != "" {
				key += " " + r.ErrorCode
			}
			names[key]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total >= 60<<10 {
		t.Errorf("sample is %d bytes; budget is 60 KiB", total)
	}
	if events < 150 || events > 250 {
		t.Errorf("sample has %d events; want about 200", events)
	}
	for _, step := range []string{"GetSendQuota", "ListIdentities", "CreateUser aws_dev", "CreateLoginProfile", "ImportKeyPair", "CreateSecurityGroup",
		"AuthorizeSecurityGroupIngress", "RunInstances Client.PendingVerification", "StopLogging", "ConsoleLogin"} {
		if names[step] == 0 {
			t.Errorf("no %s event", step)
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
