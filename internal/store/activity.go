package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Activity summarises every stored event by place and API: what an investigation compares a
// scope with to find blind spots, without reading events.
type Activity struct {
	// Regions has one entry per account and region, sorted by account then region.
	Regions []RegionActivity
	// APIs has one entry per account, event source and event name, sorted likewise.
	APIs []APIActivity
}

// RegionActivity is the activity of one account in one region.
type RegionActivity struct {
	Account, Region string
	Events          int
	// Hours are the distinct hours (Unix time / 1h) with at least one event, ascending.
	Hours []int64
}

// APIActivity counts the events of one API in one account.
type APIActivity struct {
	Account, Source, Name string
	Events                int
}

// segActivity is the activity of one segment, in its dictionary codes. Segments keep it in
// their section "activity" (written since footer version 3); for older ones it is computed
// from the index columns.
type segActivity struct {
	regions []segRegion
	apis    []segAPI
}

type segRegion struct {
	acct, region uint32
	events       int
	hours        []int64
}

type segAPI struct {
	acct, source, name uint32
	events             int
}

// secActivity is the section of a segment's segActivity.
const secActivity = "activity"

// activityOf aggregates n rows given by their codes and times.
func activityOf(n int, acct, region, source, name func(i int) uint32, at func(i int) int64) segActivity {
	type rk struct{ acct, region uint32 }
	type ak struct{ acct, source, name uint32 }
	regionIdx, apiIdx := map[rk]int{}, map[ak]int{}
	var out segActivity
	var hourSets []map[int64]bool
	var lastHour []int64
	prevR, prevRI := rk{^uint32(0), 0}, -1
	prevA, prevAI := ak{^uint32(0), 0, 0}, -1
	for i := range n {
		r := rk{acct(i), region(i)}
		ri := prevRI
		if r != prevR {
			var ok bool
			if ri, ok = regionIdx[r]; !ok {
				ri = len(out.regions)
				regionIdx[r] = ri
				out.regions = append(out.regions, segRegion{acct: r.acct, region: r.region})
				hourSets = append(hourSets, map[int64]bool{})
				lastHour = append(lastHour, -1<<62)
			}
			prevR, prevRI = r, ri
		}
		out.regions[ri].events++
		if h := at(i) / int64(time.Hour); h != lastHour[ri] {
			hourSets[ri][h] = true
			lastHour[ri] = h
		}
		a := ak{r.acct, source(i), name(i)}
		ai := prevAI
		if a != prevA {
			var ok bool
			if ai, ok = apiIdx[a]; !ok {
				ai = len(out.apis)
				apiIdx[a] = ai
				out.apis = append(out.apis, segAPI{acct: a.acct, source: a.source, name: a.name})
			}
			prevA, prevAI = a, ai
		}
		out.apis[ai].events++
	}
	for i := range out.regions {
		for h := range hourSets[i] {
			out.regions[i].hours = append(out.regions[i].hours, h)
		}
		slices.Sort(out.regions[i].hours)
	}
	return out
}

// encode writes the activity: regions (account, region, events, hours as deltas), then APIs.
func (a segActivity) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(a.regions)))
	for _, r := range a.regions {
		b = binary.AppendUvarint(b, uint64(r.acct))
		b = binary.AppendUvarint(b, uint64(r.region))
		b = binary.AppendUvarint(b, uint64(r.events))
		b = binary.AppendUvarint(b, uint64(len(r.hours)))
		prev := int64(0)
		for _, h := range r.hours {
			b = binary.AppendVarint(b, h-prev)
			prev = h
		}
	}
	b = binary.AppendUvarint(b, uint64(len(a.apis)))
	for _, p := range a.apis {
		for _, v := range []uint64{uint64(p.acct), uint64(p.source), uint64(p.name), uint64(p.events)} {
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

var errActivity = errors.New("bad activity section")

// decodeActivity reads an activity section whose codes must be below dictN.
func decodeActivity(b []byte, dictN int) (segActivity, error) {
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errActivity
		}
		b = b[n:]
		return v, nil
	}
	code := func() (uint32, error) {
		v, err := uv()
		if err == nil && v >= uint64(dictN) {
			err = errActivity
		}
		return uint32(v), err
	}
	var a segActivity
	nr, err := uv()
	if err != nil || nr > uint64(len(b)) {
		return a, errActivity
	}
	for range nr {
		var r segRegion
		var ev, nh uint64
		if r.acct, err = code(); err == nil {
			if r.region, err = code(); err == nil {
				if ev, err = uv(); err == nil {
					nh, err = uv()
				}
			}
		}
		if err != nil || nh > uint64(len(b)) {
			return a, errActivity
		}
		r.events = int(ev)
		prev := int64(0)
		for range nh {
			d, n := binary.Varint(b)
			if n <= 0 {
				return a, errActivity
			}
			b = b[n:]
			prev += d
			r.hours = append(r.hours, prev)
		}
		a.regions = append(a.regions, r)
	}
	na, err := uv()
	if err != nil || na > uint64(len(b)) {
		return a, errActivity
	}
	for range na {
		var p segAPI
		var ev uint64
		if p.acct, err = code(); err == nil {
			if p.source, err = code(); err == nil {
				if p.name, err = code(); err == nil {
					ev, err = uv()
				}
			}
		}
		if err != nil {
			return a, errActivity
		}
		p.events = int(ev)
		a.apis = append(a.apis, p)
	}
	if len(b) != 0 {
		return a, errActivity
	}
	return a, nil
}

// segmentActivity returns the segment's activity: its section, or computed from its columns.
func (s *Store) segmentActivity(sg *segment) (segActivity, error) {
	if err := sg.load(s.dec); err != nil {
		return segActivity{}, err
	}
	if _, ok := sg.ft.Sections[secActivity]; ok {
		b, err := sg.section(s.dec, secActivity)
		if err != nil {
			return segActivity{}, err
		}
		a, err := decodeActivity(b, len(sg.dict))
		if err != nil {
			return segActivity{}, fmt.Errorf("segment %s: %w", sg.name, err)
		}
		return a, nil
	}
	return s.columnActivity(sg)
}

// columnActivity computes the segment's activity from its index columns.
func (s *Store) columnActivity(sg *segment) (segActivity, error) {
	var cols [4]*column
	for i, c := range []int{colAccount, colRegion, colSource, colName} {
		col, err := sg.column(s.dec, strColNames[c], len(sg.dict))
		if err != nil {
			return segActivity{}, err
		}
		cols[i] = col
	}
	times, err := sg.column(s.dec, secTime, 0)
	if err != nil {
		return segActivity{}, err
	}
	preload(nil, nil, cols[0], cols[1], cols[2], cols[3], times)
	code := func(c *column) func(int) uint32 { return func(i int) uint32 { return uint32(c.at(i)) } }
	a := activityOf(sg.ft.Events, code(cols[0]), code(cols[1]), code(cols[2]), code(cols[3]),
		func(i int) int64 { return int64(times.at(i)) })
	if err := columnErr(nil, cols[0], cols[1], cols[2], cols[3], times); err != nil {
		return segActivity{}, err
	}
	return a, nil
}

// Activity computes the activity of every stored event, from each segment's activity
// section (or its index columns for segments written before it existed).
func (s *Store) Activity(ctx context.Context) (Activity, error) {
	segs := s.snapshot()
	type regionKey struct{ acct, region string }
	type apiKey struct{ acct, source, name string }
	var mu sync.Mutex
	regions := map[regionKey]*RegionActivity{}
	hours := map[regionKey]map[int64]bool{}
	apis := map[apiKey]int{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers())
	for _, sg := range segs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			a, err := s.segmentActivity(sg)
			if err != nil {
				return err
			}
			d := sg.dict
			mu.Lock()
			defer mu.Unlock()
			for _, r := range a.regions {
				key := regionKey{d[r.acct], d[r.region]}
				ra := regions[key]
				if ra == nil {
					ra = &RegionActivity{Account: key.acct, Region: key.region}
					regions[key], hours[key] = ra, map[int64]bool{}
				}
				ra.Events += r.events
				for _, h := range r.hours {
					hours[key][h] = true
				}
			}
			for _, p := range a.apis {
				apis[apiKey{d[p.acct], d[p.source], d[p.name]}] += p.events
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Activity{}, fmt.Errorf("reading the store's activity: %w", err)
	}
	var out Activity
	for k, ra := range regions {
		for h := range hours[k] {
			ra.Hours = append(ra.Hours, h)
		}
		slices.Sort(ra.Hours)
		out.Regions = append(out.Regions, *ra)
	}
	slices.SortFunc(out.Regions, func(a, b RegionActivity) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	for k, n := range apis {
		out.APIs = append(out.APIs, APIActivity{Account: k.acct, Source: k.source, Name: k.name, Events: n})
	}
	slices.SortFunc(out.APIs, func(a, b APIActivity) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}
