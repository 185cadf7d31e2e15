package signal

import (
	"slices"
	"strings"
)

// ParseAttackTags extracts MITRE ATT&CK references from Sigma tags.
//
// Techniques come from "attack.tNNNN" and "attack.tNNNN.NNN" tags, upper-cased ("T1078.004"),
// sorted and without duplicates. Tactics come from "attack.<tactic>" tags naming one of the
// fourteen Enterprise tactics ("attack.privilege-escalation"; underscores are accepted for
// hyphens), returned in hyphenated form in kill-chain order, from reconnaissance to impact.
// Matching ignores case and surrounding spaces. Every other tag (attack.g0001, attack.s0001,
// attack.ta0001, cve.*, detection.*, malformed technique ids) is ignored. Both results are
// non-nil.
func ParseAttackTags(tags []string) (techniques, tactics []string) {
	techniques, tactics = []string{}, []string{}
	for _, tag := range tags {
		tag = strings.ToLower(strings.TrimSpace(tag))
		name, ok := strings.CutPrefix(tag, "attack.")
		if !ok {
			continue
		}
		if id, ok := techniqueID(name); ok {
			techniques = append(techniques, id)
			continue
		}
		name = strings.ReplaceAll(name, "_", "-")
		if tacticRank(name) >= 0 {
			tactics = append(tactics, name)
		}
	}
	slices.Sort(techniques)
	techniques = slices.Compact(techniques)
	slices.SortFunc(tactics, func(a, b string) int { return tacticRank(a) - tacticRank(b) })
	tactics = slices.Compact(tactics)
	return techniques, tactics
}

// techniqueID turns "t1078" or "t1078.004" (already lower-cased) into "T1078" or "T1078.004".
func techniqueID(s string) (string, bool) {
	digits := func(s string) bool {
		for _, c := range []byte(s) {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if len(s) != 5 && len(s) != 9 || s[0] != 't' || !digits(s[1:5]) {
		return "", false
	}
	if len(s) == 9 && (s[5] != '.' || !digits(s[6:])) {
		return "", false
	}
	return "T" + s[1:], true
}

// tacticRank returns the position of an ATT&CK Enterprise tactic in the kill chain, or -1 for
// anything else.
func tacticRank(name string) int {
	switch name {
	case "reconnaissance":
		return 0
	case "resource-development":
		return 1
	case "initial-access":
		return 2
	case "execution":
		return 3
	case "persistence":
		return 4
	case "privilege-escalation":
		return 5
	case "defense-evasion":
		return 6
	case "credential-access":
		return 7
	case "discovery":
		return 8
	case "lateral-movement":
		return 9
	case "collection":
		return 10
	case "command-and-control":
		return 11
	case "exfiltration":
		return 12
	case "impact":
		return 13
	}
	return -1
}
