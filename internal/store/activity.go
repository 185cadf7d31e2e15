package store

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Activity summarises every stored event by place and API, from the index columns alone:
// what an investigation compares a scope with to find blind spots, without reading events.
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

// Activity computes the activity of every stored event. Segments are read concurrently.
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
			if err := sg.load(s.dec); err != nil {
				return err
			}
			var cols [4]*column
			for i, c := range []int{colAccount, colRegion, colSource, colName} {
				col, err := sg.column(s.dec, strColNames[c], len(sg.dict))
				if err != nil {
					return err
				}
				cols[i] = col
			}
			times, err := sg.column(s.dec, secTime, 0)
			if err != nil {
				return err
			}
			preload(nil, nil, cols[0], cols[1], cols[2], cols[3], times)
			// Aggregate by dictionary codes first: a few map operations per event.
			type rk struct{ acct, region uint64 }
			type ak struct{ acct, source, name uint64 }
			type rh struct {
				rk
				hour int64
			}
			rCount, aCount, rHours := map[rk]int{}, map[ak]int{}, map[rh]bool{}
			for i := range sg.ft.Events {
				a, r := cols[0].at(i), cols[1].at(i)
				rCount[rk{a, r}]++
				aCount[ak{a, cols[2].at(i), cols[3].at(i)}]++
				rHours[rh{rk{a, r}, int64(times.at(i)) / int64(time.Hour)}] = true
			}
			if err := columnErr(nil, cols[0], cols[1], cols[2], cols[3], times); err != nil {
				return err
			}
			d := sg.dict
			mu.Lock()
			defer mu.Unlock()
			for k, n := range rCount {
				key := regionKey{d[k.acct], d[k.region]}
				ra := regions[key]
				if ra == nil {
					ra = &RegionActivity{Account: key.acct, Region: key.region}
					regions[key], hours[key] = ra, map[int64]bool{}
				}
				ra.Events += n
			}
			for k := range rHours {
				hours[regionKey{d[k.acct], d[k.region]}][k.hour] = true
			}
			for k, n := range aCount {
				apis[apiKey{d[k.acct], d[k.source], d[k.name]}] += n
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Activity{}, err
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
