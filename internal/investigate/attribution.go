package investigate

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/signal"
)

// attrib is the attribution of an event or a derived identity, with its evidence.
type attrib struct {
	a   incident.Attribution
	why string
}

// rank orders attributions for combining the views of several identities on one event: a
// call any of them ties to the attacker is the attacker's.
func rank(a incident.Attribution) int {
	switch a {
	case incident.Attacker:
		return 3
	case incident.Unknown:
		return 2
	case incident.Owner:
		return 1
	}
	return 0
}

// stronger returns the stronger of a and b (b on a tie).
func stronger(a, b attrib) attrib {
	if rank(a.a) > rank(b.a) {
		return a
	}
	return b
}

// Attribution settings.
const (
	// seedMargin widens the attacker's signalled activity when telling the owner's usual
	// addresses and clients apart: the owner's calls within it do not count as the owner's
	// habits, the attacker's own unsignalled calls near their signalled ones do not either.
	seedMargin = int64(time.Hour)
	// onBehalfWindow is how close a call an AWS service makes on an identity's behalf (KMS
	// Decrypt by S3) must follow the identity's own call to take its attribution.
	onBehalfWindow = int64(5 * time.Second)
	// maxRounds bounds the rounds of scope computation and attribution, and of the walk
	// back to roots; each round only removes derivations or moves a root up a chain.
	maxAttributionRounds = 8
)

// seedsOf returns the events signals mark as the attacker's, with why: every event of a
// signal at medium or above, and of the starting signal whatever its level (the responder
// chose it as the attacker's).
func (x *Index) seedsOf(start Start, signals []signal.Signal) map[int32]string {
	startID := ""
	if start.Signal != "" {
		if sig, err := findSignal(signals, start.Signal); err == nil {
			startID = sig.ID
		}
	}
	seeds := map[int32]string{}
	levels := map[int32]signal.Level{}
	for _, sig := range signals {
		if sig.Level < signal.LevelMedium && sig.ID != startID {
			continue
		}
		for _, id := range sig.EventIDs {
			v, ok := x.lookup(id)
			if !ok {
				continue
			}
			e, ok := x.byID[v]
			if !ok {
				continue
			}
			if l, seen := levels[e]; seen && l >= sig.Level {
				continue
			}
			levels[e] = sig.Level
			seeds[e] = fmt.Sprintf("marked by signal %q (%s)", sig.Title, sig.Level)
		}
	}
	return seeds
}

// resolve computes the scope of a starting point: its roots (the pre-existing identities the
// incident grows from, found by walking back from the start), every identity derived from
// them, and the attribution of every event.
func (x *Index) resolve(start Start, signals []signal.Signal) (*scope, error) {
	subs, err := x.startSubjects(start, signals)
	if err != nil {
		return nil, err
	}
	seeds := x.seedsOf(start, signals)
	roots := x.roots(subs, seeds)
	return x.attributed(roots, seeds), nil
}

// roots walks back from the starting identities to the identities the incident grows from.
// An identity the data shows made by a call (a user by CreateUser, a key by CreateAccessKey
// or an STS call, a console session by its login profile) is replaced by the identity that
// made that call, as long as the call is attributed to the attacker: a start at a user the
// attacker created, at its console session or at a key it made leads to the leaked key, and
// the scope is the same as from the leaked key. A call by an AWS service, a SAML or web
// identity, or one attributed to an owner, stops the walk. Roots are sorted, so the result
// does not depend on the order of the starting identities.
func (x *Index) roots(subs []subject, seeds map[int32]string) []subject {
	roots := make([]subject, 0, len(subs))
	seen := map[subjectKey]bool{}
	addRoot := func(list []subject, sub subject) []subject {
		k := subjectKey{sub.kind, sub.val}
		for _, r := range list {
			if (subjectKey{r.kind, r.val}) == k {
				return list
			}
		}
		return append(list, sub)
	}
	for _, sub := range subs {
		if k := (subjectKey{sub.kind, sub.val}); !seen[k] {
			seen[k] = true
			roots = append(roots, x.rootSubject(sub))
		}
	}
	for range maxAttributionRounds {
		moved := false
		for i, r := range roots {
			if r.final {
				continue
			}
			ev, up, ok := x.madeBy(r)
			if !ok {
				roots[i].final = true
				continue
			}
			cand := addRoot(slices.Delete(slices.Clone(roots), i, i+1), x.rootSubject(up))
			if s := x.attributed(cand, seeds); s.attr[ev].a == incident.Attacker {
				roots, moved = cand, true
				break
			}
			roots[i].final = true
		}
		if !moved {
			break
		}
	}
	slices.SortFunc(roots, func(a, b subject) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), strings.Compare(x.str(a.val), x.str(b.val)))
	})
	return roots
}

// rootSubject is sub as a root of the scope: every event of it, shared by the attacker and
// its owner until attribution says which are whose.
func (x *Index) rootSubject(sub subject) subject {
	return subject{kind: sub.kind, val: sub.val, from: math.MinInt64, how: "pre-existing identity", ev: -1, shared: true}
}

// madeBy returns the call that made identity sub and the identity that made it, when the
// data shows one and its caller is an identity that can be the attacker's.
func (x *Index) madeBy(sub subject) (int32, subject, bool) {
	ev := int32(-1)
	switch sub.kind {
	case subjKey:
		if li, ok := x.keyLink[sub.val]; ok {
			ev = x.links[li].ev
		} else if list := x.byKey[sub.val]; len(list) > 0 {
			// A console session's key is made by the sign-in its user's password allows:
			// the password is the attacker's when they set it (or created the user).
			r := &x.recs[list[0]]
			switch {
			case r.flags&flagConsole != 0 && strings.Contains(x.str(r.actor), ":user/"):
				ev = x.userMade(r.actor, r.sessAt*int64(time.Second)+int64(time.Second), true)
			case strings.Contains(x.str(r.actor), ":user/"):
				// A key whose creation the data lacks belongs to its user: made with the user.
				ev = x.userMade(r.actor, r.t+int64(time.Second), false)
			}
		}
	case subjPrincipal:
		if list := x.byActor[sub.val]; len(list) > 0 && strings.Contains(x.str(sub.val), ":user/") {
			ev = x.userMade(sub.val, x.recs[list[0]].t+int64(time.Second), false)
		}
	case subjRole:
		if li, ok := x.roleLink[sub.val]; ok {
			ev = x.links[li].ev
		}
	}
	if ev < 0 {
		return -1, subject{}, false
	}
	r := &x.recs[ev]
	if !strings.HasPrefix(x.str(r.actor), "arn:") || r.invokedBy != 0 {
		return -1, subject{}, false // an AWS service, a SAML or web identity: not expanded
	}
	if r.key != 0 {
		return ev, subject{kind: subjKey, val: r.key}, true
	}
	return ev, subject{kind: subjPrincipal, val: r.actor}, true
}

// userMade returns the latest call before the time before that made user, or -1: its
// CreateUser, or with console, also a login profile set for it.
func (x *Index) userMade(user sym, before int64, console bool) int32 {
	ev := int32(-1)
	for _, li := range x.userLinks[user] {
		l := &x.links[li]
		if x.recs[l.ev].t > before {
			break
		}
		if l.kind == linkCreateUser || console {
			ev = l.ev
		}
	}
	return ev
}

// attributed computes the scope grown from roots, to a fixed point of scope and attribution:
// calls attributed to an owner derive nothing (its own sessions and keys stay out).
func (x *Index) attributed(roots []subject, seeds map[int32]string) *scope {
	noFollow := map[int32]bool{}
	var s *scope
	for range maxAttributionRounds {
		s = newScope(x)
		s.noFollow = noFollow
		for _, r := range roots {
			s.add(r)
		}
		s.compute()
		s.attribute(seeds)
		next := map[int32]bool{}
		for e, a := range s.attr {
			if a.a == incident.Owner && x.recs[e].link >= 0 {
				next[e] = true
			}
		}
		if maps.Equal(next, noFollow) {
			break
		}
		noFollow = next
	}
	return s
}

// attribute fills s.attr: derived identities take the attribution of the call that made
// them; the calls of a root are split by fingerprint (attributeRoot), with the addresses and
// clients of the attacker's derived identities as more evidence of the attacker's.
func (s *scope) attribute(seeds map[int32]string) {
	x := s.x
	shared := make([]map[int32]attrib, len(s.subjects))
	var evidence []int32 // calls of derived identities attributed to the attacker
	for range maxAttributionRounds {
		for i, sub := range s.subjects {
			if sub.shared {
				shared[i] = s.attributeRoot(i, seeds, evidence)
			}
		}
		// A derived identity takes the attribution of the call that made it, which may
		// itself be a derived identity's: propagate to a fixed point.
		for range len(s.subjects) + 1 {
			s.attr = make(map[int32]attrib, len(s.events))
			s.combine(shared)
			changed := false
			for i := range s.subjects {
				sub := &s.subjects[i]
				if sub.shared || sub.ev < 0 {
					continue
				}
				a := s.attr[sub.ev].a.Or()
				next := attrib{a, fmt.Sprintf("%s by a call attributed to the %s (event %s)", sub.how, a, x.str(x.recs[sub.ev].id))}
				if next != sub.attr {
					sub.attr, changed = next, true
				}
			}
			if !changed {
				break
			}
		}
		var next []int32
		for i, sub := range s.subjects {
			if !sub.shared && sub.attr.a == incident.Attacker {
				next = append(next, s.evOf[i]...)
			}
		}
		if slices.Equal(next, evidence) {
			break
		}
		evidence = next
	}
}

// combine sets the attribution of every event in scope from the roots' views (shared) and
// the derived identities that select it: the strongest wins.
func (s *scope) combine(shared []map[int32]attrib) {
	for i, sub := range s.subjects {
		for _, e := range s.evOf[i] {
			a := sub.attr
			if sub.shared {
				a = shared[i][e]
			} else if a.a == "" {
				a = attrib{incident.Unknown, "derived identity not yet attributed"}
			}
			if cur, ok := s.attr[e]; ok {
				a = stronger(cur, a)
			}
			s.attr[e] = a
		}
	}
}

// fingerprint counts, for one value of an address, client or network, the attacker's calls
// (s) and the owner's (o) that show it.
type fingerprint struct{ s, o int }

// class says whose a value is: the attacker's, the owner's, both ("shared") or nobody's
// known ("new").
func (f fingerprint) class() string {
	switch {
	case f.s > 0 && f.o == 0:
		return "attacker"
	case f.o > 0 && f.s == 0:
		return "owner"
	case f.s > 0:
		return "shared"
	}
	return "new"
}

// classOf returns the class of value k in m ("new" when no call counted shows it).
func classOf(m map[sym]*fingerprint, k sym) string {
	if p := m[k]; k != 0 && p != nil {
		return p.class()
	}
	return "new"
}

// features are the values a call is attributed by: source address, exact user agent and,
// with a database, the address's network (ASN). Addresses and agents that AWS writes for
// itself ("AWS Internal", service names, the console) tell nobody apart and are left out.
type features struct {
	ips, uas, asns map[sym]*fingerprint
}

func (f *features) get(m map[sym]*fingerprint, k sym) *fingerprint {
	if k == 0 {
		return &fingerprint{}
	}
	p := m[k]
	if p == nil {
		p = &fingerprint{}
		m[k] = p
	}
	return p
}

// keys returns the feature values of record r (0 for one left out).
func (s *scope) featureKeys(r *record) (ip, ua, asn sym) {
	x := s.x
	if k, _ := enrich.ClassifySourceIP([]byte(x.str(r.ip))); k == enrich.IPPublic || k == enrich.IPPrivate {
		ip = r.ip
	}
	switch x.str(r.uaFamily) {
	case enrich.UAConsole, enrich.UAAWSService, "":
	default:
		ua = r.ua
	}
	if r.asn != 0 {
		asn = r.asOrg
		if asn == 0 {
			asn = r.ip // an ASN without an org name: the address stands for it
		}
	}
	return ip, ua, asn
}

// attributeRoot splits the calls of root subject i between the attacker and the owner:
//   - seeds (calls signals mark, calls the session heuristic flags) are the attacker's;
//   - the addresses, clients and networks of the seeds and of the attacker's derived
//     identities (evidence) are the attacker's; those of the root's other calls more than an
//     hour from any of the attacker's, and of the same principal's calls with other keys,
//     are the owner's;
//   - a call from an attacker's address is the attacker's, from an owner's address the
//     owner's (unless its client says the opposite: then unknown); from an address both or
//     neither used, its client decides, then its network; otherwise it is unknown;
//   - calls an AWS service made on the identity's behalf take the attribution of the call
//     they follow; unknown calls outside the attacker's first and last calls are the owner's.
//
// With no seed at all, every call is unknown: nothing in the logs tells the attacker's calls
// from the owner's.
func (s *scope) attributeRoot(i int, seeds map[int32]string, evidence []int32) map[int32]attrib {
	x := s.x
	sub := s.subjects[i]
	evs := s.evOf[i]
	out := make(map[int32]attrib, len(evs))
	own := map[int32]string{}
	for _, e := range evs {
		if why, ok := seeds[e]; ok {
			own[e] = why
		}
	}
	peers := s.peers(sub)
	for e, why := range s.sessionSeeds(sub, evs, peers) {
		if _, ok := own[e]; !ok {
			own[e] = why
		}
	}
	if len(own) == 0 {
		for _, e := range evs {
			out[e] = attrib{incident.Unknown, "no signal marks a call of this identity: its owner's calls cannot be told from an attacker's"}
		}
		return out
	}
	// A signal on the owner's usual address and client is not believed: it is more likely a
	// false positive on the owner's own work than an attacker on the owner's machine (an
	// unknown either way, never a reason to act on the owner's resources). The owner's
	// habits are read outside the attacker's signalled activity, which a rejected seed no
	// longer widens: repeat until no seed is rejected.
	rejected := map[int32]string{}
	var f features
	for range maxAttributionRounds {
		var near []int64 // times of the attacker's evidence, sorted
		for e := range own {
			if _, no := rejected[e]; !no {
				near = append(near, x.recs[e].t)
			}
		}
		for _, e := range evidence {
			near = append(near, x.recs[e].t)
		}
		slices.Sort(near)
		nearAttacker := func(t int64) bool {
			i, _ := slices.BinarySearch(near, t-seedMargin)
			return i < len(near) && near[i] <= t+seedMargin
		}
		f = features{ips: map[sym]*fingerprint{}, uas: map[sym]*fingerprint{}, asns: map[sym]*fingerprint{}}
		count := func(e int32, attacker bool) {
			ip, ua, asn := s.featureKeys(&x.recs[e])
			for _, p := range []*fingerprint{f.get(f.ips, ip), f.get(f.uas, ua), f.get(f.asns, asn)} {
				if attacker {
					p.s++
				} else {
					p.o++
				}
			}
		}
		for _, e := range evs {
			if _, seed := own[e]; !seed && x.recs[e].invokedBy == 0 && !nearAttacker(x.recs[e].t) {
				count(e, false)
			}
		}
		for _, e := range peers {
			count(e, false)
		}
		more := false
		for e := range own {
			if _, no := rejected[e]; no {
				continue
			}
			ip, ua, _ := s.featureKeys(&x.recs[e])
			if ip != 0 && ua != 0 && f.ips[ip] != nil && f.ips[ip].o > 0 && f.uas[ua] != nil && f.uas[ua].o > 0 {
				rejected[e] = own[e] + ", but from the owner's usual address (" + x.str(x.recs[e].ip) + ") and client (" +
					x.str(x.recs[e].uaFamily) + "): not believed"
				more = true
			}
		}
		if more {
			continue
		}
		for e := range own {
			if _, no := rejected[e]; !no {
				count(e, true)
			}
		}
		for _, e := range evidence {
			count(e, true)
		}
		break
	}
	if len(rejected) == len(own) && len(evidence) == 0 {
		for _, e := range evs {
			out[e] = attrib{incident.Unknown, "no signal that marks a call of this identity is believed: its owner's calls cannot be told from an attacker's"}
		}
		for e, why := range rejected {
			out[e] = attrib{incident.Unknown, why}
		}
		return out
	}
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	var onBehalf []int32
	for _, e := range evs {
		r := &x.recs[e]
		if why, ok := rejected[e]; ok {
			out[e] = attrib{incident.Unknown, why}
		} else if why, ok := own[e]; ok {
			out[e] = attrib{incident.Attacker, why}
		} else if r.invokedBy != 0 {
			onBehalf = append(onBehalf, e)
			continue
		} else {
			out[e] = s.classify(r, &f)
		}
		if out[e].a == incident.Attacker {
			first, last = min(first, r.t), max(last, r.t)
		}
	}
	// Calls a service made on the identity's behalf follow the call that caused them.
	for _, e := range onBehalf {
		r := &x.recs[e]
		a := attrib{incident.Unknown, "made by " + x.str(r.invokedBy) + " on the identity's behalf, with no call of its own just before"}
		j, _ := slices.BinarySearchFunc(evs, r.t+1, func(e int32, t int64) int { return cmp.Compare(x.recs[e].t, t) })
		for k := j - 1; k >= 0; k-- {
			p := &x.recs[evs[k]]
			if p.t < r.t-onBehalfWindow {
				break
			}
			if p.invokedBy == 0 {
				pa := out[evs[k]]
				a = attrib{pa.a, "made by " + x.str(r.invokedBy) + " for the call just before (" + string(pa.a) + ")"}
				break
			}
		}
		out[e] = a
		if a.a == incident.Attacker {
			first, last = min(first, r.t), max(last, r.t)
		}
	}
	// The attacker's activity, through this identity or the ones it derived, bounds where an
	// unknown call can be the attacker's.
	for _, e := range evidence {
		first, last = min(first, x.recs[e].t), max(last, x.recs[e].t)
	}
	if first <= last {
		for _, e := range evs {
			if a := out[e]; a.a == incident.Unknown && (x.recs[e].t < first || x.recs[e].t > last) {
				out[e] = attrib{incident.Owner, fmt.Sprintf("outside the attacker's activity (%s to %s); %s",
					stamp(first), stamp(last), a.why)}
			}
		}
	}
	return out
}

// classify attributes one call of a root by its fingerprint (see attributeRoot).
func (s *scope) classify(r *record, f *features) attrib {
	x := s.x
	ip, ua, asn := s.featureKeys(r)
	addr, client := x.str(r.ip), x.str(r.uaFamily)
	ipc, uac := classOf(f.ips, ip), classOf(f.uas, ua)
	switch ipc {
	case "attacker":
		if uac == "owner" {
			return attrib{incident.Unknown, "from " + addr + ", an address of the attacker's, but with the owner's usual client (" + client + ")"}
		}
		return attrib{incident.Attacker, "from " + addr + ", an address of the attacker's calls and never of the owner's"}
	case "owner":
		if uac == "attacker" {
			return attrib{incident.Unknown, "from " + addr + ", the owner's usual address, but with the attacker's client (" + client + ")"}
		}
		return attrib{incident.Owner, "from " + addr + ", the owner's usual address"}
	}
	where := "from " + addr + ", an address the owner and the attacker both used"
	if ipc == "new" {
		where = "from " + addr + ", a new address"
	}
	switch uac {
	case "attacker":
		return attrib{incident.Attacker, where + ", with a client only the attacker used (" + client + ")"}
	case "owner":
		return attrib{incident.Owner, where + ", with the owner's usual client (" + client + ")"}
	}
	if asn != 0 {
		switch classOf(f.asns, asn) {
		case "attacker":
			return attrib{incident.Attacker, where + ", in the attacker's network (AS" + fmt.Sprint(r.asn) + ")"}
		case "owner":
			return attrib{incident.Owner, where + ", in the owner's usual network (AS" + fmt.Sprint(r.asn) + ")"}
		}
	}
	return attrib{incident.Unknown, where + ", with a client (" + client + ") that tells neither"}
}

// peers returns the calls that show a root key's owner at work with other credentials: the
// same principal's calls with other keys (an IAM user's other keys, an instance's earlier
// and later credentials). Other roots have none.
func (s *scope) peers(sub subject) []int32 {
	x := s.x
	if sub.kind != subjKey {
		return nil
	}
	actors := map[sym]bool{}
	for _, e := range x.byKey[sub.val] {
		if a := x.recs[e].actor; a != 0 && strings.HasPrefix(x.str(a), "arn:") {
			actors[a] = true
		}
	}
	var out []int32
	for _, a := range sortedSyms(x, actors) {
		for _, e := range x.byActor[a] {
			r := &x.recs[e]
			if r.key != sub.val && r.invokedBy == 0 && !s.inScope(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

// inScope reports whether record e is in the scope.
func (s *scope) inScope(e int32) bool { return s.in[e>>6]&(1<<(e&63)) != 0 }

// sessionSeeds flags the calls of a role session's temporary key that come from outside
// where the session lives: for credentials EC2 issued to an instance (a session named after
// the instance), a public address the instance never used with a client it never used; for
// any other session, a public address in another network than the one that assumed the
// role, with another client. That is how stolen credentials show (GuardDuty's
// InstanceCredentialExfiltration): the attacker's machine is not the instance.
func (s *scope) sessionSeeds(sub subject, evs, peers []int32) map[int32]string {
	x := s.x
	out := map[int32]string{}
	if sub.kind != subjKey {
		return out
	}
	li, ok := x.keyLink[sub.val]
	if !ok {
		return out
	}
	l := &x.links[li]
	if l.kind != linkAssumeRole {
		return out
	}
	issue := &x.recs[l.ev]
	_, session, _ := strings.Cut(x.str(l.b), "#")
	instance := x.str(issue.actor) == "ec2.amazonaws.com" && strings.HasPrefix(session, "i-")
	// The places the session's owner works from.
	ips, nets, clients := map[sym]bool{}, map[string]bool{}, map[sym]bool{}
	home := func(r *record) {
		ips[r.ip] = true
		nets[network(x.str(r.ip), r.asn)] = true
		clients[r.uaFamily] = true
	}
	if instance {
		for _, e := range peers {
			home(&x.recs[e])
		}
		for _, e := range evs {
			if r := &x.recs[e]; r.invokedBy == 0 {
				home(r) // the instance's first call with these credentials
				break
			}
		}
	} else {
		home(issue)
	}
	for _, e := range evs {
		r := &x.recs[e]
		if r.invokedBy != 0 || ips[r.ip] || clients[r.uaFamily] {
			continue
		}
		addr := x.str(r.ip)
		if k, _ := enrich.ClassifySourceIP([]byte(addr)); k != enrich.IPPublic {
			continue
		}
		if instance {
			out[e] = "credentials EC2 issued to instance " + session + " used from " + addr + " with " + x.str(r.uaFamily) +
				", an address and a client the instance never used"
			continue
		}
		if !nets[network(addr, r.asn)] {
			out[e] = "session of " + x.str(issue.actor) + " used from " + addr + " with " + x.str(r.uaFamily) +
				", another network and client than the one that assumed the role"
		}
	}
	return out
}

// network names the network of an address: its ASN when known, else its /16 (IPv4) or /32
// (IPv6) prefix.
func network(addr string, asn uint32) string {
	if asn != 0 {
		return fmt.Sprintf("AS%d", asn)
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	bits := 16
	if a.Is6() && !a.Is4In6() {
		bits = 32
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// stamp formats a Unix-nanosecond event time.
func stamp(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339) }
