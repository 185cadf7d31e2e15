package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// The tests of this file treat hunt --db as an operator would: killed at chosen moments,
// on a disk that fills up, with output that cannot be written, over a damaged store. The
// promise they check: every signal is printed at least once (the union of what the runs
// printed is what a clean run prints), nothing is stored twice, and the store ends as a
// clean run's store.

// trail is a simulated week delivered in parts, as a live trail grows: run k of a sequence
// sees the files of parts 1..k in one folder.
type trail struct {
	// parts are the log files of each part, relative to the AWSLogs folder.
	parts [][]string
	logs  string // the simulated AWSLogs folder
}

// newTrail simulates days of CloudTrail and cuts its files into parts by day.
func newTrail(t *testing.T, seed, days, perDay int, cuts ...int) trail {
	t.Helper()
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", fmt.Sprint(seed), "--days", fmt.Sprint(days),
		"--events-per-day", fmt.Sprint(perDay), "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	tr := trail{logs: filepath.Join(dir, "AWSLogs"), parts: make([][]string, len(cuts)+1)}
	start := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	err := filepath.WalkDir(tr.logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tr.logs, p)
		// ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/file
		el := strings.Split(rel, string(filepath.Separator))
		day, err := time.Parse("2006/01/02", strings.Join(el[3:6], "/"))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		n := int(day.Sub(start).Hours() / 24)
		part := sort.SearchInts(cuts, n+1)
		tr.parts[part] = append(tr.parts[part], rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tr.parts {
		if len(p) == 0 {
			t.Fatalf("part %d of the trail is empty", i)
		}
	}
	return tr
}

// deliver copies the files of part k into root/trail/AWSLogs.
func (tr trail) deliver(t *testing.T, root string, k int) {
	t.Helper()
	for _, rel := range tr.parts[k] {
		b, err := os.ReadFile(filepath.Join(tr.logs, rel))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, "trail", "AWSLogs", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runIn runs trailhound in dir with extra environment; killed reports a death by SIGKILL.
type runResult struct {
	result
	killed bool
}

func runIn(t *testing.T, dir string, env []string, stdout *os.File, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdout != nil {
		cmd.Stdout = stdout
	}
	err := cmd.Run()
	r := runResult{result: result{out.String(), errb.String(), 0}}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			r.killed = true
		}
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// huntArgs are the arguments of every hunt --db run of these tests (relative paths, so that
// the positions stored are the same in every sequence's folder).
func huntArgs(segEvents int) []string {
	return []string{"hunt", "--db", "db", "--db-segment-events", fmt.Sprint(segEvents), "-f", "jsonl", "trail/AWSLogs"}
}

// storeContent is what a store answers, to compare stores. Positions are left out: of the
// copies of an event delivered twice (CloudTrail does that; so does the simulator), the store
// keeps whichever a decode worker added first.
type storeContent struct {
	Events     []string // eventID, raw JSON
	Signals    []signal.Signal
	Generation uint64
}

func contentOf(t *testing.T, db string) storeContent {
	t.Helper()
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var c storeContent
	err = st.Events(context.Background(), store.Filter{}, func(r store.Record, e *event.Event) error {
		c.Events = append(c.Events, r.EventID+" "+string(e.Raw))
		if e.Pos.File == "" {
			t.Errorf("stored event %s has no position", r.EventID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(c.Events)
	if c.Signals, err = st.Signals(); err != nil {
		t.Fatal(err)
	}
	c.Generation = st.Generation()
	return c
}

// printed collects the signals a sequence of runs printed.
type printed struct {
	pairs map[string]bool   // rule id + event id
	byID  map[string]string // signal id -> its JSON line
	dups  []string          // ids printed again with other content
}

func newPrinted() *printed { return &printed{pairs: map[string]bool{}, byID: map[string]string{}} }

// add takes the stdout of a run; a run killed mid-line leaves a partial last line, which
// is ignored (a reader of the stream would discard it too).
func (p *printed) add(t *testing.T, stdout string) {
	t.Helper()
	for _, line := range strings.SplitAfter(stdout, "\n") {
		if !strings.HasSuffix(line, "\n") {
			continue
		}
		var s signal.Signal
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("signal line %q: %v", line, err)
		}
		if old, ok := p.byID[s.ID]; ok && old != line {
			p.dups = append(p.dups, s.ID)
		}
		p.byID[s.ID] = line
		for _, id := range s.EventIDs {
			p.pairs[s.RuleID+" "+id] = true
		}
	}
}

func (p *printed) pairList() []string {
	out := make([]string, 0, len(p.pairs))
	for k := range p.pairs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// crashPoint is where a sequence's run of part k is killed.
type crashPoint struct {
	part int
	spec string // TRAILHOUND_TEST_CRASH, or "" for a kill after a random delay
}

// TestHuntDBKilled: hunt --db over a simulated week delivered in three parts (each run
// crossing the segment size, so that segments are written mid-run), killed with SIGKILL at
// 20 points spread over the runs — while events are stored, just after each kind of store
// file is renamed into place, after the signals are printed, just before and after the
// manifest is published, while superseded files are removed, and at random moments — then
// run again and on to the end: the union of the printed (rule, event) pairs is a clean
// sequence's, no signal id is printed twice with different content, and the final store
// (events, signals, the investigation of the top signal) is the clean sequence's.
func TestHuntDBKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test runs 80 hunts")
	}
	tr := newTrail(t, 31, 7, 6000, 3, 5) // parts: days 1-3, 4-5, 6-7
	const seg = 7000
	args := huntArgs(seg)

	sequence := func(root string, crash *crashPoint) (*printed, []runResult) {
		p := newPrinted()
		var runs []runResult
		for k := range tr.parts {
			tr.deliver(t, root, k)
			if crash != nil && crash.part == k {
				var r runResult
				if crash.spec != "" {
					r = runIn(t, root, []string{crashEnv + "=" + crash.spec}, nil, args...)
				} else {
					r = killAfter(t, root, args, time.Duration(100+rand.IntN(1200))*time.Millisecond)
				}
				runs = append(runs, r)
				p.add(t, r.stdout)
				if crash.spec != "" && !r.killed {
					t.Fatalf("crash point %s in part %d was never reached (exit %d): %s", crash.spec, k, r.code, r.stderr)
				}
			}
			r := runIn(t, root, nil, nil, args...)
			if r.code != 0 {
				t.Fatalf("part %d: exit %d: %s", k, r.code, r.stderr)
			}
			runs = append(runs, r)
			p.add(t, r.stdout)
		}
		return p, runs
	}

	cleanRoot := t.TempDir()
	clean, cleanRuns := sequence(cleanRoot, nil)
	want := contentOf(t, filepath.Join(cleanRoot, "db"))
	if len(want.Signals) == 0 || len(clean.dups) > 0 {
		t.Fatalf("clean sequence: %d signals, ids printed twice with other content: %v", len(want.Signals), clean.dups)
	}
	segs := 0
	st, _ := store.Open(filepath.Join(cleanRoot, "db"), store.Options{ReadOnly: true})
	segs = st.Stats().Segments
	st.Close()
	if segs < 5 {
		t.Fatalf("the clean sequence wrote %d segments: the runs do not cross the segment size", segs)
	}
	for k, r := range cleanRuns {
		if !strings.Contains(r.stderr, "events added") {
			t.Fatalf("clean run %d: no store summary:\n%s", k, r.stderr)
		}
	}
	top := want.Signals[0].ID
	wantReport := runIn(t, cleanRoot, nil, nil, "investigate", "--db", "db", "--signal", top, "-f", "json")
	if wantReport.code != 0 {
		t.Fatalf("investigate: %s", wantReport.stderr)
	}

	points := []crashPoint{
		{0, "event#2500"}, {0, "sync:segment#1"}, {0, "renamed:segment#2"}, {0, "printed"},
		{0, "renamed:signals"}, {0, "renamed:ledger"}, {0, "sync:manifest"}, {0, "published"},
		{1, "event#9000"}, {1, "renamed:segment#1"}, {1, "sync:blob"}, {1, "renamed:blob"},
		{1, "published"}, {1, "removed#1"},
		{2, "event#1"}, {2, "renamed:segment#2"}, {2, "sync:ledger"}, {2, "printed"},
		{1, ""}, {2, ""},
	}
	for i, cp := range points {
		name := fmt.Sprintf("%02d-part%d-%s", i, cp.part+1, cp.spec)
		if cp.spec == "" {
			name += "random"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			got, _ := sequence(root, &cp)
			if diff := cmp.Diff(clean.pairList(), got.pairList()); diff != "" {
				t.Errorf("printed (rule, event) pairs differ from a clean sequence's (-clean +got):\n%s", diff)
			}
			if len(got.dups) > 0 {
				t.Errorf("signal ids printed again with other content: %v", got.dups)
			}
			for id, line := range got.byID {
				if c, ok := clean.byID[id]; ok && c != line {
					t.Errorf("signal %s printed with other content than in a clean sequence:\n%s\n%s", id, c, line)
				}
			}
			c := contentOf(t, filepath.Join(root, "db"))
			if diff := cmp.Diff(want.Events, c.Events); diff != "" {
				t.Errorf("stored events differ from a clean sequence's (-clean +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Signals, c.Signals); diff != "" {
				t.Errorf("stored signals differ from a clean sequence's (-clean +got):\n%s", diff)
			}
			rep := runIn(t, root, nil, nil, "investigate", "--db", "db", "--signal", top, "-f", "json")
			if rep.code != 0 || rep.stdout != wantReport.stdout {
				t.Errorf("investigate --signal %s: exit %d, report differs from a clean sequence's: %v", top, rep.code, rep.stderr)
			}
			if r := runIn(t, root, nil, nil, "db", "check", "db"); r.code != 0 {
				t.Errorf("db check: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// killAfter starts hunt --db and kills it with SIGKILL after d (or lets it finish).
func killAfter(t *testing.T, dir string, args []string, d time.Duration) runResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := runResult{result: result{out.String(), errb.String(), 0}}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		r.killed = !ee.Exited()
	}
	return r
}

// TestHuntDBOutputFails: when the signals cannot be written (a full device, a reader that
// went away), hunt --db fails and commits nothing, so that the next run prints them: over
// the sequence, every signal of a clean run is printed and the store ends the same.
func TestHuntDBOutputFails(t *testing.T) {
	tr := newTrail(t, 32, 4, 3000, 2)
	args := huntArgs(5000)
	cleanRoot := t.TempDir()
	clean := newPrinted()
	for k := range tr.parts {
		tr.deliver(t, cleanRoot, k)
		r := runIn(t, cleanRoot, nil, nil, args...)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		clean.add(t, r.stdout)
	}
	want := contentOf(t, filepath.Join(cleanRoot, "db"))

	for _, how := range []string{"/dev/full", "closed pipe"} {
		t.Run(strings.ReplaceAll(how, "/", ""), func(t *testing.T) {
			root := t.TempDir()
			got := newPrinted()
			for k := range tr.parts {
				tr.deliver(t, root, k)
				if k == 1 {
					before := contentOf(t, filepath.Join(root, "db"))
					var r runResult
					if how == "/dev/full" {
						full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
						if err != nil {
							t.Skipf("no /dev/full: %v", err)
						}
						r = runIn(t, root, nil, full, args...)
						full.Close()
						if r.code == 0 || !strings.Contains(r.stderr, "nothing was committed") {
							t.Errorf("output to /dev/full: exit %d, stderr %q; want a failure saying nothing was committed", r.code, r.stderr)
						}
					} else {
						rd, wr, err := os.Pipe()
						if err != nil {
							t.Fatal(err)
						}
						rd.Close()
						r = runIn(t, root, nil, wr, args...)
						wr.Close()
						if r.code == 0 && !r.killed {
							t.Errorf("output to a closed pipe: exit 0")
						}
					}
					if after := contentOf(t, filepath.Join(root, "db")); after.Generation != before.Generation {
						t.Errorf("a run whose output failed committed generation %d (was %d)", after.Generation, before.Generation)
					}
				}
				r := runIn(t, root, nil, nil, args...)
				if r.code != 0 {
					t.Fatal(r.stderr)
				}
				got.add(t, r.stdout)
			}
			if diff := cmp.Diff(clean.pairList(), got.pairList()); diff != "" {
				t.Errorf("printed pairs differ from a clean sequence's (-clean +got):\n%s", diff)
			}
			c := contentOf(t, filepath.Join(root, "db"))
			if diff := cmp.Diff(want.Events, c.Events); diff != "" {
				t.Errorf("stored events differ from a clean sequence's (-clean +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Signals, c.Signals); diff != "" {
				t.Errorf("stored signals differ from a clean sequence's (-clean +got):\n%s", diff)
			}
		})
	}
}

// TestHuntDBDiskFull: the store on a small filesystem (a tmpfs the test mounts, so it runs
// as root) at several sizes, each filling up during the second run at another point: the
// run fails with an error that names the file that could not be written, the store stays at
// its previous generation, and once there is room the next runs end as a clean sequence.
func TestHuntDBDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	probe := t.TempDir()
	if err := syscall.Mount("tmpfs", probe, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the disk-full test needs it", err)
	}
	syscall.Unmount(probe, 0)

	tr := newTrail(t, 33, 4, 3000, 2)
	// One decode worker: the same events in the same segments in every run, so that the
	// files of the second run have the same sizes in every folder.
	args := append(huntArgs(4000), "--workers", "1")
	cleanRoot := t.TempDir()
	for k := range tr.parts {
		tr.deliver(t, cleanRoot, k)
		if r := runIn(t, cleanRoot, nil, nil, args...); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	want := contentOf(t, filepath.Join(cleanRoot, "db"))

	// The second run writes its segments, then the files of its commit: one short of room
	// for each of them in turn (tmpfs counts whole pages), it fails while writing that file.
	type fill struct {
		file  string // the file that must not fit
		bytes int64  // room the run gets beyond the first run's store
	}
	second := secondCommitFiles(t, tr, args)
	page := int64(os.Getpagesize())
	var fills []fill
	var room int64
	for _, f := range second {
		pages := (f.Bytes + page - 1) / page
		fills = append(fills, fill{f.Name, room + (pages-1)*page})
		room += pages * page
	}
	hit := map[string]bool{}
	for _, fl := range fills {
		t.Run(fl.file, func(t *testing.T) {
			root := t.TempDir()
			db := filepath.Join(root, "db")
			if err := os.Mkdir(db, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mount("tmpfs", db, "tmpfs", 0, "size=512m"); err != nil {
				t.Fatal(err)
			}
			defer syscall.Unmount(db, syscall.MNT_DETACH)
			tr.deliver(t, root, 0)
			if r := runIn(t, root, nil, nil, args...); r.code != 0 {
				t.Fatalf("first run: %s", r.stderr)
			}
			before := contentOf(t, db)
			var fs syscall.Statfs_t
			if err := syscall.Statfs(db, &fs); err != nil {
				t.Fatal(err)
			}
			used := int64(fs.Blocks-fs.Bfree) * int64(fs.Bsize)
			limit := used + fl.bytes
			if err := syscall.Mount("tmpfs", db, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%d", limit)); err != nil {
				t.Fatal(err)
			}
			tr.deliver(t, root, 1)
			r := runIn(t, root, nil, nil, args...)
			if r.code == 0 {
				t.Skipf("the second run fitted in %d KiB", limit>>10)
			}
			if !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, fl.file) {
				t.Errorf("disk full: exit %d, stderr does not name %s, the store file that could not be written:\n%s", r.code, fl.file, r.stderr)
			}
			hit[fl.file] = true
			if after := contentOf(t, db); after.Generation != before.Generation || !cmp.Equal(after.Events, before.Events) || !cmp.Equal(after.Signals, before.Signals) {
				t.Errorf("after a full disk the store is not at its previous generation (%d, now %d)", before.Generation, after.Generation)
			}
			if r := runIn(t, root, nil, nil, "db", "check", "db"); r.code != 0 {
				t.Errorf("db check after a full disk: %s%s", r.stdout, r.stderr)
			}
			if err := syscall.Mount("tmpfs", db, "tmpfs", syscall.MS_REMOUNT, "size=512m"); err != nil {
				t.Fatal(err)
			}
			for k := 1; k < len(tr.parts); k++ {
				if k > 1 {
					tr.deliver(t, root, k)
				}
				if r := runIn(t, root, nil, nil, args...); r.code != 0 {
					t.Fatalf("part %d with room: %s", k, r.stderr)
				}
			}
			c := contentOf(t, db)
			if diff := cmp.Diff(want, c, cmpopts.IgnoreFields(storeContent{}, "Generation")); diff != "" {
				t.Errorf("the store differs from a clean sequence's (-clean +got):\n%s", diff)
			}
		})
	}
	for _, k := range []string{"seg-", "sig-", "ledger-", "blob-", "MANIFEST"} {
		if !slices.ContainsFunc(fills, func(f fill) bool { return strings.HasPrefix(f.file, k) }) {
			t.Errorf("the second run writes no %s file: the test does not fill the disk there", k)
		}
	}
}

// secondCommitFiles replays the first two runs of a sequence in a fresh folder and returns,
// in the order the second run writes them, the files of its commit: its segments, its
// signals, ledger and state, then the manifest (written as MANIFEST.tmp beside the old one).
func secondCommitFiles(t *testing.T, tr trail, args []string) []store.FileCheck {
	t.Helper()
	root := t.TempDir()
	tr.deliver(t, root, 0)
	if r := runIn(t, root, nil, nil, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	tr.deliver(t, root, 1)
	if r := runIn(t, root, nil, nil, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	rep, err := store.Check(context.Background(), filepath.Join(root, "db"))
	if err != nil || !rep.OK() {
		t.Fatalf("db check: %+v %v", rep, err)
	}
	var out []store.FileCheck
	for _, f := range rep.Files {
		if f.Generation == rep.Generation && f.Kind != "manifest" {
			out = append(out, f)
		}
	}
	rank := func(f store.FileCheck) int {
		for i, p := range []string{"seg-", "sig-", "ledger-", "blob-"} {
			if strings.HasPrefix(f.Name, p) {
				return i
			}
		}
		return 9
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := rank(out[i]), rank(out[j]); a != b {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	for _, f := range rep.Files {
		if f.Kind == "manifest" {
			out = append(out, f)
		}
	}
	return out
}

func containsStoreFile(s string) bool {
	for _, p := range []string{"seg-", "sig-", "ledger-", "blob-", "MANIFEST"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// TestDBDamage: a byte flipped in, or the end cut off, each kind of store file: db check
// finds it and names it; hunt --db, investigate and db info delete nothing; db repair
// rebuilds what the files allow and says what it could not; then a hunt --db over the same
// logs stores every event of a clean run.
func TestDBDamage(t *testing.T) {
	tr := newTrail(t, 34, 2, 3000)
	args := huntArgs(2500)
	cleanRoot := t.TempDir()
	tr.deliver(t, cleanRoot, 0)
	if r := runIn(t, cleanRoot, nil, nil, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	want := contentOf(t, filepath.Join(cleanRoot, "db"))
	m, err := os.ReadDir(filepath.Join(cleanRoot, "db"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range m {
		if n := e.Name(); n != "LOCK" {
			files = append(files, n)
		}
	}
	kinds := map[string]bool{}
	for _, f := range files {
		kinds[strings.SplitN(f, "-", 2)[0]] = true
	}
	for _, k := range []string{"MANIFEST", "seg", "sig", "ledger", "blob"} {
		if !kinds[k] {
			t.Fatalf("the store has no %s file: %v", k, files)
		}
	}
	segments := 0
	for _, f := range files {
		if strings.HasPrefix(f, "seg-") {
			segments++
		}
	}
	if segments < 2 {
		t.Fatalf("%d segments: want several", segments)
	}

	for _, file := range files {
		for _, how := range []string{"flip", "cut"} {
			t.Run(file+"/"+how, func(t *testing.T) {
				root := t.TempDir()
				if err := os.CopyFS(filepath.Join(root, "db"), os.DirFS(filepath.Join(cleanRoot, "db"))); err != nil {
					t.Fatal(err)
				}
				tr.deliver(t, root, 0)
				path := filepath.Join(root, "db", file)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if how == "flip" {
					b[len(b)*2/5] ^= 0x10
				} else {
					b = b[:len(b)*3/4]
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				r := runIn(t, root, nil, nil, "db", "check", "db")
				if r.code == 0 || !strings.Contains(r.stdout, file) || !strings.Contains(r.stderr, "db repair") {
					t.Errorf("db check: exit %d, want a failure naming %s and db repair:\n%s%s", r.code, file, r.stdout, r.stderr)
				}
				// No command deletes data: the damaged file and every segment stay as they are
				// (a run may commit a generation of its own, superseding the ledger, state
				// and manifest it read, but only over an intact manifest).
				snapshot := storeFiles(t, filepath.Join(root, "db"))
				for _, cmd := range [][]string{args, {"investigate", "--db", "db", "--signal", want.Signals[0].ID, "-f", "json"}, {"db", "info", "db"}} {
					r := runIn(t, root, nil, nil, cmd...)
					after := storeFiles(t, filepath.Join(root, "db"))
					for n, content := range snapshot {
						if (n == file || strings.HasPrefix(n, "seg-")) && after[n] != content {
							t.Errorf("%s (exit %d) changed or removed %s of a damaged store:\n%s", cmd[0], r.code, n, r.stderr)
						}
					}
					if r.code != 0 && !strings.Contains(r.stderr, "db repair") {
						t.Errorf("%s failed on a damaged store without saying what to do (exit %d):\n%s", cmd[0], r.code, r.stderr)
					}
				}
				snapshot = storeFiles(t, filepath.Join(root, "db"))
				r = runIn(t, root, nil, nil, "db", "repair", "db", "-f", "json")
				if r.code != 0 {
					t.Fatalf("db repair: exit %d: %s", r.code, r.stderr)
				}
				var rep store.RepairReport
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
					t.Fatal(err)
				}
				if !rep.Changed {
					t.Errorf("db repair found nothing to repair after the %s of %s", how, file)
				}
				for n, content := range snapshot {
					moved := filepath.Join(rep.Quarantine, n)
					if cur, err := os.ReadFile(filepath.Join(root, "db", n)); err == nil && string(cur) == content {
						continue
					}
					if cur, err := os.ReadFile(moved); err == nil && string(cur) == content {
						continue
					}
					if rep.Quarantine == "" || !slices.Contains(rep.Quarantined, n) {
						// Superseded by the repaired generation: its content lives on in a new file.
						if n != "MANIFEST" && !strings.HasPrefix(n, "sig-") {
							t.Errorf("db repair: %s is neither in the store nor set aside", n)
						}
					}
				}
				if r := runIn(t, root, nil, nil, "db", "check", "db"); r.code != 0 {
					t.Errorf("db check after repair: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
				}
				repaired := contentOf(t, filepath.Join(root, "db"))
				if len(repaired.Events)+max(0, rep.LostEvents) < len(want.Events) && rep.LostEvents >= 0 {
					t.Errorf("repair: %d events kept and %d reported lost, the store held %d", len(repaired.Events), rep.LostEvents, len(want.Events))
				}
				if rep.LostSignals >= 0 && len(repaired.Signals)+rep.LostSignals < len(want.Signals) {
					t.Errorf("repair: %d signals kept and %d reported lost, the store held %d", len(repaired.Signals), rep.LostSignals, len(want.Signals))
				}
				if r := runIn(t, root, nil, nil, args...); r.code != 0 {
					t.Fatalf("hunt --db after repair: exit %d: %s", r.code, r.stderr)
				}
				// Every event of the clean run is stored again.
				c := contentOf(t, filepath.Join(root, "db"))
				if diff := cmp.Diff(want.Events, c.Events); diff != "" {
					t.Errorf("after repair and a rerun the stored events differ from a clean run's (-clean +got):\n%s", diff)
				}
				// No signal about what a clean run did not signal: a signal the clean run does
				// not have (events lost with a damaged segment are evaluated again when the
				// rerun stores them, and a signal's id is fixed by its first event) must be of a
				// rule of the clean run's signals, on events the clean run signalled under it.
				flagged := map[string]map[string]bool{}
				for _, w := range want.Signals {
					if flagged[w.RuleID] == nil {
						flagged[w.RuleID] = map[string]bool{}
					}
					for _, id := range w.EventIDs {
						flagged[w.RuleID][id] = true
					}
				}
				for _, s := range c.Signals {
					if slices.ContainsFunc(want.Signals, func(w signal.Signal) bool { return w.ID == s.ID }) {
						continue
					}
					for _, id := range s.EventIDs {
						if !flagged[s.RuleID][id] {
							t.Errorf("after repair and a rerun: signal %s %q holds event %s, which a clean run does not signal under that rule", s.ID, s.Title, id)
						}
					}
				}
			})
		}
	}
}

// storeFiles returns the content of every file of a store folder, by name (LOCK aside).
func storeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}
