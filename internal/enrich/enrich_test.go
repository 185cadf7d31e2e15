package enrich

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/sigma"
)

func TestOpenDetectsLayouts(t *testing.T) {
	d := makeTestDBs(t)
	cases := []struct {
		path, typ string
		provides  Provides
		networks  int
	}{
		{d.asn, "GeoLite2-ASN", ProvidesASN, 5},
		{d.nested, "GeoLite2-Country", ProvidesCountry, 5},
		{d.flat, "country ipvAll", ProvidesCountry, 4},
	}
	for _, tc := range cases {
		e := mustOpen(t, Config{GeoIP: []string{tc.path}})
		want := []Database{{Path: tc.path, Type: tc.typ, Built: testBuilt, Networks: tc.networks, Provides: tc.provides}}
		if diff := cmp.Diff(want, e.Databases(), cmp.Comparer(func(a, b Database) bool {
			return a.Path == b.Path && a.Type == b.Type && a.Built.Equal(b.Built) && a.Networks == b.Networks && a.Provides == b.Provides
		})); diff != "" {
			t.Errorf("Databases (-want +got):\n%s", diff)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	d := makeTestDBs(t)
	cases := []struct {
		name  string
		paths []string
		want  []string // substrings of the error
	}{
		{"unknown layout", []string{d.other}, []string{d.other, `type "Something-Else"`, "neither autonomous_system_number nor a country"}},
		{"empty", []string{d.empty}, []string{d.empty, "it has no records"}},
		{"not a database", []string{d.garbage}, []string{"opening GeoIP database " + d.garbage}},
		{"missing", []string{d.asn, "/nonexistent.mmdb"}, []string{"opening GeoIP database /nonexistent.mmdb"}},
		{"all reported", []string{d.garbage, d.empty}, []string{d.garbage, d.empty}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Open(Config{GeoIP: tc.paths})
			if err == nil {
				e.Close()
				t.Fatalf("Open(%v): got no error", tc.paths)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open(%v): error %q does not contain %q", tc.paths, err, w)
				}
			}
		})
	}
}

func TestStateIP(t *testing.T) {
	d := makeTestDBs(t)
	type dbSet struct {
		name  string
		paths []string
	}
	sets := []dbSet{
		{"geolite", []string{d.asn, d.nested}},
		{"ipdb", []string{d.flat, d.asn}},
	}
	cases := []struct {
		ip   string
		want map[string]IPInfo // by db set; a missing set means want[""].
	}{
		{"140.213.52.7", map[string]IPInfo{"": {Kind: IPPublic, ASN: 24203, ASOrg: "PT XL Axiata", Country: "ID"}}},
		{"140.213.052.007", map[string]IPInfo{"": {Kind: IPPublic, ASN: 24203, ASOrg: "PT XL Axiata", Country: "ID"}}},
		{"::ffff:140.213.52.7", map[string]IPInfo{"": {Kind: IPPublic, ASN: 24203, ASOrg: "PT XL Axiata", Country: "ID"}}},
		{"36.68.1.1", map[string]IPInfo{
			"geolite": {Kind: IPPublic, ASN: 7713, ASOrg: "PT Telekomunikasi Indonesia"},
			"ipdb":    {Kind: IPPublic, ASN: 7713, ASOrg: "PT Telekomunikasi Indonesia", Country: "ID"},
		}},
		{"2001:4860:4860::8888", map[string]IPInfo{"": {Kind: IPPublic, ASN: 15169, ASOrg: "Google LLC", Country: "US"}}},
		{"81.2.69.160", map[string]IPInfo{
			"geolite": {Kind: IPPublic, Country: "GB"}, // registered_country only
			"ipdb":    {Kind: IPPublic},
		}},
		{"8.8.8.8", map[string]IPInfo{"": {Kind: IPPublic}}},
		{"203.0.113.5", map[string]IPInfo{"": {Kind: IPPrivate}}}, // the databases have data; masked
		{"10.0.0.1", map[string]IPInfo{"": {Kind: IPPrivate}}},
		{"ecs.amazonaws.com", map[string]IPInfo{"": {Kind: IPAWSService}}},
		{"AWS Internal", map[string]IPInfo{"": {Kind: IPAWSInternal}}},
		{"nonsense", map[string]IPInfo{"": {Kind: IPInvalid}}},
	}
	for _, set := range sets {
		s := mustOpen(t, Config{GeoIP: set.paths}).NewState()
		for pass := range 2 { // the second pass is answered from the cache
			for _, tc := range cases {
				want, ok := tc.want[set.name]
				if !ok {
					want = tc.want[""]
				}
				if got := s.IP([]byte(tc.ip)); got != want {
					t.Errorf("%s pass %d: IP(%q): got %+v, want %+v", set.name, pass, tc.ip, got, want)
				}
			}
		}
		st := s.Stats()
		// 5 distinct public addresses (three spellings of 140.213.52.7), 7 public values per pass.
		if st.Lookups != 5 || st.CacheHits != 9 || st.LookupErrors != 0 {
			t.Errorf("%s: stats %+v, want 5 lookups, 9 cache hits", set.name, st)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	d := makeTestDBs(t)
	s := mustOpen(t, Config{GeoIP: []string{d.asn}, CacheSize: 2}).NewState()
	for _, ip := range []string{"140.213.52.1", "140.213.52.2", "140.213.52.3", "140.213.52.3"} {
		if got := s.IP([]byte(ip)); got.ASN != 24203 {
			t.Errorf("IP(%s): got ASN %d, want 24203", ip, got.ASN)
		}
		if len(s.ips) > 2 {
			t.Fatalf("cache holds %d entries, limit 2", len(s.ips))
		}
	}
	if st := s.Stats(); st.Lookups != 3 || st.CacheHits != 1 {
		t.Errorf("stats %+v, want 3 lookups and 1 hit", st)
	}
}

func TestEnrich(t *testing.T) {
	d := makeTestDBs(t)
	e := mustOpen(t, Config{GeoIP: []string{d.asn, d.flat}})
	cases := []struct {
		name, event, want string
	}{
		{
			name: "leaked key from an attacker network",
			event: `{"eventName":"CreateUser","sourceIPAddress":"140.213.52.7","userAgent":"aws-cli/2.13.5 Python/3.11.4",
				"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dev","principalId":"AIDAX","accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}`,
			want: `{"src_ip_kind":"public","src_asn":24203,"src_as_org":"PT XL Axiata","src_country":"ID","src_net":"140.213.52.0/24",
				"actor":"arn:aws:iam::123456789012:user/dev","principal":"arn:aws:iam::123456789012:user/dev","access_key_type":"long_term","user_agent_family":"aws-cli"}`,
		},
		{
			name: "assumed role from a private address",
			event: `{"sourceIPAddress":"10.0.0.5","userAgent":"Boto3/1.28.0 Botocore/1.31.0",
				"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s1","accessKeyId":"ASIAY34FZKBOKMUTVV7A",
				"sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/R"}}}}`,
			want: `{"src_ip_kind":"private","src_net":"private","actor":"arn:aws:iam::1:role/R#s1","principal":"arn:aws:iam::1:role/R",
				"access_key_type":"temporary","user_agent_family":"boto3"}`,
		},
		{
			name:  "service",
			event: `{"sourceIPAddress":"ecs.amazonaws.com","userAgent":"ecs.amazonaws.com","userIdentity":{"type":"AWSService","invokedBy":"ecs.amazonaws.com"}}`,
			want:  `{"src_ip_kind":"aws_service","src_net":"ecs.amazonaws.com","actor":"ecs.amazonaws.com","principal":"ecs.amazonaws.com","user_agent_family":"aws-service"}`,
		},
		{
			name:  "console login, address without data, escaped organisation",
			event: `{"sourceIPAddress":"8.8.8.8","userAgent":"Mozilla/5.0 (X11)","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}`,
			want:  `{"src_ip_kind":"public","src_net":"8.8.8.0/24","actor":"arn:aws:iam::1:root","principal":"arn:aws:iam::1:root","user_agent_family":"browser"}`,
		},
		{
			name: "IPv6 address, AWS Internal, a role session of a role with a path",
			event: `{"sourceIPAddress":"2600:1f18:aaaa:bbbb::5","userIdentity":{"type":"AssumedRole",
				"arn":"arn:aws:sts::1:assumed-role/R/i-0abc","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/svc/R"}}}}`,
			want: `{"src_ip_kind":"public","src_net":"2600:1f18:aaaa::/48","actor":"arn:aws:iam::1:role/svc/R#i-0abc","principal":"arn:aws:iam::1:role/svc/R"}`,
		},
		{
			name:  "AWS Internal and an invalid address",
			event: `{"sourceIPAddress":"AWS Internal","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}`,
			want:  `{"src_ip_kind":"aws_internal","src_net":"aws_internal","actor":"arn:aws:iam::1:user/u","principal":"arn:aws:iam::1:user/u"}`,
		},
		{
			name:  "an invalid address has no network",
			event: `{"sourceIPAddress":"not an address"}`,
			want:  `{"src_ip_kind":"invalid"}`,
		},
		{
			name:  "nothing to say",
			event: `{"eventName":"X"}`,
			want:  `{}`,
		},
	}
	s := e.NewState()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustEvent(t, tc.event)
			s.Enrich(ev)
			if ev.Enrichment == nil {
				t.Fatal("Enrichment not set")
			}
			var got, want any
			if err := json.Unmarshal([]byte(ev.Enrichment.String()), &got); err != nil {
				t.Fatalf("enrichment %s is not JSON: %v", ev.Enrichment, err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("enrichment (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnrichLookup checks that rules reach the fields the way detect reads them:
// Event.Lookup on "trailhound.<name>", and a compiled Sigma rule.
func TestEnrichLookup(t *testing.T) {
	d := makeTestDBs(t)
	s := mustOpen(t, Config{GeoIP: []string{d.asn, d.nested}}).NewState()
	ev := mustEvent(t, `{"eventName":"RunInstances","sourceIPAddress":"140.213.52.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u","accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}`)
	s.Enrich(ev)

	var asn int
	found := ev.Lookup([]string{event.EnrichmentKey, FieldSrcASN}, func(v *fastjson.Value) bool {
		if v.Type() != fastjson.TypeNumber {
			t.Errorf("src_asn: got %s, want a number", v.Type())
		}
		asn = v.GetInt()
		return true
	})
	if !found || asn != 24203 {
		t.Errorf("Lookup trailhound.src_asn: got %d (found %v), want 24203", asn, found)
	}

	const rule = `title: t
id: 00000000-0000-0000-0000-000000000001
logsource:
  product: aws
  service: cloudtrail
detection:
  sel:
    eventName: RunInstances
    trailhound.src_asn: [7713, 24203]
    trailhound.src_country: id
    trailhound.access_key_type: long_term
  condition: sel
`
	f, err := sigma.Parse("rule.yml", []byte(rule))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detect.Compile(f.Rules, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	matched := false
	eng.NewMatcher().Match(ev, func(*detect.Rule) { matched = true })
	if !matched {
		t.Errorf("rule on trailhound.* fields did not match %s with enrichment %s", ev.Raw, ev.Enrichment)
	}
	if diff := cmp.Diff([]string{"eventName", "trailhound.access_key_type", "trailhound.src_asn", "trailhound.src_country"}, eng.Fields()); diff != "" {
		t.Errorf("Engine.Fields (-want +got):\n%s", diff)
	}
}

func TestUnavailable(t *testing.T) {
	d := makeTestDBs(t)
	fields := []string{"eventName", "trailhound.src_country", "trailhound.src_asn", "trailhound.src_as_org", "trailhound.actor", "trailhound.asn", "trailhound"}
	const known = "known: access_key_type, actor, principal, shared_with, src_as_org, src_asn, src_country, src_ip_kind, src_net, user_agent_family"
	cases := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"no databases", nil, []string{
			"trailhound: not an enrichment field (use trailhound.<name>)",
			"trailhound.asn: unknown enrichment field (" + known + ")",
			"trailhound.src_as_org: no ASN database (give --geoip FILE or TRAILHOUND_GEOIP)",
			"trailhound.src_asn: no ASN database (give --geoip FILE or TRAILHOUND_GEOIP)",
			"trailhound.src_country: no country database (give --geoip FILE or TRAILHOUND_GEOIP)",
		}},
		{"asn only", []string{d.asn}, []string{
			"trailhound: not an enrichment field (use trailhound.<name>)",
			"trailhound.asn: unknown enrichment field (" + known + ")",
			"trailhound.src_country: no country database (give --geoip FILE or TRAILHOUND_GEOIP)",
		}},
		{"both", []string{d.asn, d.flat}, []string{
			"trailhound: not an enrichment field (use trailhound.<name>)",
			"trailhound.asn: unknown enrichment field (" + known + ")",
		}},
	}
	for _, tc := range cases {
		e := mustOpen(t, Config{GeoIP: tc.paths})
		var got []string
		for _, u := range e.Unavailable(fields) {
			got = append(got, u.String())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: Unavailable (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestSummary(t *testing.T) {
	d := makeTestDBs(t)
	cases := []struct {
		paths []string
		want  string
	}{
		{nil, "enrichment: no ASN db (src_asn, src_as_org unavailable), no country db (src_country unavailable)"},
		{[]string{d.asn, d.flat}, "enrichment: ASN db " + d.asn + " (GeoLite2-ASN, built 2026-06-17, 5 networks), country db " + d.flat + " (country ipvAll, built 2026-06-17, 4 networks)"},
		{[]string{d.nested}, "enrichment: country db " + d.nested + " (GeoLite2-Country, built 2026-06-17, 5 networks), no ASN db (src_asn, src_as_org unavailable)"},
	}
	for _, tc := range cases {
		if got := mustOpen(t, Config{GeoIP: tc.paths}).Summary(); got != tc.want {
			t.Errorf("Summary(%v):\ngot  %s\nwant %s", tc.paths, got, tc.want)
		}
	}
}

func TestGeoIPPaths(t *testing.T) {
	cases := []struct {
		flags []string
		env   string
		want  []string
	}{
		{nil, "", nil},
		{nil, "/a.mmdb:/b.mmdb", []string{"/a.mmdb", "/b.mmdb"}},
		{nil, ":/a.mmdb: :", []string{"/a.mmdb"}},
		{[]string{"/c.mmdb"}, "/a.mmdb", []string{"/c.mmdb"}},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, GeoIPPaths(tc.flags, tc.env)); diff != "" {
			t.Errorf("GeoIPPaths(%q, %q) (-want +got):\n%s", tc.flags, tc.env, diff)
		}
	}
}

// TestActorMatchesEvent checks the cached actor against event.Actor for identity shapes,
// twice each, so a cache key that misses a field event.Actor reads shows up.
func TestActorMatchesEvent(t *testing.T) {
	identities := []string{
		`{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","principalId":"AIDA1"}`,
		`{"type":"IAMUser","arn":"arn:aws:iam::1:user/b","principalId":"AIDA1"}`,
		`{"type":"Root","arn":"arn:aws:iam::1:root"}`,
		`{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s1","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/path/R"}}}`,
		`{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s1"}`,
		`{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s2"}`,
		`{"type":"AWSService","invokedBy":"ecs.amazonaws.com"}`,
		`{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}`,
		`{"type":"AWSAccount","principalId":"AIDAX:abc"}`,
		`{"principalId":"AIDAX:abc"}`,
		`{"type":"Unknown"}`,
		`{}`,
		`"not an object"`,
	}
	s := mustOpen(t, Config{}).NewState()
	for range 2 {
		for _, ui := range identities {
			ev := mustEvent(t, `{"userIdentity":`+ui+`}`)
			if got, want := s.actor(ev.Value), event.Actor(ev.Value); got != want {
				t.Errorf("actor of %s: got %q, want %q", ui, got, want)
			}
		}
	}
}
