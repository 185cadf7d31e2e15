package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/shareddata"
)

// entry is what a test sees of one Input.
type entry struct {
	Name string
	Kind Kind
	Why  string
	Err  bool
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links not available: %v", err)
	}
}

// tree builds a folder of logs and noise, and returns its root.
func tree(t *testing.T) string {
	root := t.TempDir()
	for _, p := range []string{
		"logs/b.json",
		"logs/A.JSON.GZ",
		"logs/.hidden.json",
		"logs/.git/config.json",
		"logs/README.md",
		"logs/AWSLogs/1/CloudTrail/us-east-1/2024/01/01/1_CloudTrail_us-east-1_x.json.gz",
		"logs/AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_us-east-1_x.json.gz",
		"logs/sub/z.jsonl",
		"logs/sub/a.ndjson",
		"outside/target.json",
		"outside/other.json",
	} {
		write(t, filepath.Join(root, p), `{"eventName":"`+p+`"}`)
	}
	symlink(t, filepath.Join(root, "outside", "target.json"), filepath.Join(root, "logs", "link.json"))
	symlink(t, filepath.Join(root, "outside"), filepath.Join(root, "logs", "linkdir"))
	symlink(t, filepath.Join(root, "missing.json"), filepath.Join(root, "logs", "broken.json"))
	return root
}

func walkAll(t *testing.T, args []string, opts Options) ([]entry, []Input) {
	t.Helper()
	var got []entry
	var ins []Input
	err := Walk(context.Background(), args, opts, func(in Input) error {
		got = append(got, entry{Name: in.Name, Kind: in.Kind, Why: in.Why, Err: in.Err != nil})
		ins = append(ins, in)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got, ins
}

func TestWalk(t *testing.T) {
	root := tree(t)
	logs := filepath.Join(root, "logs")
	j := func(p string) string { return filepath.Join(logs, p) }
	const notLog, hidden = "name does not look like a log file", "hidden"
	tests := []struct {
		name string
		args []string
		opts Options
		want []entry
	}{
		{name: "folder", args: []string{logs}, want: []entry{
			{Name: j(".git"), Kind: KindSkipped, Why: hidden},
			{Name: j(".hidden.json"), Kind: KindSkipped, Why: hidden},
			{Name: j("A.JSON.GZ")},
			{Name: j("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/1_CloudTrail_us-east-1_x.json.gz")},
			{Name: j("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_us-east-1_x.json.gz"), Kind: KindDigest},
			{Name: j("README.md"), Kind: KindSkipped, Why: notLog},
			{Name: j("b.json")},
			{Name: j("broken.json"), Err: true},
			{Name: j("link.json")},
			{Name: j("linkdir"), Kind: KindSkipped, Why: "symbolic link to a folder (not followed)"},
			{Name: j("sub/a.ndjson")},
			{Name: j("sub/z.jsonl")},
		}},
		{name: "hidden and all files", args: []string{j("sub"), j(".git")}, opts: Options{Hidden: true, AllFiles: true}, want: []entry{
			{Name: j("sub/a.ndjson")},
			{Name: j("sub/z.jsonl")},
			{Name: j(".git/config.json")},
		}},
		{name: "explicit files are taken whatever their name", args: []string{j("README.md"), j(".hidden.json"), "-", j("link.json")}, want: []entry{
			{Name: j("README.md")},
			{Name: j(".hidden.json")},
			{Name: "-"},
			{Name: j("link.json")},
		}},
		{name: "explicit digest", args: []string{j("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_us-east-1_x.json.gz")}, want: []entry{
			{Name: j("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_us-east-1_x.json.gz"), Kind: KindDigest},
		}},
		{name: "no arguments", args: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := walkAll(t, tc.args, tc.opts)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInputOpen(t *testing.T) {
	root := tree(t)
	logs := filepath.Join(root, "logs")
	_, ins := walkAll(t, []string{filepath.Join(logs, "link.json"), "-", logs},
		Options{Stdin: strings.NewReader("from stdin")})
	read := func(in Input) (string, error) {
		rc, err := in.Open(context.Background())
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	if got, err := read(ins[0]); err != nil || got != `{"eventName":"outside/target.json"}` {
		t.Errorf("symlinked file: got %q, %v", got, err)
	}
	if got, err := read(ins[1]); err != nil || got != "from stdin" {
		t.Errorf("stdin: got %q, %v", got, err)
	}
	for _, in := range ins[2:] {
		if strings.HasSuffix(in.Name, "broken.json") {
			if _, err := read(in); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("broken link: Open err = %v, want not exist", err)
			}
		}
		_, err := read(in)
		if (err == nil) != (in.Kind == KindLog && in.Err == nil) {
			t.Errorf("%s (%s): Open err = %v", in.Name, in.Kind, err)
		}
	}
}

func TestWalkMissing(t *testing.T) {
	root := tree(t)
	called := false
	err := Walk(context.Background(), []string{filepath.Join(root, "nope1"), filepath.Join(root, "logs"), filepath.Join(root, "nope2")},
		Options{}, func(Input) error { called = true; return nil })
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
	if !strings.Contains(err.Error(), "nope1") || !strings.Contains(err.Error(), "nope2") {
		t.Errorf("err = %v, want both missing arguments named", err)
	}
	if called {
		t.Errorf("fn called although an argument is missing")
	}
}

func TestWalkStops(t *testing.T) {
	root := tree(t)
	stop := errors.New("stop")
	n := 0
	err := Walk(context.Background(), []string{root}, Options{}, func(Input) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err, calls = %v, %d; want %v, 3", err, n, stop)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, []string{root}, Options{}, func(Input) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled walk: err = %v", err)
	}
}

func TestWalkUnreadableFolder(t *testing.T) {
	root := tree(t)
	bad := filepath.Join(root, "logs", "sub")
	if err := os.Chmod(bad, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(bad, 0o755)
	if _, err := os.ReadDir(bad); err == nil {
		t.Skip("running with permissions that read any folder (root?)")
	}
	got, _ := walkAll(t, []string{filepath.Join(root, "logs")}, Options{})
	var errs, logs int
	for _, e := range got {
		if e.Err {
			errs++
		}
		if e.Kind == KindLog && !e.Err {
			logs++
		}
	}
	if errs != 2 || logs != 4 {
		t.Errorf("got %d errors and %d logs, want 2 (broken link, unreadable folder) and 4: %v", errs, logs, got)
	}
}

func TestWalkSharedData(t *testing.T) {
	data := shareddata.Dir(t, "data", "cloudtrail")
	got, _ := walkAll(t, []string{data}, Options{})
	kinds := map[Kind]int{}
	for _, e := range got {
		kinds[e.Kind]++
		if e.Err {
			t.Errorf("%s: unexpected error", e.Name)
		}
	}
	// 37 + 687 + 1 + 4 log files; README.md and LICENSE.txt files skipped.
	if kinds[KindLog] != 729 || kinds[KindDigest] != 0 || kinds[KindSkipped] != 7 {
		t.Errorf("kinds = %v, want 729 logs, 0 digests, 7 skipped", kinds)
	}
}

// TestWalkArgs: every input says which argument it came from and whether it is that
// argument itself, so a caller can account for each path the user named.
func TestWalkArgs(t *testing.T) {
	root := tree(t)
	file := filepath.Join(root, "outside", "other.json")
	args := []string{file, filepath.Join(root, "logs", "sub"), Stdin, file}
	type at struct {
		name  string
		arg   int
		named bool
	}
	var got []at
	err := Walk(context.Background(), args, Options{Stdin: strings.NewReader("")}, func(in Input) error {
		got = append(got, at{filepath.Base(in.Name), in.Arg, in.Named})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []at{{"other.json", 0, true}, {"a.ndjson", 1, false}, {"z.jsonl", 1, false}, {"-", 2, true}, {"other.json", 3, true}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(at{})); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
}

// TestWalkUnreadableArgument: an argument that cannot be opened (permission denied) stops
// the walk before any input is handed out, like a missing one; checked as a user without
// the permission (root reads everything).
func TestWalkUnreadableArgument(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can open any file; the CLI test TestHuntUnreadableInputs covers this as another user")
	}
	root := tree(t)
	locked := filepath.Join(root, "outside", "target.json")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	calls := 0
	err := Walk(context.Background(), []string{filepath.Join(root, "logs", "sub"), locked}, Options{}, func(Input) error { calls++; return nil })
	if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), locked) || calls != 0 {
		t.Errorf("Walk = %v after %d inputs; want a permission error naming %s before any input", err, calls, locked)
	}
}

// TestSize: Size counts the inputs Walk hands out to decode, and their bytes; standard
// input makes the size unknown.
func TestSize(t *testing.T) {
	root := tree(t)
	args := []string{filepath.Join(root, "logs"), filepath.Join(root, "outside", "other.json")}
	var files int
	var bytes int64
	err := Walk(context.Background(), args, Options{}, func(in Input) error {
		if in.Kind == KindLog && in.Err == nil {
			files++
			fi, err := os.Stat(in.Name)
			if err != nil {
				t.Fatal(err)
			}
			bytes += fi.Size()
		} else if in.Kind == KindLog {
			files++ // the broken link: counted, of no size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gotFiles, gotBytes, known, err := Size(context.Background(), args, Options{})
	if err != nil || gotFiles != files || gotBytes != bytes || !known || files < 5 {
		t.Errorf("Size = %d files, %d bytes, known %v, %v; want %d files, %d bytes, known", gotFiles, gotBytes, known, err, files, bytes)
	}
	if _, _, known, _ := Size(context.Background(), append(args, Stdin), Options{}); known {
		t.Error("Size over standard input says the size is known")
	}
}

// TestStdinCancel: standard input reads what it is given, and a read waiting on a pipe
// with nothing to say returns once the run is cancelled.
func TestStdinCancel(t *testing.T) {
	const text = "line one\nline two\n"
	read := func(ctx context.Context, r io.Reader) ([]byte, error) {
		var got []byte
		err := Walk(ctx, []string{Stdin}, Options{Stdin: r}, func(in Input) error {
			rc, err := in.Open(context.Background())
			if err != nil {
				return err
			}
			defer rc.Close()
			got, err = io.ReadAll(rc)
			return err
		})
		return got, err
	}
	got, err := read(context.Background(), iotest.HalfReader(strings.NewReader(text)))
	if err != nil || string(got) != text {
		t.Errorf("read %q, %v; want %q", got, err, text)
	}
	pr, pw := io.Pipe() // a writer that says a little, then nothing
	defer pw.Close()
	go pw.Write([]byte("partial"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := read(ctx, pr)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("read of a silent pipe after cancel: %v, want context.Canceled", err)
	}
}
