package investigate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/store"
	"github.com/trailhound/trailhound/rules"
)

// syntheticIndex builds an index of n events without decoding: 2,000 benign users in 4
// accounts and 3 regions calling at random, and an attacker whose leaked key creates 20 users
// with keys, assumes a role chain 5 deep and runs 1,000 calls with each identity.
func syntheticIndex(n int) (*Index, string) {
	in := newInterner()
	r := rand.New(rand.NewPCG(1, 2))
	accts := []string{"111111111111", "222222222222", "333333333333", "444444444444"}
	regions := []string{"us-east-1", "eu-west-1", "us-east-2"}
	apis := [][2]string{{"s3.amazonaws.com", "GetObject"}, {"ec2.amazonaws.com", "DescribeInstances"}, {"iam.amazonaws.com", "ListUsers"},
		{"sts.amazonaws.com", "GetCallerIdentity"}, {"kms.amazonaws.com", "Decrypt"}, {"lambda.amazonaws.com", "Invoke"}}
	t0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC).UnixNano()
	step := int64(7*24*time.Hour) / int64(n)
	recs := make([]record, 0, n)
	var links []link
	rec := func(i int, acct, actor, key string) record {
		api := apis[r.IntN(len(apis))]
		return record{
			t: t0 + int64(i)*step, id: in.s(fmt.Sprintf("ev-%08d", i)), source: in.s(api[0]), name: in.s(api[1]),
			account: in.s(acct), region: in.s(regions[r.IntN(len(regions))]), ip: in.s(fmt.Sprintf("198.51.100.%d", r.IntN(250))),
			actor: in.s(actor), key: in.s(key), uaFamily: in.s("boto3"), link: -1, raw: -1,
		}
	}
	attacker := "arn:aws:iam::111111111111:user/leaked"
	type ident struct{ actor, key, acct string }
	var attackers []ident
	for i := 0; len(recs) < n; i++ {
		switch {
		case i == n/10:
			// The leaked key starts.
			attackers = append(attackers, ident{attacker, "AKIALEAKED", accts[0]})
			for u := range 20 {
				name := fmt.Sprintf("aws-cli%02d", u)
				arn := "arn:aws:iam::111111111111:user/" + name
				c := rec(len(recs), accts[0], attacker, "AKIALEAKED")
				c.link = int32(len(links))
				links = append(links, link{kind: linkCreateUser, a: in.s(arn)})
				recs = append(recs, c)
				k := rec(len(recs), accts[0], attacker, "AKIALEAKED")
				k.link = int32(len(links))
				key := fmt.Sprintf("AKIANEW%03d", u)
				links = append(links, link{kind: linkCreateKey, a: in.s(key), b: in.s(arn)})
				recs = append(recs, k)
				attackers = append(attackers, ident{arn, key, accts[0]})
			}
			prev := ident{attacker, "AKIALEAKED", accts[0]}
			for d := range 5 {
				acct := accts[d%len(accts)]
				role := fmt.Sprintf("arn:aws:iam::%s:role/r%d", acct, d)
				key := fmt.Sprintf("ASIACHAIN%03d", d)
				a := rec(len(recs), prev.acct, prev.actor, prev.key)
				a.link = int32(len(links))
				links = append(links, link{kind: linkAssumeRole, a: in.s(key), b: in.s(role + "#s")})
				recs = append(recs, a)
				prev = ident{role + "#s", key, acct}
				attackers = append(attackers, prev)
			}
		case len(attackers) > 0 && r.IntN(40) == 0:
			a := attackers[r.IntN(len(attackers))]
			recs = append(recs, rec(len(recs), a.acct, a.actor, a.key))
		default:
			u := r.IntN(2000)
			acct := accts[u%len(accts)]
			recs = append(recs, rec(len(recs), acct, fmt.Sprintf("arn:aws:iam::%s:user/u%d", acct, u), fmt.Sprintf("AKIAU%06d", u)))
		}
	}
	x := &Index{strs: in.strs, symOf: in.m, links: links}
	x.finish(recs[:n])
	return x, attacker
}

func BenchmarkScope(b *testing.B) {
	for _, n := range []int{1_000_000} {
		x, attacker := syntheticIndex(n)
		subs, err := x.startSubjects(Start{ARN: attacker}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("compute/events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var inScope int
			for b.Loop() {
				s := newScope(x)
				for _, sub := range subs {
					s.add(sub)
				}
				s.compute()
				inScope = len(s.events)
			}
			b.ReportMetric(float64(inScope), "events-in-scope")
		})
		b.Run(fmt.Sprintf("report/events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Investigate(context.Background(), x, Start{ARN: attacker}, nil, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestSyntheticScope(t *testing.T) {
	x, attacker := syntheticIndex(20_000)
	rep, err := Investigate(context.Background(), x, Start{ARN: attacker}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The leaked user, 20 users, 20 keys, 5 sessions.
	if got, want := len(rep.Identities), 1+20+20+5; got != want {
		t.Errorf("identities = %d, want %d", got, want)
	}
	for _, e := range rep.Timeline {
		if e.Identity != attacker && !strings.Contains(e.Identity, ":user/aws-cli") && !strings.Contains(e.Identity, ":role/r") {
			t.Fatalf("benign event in scope: %+v", e)
		}
	}
}

// benchStore returns a store of about 1M simulated events with their signals, opened
// read-only: $TRAILHOUND_BENCH_STORE when set (e.g. 10M events written by
// `trailhound simulate` then `trailhound hunt --db`), else one built once under the
// temporary folder (about a minute the first time).
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	dir := os.Getenv("TRAILHOUND_BENCH_STORE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "trailhound-investigate-bench-1M")
		if _, err := os.Stat(filepath.Join(dir, ".done")); err != nil {
			buildBenchStore(b, dir)
		}
	}
	s, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// buildBenchStore simulates a week of 150k events a day and hunts it into a store, as
// `trailhound hunt --db` does.
func buildBenchStore(b *testing.B, dir string) {
	ctx := context.Background()
	logs := dir + ".logs"
	os.RemoveAll(dir)
	os.RemoveAll(logs)
	if _, err := simulate.Generate(ctx, simulate.Options{Seed: 5, Days: 7, EventsPerDay: 150_000}, simulate.NewDirSink(logs)); err != nil {
		b.Fatalf("simulate: %v", err)
	}
	defer os.RemoveAll(logs)
	set, err := ruleset.Load(ctx, ruleset.Options{Builtin: rules.FS})
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer()
	if err != nil {
		b.Fatal(err)
	}
	res, err := hunt.Run(ctx, hunt.Config{OnEvent: w.Add}, set, []string{logs})
	if err != nil {
		b.Fatalf("hunt: %v", err)
	}
	if err := w.CommitBatch(store.Batch{Signals: res.Signals}); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".done"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInvestigateStore is a whole investigation over a store of ≥ 1M events, as
// `trailhound investigate --db` runs it: load what the scope needs (LoadStore) and report
// (Investigate), from the first signal of each seed attack (the AdministratorAccess and
// the crypto-mining image rules).
func BenchmarkInvestigateStore(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	signals, err := s.Signals()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d stored events, %d signals", s.Stats().Events, len(signals))
	for _, c := range []struct{ name, title string }{
		{"attack1-admin", "AdministratorAccess Policy Attached"},
		{"attack2-miner", "Known Cryptomining Image"},
	} {
		i := slices.IndexFunc(signals, func(sig signal.Signal) bool { return strings.Contains(sig.Title, c.title) })
		if i < 0 {
			b.Fatalf("no signal %q in the store", c.title)
		}
		start := Start{Signal: signals[i].ID}
		b.Run(c.name, func(b *testing.B) {
			var events int
			for b.Loop() {
				x, err := LoadStore(ctx, s, start, signals, LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				rep, err := Investigate(ctx, x, start, signals, Options{})
				if err != nil {
					b.Fatal(err)
				}
				events = len(rep.Timeline)
			}
			b.ReportMetric(float64(events), "events-in-scope")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/investigation")
		})
	}
}

// BenchmarkInvestigateBusyOwner is an investigation from the highest signal on attack 1 of a
// simulated week of 200k background events whose leaked key belongs to a busy CI user (about
// 9,000 of the owner's calls with the same key): the walk back to the roots and the
// attribution of every call, over an Index of every event.
func BenchmarkInvestigateBusyOwner(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	truth, err := simulate.Generate(ctx, simulate.Options{Seed: 3, Days: 7, EventsPerDay: 200_000 / 7, BusyOwners: true}, simulate.NewDirSink(dir))
	if err != nil {
		b.Fatal(err)
	}
	set, err := ruleset.Load(ctx, ruleset.Options{Builtin: rules.FS})
	if err != nil {
		b.Fatal(err)
	}
	res, err := hunt.Run(ctx, hunt.Config{}, set, []string{dir})
	if err != nil {
		b.Fatal(err)
	}
	x, err := Load(ctx, []string{dir}, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	steps := map[string]bool{}
	for _, st := range truth.Attacks[0].Steps {
		steps[st.EventID] = true
	}
	var start Start
	best := signal.Level(0)
	for _, sig := range res.Signals {
		if sig.Level > best && slices.ContainsFunc(sig.EventIDs, func(id string) bool { return steps[id] }) {
			start, best = Start{Signal: sig.ID}, sig.Level
		}
	}
	b.ResetTimer()
	b.ReportAllocs()
	var rep *Report
	for b.Loop() {
		if rep, err = Investigate(ctx, x, start, res.Signals, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Summary.Events), "attacker-events")
	b.ReportMetric(float64(rep.Summary.OwnerEvents), "owner-events")
}
