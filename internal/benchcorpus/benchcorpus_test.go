package benchcorpus

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
)

// readCorpus decodes every file of dir and returns the events' names and sizes.
func readCorpus(t *testing.T, dir string) (names map[string]int, sizes []int, rejected int) {
	t.Helper()
	names = map[string]int{}
	d := decode.New(decode.Options{})
	h := decode.HandlerFuncs{
		EventFunc: func(e *event.Event) error {
			names[string(e.Value.GetStringBytes("eventName"))]++
			sizes = append(sizes, len(e.Raw))
			return nil
		},
		RejectFunc: func(decode.Rejection) { rejected++ },
	}
	err := source.Walk(context.Background(), []string{dir}, source.Options{}, func(in source.Input) error {
		rc, err := in.Open(context.Background())
		if err != nil {
			return err
		}
		defer rc.Close()
		st, err := d.Decode(context.Background(), in.Name, rc, h)
		if err == nil && (!st.Gzip || st.Format != decode.FormatRecords) {
			t.Errorf("%s: gzip %v, format %s; want gzip records", in.Name, st.Gzip, st.Format)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names, sizes, rejected
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	st, err := Write(context.Background(), dir, Options{Events: 5000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 5000 || st.Files < 5 || st.Files > 50 {
		t.Errorf("stats = %+v, want 5000 events in 5 to 50 files", st)
	}
	names, sizes, rejected := readCorpus(t, dir)
	if rejected != 0 || len(sizes) != 5000 {
		t.Fatalf("read %d events, %d rejected; want 5000, 0", len(sizes), rejected)
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if mean := total / len(sizes); mean < 900 || mean > 2000 {
		t.Errorf("mean event size = %d bytes, want about 1–2 KB", mean)
	}
	if len(names) < 60 {
		t.Errorf("%d distinct eventNames, want at least 60", len(names))
	}
	for _, want := range []string{"ConsoleLogin", "AssumeRole", "GetObject", "RunInstances", "CreateAccessKey", "RegisterTaskDefinition"} {
		if names[want] == 0 {
			t.Errorf("no %s event", want)
		}
	}
	// The S3 layout: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 8 || parts[0] != "AWSLogs" || parts[2] != "CloudTrail" ||
			!strings.HasPrefix(parts[7], parts[1]+"_CloudTrail_"+parts[3]+"_") || !strings.HasSuffix(p, ".json.gz") {
			t.Errorf("file %s is not in the CloudTrail S3 layout", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := Write(context.Background(), dir, Options{Events: 1500, Seed: 7}); err != nil {
			t.Fatal(err)
		}
	}
	files := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				out[rel], _ = os.ReadFile(p)
			}
			return err
		})
		return out
	}
	fa, fb := files(a), files(b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("got %d and %d files, want the same non-zero number", len(fa), len(fb))
	}
	for name, got := range fa {
		if string(fb[name]) != string(got) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
}

func TestWriteTemplates(t *testing.T) {
	src := t.TempDir()
	if _, err := Write(context.Background(), src, Options{Events: 300, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	tmpl, err := ReadEvents(context.Background(), []string{src})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := Write(context.Background(), dir, Options{Events: 1000, Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	names, sizes, rejected := readCorpus(t, dir)
	if st.Events != 1000 || len(sizes) != 1000 || rejected != 0 {
		t.Errorf("wrote %d, read %d events, %d rejected; want 1000, 1000, 0", st.Events, len(sizes), rejected)
	}
	if len(names) < 20 {
		t.Errorf("%d distinct eventNames, want the templates' variety", len(names))
	}
}
