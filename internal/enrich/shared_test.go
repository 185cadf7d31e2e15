package enrich

import (
	"github.com/google/go-cmp/cmp"
	"os"
	"path/filepath"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/event"
)

// TestSharedDatabases checks the spot checks of ../shared/data/geoip/README.md against the
// real databases (ip-location-db layouts).
func TestSharedDatabases(t *testing.T) {
	asn := sharedFile(t, filepath.Join("data", "geoip", "asn.mmdb"))
	country := sharedFile(t, filepath.Join("data", "geoip", "country.mmdb"))
	e := mustOpen(t, Config{GeoIP: []string{asn, country}})
	dbs := e.Databases()
	if len(dbs) != 2 || dbs[0].Provides != ProvidesASN || dbs[1].Provides != ProvidesCountry {
		t.Fatalf("Databases: got %+v, want an ASN then a country database", dbs)
	}
	for _, db := range dbs {
		if db.Networks < 100000 || db.Built.Year() < 2026 {
			t.Errorf("database %s: got %d networks built %s, want a full 2026 database", db.Path, db.Networks, db.Built)
		}
	}
	t.Log(e.Summary())
	s := e.NewState()
	cases := []struct {
		ip   string
		want IPInfo
	}{
		{"140.213.52.7", IPInfo{Kind: IPPublic, ASN: 24203, ASOrg: "PT XL Axiata", Country: "ID"}},
		{"36.68.1.1", IPInfo{Kind: IPPublic, ASN: 7713, ASOrg: "PT Telekomunikasi Indonesia", Country: "ID"}},
		{"54.85.1.1", IPInfo{Kind: IPPublic, ASN: 16509, ASOrg: "Amazon.com, Inc.", Country: "US"}},
		{"86.12.1.1", IPInfo{Kind: IPPublic, ASN: 5089, ASOrg: "Virgin Media Limited", Country: "GB"}},
		{"203.0.113.7", IPInfo{Kind: IPPrivate}}, // the data maps it to AU
		{"192.168.1.1", IPInfo{Kind: IPPrivate}},
	}
	for _, tc := range cases {
		got := s.IP([]byte(tc.ip))
		// Organisation names change between data releases; the number and country are the check.
		if got.Kind != tc.want.Kind || got.ASN != tc.want.ASN || got.Country != tc.want.Country || (tc.want.ASN != 0 && got.ASOrg == "") {
			t.Errorf("IP(%s): got %+v, want %+v", tc.ip, got, tc.want)
		}
	}
}

// TestSharedEvents enriches the Stratus Red Team detonation logs (real CloudTrail shapes):
// every event gets a valid enrichment and the cached actor agrees with event.Actor.
func TestSharedEvents(t *testing.T) {
	dir := sharedFile(t, filepath.Join("data", "cloudtrail", "stratus-red-team-detonation-logs"))
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("skipping: no JSON files in %s", dir)
	}
	s := mustOpen(t, Config{}).NewState()
	kinds := map[string]int{}
	// The detonations that share a resource with an account of the attacker's, or with
	// anyone; no other event of the set grants anything outside its account.
	wantShared := map[string][]string{
		"aws.exfiltration.ec2-share-ami.json":           {"846424999548"},
		"aws.exfiltration.ec2-share-ebs-snapshot.json":  {"098797384747"},
		"aws.exfiltration.rds-share-snapshot.json":      {"503161813013"},
		"aws.persistence.iam-backdoor-role.json":        {"193672423079"},
		"aws.persistence.iam-create-backdoor-role.json": {"193672423079"},
		"aws.persistence.lambda-backdoor-function.json": {GranteePublic},
	}
	gotShared := map[string][]string{}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := fastjson.ParseBytes(data)
		if err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		evs := []*fastjson.Value{v}
		if v.Type() == fastjson.TypeArray {
			evs, _ = v.Array()
		}
		for _, ev := range evs {
			e := &event.Event{Value: ev}
			s.Enrich(e)
			n++
			if got, want := string(e.Enrichment.GetStringBytes(FieldActor)), event.Actor(ev); got != want {
				t.Errorf("%s: actor %q, event.Actor %q", f, got, want)
			}
			kinds[string(e.Enrichment.GetStringBytes(FieldSrcIPKind))]++
			for _, w := range e.Enrichment.GetArray(FieldSharedWith) {
				gotShared[filepath.Base(f)] = append(gotShared[filepath.Base(f)], string(w.GetStringBytes()))
			}
		}
	}
	if diff := cmp.Diff(wantShared, gotShared); diff != "" {
		t.Errorf("shared_with per detonation (-want +got):\n%s", diff)
	}
	t.Logf("%d events, source kinds %v", n, kinds)
	if kinds["public"] == 0 {
		t.Errorf("no public source address among %d events: %v", n, kinds)
	}
}
