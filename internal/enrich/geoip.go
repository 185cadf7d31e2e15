package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Provides says which enrichment fields a database can fill.
type Provides uint8

// What a database provides; a database may provide both.
const (
	ProvidesASN     Provides = 1 << iota // src_asn and src_as_org
	ProvidesCountry                      // src_country
)

// String returns "ASN", "country" or "ASN+country".
func (p Provides) String() string {
	var parts []string
	if p&ProvidesASN != 0 {
		parts = append(parts, "ASN")
	}
	if p&ProvidesCountry != 0 {
		parts = append(parts, "country")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "+")
}

// countryLayout is where a database keeps the country code.
type countryLayout uint8

const (
	countryNone   countryLayout = iota
	countryNested               // GeoLite2/GeoIP2 Country and City: {"country": {"iso_code": "ID"}}
	countryFlat                 // ip-location-db, ipinfo lite: {"country_code": "ID"}
)

// Database describes one opened MaxMind DB file, for the run summary.
type Database struct {
	// Path is the file as given.
	Path string
	// Type is the metadata's database_type ("GeoLite2-ASN", "ipdb-ASN", "country ipvAll").
	Type string
	// Built is the metadata's build time.
	Built time.Time
	// Networks is the number of networks with data.
	Networks int
	// Provides is what the records hold, found by probing them.
	Provides Provides
}

// String formats the database for the summary: "asn.mmdb (ipdb-ASN, built 2026-06-17,
// 732482 networks)".
func (d Database) String() string {
	return fmt.Sprintf("%s (%s, built %s, %d networks)", d.Path, d.Type, d.Built.UTC().Format(time.DateOnly), d.Networks)
}

// geoDB is an opened database and how to read its records.
type geoDB struct {
	info    Database
	r       *maxminddb.Reader
	asn     bool
	country countryLayout
}

// probeRecords is how many records with data openDB reads to learn the layout.
const probeRecords = 64

// openDB opens path, counts its networks and learns its layout from its first records.
func openDB(path string) (*geoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening GeoIP database %s: %w", path, err)
	}
	db := &geoDB{r: r, info: Database{Path: path, Type: r.Metadata.DatabaseType, Built: r.Metadata.BuildTime()}}
	probed := 0
	for res := range r.Networks() {
		if err := res.Err(); err != nil {
			r.Close()
			return nil, fmt.Errorf("reading GeoIP database %s: %w", path, err)
		}
		db.info.Networks++
		if probed >= probeRecords {
			continue
		}
		probed++
		var rec map[string]any
		if err := res.Decode(&rec); err != nil {
			r.Close()
			return nil, fmt.Errorf("reading GeoIP database %s: record for %s: %w", path, res.Prefix(), err)
		}
		db.learn(rec)
	}
	if db.asn {
		db.info.Provides |= ProvidesASN
	}
	if db.country != countryNone {
		db.info.Provides |= ProvidesCountry
	}
	if db.info.Provides == 0 {
		r.Close()
		if db.info.Networks == 0 {
			return nil, fmt.Errorf("reading GeoIP database %s: it has no records", path)
		}
		return nil, fmt.Errorf("reading GeoIP database %s (type %q): records hold neither autonomous_system_number nor a country (country.iso_code or country_code)", path, db.info.Type)
	}
	return db, nil
}

// learn notes which known fields a record has.
func (db *geoDB) learn(rec map[string]any) {
	if _, ok := rec["autonomous_system_number"]; ok {
		db.asn = true
	}
	for _, k := range []string{"country", "registered_country"} {
		if m, ok := rec[k].(map[string]any); ok {
			if _, ok := m["iso_code"].(string); ok {
				db.country = countryNested
			}
		}
	}
	if _, ok := rec["country_code"].(string); ok && db.country == countryNone {
		db.country = countryFlat
	}
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

type isoCode struct {
	ISOCode string `maxminddb:"iso_code"`
}

type nestedCountryRecord struct {
	Country           isoCode `maxminddb:"country"`
	RegisteredCountry isoCode `maxminddb:"registered_country"`
}

type flatCountryRecord struct {
	CountryCode string `maxminddb:"country_code"`
}

// lookup fills what this database knows about addr into info, leaving fields already set
// alone (the first database given wins).
func (db *geoDB) lookup(addr netip.Addr, info *IPInfo) error {
	res := db.r.Lookup(addr)
	if err := res.Err(); err != nil {
		return err
	}
	if !res.Found() {
		return nil
	}
	if db.asn && info.ASN == 0 {
		var rec asnRecord
		if err := res.Decode(&rec); err != nil {
			return err
		}
		info.ASN, info.ASOrg = rec.Number, rec.Org
	}
	if info.Country != "" {
		return nil
	}
	switch db.country {
	case countryNested:
		var rec nestedCountryRecord
		if err := res.Decode(&rec); err != nil {
			return err
		}
		info.Country = rec.Country.ISOCode
		if info.Country == "" {
			info.Country = rec.RegisteredCountry.ISOCode
		}
	case countryFlat:
		var rec flatCountryRecord
		if err := res.Decode(&rec); err != nil {
			return err
		}
		info.Country = rec.CountryCode
	}
	return nil
}

// closeAll closes every database, joining the errors.
func closeAll(dbs []*geoDB) error {
	var errs []error
	for _, db := range dbs {
		if err := db.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing GeoIP database %s: %w", db.info.Path, err))
		}
	}
	return errors.Join(errs...)
}
