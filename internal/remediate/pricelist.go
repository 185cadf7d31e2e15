package remediate

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// isPriceList reports whether the start of a file is an AWS Price List bulk offer file: the
// JSON form opens with "formatVersion" (and names an "offerCode"), the CSV form with a
// "FormatVersion" row.
func isPriceList(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return bytes.HasPrefix(h, []byte(`"FormatVersion"`)) || bytes.HasPrefix(h, []byte("FormatVersion,")) ||
		(bytes.HasPrefix(h, []byte("{")) && bytes.Contains(h, []byte(`"offerCode"`)))
}

// offerProduct is what a Price List product says about an EC2 instance offer.
type offerProduct struct {
	family, region, instanceType, tenancy, os, license, software, capacity, operation string
}

// linuxOnDemand reports whether a product is a Linux, shared-tenancy, license-included-free
// instance without pre-installed software: the price trailhound estimates with.
func (o offerProduct) linuxOnDemand() bool {
	return strings.HasPrefix(o.family, "Compute Instance") && o.region != "" && o.instanceType != "" &&
		o.tenancy == "Shared" && o.os == "Linux" && o.license == "No License required" &&
		(o.software == "" || o.software == "NA") && (o.capacity == "" || o.capacity == "Used") &&
		(o.operation == "" || o.operation == "RunInstances")
}

// ParsePriceList reads an AWS Price List bulk offer file of Amazon EC2, as the Price List
// bulk API serves it (offers/v1.0/aws/AmazonEC2/current/[REGION/]index.json or index.csv),
// and returns the hourly on-demand USD price of every instance type per region for Linux,
// shared tenancy, no pre-installed software. The file is read as a stream: the whole-EC2
// offer is gigabytes. Source and AsOf name the offer's version and publication date.
func ParsePriceList(r io.Reader, name string) (*Prices, error) {
	br := newPeeker(r)
	head, _ := br.peek(4096)
	var p *Prices
	var err error
	if bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("{")) {
		p, err = priceListJSON(br, name)
	} else {
		p, err = priceListCSV(br, name)
	}
	if err != nil {
		return nil, err
	}
	if len(p.EC2) == 0 {
		return nil, fmt.Errorf("reading price list %s: no Linux on-demand EC2 instance price in it (is it the AmazonEC2 offer?)", name)
	}
	withDefaults(p.EC2)
	return p, nil
}

// peeker is a reader whose start can be looked at first.
type peeker struct {
	r   io.Reader
	buf []byte
}

func newPeeker(r io.Reader) *peeker { return &peeker{r: r} }

func (p *peeker) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		k, err := p.r.Read(b)
		p.buf = append(p.buf, b[:k]...)
		if err != nil {
			return p.buf, err
		}
	}
	return p.buf[:n], nil
}

func (p *peeker) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// priceListJSON walks the JSON offer with a token decoder: products (kept when a Linux
// on-demand instance) and terms.OnDemand (the hourly USD price of each SKU), in whichever
// order the file has them.
func priceListJSON(r io.Reader, name string) (*Prices, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	fail := func(err error) (*Prices, error) {
		return nil, fmt.Errorf("parsing price list %s at byte %d: %w", name, dec.InputOffset(), err)
	}
	products := map[string]offerProduct{}
	prices := map[string]float64{}
	var version, published string
	if err := expectDelim(dec, '{'); err != nil {
		return fail(err)
	}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return fail(err)
		}
		switch key {
		case "version", "publicationDate":
			var v string
			if err := dec.Decode(&v); err != nil {
				return fail(err)
			}
			if key == "version" {
				version = v
			} else {
				published = v
			}
		case "products":
			err = eachMember(dec, func(sku string) error {
				var pr struct {
					ProductFamily string            `json:"productFamily"`
					Attributes    map[string]string `json:"attributes"`
				}
				if err := dec.Decode(&pr); err != nil {
					return err
				}
				a := pr.Attributes
				o := offerProduct{family: pr.ProductFamily, region: a["regionCode"], instanceType: a["instanceType"], tenancy: a["tenancy"],
					os: a["operatingSystem"], license: a["licenseModel"], software: a["preInstalledSw"], capacity: a["capacitystatus"], operation: a["operation"]}
				if o.linuxOnDemand() {
					products[sku] = o
				}
				return nil
			})
		case "terms":
			err = eachMember(dec, func(term string) error {
				if term != "OnDemand" {
					return skipValue(dec)
				}
				return eachMember(dec, func(sku string) error {
					var offers map[string]struct {
						PriceDimensions map[string]struct {
							Unit         string            `json:"unit"`
							PricePerUnit map[string]string `json:"pricePerUnit"`
						} `json:"priceDimensions"`
					}
					if err := dec.Decode(&offers); err != nil {
						return err
					}
					for _, o := range offers {
						for _, d := range o.PriceDimensions {
							if v, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64); err == nil && d.Unit == "Hrs" && validPrice(v) {
								prices[sku] = v
							}
						}
					}
					return nil
				})
			})
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return fail(err)
		}
	}
	p := &Prices{EC2: map[string]map[string]float64{}, Currency: "USD",
		Source: "AWS Price List bulk file " + name + " (version " + version + ")", AsOf: published}
	for sku, o := range products {
		if v, ok := prices[sku]; ok {
			addPrice(p.EC2, o.instanceType, o.region, v)
		}
	}
	return p, nil
}

// validPrice reports whether v can be an hourly price: positive and finite (a zero price is
// a free tier or a placeholder, not what an instance costs).
func validPrice(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

// addPrice records a price; two offers of one type and region keep the lower (the file
// repeats some under other operations).
func addPrice(ec2 map[string]map[string]float64, typ, region string, v float64) {
	m := ec2[typ]
	if m == nil {
		m = map[string]float64{}
		ec2[typ] = m
	}
	if old, ok := m[region]; !ok || v < old {
		m[region] = v
	}
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, t)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("want an object key, got %v", t)
	}
	return k, nil
}

// eachMember calls fn with the key of every member of the object that comes next; fn reads
// the member's value.
func eachMember(dec *json.Decoder, fn func(key string) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		k, err := objectKey(dec)
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

// skipValue reads past the value that comes next without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// priceListCSV reads the CSV offer: metadata rows (FormatVersion, Publication Date,
// Version…), a header row, then one row per price.
func priceListCSV(r io.Reader, name string) (*Prices, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	p := &Prices{EC2: map[string]map[string]float64{}, Currency: "USD"}
	var version string
	col := map[string]int{}
	row := 0
	for {
		rec, err := cr.Read()
		row++
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing price list %s: %w", name, err)
		}
		if len(col) == 0 {
			switch {
			case len(rec) == 2 && rec[0] == "Publication Date":
				p.AsOf = rec[1]
			case len(rec) == 2 && rec[0] == "Version":
				version = rec[1]
			case len(rec) > 2 && rec[0] == "SKU":
				for i, h := range rec {
					col[h] = i
				}
				for _, need := range []string{"TermType", "Unit", "PricePerUnit", "Currency", "Instance Type", "Product Family", "Tenancy", "Operating System", "License Model", "Region Code"} {
					if _, ok := col[need]; !ok {
						return nil, fmt.Errorf("parsing price list %s:%d: no column %q", name, row, need)
					}
				}
			}
			continue
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if get("TermType") != "OnDemand" || get("Unit") != "Hrs" || get("Currency") != "USD" {
			continue
		}
		o := offerProduct{family: get("Product Family"), region: get("Region Code"), instanceType: get("Instance Type"), tenancy: get("Tenancy"),
			os: get("Operating System"), license: get("License Model"), software: get("Pre Installed S/W"), capacity: get("CapacityStatus"), operation: get("operation")}
		if !o.linuxOnDemand() {
			continue
		}
		v, err := strconv.ParseFloat(get("PricePerUnit"), 64)
		if err != nil || !validPrice(v) {
			continue
		}
		addPrice(p.EC2, o.instanceType, o.region, v)
	}
	if len(col) == 0 {
		return nil, fmt.Errorf("parsing price list %s: no header row (SKU,OfferTermCode,…)", name)
	}
	p.Source = "AWS Price List bulk file " + name + " (version " + version + ")"
	return p, nil
}
