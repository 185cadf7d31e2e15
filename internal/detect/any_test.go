package detect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/match"
)

// anyAtoms make values and events that overlap often: letters of both cases, characters
// that fold across the ASCII boundary, non-ASCII letters, separators, Windows dashes.
var anyAtoms = []string{"a", "b", "A", "B", "k", "K", "s", "\u212a", "\u017f", "é", "É", "ß", ".", "-", "/", ":", " ", "1"}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(anyAtoms[r.IntN(len(anyAtoms))])
	}
	return b.String()
}

// yamlQuote writes s as a single-quoted YAML scalar.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestAnyAgreesWithPerValue compiles random rules with long value lists twice — with the
// automaton for long lists and with every value matched on its own — and requires the same
// answer on random events, under every string modifier and encoding, |all, |neq, |expand
// and keywords.
func TestAnyAgreesWithPerValue(t *testing.T) {
	mods := []string{"|contains", "|startswith", "|endswith", "", "|contains|cased", "|startswith|cased",
		"|endswith|cased", "|cased", "|contains|all", "|neq", "|contains|neq", "|base64offset|contains",
		"|windash|contains", "|utf16le|base64offset|contains", "|wide|base64|startswith", "|expand|contains", "|re"}
	r := rand.New(rand.NewPCG(21, 22))
	served := 0
	for round := range 300 {
		mod := mods[r.IntN(len(mods))]
		n := 16 + r.IntN(24)
		var vals []string
		var det strings.Builder
		field := "requestParameters.name"
		if r.IntN(8) == 0 && !strings.Contains(mod, "neq") {
			field = "" // keywords
		}
		if field == "" {
			det.WriteString("keywords:\n")
		} else {
			fmt.Fprintf(&det, "selection:\n  %s%s:\n", field, mod)
		}
		placeholders := map[string][]string{}
		encoded := strings.Contains(mod, "base64") // encodings take no wildcards
		for i := range n {
			v := randomText(r, 1+r.IntN(4))
			switch {
			case encoded:
			case mod == "|re":
				v = strings.NewReplacer(".", `\.`, "\u212a", "k").Replace(v)
			case r.IntN(6) == 0:
				rs := []rune(v) // a star inside: left to the per-value path
				v = string(rs[:1]) + "*" + string(rs[1:])
			case r.IntN(9) == 0:
				v = "*" + v + "*"
			}
			if mod == "|expand|contains" {
				name := fmt.Sprintf("list%d", i)
				placeholders[name] = []string{v, randomText(r, 2)}
				v = "%" + name + "%"
			}
			vals = append(vals, v)
			indent := "    "
			if field == "" {
				indent = "  "
			}
			fmt.Fprintf(&det, "%s- %s\n", indent, yamlQuote(v))
		}
		if field == "" {
			det.WriteString("condition: keywords\n")
		} else {
			det.WriteString("condition: selection\n")
		}
		fast, err := compileDetection(t, det.String(), Options{Placeholders: placeholders})
		if err != nil {
			t.Fatalf("round %d: compiling:\n%s\n%v", round, det.String(), err)
		}
		slow, err := compileDetection(t, det.String(), Options{Placeholders: placeholders, perValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if countAny(fast.Rules()[0].root) > 0 {
			served++
		}
		fm, sm := fast.NewMatcher(), slow.NewMatcher()
		for range 40 {
			// A value made of pieces of the rule's values (changed in case), encoded the way
			// some modifiers expect, or an array of such values.
			var parts []string
			for range 1 + r.IntN(3) {
				if r.IntN(2) == 0 {
					p := strings.NewReplacer("*", "", `\.`, ".").Replace(vals[r.IntN(len(vals))])
					if r.IntN(2) == 0 {
						p = strings.ToUpper(p)
					}
					parts = append(parts, p)
				} else {
					parts = append(parts, randomText(r, 2))
				}
			}
			text := strings.Join(parts, "")
			if r.IntN(4) == 0 {
				text = base64.StdEncoding.EncodeToString([]byte(text))
			}
			var value any = text
			if r.IntN(5) == 0 {
				value = []any{text, randomText(r, 3)}
			}
			js, _ := json.Marshal(map[string]any{"eventName": "X", "requestParameters": map[string]any{"name": value}})
			ev := mustEvent(t, string(js))
			got, want := fm.MatchRule(fast.Rules()[0], ev), sm.MatchRule(slow.Rules()[0], ev)
			if got != want {
				t.Fatalf("round %d: event %s:\n%s\nwith the automaton %v, value by value %v", round, js, det.String(), got, want)
			}
		}
	}
	if served < 100 {
		t.Errorf("only %d of 300 rules used the automaton: the comparison hardly tests it", served)
	}
}

// countAny counts the automata in a compiled condition.
func countAny(n node) int {
	switch n := n.(type) {
	case notNode:
		return countAny(n.x)
	case andNode:
		k := 0
		for _, t := range n {
			k += countAny(t)
		}
		return k
	case orNode:
		k := 0
		for _, t := range n {
			k += countAny(t)
		}
		return k
	case *fieldNode:
		return countAnyVals(n.vals)
	case *keywordNode:
		return countAnyVals(n.vals)
	}
	return 0
}

func countAnyVals(vs []valueMatcher) int {
	k := 0
	for _, v := range vs {
		if b, ok := v.(bytesValue); ok {
			if _, ok := b.b.(*match.Any); ok {
				k++
			}
		}
	}
	return k
}
