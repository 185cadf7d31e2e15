package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/event"
)

// TestParallelOrder checks that Scan and Events, which read segments and blocks ahead on
// several goroutines, still call fn in commit order, and stop at fn's error.
func TestParallelOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	ctx := context.Background()
	s := openT(t, t.TempDir(), Options{BlockSize: 1 << 10})
	var want []string
	for seg := range 9 {
		w := writerT(t, s)
		for i := range 300 + seg*37 {
			id := fmt.Sprintf("id-%d-%04d", seg, i)
			key := "AKIAOTHER"
			if i%3 != 0 {
				key = "AKIAWANT"
				want = append(want, id)
			}
			e := ev{id: id, time: "2026-01-01T00:00:00Z", arn: "arn:aws:iam::1:user/u", key: key}
			if _, err := w.Add(parseEvent(t, e.json())); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	f := Filter{AccessKeys: []string{"AKIAWANT"}}
	for range 3 {
		var got []string
		if err := s.Scan(ctx, f, func(r Record) error { got = append(got, r.EventID); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Scan order (-want +got):\n%s", diff)
		}
		got = eventIDs(t, s, f)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Events order (-want +got):\n%s", diff)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.Events(ctx, f, func(Record, *event.Event) error {
		if n++; n == 500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 500 {
		t.Errorf("Events stopped after %d events with %v; want 500, stop", n, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Events(cctx, f, func(Record, *event.Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Events on a cancelled context = %v", err)
	}
}

// TestGroupSets checks that a lookup skips the row groups without the identity, and that
// segments written before the sets (footer version 1) are still read, without skipping.
func TestGroupSets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, Options{BlockSize: 8 << 10})
	w := writerT(t, s)
	const n = 3*groupRows + 50
	for i := range n {
		arn, ip := "arn:aws:iam::1:user/bulk", "10.0.0.1"
		if i == groupRows+5 || i == groupRows+9 {
			arn = "arn:aws:iam::1:user/rare"
		}
		if i == 3*groupRows+1 {
			ip = "192.0.2.7"
		}
		e := ev{id: fmt.Sprintf("id-%06d", i), time: "2026-01-01T00:00:00Z", acct: "1", arn: arn, key: "AKIABULK", ip: ip}
		if _, err := w.Add(parseEvent(t, e.json())); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	lookups := []struct {
		f    Filter
		want []string
	}{
		{Filter{Actors: []string{"arn:aws:iam::1:user/rare"}}, []string{fmt.Sprintf("id-%06d", groupRows+5), fmt.Sprintf("id-%06d", groupRows+9)}},
		{Filter{UserNames: []string{"rare"}, SourceIPs: []string{"192.0.2.7"}}, []string{fmt.Sprintf("id-%06d", groupRows+5), fmt.Sprintf("id-%06d", groupRows+9), fmt.Sprintf("id-%06d", 3*groupRows+1)}},
		{Filter{SourceIPs: []string{"192.0.2.7"}, Accounts: []string{"1"}}, []string{fmt.Sprintf("id-%06d", 3*groupRows+1)}},
		{Filter{Actors: []string{"arn:aws:iam::1:user/nobody"}}, nil},
	}
	check := func(s *Store, what string) {
		t.Helper()
		for _, l := range lookups {
			var got, gotRaw []string
			if err := s.Scan(ctx, l.f, func(r Record) error { got = append(got, r.EventID); return nil }); err != nil {
				t.Fatal(err)
			}
			err := s.Events(ctx, l.f, func(r Record, e *event.Event) error {
				gotRaw = append(gotRaw, string(e.Str("eventID")))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(l.want, got); diff != "" {
				t.Errorf("%s: Scan(%+v) (-want +got):\n%s", what, l.f, diff)
			}
			if diff := cmp.Diff(l.want, gotRaw); diff != "" {
				t.Errorf("%s: Events(%+v) (-want +got):\n%s", what, l.f, diff)
			}
		}
	}
	check(s, "version 2")
	sg := s.snapshot()[0]
	if sg.ft.Version != footerVersion {
		t.Fatalf("footer version %d, want %d", sg.ft.Version, footerVersion)
	}
	if err := sg.load(s.dec); err != nil {
		t.Fatal(err)
	}
	keep, _ := dictMatch(sg.dict, setMatcher([]string{"arn:aws:iam::1:user/rare"}))
	gs, err := s.candidateGroups(sg, []cond{{colActor, keep}})
	if err != nil || !slices.Equal(gs, []int{1}) {
		t.Errorf("candidate groups = %v, %v; want [1]", gs, err)
	}
	path := filepath.Join(dir, sg.name)
	s.Close()

	// Rewrite the footer as version 1 wrote it: no version, no sets.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ft, _, _, err := readFooter(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	fl := int(binary.LittleEndian.Uint32(b[len(b)-trailerBytes:]))
	b = b[:len(b)-trailerBytes-fl]
	ft.Version, ft.Generation, ft.BodyCRC = 0, 0, 0
	for _, c := range setCols {
		delete(ft.Sections, strColNames[c]+setSuffix)
	}
	fj, err := json.Marshal(ft)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, fj...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(fj)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(fj, crcTable))
	b = append(b, segEndMagic...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	writeV1Manifest(t, dir)
	old := openT(t, dir, Options{ReadOnly: true})
	osg := old.snapshot()[0]
	if osg.ft.Version != 0 {
		t.Fatalf("rewritten footer has version %d", osg.ft.Version)
	}
	check(old, "version 1")
	if err := osg.load(old.dec); err != nil {
		t.Fatal(err)
	}
	if gs, err := old.candidateGroups(osg, []cond{{colActor, keep}}); gs != nil || err != nil {
		t.Errorf("version 1: candidate groups = %v, %v; want all (nil)", gs, err)
	}
}
