package remediate

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// FuzzParsePrices: any price file parses or fails with an error, never panics; a parsed
// table holds no negative or non-finite price, and neither does the built-in table with it
// merged over (the --prices flag), where every one of its prices wins. An error names the
// file.
func FuzzParsePrices(f *testing.F) {
	f.Add([]byte(`{"currency":"USD","ec2":{"r6i.metal":{"default":8.064}}}`))
	f.Add([]byte(`{"fargate":{"default":{"vcpu_hour":0.04,"gb_hour":0.004}}}`))
	f.Add([]byte(`{"fargate":{"us-east-1":{"vcpu_hour":-1,"gb_hour":0.004}}}`))
	f.Add([]byte(`{"ec2":{"t3.micro":{"eu-west-1":1e400}}}`))
	f.Add([]byte(`{"ec2":{"t3.micro":null},"fargate":null}`))
	f.Add([]byte(`{"ecs":{}}`))
	f.Add([]byte(`{`))
	def, err := DefaultPrices()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePrices(bytes.NewReader(data), "f.json")
		if err != nil {
			if p != nil {
				t.Errorf("ParsePrices returned a table and the error %v", err)
			}
			if !strings.Contains(err.Error(), "f.json") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if p == nil {
			t.Fatal("ParsePrices returned neither a table nor an error")
		}
		assertValid(t, "parsed", p)
		merged := def.Merge(p)
		assertValid(t, "merged", merged)
		for region, fp := range p.Fargate {
			if merged.Fargate[region] != fp {
				t.Errorf("merged fargate.%s = %v, want the file's %v", region, merged.Fargate[region], fp)
			}
		}
		for typ, byRegion := range p.EC2 {
			for region, v := range byRegion {
				if got := merged.EC2[typ][region]; got != v {
					t.Errorf("merged ec2.%s.%s = %v, want the file's %v", typ, region, got, v)
				}
			}
		}
	})
}

// assertValid fails the test when a table holds a negative or non-finite price.
func assertValid(t *testing.T, what string, p *Prices) {
	t.Helper()
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	for region, fp := range p.Fargate {
		if bad(fp.VCPUHour) || bad(fp.GBHour) {
			t.Errorf("%s table: fargate.%s = %+v", what, region, fp)
		}
	}
	for typ, byRegion := range p.EC2 {
		for region, v := range byRegion {
			if bad(v) {
				t.Errorf("%s table: ec2.%s.%s = %v", what, typ, region, v)
			}
		}
	}
}
