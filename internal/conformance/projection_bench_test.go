package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/rules"
)

// headerFields are the paths read from every matched event besides the rules' fields: the
// match header (event.Header, the actor's identity fields) and enrichment.
var headerFields = []string{"eventID", "eventTime", "eventSource", "eventName", "eventCategory", "awsRegion",
	"sourceIPAddress", "userAgent", "errorCode", "recipientAccountId", "userIdentity"}

// TestProjectionShare measures what a field projection ("extract only the fields some rule
// uses") could skip: the share of an event's JSON bytes that lie under the paths the rules,
// the match header and enrichment read (a whole subtree where a path ends; arrays are
// crossed, as rules cross them). It prints one line per rule set:
//
//	rules=builtin fields=… kept_bytes_share=…
//	rules=builtin+public fields=… kept_bytes_share=…
//
// It is gated like TestSigmaGoBaseline (bench/PERFORMANCE.md cites it):
//
//	TRAILHOUND_BENCH_CORPUS=DIR TRAILHOUND_BENCH_RULES=DIR go test -run '^TestProjectionShare$' -count=1 -v ./internal/conformance
func TestProjectionShare(t *testing.T) {
	corpus, rulesEnv := os.Getenv("TRAILHOUND_BENCH_CORPUS"), os.Getenv("TRAILHOUND_BENCH_RULES")
	if corpus == "" || rulesEnv == "" {
		t.Skip("set TRAILHOUND_BENCH_CORPUS=DIR and TRAILHOUND_BENCH_RULES=DIR to measure the share a projection would keep")
	}
	raws := benchSampleEvents(t, corpus, 20000)
	for _, public := range []bool{false, true} {
		opts, name := ruleset.Options{Builtin: rules.FS}, "builtin"
		if public {
			opts.Paths, name = filepath.SplitList(rulesEnv), "builtin+public"
		}
		set, err := ruleset.Load(context.Background(), opts)
		var el sigma.ErrorList
		if err != nil && !errors.As(err, &el) {
			t.Fatal(err)
		}
		fields := append(set.Engine.Fields(), headerFields...)
		var p fastjson.Parser
		var all, kept int
		for _, raw := range raws {
			v, err := p.ParseBytes(raw)
			if err != nil {
				t.Fatalf("parsing an event: %v", err)
			}
			all += len(raw)
			kept += keptBytes(v, "", fields)
		}
		fmt.Printf("rules=%s fields=%d kept_bytes_share=%.2f\n", name, len(set.Engine.Fields()), float64(kept)/float64(all))
	}
}

// keptBytes is the size of the members of v (at path) that a projection to fields keeps:
// whole where a field is the member's path or a prefix of it, descended into where the
// member's path is a prefix of a field. Each kept member counts its value's compact JSON
// and its key with quotes and colon.
func keptBytes(v *fastjson.Value, path string, fields []string) int {
	n := 0
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		o.Visit(func(k []byte, c *fastjson.Value) {
			p := string(k)
			if path != "" {
				p = path + "." + p
			}
			whole, inside := false, false
			for _, f := range fields {
				if f == p || strings.HasPrefix(p, f+".") {
					whole = true
					break
				}
				if strings.HasPrefix(f, p+".") {
					inside = true
				}
			}
			switch {
			case whole:
				n += len(c.MarshalTo(nil)) + len(k) + 3
			case inside:
				n += keptBytes(c, p, fields)
			}
		})
	case fastjson.TypeArray:
		for _, c := range v.GetArray() {
			n += keptBytes(c, path, fields)
		}
	}
	return n
}

// TestKeptBytes pins keptBytes on a small event.
func TestKeptBytes(t *testing.T) {
	v := fastjson.MustParse(`{"a":"xy","b":{"c":1,"d":[{"e":"f","g":"h"}]},"i":true}`)
	tests := []struct {
		fields []string
		want   int
	}{
		{nil, 0},
		{[]string{"a"}, len(`"a":"xy"`)},
		{[]string{"b"}, len(`"b":{"c":1,"d":[{"e":"f","g":"h"}]}`)},
		{[]string{"b.c"}, len(`"c":1`)},
		{[]string{"b.d.e"}, len(`"e":"f"`)},
		{[]string{"a", "i", "x.y"}, len(`"a":"xy"`) + len(`"i":true`)},
	}
	for _, tt := range tests {
		if got := keptBytes(v, "", tt.fields); got != tt.want {
			t.Errorf("keptBytes(%v) = %d, want %d", tt.fields, got, tt.want)
		}
	}
}
