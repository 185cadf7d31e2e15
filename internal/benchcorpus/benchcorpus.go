// Package benchcorpus writes a deterministic CloudTrail corpus for benchmarks: gzip'd
// {"Records":[...]} delivery files in the S3 layout AWS writes
// (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz),
// each holding between MinPerFile and MaxPerFile events.
//
// The events are synthetic by default: made up from the shapes of real CloudTrail records
// (IAM, STS, EC2, S3 data events, console sign-ins, ECS, KMS, Lambda, CloudTrail, SSM, …;
// IAM users, assumed roles, the root user and AWS services as callers; about one call in
// twenty failing), so that the project ships no third-party data. Options.Templates replaces
// them with copies of given events (real ones, read at run time with ReadEvents), each copy
// with a fresh eventID and requestID.
//
// The same Options always give the same bytes: everything is drawn from a seeded generator.
package benchcorpus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"
)

// DefaultEvents is the number of events written when Options.Events is zero.
const DefaultEvents = 200_000

// Options configures Write. The zero value writes DefaultEvents synthetic events.
type Options struct {
	// Events is the number of events to write; 0 means DefaultEvents.
	Events int
	// Seed seeds the generator; the same seed gives the same corpus.
	Seed uint64
	// MinPerFile and MaxPerFile bound the events per file (uniformly drawn); 0 means 100
	// and 1000.
	MinPerFile, MaxPerFile int
	// Templates, when not empty, are the events to replicate (each a JSON object) instead
	// of synthetic ones. They are used in turn, each copy with a fresh eventID and requestID.
	Templates [][]byte
}

func (o Options) withDefaults() (Options, error) {
	if o.Events <= 0 {
		o.Events = DefaultEvents
	}
	if o.MinPerFile <= 0 {
		o.MinPerFile = 100
	}
	if o.MaxPerFile <= 0 {
		o.MaxPerFile = 1000
	}
	if o.MaxPerFile < o.MinPerFile {
		return o, fmt.Errorf("events per file: max %d is below min %d", o.MaxPerFile, o.MinPerFile)
	}
	return o, nil
}

// Stats describes a written corpus.
type Stats struct {
	// Files and Events are the counts written.
	Files, Events int
	// RawBytes is the size of the JSON text; GzipBytes the size on disk.
	RawBytes, GzipBytes int64
}

// Write writes a corpus into dir (created if missing). Files already in dir are left alone
// and may be overwritten. It stops when ctx is done.
func Write(ctx context.Context, dir string, opts Options) (Stats, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	g := newGenerator(opts.Seed)
	var rep *replicator
	if len(opts.Templates) > 0 {
		rep = &replicator{templates: opts.Templates}
	}
	var (
		st    Stats
		doc   bytes.Buffer
		gzbuf bytes.Buffer
		ev    []byte
	)
	zw, err := gzip.NewWriterLevel(&gzbuf, gzip.DefaultCompression)
	if err != nil {
		return st, fmt.Errorf("creating gzip writer: %w", err)
	}
	// Files follow each other every five minutes, rotating over accounts and regions.
	clock := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for st.Events < opts.Events {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		n := opts.MinPerFile + g.r.IntN(opts.MaxPerFile-opts.MinPerFile+1)
		n = min(n, opts.Events-st.Events)
		acct := g.accounts[st.Files%len(g.accounts)]
		region := regions[(st.Files/len(g.accounts))%len(regions)]
		if st.Files%(len(g.accounts)*len(regions)) == 0 && st.Files > 0 {
			clock = clock.Add(5 * time.Minute)
		}
		doc.Reset()
		doc.WriteString(`{"Records":[`)
		for i := range n {
			if i > 0 {
				doc.WriteByte(',')
			}
			at := clock.Add(time.Duration(g.r.Int64N(int64(5 * time.Minute))))
			if rep != nil {
				ev, err = rep.next(ev[:0], g)
				if err != nil {
					return st, err
				}
			} else {
				ev = g.event(ev[:0], acct, region, at)
			}
			doc.Write(ev)
		}
		doc.WriteString(`]}`)

		gzbuf.Reset()
		zw.Reset(&gzbuf)
		if _, err := zw.Write(doc.Bytes()); err != nil {
			return st, fmt.Errorf("compressing: %w", err)
		}
		if err := zw.Close(); err != nil {
			return st, fmt.Errorf("compressing: %w", err)
		}
		name := filepath.Join(dir, "AWSLogs", acct.id, "CloudTrail", region, clock.Format("2006/01/02"),
			fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", acct.id, region, clock.Format("20060102T1504Z"), g.alnum(16)))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return st, fmt.Errorf("writing corpus: %w", err)
		}
		if err := os.WriteFile(name, gzbuf.Bytes(), 0o644); err != nil {
			return st, fmt.Errorf("writing corpus: %w", err)
		}
		st.Files++
		st.Events += n
		st.RawBytes += int64(doc.Len())
		st.GzipBytes += int64(gzbuf.Len())
	}
	return st, nil
}

// replicator copies template events with fresh ids.
type replicator struct {
	templates [][]byte
	i         int
	p         fastjson.Parser
	a         fastjson.Arena
}

func (r *replicator) next(dst []byte, g *generator) ([]byte, error) {
	t := r.templates[r.i%len(r.templates)]
	r.i++
	v, err := r.p.ParseBytes(t)
	if err != nil {
		return dst, fmt.Errorf("parsing template event %d: %w", (r.i-1)%len(r.templates), err)
	}
	if v.Type() != fastjson.TypeObject {
		return dst, fmt.Errorf("template event %d is not a JSON object", (r.i-1)%len(r.templates))
	}
	r.a.Reset()
	v.Set("eventID", r.a.NewString(g.uuid()))
	if v.Exists("requestID") {
		v.Set("requestID", r.a.NewString(g.uuid()))
	}
	return v.MarshalTo(dst), nil
}
