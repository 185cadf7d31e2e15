package investigate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
)

// ErrNotFound is returned (wrapped) when no event matches the starting point.
var ErrNotFound = errors.New("no event matches the starting point")

// Start is where an investigation begins. Exactly one field is set.
type Start struct {
	// Signal is a signal id (or a unique prefix of one): the investigation starts from its
	// actor and access key.
	Signal string `json:"signal,omitempty"`
	// AccessKey is an access key id (AKIA… or ASIA…).
	AccessKey string `json:"access_key,omitempty"`
	// ARN is a principal: an IAM user or root ARN (every event of it), a role ARN (every
	// session of the role), an STS assumed-role ARN (the sessions of that name) or a
	// federated-user ARN.
	ARN string `json:"arn,omitempty"`
	// User is an IAM user name, in every account where the data shows it.
	User string `json:"user,omitempty"`
	// IP is a source address: the investigation starts from every identity that made a call
	// from it. The address is only a starting point: the scope never grows by address.
	IP string `json:"ip,omitempty"`
}

// String describes the starting point ("access key AKIA…").
func (s Start) String() string {
	switch {
	case s.Signal != "":
		return "signal " + s.Signal
	case s.AccessKey != "":
		return "access key " + s.AccessKey
	case s.ARN != "":
		return "principal " + s.ARN
	case s.User != "":
		return "IAM user " + s.User
	case s.IP != "":
		return "source IP " + s.IP
	}
	return "nothing"
}

func (s Start) validate() error {
	n := 0
	for _, f := range []string{s.Signal, s.AccessKey, s.ARN, s.User, s.IP} {
		if f != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("checking the starting point: give exactly one of signal, access key, ARN, user, IP (got %d)", n)
	}
	return nil
}

// subjKind says how a scope identity selects events.
type subjKind uint8

const (
	// subjPrincipal: every event whose normalised actor is the value.
	subjPrincipal subjKind = iota
	// subjRole: every session of a role (actor "ROLE#…").
	subjRole
	// subjKey: every event made with an access key.
	subjKey
	// subjConsole: the console sessions of an IAM user opened at or after from, and its
	// ConsoleLogin events.
	subjConsole
	// subjSourceIdentity: every session carrying a sourceIdentity the scope set.
	subjSourceIdentity
)

var subjNames = [...]string{"principal", "role", "access-key", "console-session", "source-identity"}

// subject is one identity of the scope, with the window of events it owns.
type subject struct {
	kind     subjKind
	val      sym
	from, to int64 // event time window [from, to); to 0 means open
	how      string
	by       sym   // actor of the deriving event
	ev       int32 // deriving event, -1 for a starting identity
	session  sym   // for keys: the session they open (role#session, federated user ARN)
	events   int
	// shared is set for a root of the scope: an identity that existed before the incident
	// (not derived in the data from the attacker's calls), whose calls attribution splits
	// between the attacker and its owner. final: the walk back to roots stops here.
	shared, final bool
	// attr is the attribution of a derived identity: that of its deriving event.
	attr attrib
}

type subjectKey struct {
	kind subjKind
	val  sym
}

// scope is the result of the lineage computation.
type scope struct {
	x        *Index
	subjects []subject
	seen     map[subjectKey]int
	queue    []int
	in       []uint64 // bit set over records
	events   []int32  // records in scope, sorted after compute
	login    sym      // "ConsoleLogin"
	deleted  map[sym][]int64
	// noFollow holds the events whose derivations are not followed: calls attributed to an
	// identity's owner (its own sessions and keys are not the attacker's).
	noFollow map[int32]bool
	// evOf lists, per subject, the records it selects; attr is the attribution of every
	// record in scope (attribute fills it).
	evOf [][]int32
	attr map[int32]attrib
}

func newScope(x *Index) *scope {
	s := &scope{x: x, seen: map[subjectKey]int{}, in: make([]uint64, (len(x.recs)+63)/64)}
	s.login, _ = x.lookup("ConsoleLogin")
	return s
}

// add puts an identity in the scope, or widens its window when it is known with a later start.
func (s *scope) add(n subject) {
	if n.val == 0 {
		return
	}
	k := subjectKey{n.kind, n.val}
	if i, ok := s.seen[k]; ok {
		if s.subjects[i].from <= n.from {
			return
		}
		s.subjects[i].from = n.from
		s.subjects[i].to = n.to
		s.queue = append(s.queue, i)
		return
	}
	s.seen[k] = len(s.subjects)
	s.queue = append(s.queue, len(s.subjects))
	s.subjects = append(s.subjects, n)
}

// compute runs the lineage rules to a fixed point: every event an identity of the scope
// made is in scope, and every identity such an event derives joins the scope.
func (s *scope) compute() {
	x := s.x
	for len(s.queue) > 0 {
		i := s.queue[0]
		s.queue = s.queue[1:]
		sub := s.subjects[i]
		var list []int32
		switch sub.kind {
		case subjPrincipal, subjConsole:
			list = x.byActor[sub.val]
		case subjRole:
			list = x.byRole[sub.val]
		case subjKey:
			list = x.byKey[sub.val]
		case subjSourceIdentity:
			list = x.bySrcID[sub.val]
		}
		for len(s.evOf) < len(s.subjects) {
			s.evOf = append(s.evOf, nil)
		}
		s.evOf[i] = s.evOf[i][:0]
		from := sub.from
		if sub.kind == subjConsole {
			from = math.MinInt64 // console sessions are chosen by their creation date below
		}
		j := sort.Search(len(list), func(j int) bool { return x.recs[list[j]].t >= from })
		n := 0
		for _, e := range list[j:] {
			r := &x.recs[e]
			if sub.to != 0 && r.t >= sub.to {
				break
			}
			if sub.kind == subjConsole && !s.consoleOf(r, sub.from) {
				continue
			}
			n++
			s.evOf[i] = append(s.evOf[i], e)
			if s.in[e>>6]&(1<<(e&63)) != 0 {
				continue
			}
			s.in[e>>6] |= 1 << (e & 63)
			s.events = append(s.events, e)
			if r.link >= 0 {
				s.derive(e)
			}
		}
		s.subjects[i].events = max(s.subjects[i].events, n)
		if sub.kind == subjRole {
			s.federatedSessions(sub)
		}
	}
	slices.Sort(s.events)
}

// federatedSessions adds the temporary keys of the sessions of role sub that SAML and web
// identities opened (AssumeRoleWithSAML, AssumeRoleWithWebIdentity) in its window. The calls
// themselves stay out, as do their callers: an AssumeRole by an identity outside the scope
// stays out too, while the session's own events are in scope through the role.
func (s *scope) federatedSessions(sub subject) {
	x := s.x
	for _, e := range x.fedByRole[sub.val] {
		r := &x.recs[e]
		if r.t < sub.from || (sub.to != 0 && r.t >= sub.to) {
			continue
		}
		l := x.links[r.link]
		s.add(subject{kind: subjKey, val: l.a, from: r.t, by: r.actor, ev: e, session: l.b, how: fedHow(l.kind)})
	}
}

// fedHow is how a session opened by a SAML or web identity joined the scope.
func fedHow(k linkKind) string {
	if k == linkAssumeRoleSAML {
		return "assumed role with SAML"
	}
	return "assumed role with web identity"
}

// consoleOf reports whether r belongs to a console session of its user opened at or after from.
func (s *scope) consoleOf(r *record, from int64) bool {
	if r.name == s.login && s.login != 0 {
		return r.t >= from
	}
	return r.flags&flagConsole != 0 && r.sessAt != 0 && r.sessAt*int64(time.Second) >= from-int64(time.Second)
}

// derive applies the lineage rule of event e (in scope) to add the identity it creates or obtains.
func (s *scope) derive(e int32) {
	if s.noFollow[e] {
		return
	}
	x := s.x
	r := &x.recs[e]
	l := x.links[r.link]
	n := subject{from: r.t, by: r.actor, ev: e}
	switch l.kind {
	case linkCreateUser:
		n.kind, n.val, n.how = subjPrincipal, l.a, "created IAM user"
		n.to = s.deletedAfter(l.a, r.t)
	case linkCreateKey:
		n.kind, n.val, n.how, n.session = subjKey, l.a, "created access key", l.b
	case linkLoginProfile:
		if i, ok := s.seen[subjectKey{subjPrincipal, l.a}]; ok && s.subjects[i].from <= r.t && s.subjects[i].to == 0 {
			return // every event of the user is in scope already
		}
		n.kind, n.val, n.how = subjConsole, l.a, "set console password"
	case linkCreateRole:
		n.kind, n.val, n.how = subjRole, l.a, "created role"
	case linkAssumeRole:
		n.kind, n.val, n.how, n.session = subjKey, l.a, "assumed role", l.b
		if l.c != 0 {
			s.add(subject{kind: subjSourceIdentity, val: l.c, from: r.t, by: r.actor, ev: e, how: "set source identity"})
		}
	case linkAssumeRoleSAML, linkAssumeRoleWebIdentity:
		// Only a caller already in scope (an --arn start naming the SAML or web identity)
		// gets here: the sessions of a role in scope are added by federatedSessions.
		n.kind, n.val, n.how, n.session = subjKey, l.a, fedHow(l.kind), l.b
		if l.c != 0 {
			s.add(subject{kind: subjSourceIdentity, val: l.c, from: r.t, by: r.actor, ev: e, how: "set source identity"})
		}
	case linkSessionToken:
		n.kind, n.val, n.how = subjKey, l.a, "session token"
		n.session = r.actor
	case linkFederation:
		n.kind, n.val, n.how, n.session = subjKey, l.a, "federation token", l.b
	default:
		return
	}
	s.add(n)
}

// deletedAfter returns the time (plus a second) of the first DeleteUser of user after t, or 0.
func (s *scope) deletedAfter(user sym, t int64) int64 {
	if s.deleted == nil {
		s.deleted = map[sym][]int64{}
		for _, l := range s.x.links {
			if l.kind == linkDeleteUser {
				s.deleted[l.a] = append(s.deleted[l.a], s.x.recs[l.ev].t)
			}
		}
	}
	for _, d := range s.deleted[user] {
		if d > t {
			return d + int64(time.Second)
		}
	}
	return 0
}

// startSubjects resolves a starting point into the first identities of the scope.
func (x *Index) startSubjects(st Start, signals []signal.Signal) ([]subject, error) {
	if err := st.validate(); err != nil {
		return nil, err
	}
	start := func(kind subjKind, v sym) subject {
		return subject{kind: kind, val: v, from: math.MinInt64, how: "starting point", ev: -1}
	}
	fromActor := func(actor, key string) []subject {
		var out []subject
		a, aok := x.lookup(actor)
		k, kok := x.lookup(key)
		switch {
		case strings.Contains(actor, "#") && kok && key != "":
			// A role session is its temporary key: session names are reused by many sessions.
			out = append(out, start(subjKey, k))
		case strings.Contains(actor, ":user/") && strings.HasPrefix(key, "AKIA") && kok:
			// An IAM user's long-term key is the credential: the user's other keys and
			// console sessions are not (a leaked key starts as the key alone).
			out = append(out, start(subjKey, k))
		case strings.HasPrefix(actor, "arn:") && aok:
			out = append(out, start(subjPrincipal, a))
			if kok && key != "" {
				out = append(out, start(subjKey, k))
			}
		case kok && key != "":
			out = append(out, start(subjKey, k))
		}
		return out
	}
	var out []subject
	switch {
	case st.Signal != "":
		sig, err := findSignal(signals, st.Signal)
		if err != nil {
			return nil, err
		}
		out = fromActor(sig.Actor, sig.AccessKeyID)
	case st.AccessKey != "":
		if k, ok := x.lookup(st.AccessKey); ok && (len(x.byKey[k]) > 0 || x.keyCreated(k)) {
			out = append(out, start(subjKey, k))
		}
	case st.ARN != "":
		arn := st.ARN
		switch {
		case strings.Contains(arn, ":assumed-role/"):
			// arn:aws:sts::ACCT:assumed-role/ROLE/SESSION: every session of that name.
			acct, rest := arnAccount(arn), arn[strings.Index(arn, ":assumed-role/")+len(":assumed-role/"):]
			role, sess, _ := strings.Cut(rest, "/")
			for _, a := range x.actorsWhere(func(a string) bool {
				return arnAccount(a) == acct && strings.HasSuffix(a, "/"+role+"#"+sess)
			}) {
				out = append(out, start(subjPrincipal, a))
			}
		case strings.Contains(arn, ":role/"):
			if v, ok := x.lookup(arn); ok && len(x.byRole[v]) > 0 {
				out = append(out, start(subjRole, v))
			}
		default:
			if v, ok := x.lookup(arn); ok && len(x.byActor[v]) > 0 {
				out = append(out, start(subjPrincipal, v))
			}
		}
	case st.User != "":
		for _, a := range x.actorsWhere(func(a string) bool {
			return strings.Contains(a, ":user/") && (strings.HasSuffix(a, ":user/"+st.User) || strings.HasSuffix(a, "/"+st.User))
		}) {
			out = append(out, start(subjPrincipal, a))
		}
	case st.IP != "":
		ip, _ := x.lookup(st.IP)
		seen := map[[2]sym]bool{}
		for _, e := range x.byIP[ip] {
			r := &x.recs[e]
			k := [2]sym{r.actor, r.key}
			if ip == 0 || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, fromActor(x.str(r.actor), x.str(r.key))...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("starting from %s: %w", st, ErrNotFound)
	}
	return out, nil
}

// keyCreated reports whether a CreateAccessKey or STS call issued key k.
func (x *Index) keyCreated(k sym) bool {
	for _, l := range x.links {
		if l.a == k && (l.kind == linkCreateKey || l.kind == linkAssumeRole || l.kind == linkSessionToken ||
			l.kind == linkFederation || l.kind == linkAssumeRoleSAML || l.kind == linkAssumeRoleWebIdentity) {
			return true
		}
	}
	return false
}

// actorsWhere returns the actors for which keep is true, sorted.
func (x *Index) actorsWhere(keep func(string) bool) []sym {
	var out []sym
	for a := range x.byActor {
		if keep(x.str(a)) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b sym) int { return strings.Compare(x.str(a), x.str(b)) })
	return out
}

// arnAccount returns the account field of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// findSignal returns the signal with id, or the only one whose id starts with it.
func findSignal(signals []signal.Signal, id string) (*signal.Signal, error) {
	var found *signal.Signal
	for i := range signals {
		s := &signals[i]
		if s.ID == id {
			return s, nil
		}
		if strings.HasPrefix(s.ID, id) {
			if found != nil {
				return nil, fmt.Errorf("finding signal %s: the prefix names several signals", id)
			}
			found = s
		}
	}
	if found == nil {
		return nil, fmt.Errorf("finding signal %s: %w", id, ErrNotFound)
	}
	return found, nil
}
