package investigate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
)

// Data is what the scope read.
type Data struct {
	S3         []S3Bucket  `json:"s3"`
	Secrets    []Secret    `json:"secrets"`
	Parameters []Parameter `json:"parameters"`
	KMS        []KMSKey    `json:"kms"`
}

// S3Bucket is a bucket the scope listed or read objects of.
type S3Bucket struct {
	Account string `json:"account"`
	Bucket  string `json:"bucket"`
	// Calls counts the calls by API (GetObject, HeadObject, ListObjects…).
	Calls map[string]int `json:"calls"`
	// Objects are the keys read (GetObject, HeadObject), at most Options.MaxObjects;
	// ObjectCount counts them all.
	Objects     []S3Object `json:"objects"`
	ObjectCount int        `json:"object_count"`
	// Prefixes are the prefixes listed.
	Prefixes []string  `json:"prefixes,omitempty"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	// FirstEventID is the first call (the evidence a plan cites).
	FirstEventID string `json:"first_event_id"`
}

// S3Object is one object key read, and how many times.
type S3Object struct {
	Key   string `json:"key"`
	Reads int    `json:"reads"`
	// Failed counts the calls that failed (NoSuchKey, AccessDenied).
	Failed int `json:"failed,omitempty"`
}

// Secret is a Secrets Manager secret read (GetSecretValue, BatchGetSecretValue).
type Secret struct {
	Account      string    `json:"account"`
	Region       string    `json:"region"`
	ID           string    `json:"id"`
	Reads        int       `json:"reads"`
	Failed       int       `json:"failed,omitempty"`
	First        time.Time `json:"first"`
	FirstEventID string    `json:"first_event_id"`
}

// Parameter is an SSM parameter (or path) read; Decrypted when read WithDecryption.
type Parameter struct {
	Account      string    `json:"account"`
	Region       string    `json:"region"`
	Name         string    `json:"name"`
	Decrypted    bool      `json:"decrypted"`
	Reads        int       `json:"reads"`
	Failed       int       `json:"failed,omitempty"`
	First        time.Time `json:"first"`
	FirstEventID string    `json:"first_event_id"`
}

// KMSKey is a KMS key the scope decrypted with, directly or through a service acting on its
// behalf (S3 reading an SSE-KMS object: invokedBy s3.amazonaws.com).
type KMSKey struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Key     string `json:"key"`
	// Decrypts counts them all; ByService those a service made on the scope's behalf.
	Decrypts  int            `json:"decrypts"`
	ByService map[string]int `json:"by_service,omitempty"`
	// Contexts are the first encryption contexts seen (the S3 object ARN for SSE-KMS).
	Contexts     []string  `json:"contexts,omitempty"`
	First        time.Time `json:"first"`
	FirstEventID string    `json:"first_event_id"`
}

const maxContexts = 20

// Reads lists the reads of d one per bucket, secret, parameter and key, for a plan's review
// steps. KMS decrypts S3 made for object reads are part of those reads and not listed.
func (d Data) Reads() []incident.DataRead {
	out := []incident.DataRead{}
	for _, b := range d.S3 {
		lists := 0
		for name, n := range b.Calls {
			if strings.HasPrefix(name, "List") {
				lists += n
			}
		}
		out = append(out, incident.DataRead{Account: b.Account, Kind: "s3-bucket", Name: b.Bucket, EventID: b.FirstEventID,
			What: fmt.Sprintf("%d objects read, %d listings", b.ObjectCount, lists)})
	}
	for _, x := range d.Secrets {
		out = append(out, incident.DataRead{Account: x.Account, Region: x.Region, Kind: "secret", Name: x.ID, EventID: x.FirstEventID,
			What: fmt.Sprintf("%d reads (%d failed)", x.Reads, x.Failed)})
	}
	for _, x := range d.Parameters {
		out = append(out, incident.DataRead{Account: x.Account, Region: x.Region, Kind: "parameter", Name: x.Name, EventID: x.FirstEventID,
			What: fmt.Sprintf("%d reads, decrypted: %v", x.Reads, x.Decrypted)})
	}
	for _, k := range d.KMS {
		if len(k.ByService) == 0 {
			out = append(out, incident.DataRead{Account: k.Account, Region: k.Region, Kind: "kms-key", Name: k.Key, EventID: k.FirstEventID,
				What: fmt.Sprintf("%d decrypts", k.Decrypts)})
		}
	}
	return out
}

// empty reports whether d holds no read at all.
func (d Data) empty() bool {
	return len(d.S3)+len(d.Secrets)+len(d.Parameters)+len(d.KMS) == 0
}

// data aggregates the data reads of the scope's calls of one attribution.
func (s *scope) data(opts Options, which incident.Attribution) Data {
	x := s.x
	out := Data{S3: []S3Bucket{}, Secrets: []Secret{}, Parameters: []Parameter{}, KMS: []KMSKey{}}
	buckets, objIdx := map[string]int{}, map[string]int{}
	secrets, params, keys := map[string]int{}, map[string]int{}, map[string]int{}
	for _, e := range s.events {
		if s.attrOf(e).a != which {
			continue
		}
		r := &x.recs[e]
		kind := dataKind(x.str(r.source), x.str(r.name))
		if kind == dataNone {
			continue
		}
		at, acct, region, failed, id := x.time(e), x.str(r.account), x.str(r.region), r.errCode != 0, x.str(r.id)
		fail := 0
		if failed {
			fail = 1
		}
		switch kind {
		case dataS3:
			bk := acct + "|" + x.str(r.d1)
			i, ok := buckets[bk]
			if !ok {
				i = len(out.S3)
				buckets[bk] = i
				out.S3 = append(out.S3, S3Bucket{Account: acct, Bucket: x.str(r.d1), Calls: map[string]int{}, Objects: []S3Object{}, First: at, FirstEventID: id})
			}
			b := &out.S3[i]
			b.Calls[x.str(r.name)]++
			b.Last = at
			name := x.str(r.name)
			if strings.HasPrefix(name, "List") {
				if p := x.str(r.d2); !slices.Contains(b.Prefixes, p) && len(b.Prefixes) < opts.MaxObjects {
					b.Prefixes = append(b.Prefixes, p)
				}
				continue
			}
			ok2 := bk + "|" + x.str(r.d2)
			j, ok := objIdx[ok2]
			if !ok {
				b.ObjectCount++
				if len(b.Objects) >= opts.MaxObjects {
					continue
				}
				j = len(b.Objects)
				objIdx[ok2] = j
				b.Objects = append(b.Objects, S3Object{Key: x.str(r.d2)})
			}
			b.Objects[j].Reads++
			b.Objects[j].Failed += fail
		case dataSecret:
			for _, sid := range strings.Split(x.str(r.d1), "\n") {
				k := acct + "|" + region + "|" + sid
				i, ok := secrets[k]
				if !ok {
					i = len(out.Secrets)
					secrets[k] = i
					out.Secrets = append(out.Secrets, Secret{Account: acct, Region: region, ID: sid, First: at, FirstEventID: id})
				}
				out.Secrets[i].Reads++
				out.Secrets[i].Failed += fail
			}
		case dataSSM:
			dec := x.str(r.d2) == "true"
			for _, n := range strings.Split(x.str(r.d1), "\n") {
				k := fmt.Sprintf("%s|%s|%s|%t", acct, region, n, dec)
				i, ok := params[k]
				if !ok {
					i = len(out.Parameters)
					params[k] = i
					out.Parameters = append(out.Parameters, Parameter{Account: acct, Region: region, Name: n, Decrypted: dec, First: at, FirstEventID: id})
				}
				out.Parameters[i].Reads++
				out.Parameters[i].Failed += fail
			}
		case dataKMS:
			k := acct + "|" + region + "|" + x.str(r.d1)
			i, ok := keys[k]
			if !ok {
				i = len(out.KMS)
				keys[k] = i
				out.KMS = append(out.KMS, KMSKey{Account: acct, Region: region, Key: x.str(r.d1), First: at, FirstEventID: id})
			}
			kk := &out.KMS[i]
			kk.Decrypts++
			if by := x.str(r.invokedBy); by != "" {
				if kk.ByService == nil {
					kk.ByService = map[string]int{}
				}
				kk.ByService[by]++
			}
			if c := x.str(r.d2); c != "" && len(kk.Contexts) < maxContexts && !slices.Contains(kk.Contexts, c) {
				kk.Contexts = append(kk.Contexts, c)
			}
		}
	}
	slices.SortFunc(out.S3, func(a, b S3Bucket) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Bucket, b.Bucket))
	})
	return out
}

// BlindSpot is something the data cannot show.
type BlindSpot struct {
	// Kind: scope-only-region (the scope's events are the only ones of a region),
	// regions-without-events (expected regions of a scope account without any event),
	// no-s3-data-events (an account has no S3 object-level events: reads are invisible),
	// scope-only-service (no one else called that service in the account), delivery-gap
	// (hours without events in an account and region that otherwise has events every hour).
	Kind    string `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
	// Regions lists the regions of a regions-without-events blind spot.
	Regions []string  `json:"regions,omitempty"`
	Service string    `json:"service,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
	// DuringScope is set for a gap overlapping the scope's activity.
	DuringScope bool   `json:"during_scope,omitempty"`
	Detail      string `json:"detail"`
}

type acctRegion struct{ acct, region sym }

// regionStat is the activity of one account and region: over the whole data (events,
// hours), and of the scope (scope).
type regionStat struct {
	events, scope int
	hours         []int64 // distinct hours with events, ascending
}

// apiKey names one API in one account.
type apiKey struct{ acct, source, name sym }

// activity summarises every event of the data (not only those an Index loaded) by account
// and region and by API: what blind spots compare the scope with.
type activity struct {
	regions map[acctRegion]*regionStat // scope is always 0 here
	apis    map[apiKey]int
}

// activityOf computes the activity of recs, sorted by time.
func activityOf(recs []record) *activity {
	a := &activity{regions: map[acctRegion]*regionStat{}, apis: map[apiKey]int{}}
	for i := range recs {
		r := &recs[i]
		k := acctRegion{r.account, r.region}
		st := a.regions[k]
		if st == nil {
			st = &regionStat{}
			a.regions[k] = st
		}
		st.events++
		if h := r.t / int64(time.Hour); len(st.hours) == 0 || st.hours[len(st.hours)-1] != h {
			st.hours = append(st.hours, h)
		}
		a.apis[apiKey{r.account, r.source, r.name}]++
	}
	return a
}

// blindSpots lists what the data does not show about the scope's accounts and regions.
func (s *scope) blindSpots(opts Options) []BlindSpot {
	x := s.x
	out := []BlindSpot{}
	events := s.notOwner()
	if len(events) == 0 {
		return out
	}
	scopeAccts := map[sym]bool{}
	type svcKey struct{ acct, source sym }
	scopeSvcs := map[svcKey]int{}
	stats := map[acctRegion]*regionStat{}
	for k, st := range x.act.regions {
		c := *st
		stats[k] = &c
	}
	for _, e := range events {
		r := &x.recs[e]
		scopeAccts[r.account] = true
		scopeSvcs[svcKey{r.account, r.source}]++
		if st := stats[acctRegion{r.account, r.region}]; st != nil {
			st.scope++
		}
	}
	// A service someone outside the scope called; accounts with S3 object-level events.
	svcTotal, s3data := map[svcKey]int{}, map[sym]bool{}
	s3, _ := x.lookup("s3.amazonaws.com")
	for k, n := range x.act.apis {
		if !scopeAccts[k.acct] {
			continue
		}
		svcTotal[svcKey{k.acct, k.source}] += n
		if k.source == s3 && s3 != 0 && isS3Object(x.str(k.name)) {
			s3data[k.acct] = true
		}
	}
	otherSvc := map[svcKey]bool{}
	for k, n := range scopeSvcs {
		otherSvc[k] = svcTotal[k] > n
	}
	first, last := s.x.recs[events[0]].t, s.x.recs[events[len(events)-1]].t
	accts := sortedSyms(x, scopeAccts)
	for _, a := range accts {
		acct := x.str(a)
		var regions []sym
		for k := range stats {
			if k.acct == a {
				regions = append(regions, k.region)
			}
		}
		slices.SortFunc(regions, func(p, q sym) int { return strings.Compare(x.str(p), x.str(q)) })
		for _, reg := range regions {
			st := stats[acctRegion{a, reg}]
			region := x.str(reg)
			if st.scope > 0 && st.scope == st.events {
				out = append(out, BlindSpot{Kind: "scope-only-region", Account: acct, Region: region,
					Detail: fmt.Sprintf("the %d events of %s are all the scope's: no other activity there to compare with (an otherwise unused region)", st.events, region)})
			}
			out = append(out, gaps(st, acct, region, opts.MinCoverage, first, last)...)
		}
		var silent []string
		for _, region := range opts.Regions {
			reg, _ := x.lookup(region)
			if st := stats[acctRegion{a, reg}]; reg == 0 || st == nil {
				silent = append(silent, region)
			}
		}
		if len(silent) > 0 {
			out = append(out, BlindSpot{Kind: "regions-without-events", Account: acct, Regions: silent,
				Detail: fmt.Sprintf("no events at all from %d of %d expected regions: the trail may not cover them, and activity there would be invisible", len(silent), len(opts.Regions))})
		}
		if !s3data[a] {
			out = append(out, BlindSpot{Kind: "no-s3-data-events", Account: acct,
				Detail: "no S3 object-level (data) events in this account: object reads and writes are invisible"})
		}
		var svcs []sym
		for k := range scopeSvcs {
			if k.acct == a && !otherSvc[k] {
				svcs = append(svcs, k.source)
			}
		}
		slices.SortFunc(svcs, func(p, q sym) int { return strings.Compare(x.str(p), x.str(q)) })
		for _, svc := range svcs {
			out = append(out, BlindSpot{Kind: "scope-only-service", Account: acct, Service: x.str(svc),
				Detail: fmt.Sprintf("only the scope called %s in this account: no baseline for it", x.str(svc))})
		}
	}
	return out
}

// isS3Object reports whether an S3 event name is an object-level (data) event.
func isS3Object(name string) bool {
	switch name {
	case "GetObject", "PutObject", "HeadObject", "DeleteObject", "DeleteObjects", "CopyObject", "ListObjects",
		"ListObjectsV2", "ListObjectVersions", "GetObjectVersion", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload":
		return true
	}
	return false
}

// gaps returns the runs of hours without events in a continuously active account and region.
func gaps(st *regionStat, acct, region string, minCoverage float64, first, last int64) []BlindSpot {
	if len(st.hours) < 3 {
		return nil
	}
	span := st.hours[len(st.hours)-1] - st.hours[0] + 1
	if float64(len(st.hours))/float64(span) < minCoverage {
		return nil
	}
	var out []BlindSpot
	for i := 1; i < len(st.hours); i++ {
		if st.hours[i]-st.hours[i-1] <= 1 {
			continue
		}
		from, to := (st.hours[i-1]+1)*int64(time.Hour), st.hours[i]*int64(time.Hour)
		n := st.hours[i] - st.hours[i-1] - 1
		out = append(out, BlindSpot{Kind: "delivery-gap", Account: acct, Region: region,
			From: time.Unix(0, from).UTC(), To: time.Unix(0, to).UTC(), DuringScope: from <= last && to >= first,
			Detail: fmt.Sprintf("%d hour(s) without any event in an account and region with events in %.0f%% of hours: logs may be missing", n, 100*float64(len(st.hours))/float64(span))})
	}
	return out
}

func sortedSyms(x *Index, m map[sym]bool) []sym {
	out := make([]sym, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b sym) int { return strings.Compare(x.str(a), x.str(b)) })
	return out
}

// Tactics are the ATT&CK Enterprise tactics in kill-chain order: the matrix's columns.
var tactics = []string{
	"reconnaissance", "resource-development", "initial-access", "execution", "persistence",
	"privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
	"collection", "command-and-control", "exfiltration", "impact",
}

// Matrix is the ATT&CK tactic matrix of the incident: one column per tactic, in kill-chain
// order, with the techniques the in-scope signals name.
type Matrix struct {
	Tactics []TacticColumn `json:"tactics"`
	// Unmapped are techniques of signals that name no tactic.
	Unmapped []Technique `json:"unmapped,omitempty"`
}

// TacticColumn is one column of the matrix.
type TacticColumn struct {
	Tactic     string      `json:"tactic"`
	Techniques []Technique `json:"techniques"`
}

// Technique is one cell: a technique and the number of in-scope signals naming it.
type Technique struct {
	ID      string `json:"id"`
	Signals int    `json:"signals"`
}

// matrix builds the tactic matrix. A signal's techniques are counted under each of its
// tactics: rules tag both without saying which technique goes with which tactic.
func matrix(sigs []SignalRef) Matrix {
	cols := make([]TacticColumn, len(tactics))
	idx := map[string]int{}
	for i, t := range tactics {
		cols[i] = TacticColumn{Tactic: t, Techniques: []Technique{}}
		idx[t] = i
	}
	m := Matrix{}
	add := func(list []Technique, id string) []Technique {
		for i := range list {
			if list[i].ID == id {
				list[i].Signals++
				return list
			}
		}
		return append(list, Technique{ID: id, Signals: 1})
	}
	for _, s := range sigs {
		mapped := false
		for _, t := range s.Tactics {
			i, ok := idx[t]
			if !ok {
				continue
			}
			mapped = true
			for _, tech := range s.Techniques {
				cols[i].Techniques = add(cols[i].Techniques, tech)
			}
		}
		if !mapped {
			for _, tech := range s.Techniques {
				m.Unmapped = add(m.Unmapped, tech)
			}
		}
	}
	for i := range cols {
		slices.SortFunc(cols[i].Techniques, func(a, b Technique) int { return cmp.Compare(a.ID, b.ID) })
	}
	slices.SortFunc(m.Unmapped, func(a, b Technique) int { return cmp.Compare(a.ID, b.ID) })
	m.Tactics = cols
	return m
}
