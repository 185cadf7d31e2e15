package remediate

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParsePriceList: both forms of an AWS Price List bulk offer of Amazon EC2 give the
// Linux, shared-tenancy on-demand hourly prices, and nothing else (no Windows, dedicated,
// reserved, capacity-reservation or storage price), with the offer's version and date.
func TestParsePriceList(t *testing.T) {
	want := map[string]map[string]float64{
		"r6i.metal": {"us-west-1": 9, DefaultRegion: 9},
		"c5.metal":  {"eu-north-1": 3.888, DefaultRegion: 3.888},
	}
	for _, name := range []string{"pricelist.json", "pricelist.csv"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !isPriceList(data) {
				t.Fatalf("%s is not recognised as a price list", name)
			}
			p, err := ParsePriceList(bytes.NewReader(data), path)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, p.EC2); d != "" {
				t.Errorf("prices (-want +got):\n%s", d)
			}
			if p.AsOf != "2025-11-21T22:17:12Z" || !strings.Contains(p.Source, "version 20251121221712") {
				t.Errorf("as of %q, source %q", p.AsOf, p.Source)
			}
			// --prices takes it and merges it over the built-in table.
			merged, err := LoadPrices(path)
			if err != nil {
				t.Fatal(err)
			}
			if v, def, ok := merged.ec2("r6i.metal", "us-west-1"); !ok || def || v != 9 {
				t.Errorf("merged r6i.metal in us-west-1 = %v (default %v)", v, def)
			}
			if v, _, _ := merged.ec2("t3.micro", "us-east-1"); v != defaultPrices(t).EC2["t3.micro"]["us-east-1"] {
				t.Errorf("built-in prices lost in the merge: t3.micro %v", v)
			}
			if !strings.Contains(merged.AsOf, "2025-11-21T22:17:12Z (overrides)") {
				t.Errorf("merged as of %q", merged.AsOf)
			}
		})
	}
}

func TestParsePriceListErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"truncated JSON", `{"formatVersion":"v1.0","offerCode":"AmazonEC2","products":{"A":{`, "parsing price list x at byte"},
		{"no instance price", `{"formatVersion":"v1.0","offerCode":"AmazonECS","products":{},"terms":{"OnDemand":{}}}`, "no Linux on-demand EC2 instance price"},
		{"CSV without header", "\"FormatVersion\",\"v1.0\"\n\"Version\",\"1\"\n", "no header row"},
		{"CSV without a needed column", "\"FormatVersion\",\"v1.0\"\n\"SKU\",\"TermType\",\"Unit\"\n", `no column "PricePerUnit"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePriceList(strings.NewReader(tt.in), "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParsePriceList: any input parses or fails with an error, never panics; a parsed list
// holds only finite, positive prices and every type has a default.
func FuzzParsePriceList(f *testing.F) {
	for _, name := range []string{"pricelist.json", "pricelist.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"offerCode":"x","terms":{"OnDemand":{"S":{"T":{"priceDimensions":{"D":{"unit":"Hrs","pricePerUnit":{"USD":"-1"}}}}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePriceList(bytes.NewReader(data), "f")
		if err != nil {
			return
		}
		for typ, m := range p.EC2 {
			if _, ok := m[DefaultRegion]; !ok {
				t.Fatalf("%s has no default price", typ)
			}
			for region, v := range m {
				if !(v > 0) || math.IsInf(v, 0) {
					t.Fatalf("%s %s: price %v", typ, region, v)
				}
			}
		}
	})
}

// BenchmarkParsePriceList reads a JSON offer of 20,000 products (a tenth of them Linux
// on-demand instances) with their on-demand and reserved terms, as the bulk API serves it.
func BenchmarkParsePriceList(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"formatVersion":"v1.0","offerCode":"AmazonEC2","version":"1","publicationDate":"2025-11-21T00:00:00Z","products":{`)
	const n = 20_000
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		system := "Windows"
		if i%10 == 0 {
			system = "Linux"
		}
		fmt.Fprintf(&buf, `"S%d":{"sku":"S%d","productFamily":"Compute Instance","attributes":{"instanceType":"t%d.large","regionCode":"us-east-1","tenancy":"Shared","operatingSystem":%q,"licenseModel":"No License required","preInstalledSw":"NA","capacitystatus":"Used","operation":"RunInstances"}}`, i, i, i, system)
	}
	buf.WriteString(`},"terms":{"OnDemand":{`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `"S%d":{"S%d.J":{"priceDimensions":{"S%d.J.6":{"unit":"Hrs","pricePerUnit":{"USD":"0.%04d"}}}}}`, i, i, i, i%9999+1)
	}
	buf.WriteString(`},"Reserved":{`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `"S%d":{"S%d.R":{"priceDimensions":{"S%d.R.6":{"unit":"Hrs","pricePerUnit":{"USD":"0.0001"}}}}}`, i, i, i)
	}
	buf.WriteString(`}}}`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParsePriceList(bytes.NewReader(data), "bench")
		if err != nil || len(p.EC2) != n/10 {
			b.Fatalf("%v, %d types", err, len(p.EC2))
		}
	}
}
