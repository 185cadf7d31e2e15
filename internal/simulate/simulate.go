package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/klauspost/compress/gzip"
)

// gen holds the state of one Generate call. Generation runs on one goroutine.
type gen struct {
	opts  Options
	w     *world
	r     rnd
	infra rnd // Options.UnlistedInfra's choices (busy.go)
	sink  Sink
	truth *GroundTruth
	sum   Summary

	episodes []episode
	cur      rec
	rq, rs   jw // request and response of the current record
	ex, res  jw // additionalEventData and resources of the current record
	enc      []byte

	slots      map[slotKey]*slotBuf
	free       map[prevDigest][]*slotBuf
	order      []int
	doc        []byte
	zbuf       bytes.Buffer
	zw         *gzip.Writer
	digests    map[digestKey]*digestAcc
	prevDigest map[prevDigest]digestFile

	bulk []*bulkState // per account
	// buffered counts the records held in slots; peak is its maximum, for tests.
	buffered, peak int
	// AWS services that call on their own behalf.
	events, ecsTasks, lambda actor
}

// episode is a burst of related calls (a CI deploy, a console session, an attack stage)
// starting at a planned time. It may emit calls up to an hour later, never earlier.
type episode struct {
	at  time.Time
	seq int
	run func(at time.Time)
}

func (g *gen) schedule(at time.Time, run func(at time.Time)) {
	g.episodes = append(g.episodes, episode{at: at.UTC(), seq: len(g.episodes), run: run})
}

// Generate writes a CloudTrail history to sink as CloudTrail delivers it to S3: gzip'd
// {"Records":[...]} files per account, region and 5-minute delivery slot under
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, records unordered inside a file, some
// delivered late (in a later slot) and a few twice; optionally hourly digest files under
// CloudTrail-Digest/. It then writes GroundTruthFile and returns the same ground truth.
//
// Generation streams: memory is bounded by the events of the last half hour or so, not by
// the length of the history. The output is a function of opts alone. Generate stops early,
// returning ctx.Err(), when ctx is done.
func Generate(ctx context.Context, opts Options, sink Sink) (*GroundTruth, error) {
	g, err := generate(ctx, opts, sink)
	if err != nil {
		return nil, err
	}
	return g.truth, nil
}

// generate is Generate, returning the generator for tests to inspect.
func generate(ctx context.Context, opts Options, sink Sink) (*gen, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("checking options: %w", err)
	}
	g := &gen{
		opts: opts, w: newWorld(opts), r: newRnd(opts.Seed, 0x6576656e7473), infra: newRnd(opts.Seed, 0x696e667261), sink: sink,
		events: awsService("events.amazonaws.com"), ecsTasks: awsService("ecs-tasks.amazonaws.com"), lambda: awsService("lambda.amazonaws.com"),
		slots: map[slotKey]*slotBuf{}, free: map[prevDigest][]*slotBuf{}, digests: map[digestKey]*digestAcc{}, prevDigest: map[prevDigest]digestFile{},
	}
	g.zw, err = gzip.NewWriterLevel(&g.zbuf, opts.GzipLevel)
	if err != nil {
		return nil, fmt.Errorf("creating gzip writer: %w", err)
	}
	end := opts.Start.Add(time.Duration(opts.Days) * 24 * time.Hour)
	g.truth = &GroundTruth{Seed: opts.Seed, Start: opts.Start, End: end, Org: g.w.org, Duplicates: []string{}, LookAlikes: []LookAlike{}, Attacks: []AttackTruth{}}
	for _, a := range g.w.accounts {
		g.truth.Accounts = append(g.truth.Accounts, AccountInfo{ID: a.id, Name: a.name, Regions: a.regions})
		g.bulk = append(g.bulk, &bulkState{})
		for _, c := range a.ci {
			g.truth.Owners = append(g.truth.Owners, OwnerTruth{Account: a.id, UserName: c.name, ARN: "arn:aws:iam::" + a.id + ":user/" + c.name,
				AccessKeyID: c.key, Leaked: c.key == a.mailKey && g.opts.has(AttackLeakedKeyAdmin) || c.key == a.legKey && g.opts.has(AttackECSCryptomining),
				SourceIPs: c.ips, UserAgents: []string{c.tfUA, c.cliUA}, Resources: []Resource{}})
		}
	}
	// The owners' records are complete now: point each CI user at its own.
	i := 0
	for _, a := range g.w.accounts {
		for _, c := range a.ci {
			c.truth = &g.truth.Owners[i]
			i++
		}
	}
	g.planBenign(end)
	g.planBusy(end)
	g.planAttacks()
	slices.SortFunc(g.episodes, func(x, y episode) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return x.seq - y.seq
	})

	next := 0
	for tick := opts.Start; tick.Before(end); tick = tick.Add(slotSeconds * time.Second) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tickEnd := tick.Add(slotSeconds * time.Second)
		for ; next < len(g.episodes) && g.episodes[next].at.Before(tickEnd); next++ {
			g.episodes[next].run(g.episodes[next].at)
		}
		for _, a := range g.w.accounts {
			g.background(a, tick, tickEnd)
		}
		if err := g.flush(tickEnd.Unix()); err != nil {
			return nil, err
		}
	}
	for ; next < len(g.episodes); next++ {
		g.episodes[next].run(g.episodes[next].at)
	}
	if err := g.flush(1 << 62); err != nil {
		return nil, err
	}
	for i := range g.truth.Attacks {
		a := &g.truth.Attacks[i]
		slices.SortStableFunc(a.Steps, func(x, y Step) int { return x.EventTime.Compare(y.EventTime) })
	}
	g.truth.Stats = g.sum
	data, err := json.MarshalIndent(g.truth, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the ground truth: %w", err)
	}
	if err := sink.WriteFile(GroundTruthFile, append(data, '\n')); err != nil {
		return nil, err
	}
	return g, nil
}

// call starts the current record: a call by who at t. The caller fills in parameters and
// emits it; the record is reused by the next call.
func (g *gen) call(t time.Time, a *account, region string, who *actor, source, name string) *rec {
	g.cur = rec{at: t.UTC(), acct: a, who: who, source: source, name: name, region: region, readOnly: isReadOnly(name)}
	return &g.cur
}

// q and p return the emptied request and response writers.
func (g *gen) q() *jw { return g.rq.reset() }
func (g *gen) p() *jw { return g.rs.reset() }

// sec returns t plus s seconds.
func sec(t time.Time, s int) time.Time { return t.Add(time.Duration(s) * time.Second) }
