// Package remediate turns the resources of an incident into what a responder acts on: an
// estimate of what the attacker's infrastructure costs per hour, and a cleanup plan written
// as a reviewable shell script of AWS CLI commands. Nothing here calls AWS or runs the plan.
package remediate

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DefaultRegion is the key of a price that applies to every region a table does not list.
const DefaultRegion = "default"

//go:embed prices.json
var defaultPricesJSON string

// ec2PricesCSV is every EC2 instance type's Linux on-demand price per region, generated from
// the ec2instances.info data set (github.com/cristim/ec2-instances-info) by
// TestEC2PriceData -update; its header says from which version and of what date.
//
//go:embed ec2_prices.csv
var ec2PricesCSV string

// Prices is a price table: on-demand USD prices per hour for Fargate and EC2 by region. The
// file format is the JSON of this type (see prices.json). A Prices value is not modified
// after it is built and is safe for concurrent use.
type Prices struct {
	// Estimate, Source and AsOf say what the prices are and where they come from; they are
	// repeated in every cost report.
	Estimate string `json:"estimate,omitempty"`
	Source   string `json:"source,omitempty"`
	AsOf     string `json:"as_of,omitempty"`
	Currency string `json:"currency,omitempty"`
	// Fargate maps a region (or DefaultRegion) to the Linux/x86 prices there.
	Fargate map[string]FargatePrice `json:"fargate,omitempty"`
	// EC2 maps an instance type to its hourly price per region (or DefaultRegion).
	EC2 map[string]map[string]float64 `json:"ec2,omitempty"`
}

// FargatePrice is the Fargate price in one region.
type FargatePrice struct {
	VCPUHour float64 `json:"vcpu_hour"`
	GBHour   float64 `json:"gb_hour"`
}

// DefaultPrices returns the price table shipped with trailhound: EC2 prices of every
// instance type and region from the ec2instances.info data set (ec2_prices.csv), Fargate
// rates per region from a small dated table (prices.json).
func DefaultPrices() (*Prices, error) {
	p, err := ParsePrices(strings.NewReader(defaultPricesJSON), "prices.json (built in)")
	if err != nil {
		return nil, err
	}
	ec2, err := parseEC2CSV(strings.NewReader(ec2PricesCSV), "ec2_prices.csv (built in)")
	if err != nil {
		return nil, err
	}
	p.EC2 = ec2.EC2
	p.Source = "EC2: " + ec2.Source + "; " + p.Source
	p.AsOf = "EC2 " + ec2.AsOf + ", " + p.AsOf
	return p, nil
}

// LoadPrices returns the built-in table with the prices of the file at path merged over it
// (the --prices flag): a table in the JSON format of Prices, or an AWS Price List bulk
// offer file of Amazon EC2, JSON or CSV (see ParsePriceList).
func LoadPrices(path string) (*Prices, error) {
	def, err := DefaultPrices()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading prices: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(4096)
	var user *Prices
	if isPriceList(head) {
		user, err = ParsePriceList(br, path)
	} else {
		user, err = ParsePrices(br, path)
	}
	if err != nil {
		return nil, err
	}
	return def.Merge(user), nil
}

// parseEC2CSV reads the generated EC2 table: "# source: …" and "# as_of: …" comment lines,
// a header, then instance_type,region,usd_per_hour rows. The us-east-1 price of a type is
// also its default (for a region the data lacks).
func parseEC2CSV(r io.Reader, name string) (*Prices, error) {
	p := &Prices{EC2: map[string]map[string]float64{}}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, "# source: "); ok {
			p.Source = v
		}
		if v, ok := strings.CutPrefix(l, "# as_of: "); ok {
			p.AsOf = v
		}
		if strings.HasPrefix(l, "#") || l == "" || strings.HasPrefix(l, "instance_type,") {
			continue
		}
		f := strings.Split(l, ",")
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want instance_type,region,usd_per_hour", name, line)
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("%s:%d: bad price %q", name, line, f[2])
		}
		m := p.EC2[f[0]]
		if m == nil {
			m = map[string]float64{}
			p.EC2[f[0]] = m
		}
		m[f[1]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	withDefaults(p.EC2)
	return p, nil
}

// withDefaults gives every type without a default price its us-east-1 price, or else that
// of the first region in name order: the price used, and said so, for a region not listed.
func withDefaults(ec2 map[string]map[string]float64) {
	for _, m := range ec2 {
		if _, ok := m[DefaultRegion]; ok || len(m) == 0 {
			continue
		}
		if v, ok := m["us-east-1"]; ok {
			m[DefaultRegion] = v
			continue
		}
		m[DefaultRegion] = m[slices.Min(slices.Collect(maps.Keys(m)))]
	}
}

// ParsePrices reads a price table in the JSON format of Prices; name is used in errors.
// Unknown fields are errors (a misspelt key would otherwise be silently ignored), and so are
// negative or non-finite prices; all of them are reported, sorted.
func ParsePrices(r io.Reader, name string) (*Prices, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading prices %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Prices
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parsing prices %s: %w", name, err)
	}
	var errs []string
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	for region, fp := range p.Fargate {
		if bad(fp.VCPUHour) || bad(fp.GBHour) {
			errs = append(errs, fmt.Sprintf("%s: fargate.%s: prices must be finite and not negative", name, region))
		}
	}
	for typ, byRegion := range p.EC2 {
		for region, v := range byRegion {
			if bad(v) {
				errs = append(errs, fmt.Sprintf("%s: ec2.%s.%s: price must be finite and not negative", name, typ, region))
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, fmt.Errorf("validating prices: %w", errors.New(strings.Join(errs, "\n")))
	}
	return &p, nil
}

// Merge returns a new table: p with every price of over replacing or adding to it (per
// Fargate region, per EC2 type and region), and over's Estimate, Source, AsOf and Currency
// when set. Neither p nor over is modified.
func (p *Prices) Merge(over *Prices) *Prices {
	out := &Prices{Estimate: p.Estimate, Source: p.Source, AsOf: p.AsOf, Currency: p.Currency,
		Fargate: map[string]FargatePrice{}, EC2: map[string]map[string]float64{}}
	for _, src := range []*Prices{p, over} {
		if src == nil {
			continue
		}
		if src != p {
			if src.Estimate != "" {
				out.Estimate = src.Estimate
			}
			if src.Source != "" {
				// Keep the provenance of both tables: the user's prices win where given.
				out.Source = src.Source + "; otherwise " + out.Source
			}
			if src.AsOf != "" {
				out.AsOf = src.AsOf + " (overrides); " + out.AsOf + " (built in)"
			}
			if src.Currency != "" {
				out.Currency = src.Currency
			}
		}
		for region, fp := range src.Fargate {
			out.Fargate[region] = fp
		}
		for typ, byRegion := range src.EC2 {
			m := out.EC2[typ]
			if m == nil {
				m = map[string]float64{}
				out.EC2[typ] = m
			}
			for region, v := range byRegion {
				m[region] = v
			}
		}
	}
	return out
}

// fargate returns the Fargate price of a region and whether it is the default price.
func (p *Prices) fargate(region string) (FargatePrice, bool, bool) {
	if fp, ok := p.Fargate[region]; ok {
		return fp, false, true
	}
	fp, ok := p.Fargate[DefaultRegion]
	return fp, true, ok
}

// ec2 returns the hourly price of an instance type in a region and whether it is the type's
// default price.
func (p *Prices) ec2(typ, region string) (float64, bool, bool) {
	byRegion := p.EC2[typ]
	if v, ok := byRegion[region]; ok {
		return v, false, true
	}
	v, ok := byRegion[DefaultRegion]
	return v, true, ok
}
