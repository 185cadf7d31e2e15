package enrich

import (
	"net/netip"
	"strings"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/valyala/fastjson"
)

// IPInfo is what enrichment knows about a source address.
type IPInfo struct {
	Kind IPKind
	// ASN and ASOrg are set for public addresses an ASN database knows (ASN 0: unknown).
	ASN   uint32
	ASOrg string
	// Country is the ISO code for public addresses a country database knows.
	Country string
}

// Stats are a State's counters.
type Stats struct {
	// Lookups is the number of public addresses looked up in the databases (cache misses).
	Lookups int
	// CacheHits is the number of public addresses answered from the cache.
	CacheHits int
	// LookupErrors counts failed database reads (a corrupt record); the field is left unset.
	LookupErrors int
}

// State enriches events for one goroutine. It is not safe for concurrent use. The value it
// sets as Event.Enrichment lives in the State's buffer and is valid until the next call of
// Enrich.
type State struct {
	e     *Enricher
	arena fastjson.Arena
	ips   map[netip.Addr]IPInfo
	// actors caches event.Actor by the identity fields it reads (see actorKey), so a
	// repeated principal costs no allocation.
	actors map[string]string
	// uas caches UserAgentFamily: a handful of agents make up most of a log, and the
	// family costs a scan for a dozen tokens.
	uas map[string]string
	// nets caches SourceNet of the addresses seen.
	nets  map[netip.Addr]string
	key   []byte
	stats Stats
	// grants reads the grantees of requests that share a resource.
	grants grants
}

// NewState returns a State for one goroutine.
func (e *Enricher) NewState() *State {
	return &State{
		e:      e,
		ips:    make(map[netip.Addr]IPInfo, min(e.cacheSize, 1024)),
		actors: make(map[string]string, min(e.cacheSize, 1024)),
		uas:    make(map[string]string, min(e.cacheSize, 1024)),
		nets:   make(map[netip.Addr]string, min(e.cacheSize, 1024)),
		key:    make([]byte, 0, 256),
	}
}

// Stats returns the State's counters.
func (s *State) Stats() Stats { return s.stats }

// IP classifies a sourceIPAddress value and, for a public address, looks it up.
func (s *State) IP(b []byte) IPInfo {
	kind, addr := ClassifySourceIP(b)
	return s.lookup(kind, addr)
}

// lookup is IP for an address already classified.
func (s *State) lookup(kind IPKind, addr netip.Addr) IPInfo {
	if kind != IPPublic || (len(s.e.dbs) == 0 && len(s.e.static) == 0) {
		return IPInfo{Kind: kind}
	}
	if info, ok := s.ips[addr]; ok {
		s.stats.CacheHits++
		return info
	}
	s.stats.Lookups++
	info := IPInfo{Kind: kind}
	for _, n := range s.e.static {
		if n.Prefix.Contains(addr) {
			info.ASN, info.ASOrg, info.Country = n.ASN, n.ASOrg, n.Country
			break
		}
	}
	for _, db := range s.e.dbs {
		if err := db.lookup(addr, &info); err != nil {
			s.stats.LookupErrors++
		}
	}
	// A full cache is emptied rather than evicted entry by entry: logs repeat a small set
	// of addresses, so it refills at once, and clear keeps the map's memory.
	if len(s.ips) >= s.e.cacheSize {
		clear(s.ips)
	}
	s.ips[addr] = info
	return info
}

// Enrich computes the enrichment fields of ev and sets ev.Enrichment to them. The value is
// valid until the next call of Enrich on s.
func (s *State) Enrich(ev *event.Event) {
	s.arena.Reset()
	a := &s.arena
	obj := a.NewObject()
	if ip := ev.Str("sourceIPAddress"); len(ip) > 0 {
		kind, addr := ClassifySourceIP(ip)
		info := s.lookup(kind, addr)
		obj.Set(FieldSrcIPKind, a.NewString(info.Kind.String()))
		if info.ASN != 0 {
			obj.Set(FieldSrcASN, a.NewNumberInt(int(info.ASN)))
		}
		if info.ASOrg != "" {
			obj.Set(FieldSrcASOrg, a.NewString(info.ASOrg))
		}
		if info.Country != "" {
			obj.Set(FieldSrcCountry, a.NewString(info.Country))
		}
		if n := s.srcNet(kind, addr, ip); n != "" {
			obj.Set(FieldSrcNet, a.NewString(n))
		}
	}
	if actor := s.actor(ev.Value); actor != "" {
		obj.Set(FieldActor, a.NewString(actor))
		principal, _, _ := strings.Cut(actor, "#")
		obj.Set(FieldPrincipal, a.NewString(principal))
	}
	if t := AccessKeyType(ev.Str("userIdentity", "accessKeyId")); t != "" {
		obj.Set(FieldAccessKeyType, a.NewString(t))
	}
	if f := s.uaFamily(ev.Str("userAgent")); f != "" {
		obj.Set(FieldUserAgentFamily, a.NewString(f))
	}
	if with := s.grants.SharedWith(ev); len(with) > 0 {
		arr := a.NewArray()
		for i, w := range with {
			arr.SetArrayItem(i, a.NewString(w))
		}
		obj.Set(FieldSharedWith, arr)
	}
	ev.Enrichment = obj
}

// actor returns event.Actor(v), cached by the userIdentity fields event.Actor reads: type,
// arn, sessionContext.sessionIssuer.arn, principalId and invokedBy. Keep this list in step
// with event.Actor; TestActorMatchesEvent checks them against each other.
func (s *State) actor(v *fastjson.Value) string {
	ui := v.Get("userIdentity")
	if ui == nil || ui.Type() != fastjson.TypeObject {
		return ""
	}
	k := s.key[:0]
	for _, path := range actorFields {
		k = append(k, ui.GetStringBytes(path...)...)
		k = append(k, 0)
	}
	s.key = k
	if actor, ok := s.actors[string(k)]; ok {
		return actor
	}
	actor := event.Actor(v)
	if len(s.actors) >= s.e.cacheSize {
		clear(s.actors)
	}
	s.actors[string(k)] = actor
	return actor
}

// actorFields are the userIdentity fields event.Actor depends on.
var actorFields = [][]string{
	{"type"}, {"arn"}, {"sessionContext", "sessionIssuer", "arn"}, {"principalId"}, {"invokedBy"},
}

// srcNet returns SourceNet of a sourceIPAddress of kind k, cached per address.
func (s *State) srcNet(k IPKind, addr netip.Addr, ip []byte) string {
	if k != IPPublic {
		return SourceNet(k, nil, ip) // no prefix to compute: nothing to cache
	}
	if n, ok := s.nets[addr]; ok {
		return n
	}
	n := SourceNet(k, &addr, ip)
	if len(s.nets) >= s.e.cacheSize {
		clear(s.nets)
	}
	s.nets[addr] = n
	return n
}

// maxCachedUA is the longest user agent the family cache keeps.
const maxCachedUA = 512

// uaFamily returns UserAgentFamily(ua), cached.
func (s *State) uaFamily(ua []byte) string {
	if f, ok := s.uas[string(ua)]; ok {
		return f
	}
	f := UserAgentFamily(ua)
	if len(ua) <= maxCachedUA {
		if len(s.uas) >= s.e.cacheSize {
			clear(s.uas)
		}
		s.uas[string(ua)] = f
	}
	return f
}
