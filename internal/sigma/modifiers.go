package sigma

import (
	"fmt"
	"strings"
)

// Modifier is a value modifier of a field condition, as in field|contains.
type Modifier string

// The modifiers of the Sigma modifiers appendix (v2.1.0).
const (
	// Generic modifiers.
	ModAll        Modifier = "all"
	ModStartsWith Modifier = "startswith"
	ModEndsWith   Modifier = "endswith"
	ModContains   Modifier = "contains"
	ModExists     Modifier = "exists"
	ModCased      Modifier = "cased"
	ModNeq        Modifier = "neq"

	// String modifiers.
	ModWindash Modifier = "windash"
	ModRe      Modifier = "re"
	// ModReI, ModReM and ModReS are sub-modifiers of re: case-insensitive,
	// multi-line (^ and $ match at line breaks), dot matches newline.
	ModReI          Modifier = "i"
	ModReM          Modifier = "m"
	ModReS          Modifier = "s"
	ModBase64       Modifier = "base64"
	ModBase64Offset Modifier = "base64offset"
	ModUTF16        Modifier = "utf16"
	ModUTF16LE      Modifier = "utf16le"
	ModUTF16BE      Modifier = "utf16be"
	ModWide         Modifier = "wide" // alias of utf16le

	// Numeric modifiers.
	ModLT  Modifier = "lt"
	ModLTE Modifier = "lte"
	ModGT  Modifier = "gt"
	ModGTE Modifier = "gte"

	// Time modifiers: extract a number from a date field.
	ModMinute Modifier = "minute"
	ModHour   Modifier = "hour"
	ModDay    Modifier = "day"
	ModWeek   Modifier = "week"
	ModMonth  Modifier = "month"
	ModYear   Modifier = "year"

	// IP modifiers.
	ModCIDR Modifier = "cidr"

	// Specific modifiers.
	ModExpand   Modifier = "expand"
	ModFieldRef Modifier = "fieldref"
)

// modClass groups modifiers of which a chain may hold at most one.
type modClass int

const (
	classNone modClass = iota
	classPosition
	classEncoding
	classBase64
	classCompare
	classTime
	classReFlag
)

var modifierClasses = map[Modifier]modClass{
	ModAll: classNone, ModCased: classNone, ModNeq: classNone, ModExists: classNone,
	ModWindash: classNone, ModRe: classNone, ModCIDR: classNone, ModExpand: classNone, ModFieldRef: classNone,
	ModStartsWith: classPosition, ModEndsWith: classPosition, ModContains: classPosition,
	ModReI: classReFlag, ModReM: classReFlag, ModReS: classReFlag,
	ModBase64: classBase64, ModBase64Offset: classBase64,
	ModUTF16: classEncoding, ModUTF16LE: classEncoding, ModUTF16BE: classEncoding, ModWide: classEncoding,
	ModLT: classCompare, ModLTE: classCompare, ModGT: classCompare, ModGTE: classCompare,
	ModMinute: classTime, ModHour: classTime, ModDay: classTime, ModWeek: classTime, ModMonth: classTime, ModYear: classTime,
}

var classNames = map[modClass]string{
	classPosition: "contains, startswith and endswith",
	classEncoding: "utf16, utf16le, utf16be and wide",
	classBase64:   "base64 and base64offset",
	classCompare:  "gt, gte, lt and lte",
	classTime:     "minute, hour, day, week, month and year",
}

// typeCompanions lists, for each modifier that changes how values are
// matched, the only modifiers it may be combined with.
var typeCompanions = map[Modifier][]Modifier{
	ModExists:   nil,
	ModRe:       {ModAll, ModReI, ModReM, ModReS},
	ModCIDR:     {ModNeq, ModExpand},
	ModFieldRef: {ModContains, ModStartsWith, ModEndsWith, ModNeq, ModCased, ModAll},
	ModGT:       {ModMinute, ModHour, ModDay, ModWeek, ModMonth, ModYear},
	ModGTE:      {ModMinute, ModHour, ModDay, ModWeek, ModMonth, ModYear},
	ModLT:       {ModMinute, ModHour, ModDay, ModWeek, ModMonth, ModYear},
	ModLTE:      {ModMinute, ModHour, ModDay, ModWeek, ModMonth, ModYear},
	ModMinute:   {ModGT, ModGTE, ModLT, ModLTE, ModNeq, ModAll},
	ModHour:     {ModGT, ModGTE, ModLT, ModLTE, ModNeq, ModAll},
	ModDay:      {ModGT, ModGTE, ModLT, ModLTE, ModNeq, ModAll},
	ModWeek:     {ModGT, ModGTE, ModLT, ModLTE, ModNeq, ModAll},
	ModMonth:    {ModGT, ModGTE, ModLT, ModLTE, ModNeq, ModAll},
	ModYear:     {ModGT, ModGTE, ModLT, ModLTE, ModNeq, ModAll},
}

// IsKnown reports whether m is a modifier of the Sigma specification.
func (m Modifier) IsKnown() bool {
	_, ok := modifierClasses[m]
	return ok
}

// keyPart is one modifier of a key with its byte offset in the key.
type keyPart struct {
	name string
	off  int
}

// splitKey splits "field|mod1|mod2" into the field and its modifiers.
func splitKey(key string) (field string, mods []keyPart) {
	parts := strings.Split(key, "|")
	off := len(parts[0]) + 1
	for _, p := range parts[1:] {
		mods = append(mods, keyPart{p, off})
		off += len(p) + 1
	}
	return parts[0], mods
}

// modError is a problem with a modifier chain, at an offset in the key.
type modError struct {
	off int
	msg string
}

// checkModifiers validates a modifier chain and returns it typed.
func checkModifiers(parts []keyPart) ([]Modifier, []modError) {
	var errs []modError
	var chain []Modifier
	seen := map[Modifier]int{}
	classSeen := map[modClass]Modifier{}
	for _, p := range parts {
		m := Modifier(p.name)
		switch {
		case p.name == "":
			errs = append(errs, modError{p.off, "empty modifier (stray \"|\" in the key)"})
			continue
		case !m.IsKnown():
			msg := fmt.Sprintf("unknown modifier %q", p.name)
			if low := Modifier(strings.ToLower(p.name)); low.IsKnown() {
				msg += fmt.Sprintf(" (modifiers are lower case: %q)", low)
			}
			errs = append(errs, modError{p.off, msg})
			continue
		}
		if _, dup := seen[m]; dup {
			errs = append(errs, modError{p.off, fmt.Sprintf("modifier %q is repeated", m)})
			continue
		}
		c := modifierClasses[m]
		if c == classReFlag {
			if _, ok := seen[ModRe]; !ok {
				errs = append(errs, modError{p.off, fmt.Sprintf("%q is a sub-modifier of re and must follow it (field|re|%s)", m, m)})
			}
		} else if c != classNone {
			if prev, ok := classSeen[c]; ok {
				errs = append(errs, modError{p.off, fmt.Sprintf("modifier %q conflicts with %q: use only one of %s", m, prev, classNames[c])})
			}
			classSeen[c] = m
		}
		// A modifier that changes the value type accepts only a few companions.
		for prev := range seen {
			if !compatible(prev, m) {
				errs = append(errs, modError{p.off, fmt.Sprintf("modifier %q cannot be combined with %q", m, prev)})
				break
			}
		}
		if c == classTime {
			for _, cmp := range []Modifier{ModGT, ModGTE, ModLT, ModLTE} {
				if _, ok := seen[cmp]; ok {
					errs = append(errs, modError{p.off, fmt.Sprintf("time modifier %q must come before %q", m, cmp)})
				}
			}
		}
		seen[m] = p.off
		chain = append(chain, m)
	}
	return chain, errs
}

// compatible reports whether a and b may appear in the same chain. Classes
// with a single member allowed are checked separately.
func compatible(a, b Modifier) bool {
	if c, ok := typeCompanions[a]; ok && !contains(c, b) && !sameClass(a, b) {
		return false
	}
	if c, ok := typeCompanions[b]; ok && !contains(c, a) && !sameClass(a, b) {
		return false
	}
	return true
}

func sameClass(a, b Modifier) bool {
	c := modifierClasses[a]
	return c != classNone && c == modifierClasses[b]
}

func contains(list []Modifier, m Modifier) bool {
	for _, x := range list {
		if x == m {
			return true
		}
	}
	return false
}
