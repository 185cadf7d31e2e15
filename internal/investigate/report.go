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
	Start      Start      `json:"start"`
	Summary    Summary    `json:"summary"`
	Identities []Identity `json:"identities"`
	// Credentials are the pre-existing credentials of the scope's roots (a leaked key, a
	// stolen role session; their owner and account come from the events), then the sessions
	// of pre-existing roles the attacker assumed.
	Credentials []incident.Credential `json:"credentials"`
	Signals     []SignalRef           `json:"signals"`
	// Timeline holds every event of the scope, the owner's too, each with its attribution.
	Timeline []Entry `json:"timeline"`
	Graph    *Graph  `json:"graph"`
	// Resources are those created or changed by calls attributed to the attacker or of
	// unknown attribution; OwnerResources those of the owner's calls, never in a plan.
	Resources      []incident.Resource `json:"resources"`
	OwnerResources []incident.Resource `json:"owner_resources"`
	// Data is what the attacker's calls read; UnknownData what calls of unknown attribution
	// read (absent when none did).
	Data        Data        `json:"data"`
	UnknownData *Data       `json:"unknown_data,omitempty"`
	BlindSpots  []BlindSpot `json:"blind_spots"`
	// Matrix holds the signals that mark calls attributed to the attacker.
	Matrix Matrix `json:"matrix"`
}

// Summary sums the scope up. Events counts the calls attributed to the attacker, OwnerEvents
// and UnknownEvents the others; accounts, regions, addresses and first and last times are
// those of every call not attributed to an owner.
type Summary struct {
	Events        int       `json:"events"`
	OwnerEvents   int       `json:"owner_events"`
	UnknownEvents int       `json:"unknown_events"`
	Accounts      []string  `json:"accounts"`
	Regions       []string  `json:"regions"`
	SourceIPs     []string  `json:"source_ips"`
	FirstSeen     time.Time `json:"first_seen,omitzero"`
	LastSeen      time.Time `json:"last_seen,omitzero"`
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
	// How: "pre-existing identity" (a root of the scope), "created IAM user", "created access key", "set console
	// password", "created role", "assumed role", "assumed role with SAML", "assumed role with
	// web identity", "session token", "federation token", "set source identity".
	How string `json:"how"`
	// By is the actor whose call derived it (for a root's key, the one that issued it: an
	// AWS service for instance-profile credentials); EventID that call.
	By      string    `json:"by,omitempty"`
	EventID string    `json:"event_id,omitempty"`
	From    time.Time `json:"from,omitzero"`
	Until   time.Time `json:"until,omitzero"`
	// Session is the session a temporary key opened (ROLE_ARN#SESSION, federated user), or
	// the user a created key belongs to.
	Session string `json:"session,omitempty"`
	Events  int    `json:"events"`
	// PreExisting marks a root of the scope: an identity that existed before the incident,
	// whose calls are split between the attacker and its owner. Attribution is, for a root,
	// attacker when some of its calls are the attacker's; for a derived identity, that of
	// the call that made it. Why is the evidence.
	PreExisting bool                 `json:"pre_existing,omitempty"`
	Attribution incident.Attribution `json:"attribution"`
	Why         string               `json:"attribution_evidence"`
}

// SignalRef is a signal with evidence in scope.
type SignalRef struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	Level      signal.Level `json:"level"`
	Techniques []string     `json:"techniques"`
	Tactics    []string     `json:"tactics"`
	FirstSeen  time.Time    `json:"first_seen,omitzero"`
	// Attribution is the strongest of the events it marks in scope (attacker, unknown, owner).
	Attribution incident.Attribution `json:"attribution"`
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
	// Attribution says whose call it is; Why on what evidence.
	Attribution incident.Attribution `json:"attribution"`
	Why         string               `json:"attribution_evidence"`
}

// Investigate computes the scope of start over the index and reports on it. signals are the
// signals of the same data (hunt.Run); they are marked on the timeline and fill the ATT&CK
// matrix, and a Start.Signal is looked up among them. It returns an error wrapping
// ErrNotFound when nothing matches the starting point.
func Investigate(ctx context.Context, x *Index, start Start, signals []signal.Signal, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	s, err := x.resolve(start, signals)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("investigating %s: %w", start, err)
	}
	rep := &Report{Start: start}
	rep.Identities = s.identities()
	rep.Credentials = s.credentials()
	marks := rep.markSignals(s, signals)
	rep.timeline(s, marks)
	resources, owned, err := s.resources(ctx)
	if err != nil {
		return nil, err
	}
	rep.Resources, rep.OwnerResources = resources, owned
	rep.Data = s.data(opts, incident.Attacker)
	if d := s.data(opts, incident.Unknown); !d.empty() {
		rep.UnknownData = &d
	}
	rep.BlindSpots = s.blindSpots(opts)
	var attacker []SignalRef
	for _, sg := range rep.Signals {
		if sg.Attribution == incident.Attacker {
			attacker = append(attacker, sg)
		}
	}
	rep.Matrix = matrix(attacker)
	rep.Graph = s.graph(rep.Resources)
	return rep, nil
}

// attrOf returns the attribution of record e of the scope.
func (s *scope) attrOf(e int32) attrib {
	if a, ok := s.attr[e]; ok {
		return a
	}
	return attrib{incident.Unknown, "not attributed"}
}

// notOwner returns the records of the scope not attributed to an owner, in time order.
func (s *scope) notOwner() []int32 {
	out := make([]int32, 0, len(s.events))
	for _, e := range s.events {
		if s.attrOf(e).a != incident.Owner {
			out = append(out, e)
		}
	}
	return out
}

// identities lists the scope's identities in the order they joined it.
func (s *scope) identities() []Identity {
	x := s.x
	out := make([]Identity, 0, len(s.subjects))
	for i, sub := range s.subjects {
		id := Identity{Kind: subjNames[sub.kind], ID: x.str(sub.val), How: sub.how, By: x.str(sub.by),
			Session: x.str(sub.session), Events: sub.events, PreExisting: sub.shared, Attribution: sub.attr.a.Or(), Why: sub.attr.why}
		if sub.shared {
			c := s.rootCounts(s.evOf[i])
			id.Attribution, id.Why = c.attribution()
			if li, ok := x.keyLink[sub.val]; ok && sub.kind == subjKey {
				// A root's key issued by an identity outside the scope: the issuing call.
				e := x.links[li].ev
				id.By, id.EventID, id.From = x.str(x.recs[e].actor), x.str(x.recs[e].id), x.time(e)
			}
		}
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
		var attr attrib
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
			attr = stronger(attr, s.attrOf(e))
			marks[e] = append(marks[e], SignalMark{ID: sig.ID, Title: sig.Title, Level: sig.Level})
		}
		if hit {
			rep.Signals = append(rep.Signals, SignalRef{ID: sig.ID, Title: sig.Title, Level: sig.Level,
				Techniques: nonNil(sig.Techniques), Tactics: nonNil(sig.Tactics), FirstSeen: sig.FirstSeen, Attribution: attr.a})
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
		a := s.attrOf(e)
		en := Entry{
			Time: x.time(e), EventID: x.str(r.id), Account: x.str(r.account), Region: x.str(r.region),
			API: x.str(r.source) + ":" + x.str(r.name), Outcome: out, SourceIP: x.str(r.ip),
			ASN: r.asn, ASOrg: x.str(r.asOrg), Country: x.str(r.country), UserAgentFamily: x.str(r.uaFamily),
			Identity: x.str(r.actor), AccessKeyID: x.str(r.key), InvokedBy: x.str(r.invokedBy), Signals: marks[e],
			Attribution: a.a, Why: a.why,
		}
		rep.Timeline = append(rep.Timeline, en)
		switch a.a {
		case incident.Attacker:
			rep.Summary.Events++
		case incident.Owner:
			rep.Summary.OwnerEvents++
			continue
		default:
			rep.Summary.UnknownEvents++
		}
		accts[en.Account], regions[en.Region], ips[en.SourceIP] = true, true, true
		if rep.Summary.FirstSeen.IsZero() {
			rep.Summary.FirstSeen = en.Time
		}
		rep.Summary.LastSeen = en.Time
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
	rep.Summary.Accounts, rep.Summary.Regions, rep.Summary.SourceIPs, rep.Summary.Geo = keys(accts), keys(regions), keys(ips), x.hasGeo
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

// resources returns what the scope created or changed, with the deletions the data shows:
// those of calls attributed to the attacker or of unknown attribution, and apart those of
// the owner's calls. A resource an owner created and the attacker changed is two entries.
func (s *scope) resources(ctx context.Context) ([]incident.Resource, []incident.Resource, error) {
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
			return nil, nil, err
		}
		a := s.attrOf(e)
		for _, t := range extract(v, c, x.str(r.source), x.str(r.name)) {
			if t.op == opDelete || len(t.keys) == 0 {
				continue
			}
			t.Attribution, t.Why = a.a, a.why
			k := t.keys[0]
			if a.a == incident.Owner {
				k = "owner|" + k
			}
			i, ok := byKey[k]
			switch {
			case !ok:
				t.Changed = t.op == opChange
				byKey[k] = len(list)
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
		return nil, nil, fmt.Errorf("listing resources: %w", err)
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
			return nil, nil, err
		}
		for _, t := range extract(v, c, x.str(r.source), x.str(r.name)) {
			for _, k := range t.keys {
				dels[k] = append(dels[k], del{r.t, c.id})
			}
		}
	}
	tds := map[string]int{}
	for i, t := range list {
		if t.Type == incident.ECSTaskDefinition && t.Attribution != incident.Owner {
			tds[t.keys[0]] = i
		}
	}
	out, owned := make([]incident.Resource, 0, len(list)), []incident.Resource{}
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
		if t.Type == incident.ECSService && t.Attribution != incident.Owner {
			if i, ok := tds[taskDefKey(t.Account, t.Region, t.Details["task_definition"])]; ok {
				setIf(t.Details, "cpu", list[i].Details["cpu"])
				setIf(t.Details, "memory", list[i].Details["memory"])
				setIf(t.Details, "images", list[i].Details["images"])
			}
		}
		if len(t.Details) == 0 {
			t.Details = nil
		}
		if t.Attribution == incident.Owner {
			owned = append(owned, t.Resource)
		} else {
			out = append(out, t.Resource)
		}
	}
	order := func(a, b incident.Resource) int {
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
	}
	slices.SortStableFunc(out, order)
	slices.SortStableFunc(owned, order)
	return out, owned, nil
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
