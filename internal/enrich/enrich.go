// Package enrich adds what a CloudTrail record does not say outright to each event: the
// normalised principal, the kind of access key and client, and where the source address is
// (its autonomous system and country, from MaxMind DB files). Rules read the results as
// fields under event.EnrichmentKey ("trailhound.src_asn").
//
// An Enricher is opened once (Open), is immutable and safe for concurrent use, and must
// outlive the States taken from it; Close it at the end of the run. Each goroutine takes its
// own State (NewState), which owns the output buffer and a cache of address lookups.
//
// Fields (snake_case; a field is set only when it can be filled):
//
//	src_ip_kind        string  public | private | aws_service | aws_internal | invalid
//	src_asn            number  autonomous system of a public source address (ASN database)
//	src_as_org         string  its organisation (ASN database)
//	src_country        string  ISO 3166-1 alpha-2 country of a public source address (country database)
//	src_net            string  the network of the source address, for baselines per network
//	                           without a database: the /24 of a public IPv4 address, the /48
//	                           of a public IPv6 address ("203.0.113.0/24"), "private" for
//	                           every private or reserved address (a VPC, an endpoint), the
//	                           service host for an AWS service ("ec2.amazonaws.com"),
//	                           "aws_internal"; absent for an invalid address
//	actor              string  the normalised principal (event.Actor): a role session is
//	                           the role's ARN, "#" and the session name
//	principal          string  the actor without the session: the role's IAM ARN for every
//	                           session of the role, else the actor (a user's ARN, a service)
//	access_key_type    string  long_term (AKIA…) | temporary (ASIA…)
//	user_agent_family  string  aws-cli | boto3 | aws-sdk-go | aws-sdk-java | aws-sdk-js |
//	                           terraform | console | browser | aws-service | other
//	shared_with        array   for a request that grants access to a resource (a trust or
//	                           resource policy, a Lambda permission, a snapshot or image
//	                           shared, an S3 ACL): who outside the resource's account gets
//	                           it — account IDs other than recipientAccountId, and "public"
//	                           (a wildcard principal no condition narrows, AllUsers, "all");
//	                           absent when the grant stays inside the account or goes to
//	                           AWS services (see grants.go for the requests read)
//
// Private, reserved and documentation addresses are never looked up: public databases map
// some of them to countries.
package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/trailhound/trailhound/internal/event"
)

// EnvGeoIP is the environment variable with a list of .mmdb paths, separated like PATH.
const EnvGeoIP = "TRAILHOUND_GEOIP"

// The enrichment field names, as rules write them after "trailhound.".
const (
	FieldSrcIPKind       = "src_ip_kind"
	FieldSrcASN          = "src_asn"
	FieldSrcASOrg        = "src_as_org"
	FieldSrcCountry      = "src_country"
	FieldSrcNet          = "src_net"
	FieldActor           = "actor"
	FieldPrincipal       = "principal"
	FieldAccessKeyType   = "access_key_type"
	FieldUserAgentFamily = "user_agent_family"
	FieldSharedWith      = "shared_with"
)

// fieldNeeds says which kind of database each field needs (0: none).
var fieldNeeds = map[string]Provides{
	FieldSrcIPKind:       0,
	FieldSrcASN:          ProvidesASN,
	FieldSrcASOrg:        ProvidesASN,
	FieldSrcCountry:      ProvidesCountry,
	FieldSrcNet:          0,
	FieldActor:           0,
	FieldPrincipal:       0,
	FieldAccessKeyType:   0,
	FieldUserAgentFamily: 0,
	FieldSharedWith:      0,
}

// DefaultCacheSize is the number of addresses a State remembers when Config.CacheSize is 0.
const DefaultCacheSize = 16384

// Config configures an Enricher. The zero value enriches without databases.
type Config struct {
	// GeoIP are MaxMind DB files: ASN and/or country databases, in any mix of the layouts
	// GeoLite2-ASN, GeoLite2/GeoIP2-Country/City and ip-location-db. When several provide a
	// field, the first that has a value for an address wins.
	GeoIP []string
	// CacheSize is how many addresses each State remembers; 0 means DefaultCacheSize.
	CacheSize int
	// Static are networks with known ASN and country, consulted before the databases:
	// fixtures for rule tests, or a user's own allocations. The first network that
	// contains an address gives its fields.
	Static []StaticNetwork
}

// StaticNetwork is one network of Config.Static.
type StaticNetwork struct {
	Prefix  netip.Prefix
	ASN     uint32
	ASOrg   string
	Country string
}

// GeoIPPaths returns the databases to open: the --geoip flags when any are given, else the
// paths listed in env (the value of EnvGeoIP), empty entries dropped.
func GeoIPPaths(flags []string, env string) []string {
	if len(flags) > 0 {
		return flags
	}
	var out []string
	for _, p := range filepath.SplitList(env) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Enricher holds the opened databases. It is immutable and safe for concurrent use.
type Enricher struct {
	static    []StaticNetwork
	dbs       []*geoDB
	provides  Provides
	cacheSize int
}

// Open opens every database of cfg.GeoIP. All failures are returned together, and then no
// database is left open.
func Open(cfg Config) (*Enricher, error) {
	e := &Enricher{cacheSize: cfg.CacheSize, static: cfg.Static}
	for _, n := range cfg.Static {
		if n.ASN != 0 {
			e.provides |= ProvidesASN
		}
		if n.Country != "" {
			e.provides |= ProvidesCountry
		}
	}
	if e.cacheSize <= 0 {
		e.cacheSize = DefaultCacheSize
	}
	var errs []error
	for _, p := range cfg.GeoIP {
		db, err := openDB(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.dbs = append(e.dbs, db)
		e.provides |= db.info.Provides
	}
	if len(errs) > 0 {
		return nil, errors.Join(append(errs, closeAll(e.dbs))...)
	}
	return e, nil
}

// Close closes the databases. No State of e may be used afterwards.
func (e *Enricher) Close() error {
	return closeAll(e.dbs)
}

// Databases describes the opened databases, in the order given.
func (e *Enricher) Databases() []Database {
	out := make([]Database, len(e.dbs))
	for i, db := range e.dbs {
		out[i] = db.info
	}
	return out
}

// Provides reports which kinds of database are open.
func (e *Enricher) Provides() Provides { return e.provides }

// Summary is the line for the run summary, e.g.
// "enrichment: ASN db asn.mmdb (ipdb-ASN, built 2026-06-17, 732482 networks), country db …",
// saying which fields are off when a kind of database is missing.
func (e *Enricher) Summary() string {
	var parts []string
	if len(e.static) > 0 {
		parts = append(parts, fmt.Sprintf("%d static networks", len(e.static)))
	}
	for _, db := range e.dbs {
		parts = append(parts, db.info.Provides.String()+" db "+db.info.String())
	}
	if e.provides&ProvidesASN == 0 {
		parts = append(parts, "no ASN db ("+FieldSrcASN+", "+FieldSrcASOrg+" unavailable)")
	}
	if e.provides&ProvidesCountry == 0 {
		parts = append(parts, "no country db ("+FieldSrcCountry+" unavailable)")
	}
	return "enrichment: " + strings.Join(parts, ", ")
}

// Unavailable is a field a rule reads that enrichment will never fill in this run.
type Unavailable struct {
	// Field is the dotted name as the rule wrote it ("trailhound.src_asn").
	Field string
	// Reason says why, for the summary.
	Reason string
}

// Unavailable returns, sorted by field, the enrichment fields among fields (dotted names,
// as detect.Engine.Fields returns them) that no event will have in this run: fields whose
// database was not given, and names that are not enrichment fields at all. Rules that read
// them should be reported as inactive rather than silently never matching.
func (e *Enricher) Unavailable(fields []string) []Unavailable {
	var out []Unavailable
	for _, f := range fields {
		name, ok := strings.CutPrefix(f, event.EnrichmentKey+".")
		if !ok {
			if f == event.EnrichmentKey {
				out = append(out, Unavailable{f, "not an enrichment field (use " + event.EnrichmentKey + ".<name>)"})
			}
			continue
		}
		needs, known := fieldNeeds[name]
		switch {
		case !known:
			out = append(out, Unavailable{f, "unknown enrichment field (known: " + strings.Join(fieldNames(), ", ") + ")"})
		case needs&ProvidesASN != 0 && e.provides&ProvidesASN == 0:
			out = append(out, Unavailable{f, "no ASN database (give --geoip FILE or " + EnvGeoIP + ")"})
		case needs&ProvidesCountry != 0 && e.provides&ProvidesCountry == 0:
			out = append(out, Unavailable{f, "no country database (give --geoip FILE or " + EnvGeoIP + ")"})
		}
	}
	slices.SortFunc(out, func(a, b Unavailable) int { return strings.Compare(a.Field, b.Field) })
	return out
}

func fieldNames() []string {
	names := make([]string, 0, len(fieldNeeds))
	for n := range fieldNeeds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// String formats u as "trailhound.src_asn: no ASN database (…)".
func (u Unavailable) String() string { return fmt.Sprintf("%s: %s", u.Field, u.Reason) }
