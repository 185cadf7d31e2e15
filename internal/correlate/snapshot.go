package correlate

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/trailhound/trailhound/internal/event"
)

// Snapshot format: a header line {"format":...,"version":...} then one JSON document.
const (
	snapshotFormat  = "trailhound-correlate-state"
	snapshotVersion = 1
)

// ErrSnapshotVersion is returned (wrapped) by Restore for a snapshot of another format or
// version.
var ErrSnapshotVersion = errors.New("unsupported snapshot format or version")

type snapHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

type snapState struct {
	Started   bool     `json:"started"`
	MaxSeen   int64    `json:"max_seen"`
	Watermark int64    `json:"watermark"`
	Arrivals  uint64   `json:"arrivals"`
	NeedStart bool     `json:"need_start"`
	Counters  counters `json:"counters"`
	// Headers are shared by the hits below, which refer to them by index.
	Headers      []event.Header `json:"headers"`
	Buffer       []snapPending  `json:"buffer"`
	Correlations []snapCorr     `json:"correlations"`
}

type snapPending struct {
	T       int64     `json:"t"`
	ID      string    `json:"id"`
	Rule    string    `json:"rule"`
	Arrival uint64    `json:"arrival"`
	Header  int       `json:"header"`
	Keys    []snapKey `json:"keys"`
}

type snapKey struct {
	Correlation string   `json:"correlation"`
	Rule        int      `json:"rule"`
	Group       []string `json:"group"`
	Value       []string `json:"value,omitempty"`
}

type snapCorr struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	StartSet    bool   `json:"start_set"`
	Start       int64  `json:"start"`
	// Groups are listed least recently used first.
	Groups []snapGroup `json:"groups"`
	// Provisional are the provisional alerts (Config.Early), by group.
	Provisional []snapProvisional `json:"provisional,omitempty"`
}

type snapProvisional struct {
	Group   []string  `json:"group"`
	Origin  string    `json:"origin"`
	OriginT int64     `json:"origin_t"`
	Trigger int64     `json:"trigger,omitempty"`
	Alert   snapAlert `json:"alert"`
}

type snapGroup struct {
	Group []string   `json:"group"`
	Last  int64      `json:"last"`
	Gen   uint32     `json:"gen"`
	Hits  []snapHit  `json:"hits,omitempty"`
	Seen  []snapSeen `json:"seen,omitempty"`
	// Peaks (baseline_count): [period, peak] pairs, oldest period first.
	Peaks [][2]int64 `json:"peaks,omitempty"`
	Alert *snapAlert `json:"alert,omitempty"`
}

type snapHit struct {
	T      int64    `json:"t"`
	ID     string   `json:"id"`
	Value  []string `json:"value,omitempty"`
	Rule   int32    `json:"rule"`
	Gen    uint32   `json:"gen"`
	Header int      `json:"header"`
}

type snapSeen struct {
	Value []string `json:"value"`
	T     int64    `json:"t"`
}

type snapAlert struct {
	First    int64          `json:"first"`
	Last     int64          `json:"last"`
	Firings  int            `json:"firings"`
	Count    int            `json:"count"`
	Dropped  int            `json:"dropped"`
	Gen      uint32         `json:"gen"`
	EventIDs []string       `json:"event_ids"`
	Headers  []event.Header `json:"headers"`
	Values   [][]string     `json:"values,omitempty"`
	CurT     int64          `json:"cur_t"`
	CurIDs   []string       `json:"cur_ids"`
	Baseline int            `json:"baseline,omitempty"`
	Peak     int            `json:"peak,omitempty"`
	// Pending are the hits listed ahead of the watermark (Config.Early).
	Pending []snapHit `json:"pending,omitempty"`
}

// Snapshot writes the engine's whole state (buffered hits, watermark, windows, learned
// values, open alerts, counters) so that Restore into an engine with the same correlations
// continues exactly where this one stands. The output depends only on the state.
func (e *Engine) Snapshot(w io.Writer) error {
	headers := map[*event.Header]int{}
	st := snapState{
		Started: e.started, MaxSeen: e.maxSeen, Watermark: e.watermark, Arrivals: e.arrivals,
		NeedStart: e.needStart, Counters: e.n, Headers: []event.Header{},
		Buffer: []snapPending{}, Correlations: []snapCorr{},
	}
	headerIndex := func(h *event.Header) int {
		if h == nil {
			return -1
		}
		i, ok := headers[h]
		if !ok {
			i = len(st.Headers)
			headers[h] = i
			st.Headers = append(st.Headers, *h)
		}
		return i
	}
	buf := e.buf.all()
	slices.SortFunc(buf, comparePending)
	for _, p := range buf {
		sp := snapPending{T: p.t, ID: p.id, Rule: p.rule, Arrival: p.arrival, Header: headerIndex(p.hdr)}
		for _, k := range p.keys {
			sp.Keys = append(sp.Keys, snapKey{Correlation: k.c.ID, Rule: k.idx,
				Group: decodeFields(k.group), Value: decodeFields(k.val)})
		}
		st.Buffer = append(st.Buffer, sp)
	}
	for _, c := range e.corrs {
		sc := snapCorr{ID: c.ID, Fingerprint: c.fp, StartSet: c.startSet, Start: c.start, Groups: []snapGroup{}}
		for g := c.lru.prev; g != &c.lru; g = g.prev {
			sg := snapGroup{Group: decodeFields(g.key), Last: g.last, Gen: g.gen}
			for _, h := range g.hits {
				sg.Hits = append(sg.Hits, snapHit{T: h.t, ID: h.id, Value: decodeFields(h.val),
					Rule: h.rule, Gen: h.gen, Header: headerIndex(h.hdr)})
			}
			if g.seen != nil {
				g.seen.each(func(v string, t int64) {
					sg.Seen = append(sg.Seen, snapSeen{Value: decodeFields(v), T: t})
				})
			}
			sortSeen(sg.Seen)
			for _, x := range g.peaks {
				sg.Peaks = append(sg.Peaks, [2]int64{x.p, int64(x.n)})
			}
			if a := g.alert; a != nil {
				sa := snapOpenAlert(a, headerIndex)
				sg.Alert = &sa
			}
			sc.Groups = append(sc.Groups, sg)
		}
		for _, key := range slices.Sorted(maps.Keys(c.prov)) {
			for _, pa := range c.prov[key] {
				sc.Provisional = append(sc.Provisional, snapProvisional{Group: decodeFields(key),
					Origin: pa.origin, OriginT: pa.originT, Trigger: pa.trigger, Alert: snapOpenAlert(pa, headerIndex)})
			}
		}
		st.Correlations = append(st.Correlations, sc)
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(snapHeader{snapshotFormat, snapshotVersion}); err != nil {
		return fmt.Errorf("writing snapshot header: %w", err)
	}
	if err := enc.Encode(st); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}

func snapOpenAlert(a *openAlert, headerIndex func(*event.Header) int) snapAlert {
	sa := snapAlert{First: a.first, Last: a.last, Firings: a.firings, Count: a.count,
		Dropped: a.dropped, Gen: a.gen, EventIDs: a.ids, Headers: headerValues(a.hdrs),
		CurT: a.curT, CurIDs: a.curIDs, Baseline: a.baseline, Peak: a.peak}
	for _, v := range a.vals {
		sa.Values = append(sa.Values, decodeFields(v))
	}
	for _, h := range a.pending() {
		sa.Pending = append(sa.Pending, snapHit{T: h.t, ID: h.id, Rule: h.rule, Header: headerIndex(h.hdr)})
	}
	return sa
}

// loadAlert is the open alert of a snapshot, for c and g.
func loadAlert(c *corr, g *group, sa *snapAlert, header func(int) (*event.Header, error)) (*openAlert, error) {
	a := &openAlert{c: c, g: g, first: sa.First, last: sa.Last, firings: sa.Firings,
		count: sa.Count, dropped: sa.Dropped, gen: sa.Gen, ids: sa.EventIDs, hdrs: headerPointers(sa.Headers),
		curT: sa.CurT, curIDs: sa.CurIDs, curSorted: slices.IsSorted(sa.CurIDs),
		baseline: sa.Baseline, peak: sa.Peak}
	for _, v := range sa.Values {
		a.vals = append(a.vals, encodeValues(v))
	}
	for _, sh := range sa.Pending {
		hd, err := header(sh.Header)
		if err != nil {
			return nil, fmt.Errorf("correlation %q: pending hit %q: %w", c.ID, sh.ID, err)
		}
		a.addPending(hit{t: sh.T, id: sh.ID, rule: sh.Rule, hdr: hd})
	}
	return a, nil
}

// Restore replaces the engine's state with a snapshot. State of a correlation that is no
// longer configured, or whose definition changed (its fingerprint differs), is discarded:
// that correlation starts empty (and learns again). Buffered hits are kept for the
// correlations that still match; a correlation added since the snapshot does not see them.
// On error the engine's state is unchanged.
func (e *Engine) Restore(r io.Reader) error {
	dec := json.NewDecoder(r)
	var h snapHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("reading snapshot header: %w", err)
	}
	if h.Format != snapshotFormat || h.Version != snapshotVersion {
		return fmt.Errorf("reading snapshot: %w: %q version %d (want %q version %d)",
			ErrSnapshotVersion, h.Format, h.Version, snapshotFormat, snapshotVersion)
	}
	var st snapState
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("reading snapshot: %w", err)
	}
	fresh, err := New(e.orig)
	if err != nil {
		return fmt.Errorf("restoring snapshot: %w", err)
	}
	if err := fresh.load(&st); err != nil {
		return fmt.Errorf("restoring snapshot: %w", err)
	}
	*e = *fresh
	return nil
}

func (e *Engine) load(st *snapState) error {
	headers := make([]*event.Header, len(st.Headers))
	for i := range st.Headers {
		headers[i] = &st.Headers[i]
	}
	header := func(i int) (*event.Header, error) {
		if i == -1 {
			return nil, nil
		}
		if i < 0 || i >= len(headers) {
			return nil, fmt.Errorf("header index %d out of range", i)
		}
		return headers[i], nil
	}
	e.started, e.maxSeen, e.watermark, e.arrivals = st.Started, st.MaxSeen, st.Watermark, st.Arrivals
	e.n = st.Counters
	kept := map[string]*corr{}
	for _, sc := range st.Correlations {
		c := e.byID[sc.ID]
		if c == nil || c.fp != sc.Fingerprint {
			continue
		}
		kept[sc.ID] = c
		c.startSet, c.start = sc.StartSet, sc.Start
		for _, sg := range sc.Groups {
			key := encodeValues(sg.Group)
			if c.groups[key] != nil {
				return fmt.Errorf("correlation %q: group %q listed twice", c.ID, sg.Group)
			}
			g := e.newGroup(c, key, sg.Last)
			g.last, g.gen = sg.Last, sg.Gen
			for _, sh := range sg.Hits {
				if sh.Rule < 0 || int(sh.Rule) >= len(c.Rules) {
					return fmt.Errorf("correlation %q: rule index %d out of range", c.ID, sh.Rule)
				}
				hd, err := header(sh.Header)
				if err != nil {
					return fmt.Errorf("correlation %q: %w", c.ID, err)
				}
				if n := len(g.hits); n > 0 && sh.T < g.hits[n-1].t {
					return fmt.Errorf("correlation %q: group %q: hits out of time order", c.ID, sg.Group)
				}
				g.insert(c, len(g.hits), hit{t: sh.T, id: sh.ID, val: encodeValues(sh.Value), rule: sh.Rule, gen: sh.Gen, hdr: hd})
			}
			for _, s := range sg.Seen {
				if g.seen != nil {
					g.seen.set(encodeValues(s.Value), s.T)
				}
			}
			if c.Type == BaselineCount {
				for _, x := range sg.Peaks {
					if n := len(g.peaks); (n > 0 && x[0] <= g.peaks[n-1].p) || x[1] < 0 || x[1] > 1<<31-1 {
						return fmt.Errorf("correlation %q: group %q: peaks out of order or out of range", c.ID, sg.Group)
					}
					g.peaks = append(g.peaks, peak{p: x[0], n: int32(x[1])})
				}
			}
			if sa := sg.Alert; sa != nil {
				a, err := loadAlert(c, g, sa, header)
				if err != nil {
					return err
				}
				g.alert = a
				heap.Push(&e.alerts, a)
			}
		}
		for _, sp := range sc.Provisional {
			if !c.early && !c.windows {
				continue // an engine without Early: nothing would resolve it
			}
			key := encodeValues(sp.Group)
			pa, err := loadAlert(c, &group{key: key}, &sp.Alert, header)
			if err != nil {
				return err
			}
			pa.idx, pa.prov, pa.origin, pa.originT, pa.trigger = -1, true, sp.Origin, sp.OriginT, sp.Trigger
			c.prov[key] = append(c.prov[key], pa)
			if c.windows {
				e.windowProvs++
			}
		}
	}
	e.needStart = st.NeedStart
	for _, c := range e.corrs {
		if kept[c.ID] == nil {
			c.startSet = false
			e.needStart = true
		}
	}
	for _, sp := range st.Buffer {
		hd, err := header(sp.Header)
		if err != nil {
			return fmt.Errorf("buffered hit %q: %w", sp.ID, err)
		}
		p := &pending{t: sp.T, id: sp.ID, rule: sp.Rule, arrival: sp.Arrival, hdr: hd}
		for _, k := range sp.Keys {
			c := kept[k.Correlation]
			if c == nil {
				continue
			}
			if k.Rule < 0 || k.Rule >= len(c.Rules) {
				return fmt.Errorf("buffered hit %q: rule index %d out of range", sp.ID, k.Rule)
			}
			p.keys = append(p.keys, pkey{c: c, idx: k.Rule, group: encodeValues(k.Group), val: encodeValues(k.Value)})
		}
		if len(p.keys) > 0 {
			e.buf.push(p)
			for _, k := range p.keys {
				if k.c.windows {
					e.bufferWindowHit(k.c, k.group, hit{t: p.t, id: p.id, val: k.val, hdr: p.hdr, rule: int32(k.idx)})
				}
			}
		}
	}
	return nil
}

// SaveFile writes a snapshot to path atomically: to a temporary file in the same directory,
// synced, then renamed over path, and the directory synced. A crash leaves either the old
// file or the new one.
func (e *Engine) SaveFile(path string) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving correlation state: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := e.Snapshot(bw); err != nil {
		return fmt.Errorf("saving correlation state to %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("saving correlation state to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("saving correlation state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// LoadFile restores the state saved by SaveFile.
func (e *Engine) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("loading correlation state: %w", err)
	}
	defer f.Close()
	if err := e.Restore(bufio.NewReader(f)); err != nil {
		return fmt.Errorf("loading correlation state from %s: %w", path, err)
	}
	return nil
}
