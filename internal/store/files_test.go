package store

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
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

	path := filepath.Join(dir, filesName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, "{not json\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	w = writerT(t, s)
	if _, err := w.FileStored("/logs/a.json.gz", a); err == nil || !strings.Contains(err.Error(), filesName+":3") {
		t.Errorf("damaged ledger: err = %v, want one naming %s:3", err, filesName)
	}
}

// FuzzParseFiles: any bytes parse to an error or to a ledger that encodes and parses back
// to itself.
func FuzzParseFiles(f *testing.F) {
	f.Add([]byte(`{"path":"/logs/a.json.gz","size":100,"mtime_ns":1700000000000000000}` + "\n"))
	f.Add([]byte("\n\n{\"path\":\"x\"}\n{\"path\":\"x\",\"size\":-1}"))
	f.Add([]byte(`{"path":""}`))
	f.Add([]byte("{not json\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := parseFiles(bytes.NewReader(b))
		if err != nil {
			return
		}
		enc, err := encodeFiles(files)
		if err != nil {
			t.Fatalf("encoding %v: %v", files, err)
		}
		again, err := parseFiles(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("parsing the encoding of %v: %v\n%s", files, err, enc)
		}
		if !maps.Equal(files, again) {
			t.Fatalf("parse(encode(%v)) = %v", files, again)
		}
	})
}
