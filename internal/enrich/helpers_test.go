package enrich

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/shareddata"
)

// testBuilt is the build time written into the synthetic databases.
var testBuilt = time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)

// writeMMDB writes a MaxMind DB of the given type with records by network into dir.
func writeMMDB(t testing.TB, dir, name, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		BuildEpoch:              testBuilt.Unix(),
		IncludeReservedNetworks: true, // so the tests can show that trailhound masks them
		RecordSize:              28,
	})
	if err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatalf("parsing %s: %v", cidr, err)
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatalf("inserting %s into %s: %v", cidr, name, err)
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func asnRec(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}

func nestedRec(iso string) mmdbtype.Map {
	return mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("XX")},
		"country":   mmdbtype.Map{"iso_code": mmdbtype.String(iso), "names": mmdbtype.Map{"en": mmdbtype.String("Somewhere")}},
	}
}

func flatRec(iso string) mmdbtype.Map {
	return mmdbtype.Map{"country_code": mmdbtype.String(iso)}
}

// testDBs are the synthetic databases of one test.
type testDBs struct {
	asn, nested, flat, other, empty, garbage string
}

// makeTestDBs builds small databases in the three layouts, IPv4 and IPv6. 203.0.113.0/24
// (documentation) has data on purpose: trailhound must not report it.
func makeTestDBs(t testing.TB) testDBs {
	t.Helper()
	dir := t.TempDir()
	d := testDBs{
		asn: writeMMDB(t, dir, "asn.mmdb", "GeoLite2-ASN", map[string]mmdbtype.Map{
			"140.213.52.0/24": asnRec(24203, "PT XL Axiata"),
			"36.68.0.0/14":    asnRec(7713, "PT Telekomunikasi Indonesia"),
			"54.85.0.0/16":    asnRec(16509, "AMAZON-AES"),
			"2001:4860::/32":  asnRec(15169, "Google LLC"),
			"203.0.113.0/24":  asnRec(64500, "Documentation"),
		}),
		nested: writeMMDB(t, dir, "country-geolite.mmdb", "GeoLite2-Country", map[string]mmdbtype.Map{
			"140.213.52.0/24": nestedRec("ID"),
			"54.85.0.0/16":    nestedRec("US"),
			"2001:4860::/32":  nestedRec("US"),
			"203.0.113.0/24":  nestedRec("AU"),
			// Only the registered country is known.
			"81.2.69.0/24": {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("GB")}},
		}),
		flat: writeMMDB(t, dir, "country-ipdb.mmdb", "country ipvAll", map[string]mmdbtype.Map{
			"140.213.52.0/24": flatRec("ID"),
			"36.68.0.0/14":    flatRec("ID"),
			"2001:4860::/32":  flatRec("US"),
			"203.0.113.0/24":  flatRec("AU"),
		}),
		other: writeMMDB(t, dir, "city-names.mmdb", "Something-Else", map[string]mmdbtype.Map{
			"1.2.3.0/24": {"city": mmdbtype.String("Nowhere")},
		}),
		empty: writeMMDB(t, dir, "empty.mmdb", "GeoLite2-ASN", nil),
	}
	d.garbage = filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(d.garbage, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func mustOpen(t testing.TB, cfg Config) *Enricher {
	t.Helper()
	e, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open(%v): %v", cfg.GeoIP, err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// mustEvent parses one JSON event with a parser of its own, so the event stays valid.
func mustEvent(t testing.TB, js string) *event.Event {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(js)
	if err != nil {
		t.Fatalf("parsing event %s: %v", js, err)
	}
	return &event.Event{Raw: []byte(js), Value: v}
}

// sharedFile returns a file under ../shared, skipping the test when it is absent.
func sharedFile(t testing.TB, rel string) string { return shareddata.Dir(t, rel) }
