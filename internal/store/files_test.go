package store

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestFileLedger: a file read is stored only once a commit made its events durable; it is
// unchanged only with the same path, size and modification time; the ledger survives
// reopening, and a damaged ledger is an error that names its line.
func TestFileLedger(t *testing.T) {
	dir := t.TempDir()
	a := FileStamp{Size: 100, ModTime: 1_700_000_000_000_000_000}
	stored := func(w *Writer, path string, st FileStamp) bool {
		t.Helper()
		ok, err := w.FileStored(path, st)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	s := openT(t, dir, Options{})
	w := writerT(t, s)
	if stored(w, "/logs/a.json.gz", a) {
		t.Error("empty ledger: file stored")
	}
	w.FileRead("/logs/a.json.gz", a)
	if stored(w, "/logs/a.json.gz", a) {
		t.Error("file stored before a commit made its events durable")
	}
	s.Close() // no commit: as if the run died

	s = openT(t, dir, Options{})
	w = writerT(t, s)
	if stored(w, "/logs/a.json.gz", a) {
		t.Error("file stored after a run that never committed")
	}
	if _, err := w.Add(parseEvent(t, ev{id: "e1", time: "2026-01-01T00:00:00Z", arn: "arn:aws:iam::1:user/u"}.json())); err != nil {
		t.Fatal(err)
	}
	w.FileRead("/logs/a.json.gz", a)
	w.FileRead("/logs/b.json.gz", a) // a file whose events were all stored already: no segment to commit
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		st   FileStamp
		want bool
	}{
		{"/logs/a.json.gz", a, true},
		{"/logs/b.json.gz", a, true},
		{"/logs/a.json.gz", FileStamp{Size: 101, ModTime: a.ModTime}, false},
		{"/logs/a.json.gz", FileStamp{Size: 100, ModTime: a.ModTime + 1}, false},
		{"/logs/c.json.gz", a, false},
	} {
		if got := stored(w, c.path, c.st); got != c.want {
			t.Errorf("FileStored(%s, %+v) = %v, want %v", c.path, c.st, got, c.want)
		}
	}
	s.Close()

	s = openT(t, dir, Options{})
	w = writerT(t, s)
	if !stored(w, "/logs/b.json.gz", a) {
		t.Error("ledger lost on reopening")
	}
	s.Close()

	// A damaged ledger is an error that says what removing it costs.
	path := fileOfKind(t, dir, kindLedger)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	w = writerT(t, s)
	if _, err := w.FileStored("/logs/a.json.gz", a); err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), "db repair") || !strings.Contains(err.Error(), "reads every file again") {
		t.Errorf("damaged ledger: err = %v, want a checksum error saying what removing it costs", err)
	}
}

// TestMergeFiles: merging keeps the records sorted and distinct, a new record replacing an
// old one of the same file, as a map would.
func TestMergeFiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	want := map[uint64]FileStamp{}
	var files []fileRec
	for round := range 50 {
		add := map[uint64]FileStamp{}
		for range r.IntN(40) {
			add[r.Uint64N(300)] = FileStamp{Size: int64(round), ModTime: r.Int64()}
		}
		var recs []fileRec
		for h, st := range add {
			recs = append(recs, fileRec{hash: h, FileStamp: st})
			want[h] = st
		}
		slices.SortFunc(recs, compareFileRec)
		files = mergeFiles(files, recs)
		got := map[uint64]FileStamp{}
		for i, f := range files {
			if i > 0 && f.hash <= files[i-1].hash {
				t.Fatalf("round %d: record %d out of order", round, i)
			}
			got[f.hash] = f.FileStamp
		}
		if !maps.Equal(got, want) {
			t.Fatalf("round %d: merged ledger differs from the map", round)
		}
		again, err := parseFiles(encodeFiles(files))
		if err != nil || !slices.Equal(again, files) {
			t.Fatalf("round %d: parse(encode(files)) = %v, %v", round, len(again), err)
		}
	}
}

// FuzzParseFiles: any bytes parse to an error or to a sorted ledger that encodes back to
// the same bytes.
func FuzzParseFiles(f *testing.F) {
	f.Add(encodeFiles([]fileRec{{hash: 1, FileStamp: FileStamp{Size: 100, ModTime: 1_700_000_000_000_000_000}}, {hash: 9}}))
	f.Add(encodeFiles(nil))
	f.Add([]byte(filesMagic))
	f.Add([]byte("{not a ledger\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := parseFiles(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeFiles(files), b) {
			t.Fatalf("encode(parse(b)) != b for %d records", len(files))
		}
	})
}
