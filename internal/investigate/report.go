package investigate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/safetext"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/valyala/fastjson"
)

// Options configures Investigate. The zero value is usable.
type Options struct {
	// MaxObjects caps the S3 object keys listed per bucket (all are counted); 0 means 1000.
	MaxObjects int
	// Regions are the regions every account is expected to have events from (blind spots);
	// nil means the 17 regions enabled by default in an AWS account.
	Regions []string
	// MinCoverage is the share of hours with events above which an account and region count
	// as continuously active, so that an hour without events is a delivery gap; 0 means 0.9.
	MinCoverage float64
}

// standardRegions are the 17 regions enabled by default in an AWS account.
var standardRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

func (o Options) withDefaults() Options {
	if o.MaxObjects <= 0 {
		o.MaxObjects = 1000
	}
	if o.Regions == nil {
		o.Regions = standardRegions
	}
	if o.MinCoverage <= 0 {
		o.MinCoverage = 0.9
	}
	return o
}

// Report is everything an investigation found. It is JSON-serialisable; lists are [] when
// empty. Strings come from CloudTrail and may be attacker-controlled: WriteJSON escapes
// them for terminals, and every other renderer must escape them for its format.
type Report struct {
	Start      Start               `json:"start"`
	Summary    Summary             `json:"summary"`
	Identities []Identity          `json:"identities"`
	Signals    []SignalRef         `json:"signals"`
	Timeline   []Entry             `json:"timeline"`
	Graph      *Graph              `json:"graph"`
	Resources  []incident.Resource `json:"resources"`
	Data       Data                `json:"data"`
	BlindSpots []BlindSpot         `json:"blind_spots"`
	Matrix     Matrix              `json:"matrix"`
}

// Summary sums the scope up.
type Summary struct {
	Events    int       `json:"events"`
	Accounts  []string  `json:"accounts"`
	Regions   []string  `json:"regions"`
	SourceIPs []string  `json:"source_ips"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Geo is set when enrichment with an ASN or country database was on.
	Geo bool `json:"geo"`
}

// Identity is one identity of the scope and how it got there.
type Identity struct {
	// Kind is principal (every event of an ARN), role (every session of a role),
	// access-key (every event made with a key), console-session (the console sessions of a
	// user opened from From on) or source-identity (every session carrying the value).
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// How: "starting point", "created IAM user", "created access key", "set console
	// password", "created role", "assumed role", "assumed role with SAML", "assumed role with
	// web identity", "session token", "federation token", "set source identity".
	How string `json:"how"`
	// By is the actor whose call derived it; EventID that call.
	By      string    `json:"by,omitempty"`
	EventID string    `json:"event_id,omitempty"`
	From    time.Time `json:"from,omitzero"`
	Until   time.Time `json:"until,omitzero"`
	// Session is the session a temporary key opened (ROLE_ARN#SESSION, federated user), or
	// the user a created key belongs to.
	Session string `json:"session,omitempty"`
	Events  int    `json:"events"`
}

// SignalRef is a signal with evidence in scope.
type SignalRef struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	Level      signal.Level `json:"level"`
	Techniques []string     `json:"techniques"`
	Tactics    []string     `json:"tactics"`
	FirstSeen  time.Time    `json:"first_seen,omitzero"`
}

// SignalMark names a signal on a timeline entry.
type SignalMark struct {
	ID    string       `json:"id"`
	Title string       `json:"title"`
	Level signal.Level `json:"level"`
}

// Entry is one event of the timeline.
type Entry struct {
	Time    time.Time `json:"time"`
	EventID string    `json:"event_id"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	// API is eventSource:eventName.
	API string `json:"api"`
	// Outcome is "ok" or the errorCode.
	Outcome         string       `json:"outcome"`
	SourceIP        string       `json:"source_ip"`
	ASN             uint32       `json:"asn,omitempty"`
	ASOrg           string       `json:"as_org,omitempty"`
	Country         string       `json:"country,omitempty"`
	UserAgentFamily string       `json:"user_agent_family,omitempty"`
	Identity        string       `json:"identity"`
	AccessKeyID     string       `json:"access_key_id,omitempty"`
	InvokedBy       string       `json:"invoked_by,omitempty"`
	Signals         []SignalMark `json:"signals,omitempty"`
}

// Investigate computes the scope of start over the index and reports on it. signals are the
// signals of the same data (hunt.Run); they are marked on the timeline and fill the ATT&CK
// matrix, and a Start.Signal is looked up among them. It returns an error wrapping
// ErrNotFound when nothing matches the starting point.
func Investigate(ctx context.Context, x *Index, start Start, signals []signal.Signal, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	subs, err := x.startSubjects(start, signals)
	if err != nil {
		return nil, err
	}
	s := newScope(x)
	for _, sub := range subs {
		s.add(sub)
	}
	s.compute()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("investigating %s: %w", start, err)
	}
	rep := &Report{Start: start}
	rep.Identities = s.identities()
	marks := rep.markSignals(s, signals)
	rep.timeline(s, marks)
	resources, err := s.resources(ctx)
	if err != nil {
		return nil, err
	}
	rep.Resources = resources
	rep.Data = s.data(opts)
	rep.BlindSpots = s.blindSpots(opts)
	rep.Matrix = matrix(rep.Signals)
	rep.Graph = s.graph(rep.Resources)
	return rep, nil
}

// identities lists the scope's identities in the order they joined it.
func (s *scope) identities() []Identity {
	x := s.x
	out := make([]Identity, 0, len(s.subjects))
	for _, sub := range s.subjects {
		id := Identity{Kind: subjNames[sub.kind], ID: x.str(sub.val), How: sub.how, By: x.str(sub.by),
			Session: x.str(sub.session), Events: sub.events}
		if sub.ev >= 0 {
			id.EventID = x.str(x.recs[sub.ev].id)
			id.From = x.time(sub.ev)
		}
		if sub.to != 0 {
			id.Until = time.Unix(0, sub.to).UTC()
		}
		out = append(out, id)
	}
	return out
}

// markSignals keeps the signals with an event in scope and returns, per record, their marks.
func (rep *Report) markSignals(s *scope, signals []signal.Signal) map[int32][]SignalMark {
	x := s.x
	marks := map[int32][]SignalMark{}
	rep.Signals = []SignalRef{}
	for _, sig := range signals {
		hit := false
		for _, id := range sig.EventIDs {
			v, ok := x.lookup(id)
			if !ok {
				continue
			}
			e, ok := x.byID[v]
			if !ok || s.in[e>>6]&(1<<(e&63)) == 0 {
				continue
			}
			hit = true
			marks[e] = append(marks[e], SignalMark{ID: sig.ID, Title: sig.Title, Level: sig.Level})
		}
		if hit {
			rep.Signals = append(rep.Signals, SignalRef{ID: sig.ID, Title: sig.Title, Level: sig.Level,
				Techniques: nonNil(sig.Techniques), Tactics: nonNil(sig.Tactics), FirstSeen: sig.FirstSeen})
		}
	}
	slices.SortFunc(rep.Signals, func(a, b SignalRef) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return marks
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// timeline fills Timeline and Summary.
func (rep *Report) timeline(s *scope, marks map[int32][]SignalMark) {
	x := s.x
	rep.Timeline = make([]Entry, 0, len(s.events))
	accts, regions, ips := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range s.events {
		r := &x.recs[e]
		out := "ok"
		if r.errCode != 0 {
			out = x.str(r.errCode)
		}
		en := Entry{
			Time: x.time(e), EventID: x.str(r.id), Account: x.str(r.account), Region: x.str(r.region),
			API: x.str(r.source) + ":" + x.str(r.name), Outcome: out, SourceIP: x.str(r.ip),
			ASN: r.asn, ASOrg: x.str(r.asOrg), Country: x.str(r.country), UserAgentFamily: x.str(r.uaFamily),
			Identity: x.str(r.actor), AccessKeyID: x.str(r.key), InvokedBy: x.str(r.invokedBy), Signals: marks[e],
		}
		rep.Timeline = append(rep.Timeline, en)
		accts[en.Account], regions[en.Region], ips[en.SourceIP] = true, true, true
	}
	keys := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			if k != "" {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	rep.Summary = Summary{Events: len(rep.Timeline), Accounts: keys(accts), Regions: keys(regions), SourceIPs: keys(ips), Geo: x.hasGeo}
	if n := len(rep.Timeline); n > 0 {
		rep.Summary.FirstSeen, rep.Summary.LastSeen = rep.Timeline[0].Time, rep.Timeline[n-1].Time
	}
}

// parseRaw parses the kept JSON of record e.
func (s *scope) parseRaw(p *fastjson.Parser, e int32) (*fastjson.Value, evctx, error) {
	x := s.x
	r := &x.recs[e]
	v, err := p.ParseBytes(x.raws[r.raw])
	if err != nil {
		return nil, evctx{}, fmt.Errorf("parsing event %s: %w", x.str(r.id), err)
	}
	return v, evctx{account: x.str(r.account), region: x.str(r.region), actor: x.str(r.actor), id: x.str(r.id),
		errCode: x.str(r.errCode), at: x.time(e)}, nil
}

// resources returns what the scope created or changed, with the deletions the data shows.
func (s *scope) resources(ctx context.Context) ([]incident.Resource, error) {
	x := s.x
	var p fastjson.Parser
	byKey := map[string]int{}
	var list []tracked
	for _, e := range s.events {
		r := &x.recs[e]
		if r.raw < 0 {
			continue
		}
		op := resourceOp(x.str(r.source), x.str(r.name))
		if op != opCreate && op != opChange {
			continue
		}
		v, c, err := s.parseRaw(&p, e)
		if err != nil {
			return nil, err
		}
		for _, t := range extract(v, c, x.str(r.source), x.str(r.name)) {
			if t.op == opDelete || len(t.keys) == 0 {
				continue
			}
			i, ok := byKey[t.keys[0]]
			switch {
			case !ok:
				t.Changed = t.op == opChange
				byKey[t.keys[0]] = len(list)
				list = append(list, t)
			case list[i].Failed && !t.Failed && t.op == opCreate:
				list[i] = t
			case t.op == opChange && !t.Failed:
				for k, v := range t.Details {
					list[i].Details[k] = v
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing resources: %w", err)
	}
	// Deletions by anyone (the attacker cleaning up, or a responder), in time order.
	type del struct {
		at int64
		id string
	}
	dels := map[string][]del{}
	for _, e := range x.deletes {
		r := &x.recs[e]
		if r.errCode != 0 {
			continue
		}
		v, c, err := s.parseRaw(&p, e)
		if err != nil {
			return nil, err
		}
		for _, t := range extract(v, c, x.str(r.source), x.str(r.name)) {
			for _, k := range t.keys {
				dels[k] = append(dels[k], del{r.t, c.id})
			}
		}
	}
	tds := map[string]int{}
	for i, t := range list {
		if t.Type == incident.ECSTaskDefinition {
			tds[t.keys[0]] = i
		}
	}
	out := make([]incident.Resource, 0, len(list))
	for _, t := range list {
		if !t.Failed {
			created := t.CreatedAt.UnixNano()
			for _, k := range t.keys {
				for _, d := range dels[k] {
					if d.at >= created && (!t.Deleted || d.at < t.DeletedAt.UnixNano()) {
						t.Deleted, t.DeletedAt, t.DeleteEventID = true, time.Unix(0, d.at).UTC(), d.id
					}
				}
			}
		}
		if t.Type == incident.ECSService {
			if i, ok := tds[taskDefKey(t.Account, t.Region, t.Details["task_definition"])]; ok {
				setIf(t.Details, "cpu", list[i].Details["cpu"])
				setIf(t.Details, "memory", list[i].Details["memory"])
				setIf(t.Details, "images", list[i].Details["images"])
			}
		}
		if len(t.Details) == 0 {
			t.Details = nil
		}
		out = append(out, t.Resource)
	}
	slices.SortStableFunc(out, func(a, b incident.Resource) int {
		if c := cmp.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Region, b.Region); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Key(), b.Key())
	})
	return out, nil
}

// WriteJSON writes the report as indented JSON. Besides the escaping encoding/json does,
// DEL, C1 controls and Unicode format characters (bidi overrides, zero-width characters) are
// written as \u escapes, so that the output is safe to print on a terminal.
func (rep *Report) WriteJSON(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	if _, err := w.Write(safetext.JSON(buf.Bytes())); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// kind of principal an actor string names, for graph nodes.
func principalKind(actor string) string {
	switch {
	case strings.Contains(actor, "#"), strings.Contains(actor, ":assumed-role/"):
		return "session"
	case strings.Contains(actor, ":user/"):
		return "user"
	case strings.HasSuffix(actor, ":root"):
		return "root"
	case strings.Contains(actor, ":federated-user/"):
		return "federated-user"
	case strings.Contains(actor, ":role/"):
		return "role"
	case !strings.HasPrefix(actor, "arn:"):
		return "service"
	}
	return "principal"
}
