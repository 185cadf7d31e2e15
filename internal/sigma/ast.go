package sigma

import (
	"strings"
	"time"
)

// File is one parsed rule file. Parse returns a File even when the file has
// errors; documents with errors are left out of Rules and Correlations.
type File struct {
	// Name is the file name given to Parse (a path for the loaders).
	Name string
	// Rules are the detection rules, in document order.
	Rules []*Rule
	// Correlations are the correlation rules, in document order.
	Correlations []*Correlation
	// Warnings are lint findings that do not reject a rule, sorted.
	Warnings ErrorList

	// rejected holds the ids, names and titles of documents left out
	// because of errors, so that references to them are not reported again.
	rejected map[string]bool
	// invalid are the errors that left a correlation document out (or may
	// have: a YAML error before a correlation document).
	invalid ErrorList
}

// Meta is the metadata shared by detection and correlation rules.
// Missing optional keys are left empty.
type Meta struct {
	Title       string
	ID          string
	Name        string
	Status      string
	Description string
	License     string
	Author      string
	// Date and Modified keep the text as written (normally YYYY-MM-DD).
	Date           string
	Modified       string
	Taxonomy       string
	Level          string
	References     []string
	Tags           []string
	FalsePositives []string
	Fields         []string
	Scope          []string
	Related        []Related
	// Custom holds top-level keys that Sigma does not define, decoded to
	// plain Go values (string, int, float64, bool, nil, []any, map[string]any).
	Custom map[string]any
}

// Related is an entry of the related list: another rule and how it relates.
type Related struct {
	ID   string
	Type string // derived, obsolete, merged, renamed or similar
}

// Rule is a Sigma detection rule (one YAML document).
type Rule struct {
	Meta
	// File is the name of the file the rule came from.
	File string
	// Doc is the 0-based index of the YAML document in the file.
	Doc int
	// Pos is the position of the document's first key.
	Pos       Pos
	LogSource LogSource
	Detection Detection

	// digest identifies the document's content, to recognise a rule
	// copied verbatim into several files.
	digest [32]byte
}

// Ref returns the identifier other rules should use to reference a rule:
// its id, or its name, or its title.
func (m *Meta) Ref() string {
	switch {
	case m.ID != "":
		return m.ID
	case m.Name != "":
		return m.Name
	}
	return m.Title
}

// IsCloudTrail reports whether the rule applies to AWS CloudTrail
// (product aws and service cloudtrail, compared case-insensitively).
func (r *Rule) IsCloudTrail() bool {
	return r.LogSource.IsCloudTrail()
}

// LogSource is the logsource section of a rule.
type LogSource struct {
	Category   string
	Product    string
	Service    string
	Definition string
	// Custom holds other logsource keys with string values.
	Custom map[string]string
	Pos    Pos
}

// IsCloudTrail reports whether l is product aws, service cloudtrail.
func (l LogSource) IsCloudTrail() bool {
	return strings.EqualFold(l.Product, "aws") && strings.EqualFold(l.Service, "cloudtrail")
}

// Detection is the detection section of a rule.
type Detection struct {
	// Searches are the search identifiers in document order.
	Searches []*Search
	// Conditions are the parsed conditions; a rule matches when any of
	// them matches (a condition written as a list is an OR of its items).
	Conditions []*Condition
	Pos        Pos
}

// Search returns the search identifier called name, or nil.
func (d *Detection) Search(name string) *Search {
	for _, s := range d.Searches {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// SearchForm tells how a search identifier was written. It does not change
// the meaning, which Search.Selections fully captures.
type SearchForm int

// The forms of a search identifier.
const (
	// FormMap is a map of field conditions (AND).
	FormMap SearchForm = iota
	// FormMapList is a list of maps (OR of ANDs).
	FormMapList
	// FormKeywords is a list of plain values, or one plain value, matched
	// anywhere in the event (OR). It is held as one Selection with one
	// Matcher whose Field is empty.
	FormKeywords
)

// String returns the form's name.
func (f SearchForm) String() string {
	switch f {
	case FormMap:
		return "map"
	case FormMapList:
		return "map list"
	case FormKeywords:
		return "keywords"
	}
	return "unknown"
}

// Search is a named search identifier of the detection section. It matches
// an event when any of its Selections matches.
type Search struct {
	Name string
	Form SearchForm
	// Selections are OR-ed. A map gives one selection, a list of maps one
	// per item, a keyword list one selection with a single keyword matcher.
	Selections []*Selection
	// Pos is the position of the identifier (the map key).
	Pos Pos
}

// Selection is a map of field conditions; it matches when all of its
// Matchers match.
type Selection struct {
	Matchers []*Matcher
	Pos      Pos
}

// Matcher is one field condition: a key "field|mod1|mod2" and its values.
type Matcher struct {
	// Field is the field name, possibly dotted (a JSON path such as
	// requestParameters.containerDefinitions.image). An empty Field is a
	// keyword search over the whole event (a keyword list, or a key such
	// as '|all').
	Field string
	// Modifiers is the validated modifier chain in the order written.
	Modifiers []Modifier
	// Values are OR-ed, or AND-ed when Modifiers has ModAll. They are
	// never empty: an empty list in the rule is an error.
	Values []*Value
	// Pos is the position of the key.
	Pos Pos
}

// Has reports whether m's chain contains mod.
func (m *Matcher) Has(mod Modifier) bool {
	for _, x := range m.Modifiers {
		if x == mod {
			return true
		}
	}
	return false
}

// MatchAll reports whether all values must match (the all modifier)
// rather than any of them.
func (m *Matcher) MatchAll() bool { return m.Has(ModAll) }

// ValueKind is the YAML type of a value.
type ValueKind int

// The kinds of value.
const (
	KindString ValueKind = iota
	KindNumber
	KindBool
	KindNull
)

// String returns the kind's name.
func (k ValueKind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "bool"
	case KindNull:
		return "null"
	}
	return "unknown"
}

// Value is one value of a matcher.
type Value struct {
	Kind ValueKind
	// Raw is the text as written, without YAML quotes: for a string its
	// unescaped YAML content (Sigma wildcards * ? and backslash escapes
	// are left for the compiler), for a number its literal ("0x17", "1e3").
	Raw string
	// Number is the numeric value of a KindNumber value.
	Number float64
	// Bool is the value of a KindBool value.
	Bool bool
	// Placeholders lists the %name% placeholders (without the percent
	// signs) of a string value under the expand modifier, in order.
	Placeholders []string
	Pos          Pos
}

// Condition is one condition expression of a detection.
type Condition struct {
	// Raw is the expression as written.
	Raw string
	// Expr is the parsed expression, with "x of" patterns resolved.
	Expr Expr
	// Pos is the position of the condition's YAML scalar; Expr offsets
	// are byte offsets into Raw.
	Pos Pos
}

// CorrelationType is the type of a correlation rule.
type CorrelationType string

// The correlation types. NewValue and BaselineCount are trailhound extensions.
const (
	EventCount      CorrelationType = "event_count"
	ValueCount      CorrelationType = "value_count"
	Temporal        CorrelationType = "temporal"
	TemporalOrdered CorrelationType = "temporal_ordered"
	ValueSum        CorrelationType = "value_sum"
	ValueAvg        CorrelationType = "value_avg"
	ValuePercentile CorrelationType = "value_percentile"
	// NewValue fires the first time a value (of Correlation.Field) is seen
	// per group, after an optional learning period; values not seen for
	// the forget period become new again.
	NewValue CorrelationType = "new_value"
	// BaselineCount counts events (or distinct values of the condition's field) per window
	// like event_count (value_count) and fires when the count reaches the condition (the
	// floor) and is more than Factor times the group's own peak of earlier days, after an
	// optional learning period; a day's peak is remembered for the forget period.
	BaselineCount CorrelationType = "baseline_count"
)

// Correlation is a Sigma correlation rule (a document with a correlation
// section).
type Correlation struct {
	Meta
	File string
	Doc  int
	Pos  Pos
	// LogSource is kept when present; Sigma does not define it for
	// correlations but some rule sets write it.
	LogSource LogSource
	Type      CorrelationType
	// Rules are the referenced rules, in order (the order matters for
	// temporal_ordered). After NewRuleSet each reference is resolved.
	Rules []*RuleRef
	// GroupBy are field names or alias names.
	GroupBy []string
	// Timespan is the window; zero when not given (only new_value may
	// omit it).
	Timespan Duration
	// Condition is nil when not given (temporal types and new_value).
	Condition *CorrelationCondition
	// Aliases map an alias name to a field per rule, in document order.
	Aliases []Alias
	// Generate tells whether the referenced rules also produce signals of
	// their own. It may be written at top level or in the correlation section.
	Generate bool
	// Field is used by new_value only; Learning and Forget by new_value and baseline_count.
	Field    []string
	Learning Duration
	Forget   Duration
	// LearnFirst is used by new_value only (learn-first: true).
	LearnFirst bool
	// Factor is used by baseline_count only; nil when not given.
	Factor *Factor

	digest [32]byte
}

// Factor is the multiple of a group's baseline a baseline_count window must exceed.
type Factor struct {
	Value float64
	Raw   string
	Pos   Pos
}

// RuleRef is a reference from a correlation to another rule.
type RuleRef struct {
	// Ref is the text as written: an id, a name, or (Suzaku) a title.
	Ref string
	Pos Pos
	// Rule or Correlation is the target once resolved by NewRuleSet;
	// exactly one is set for a resolved reference.
	Rule        *Rule
	Correlation *Correlation
	// By tells which attribute matched: "id", "name" or "title".
	By string
}

// Duration is a correlation duration such as 30s, 5m, 1h or 1d.
type Duration struct {
	Raw string
	D   time.Duration
	Pos Pos
}

// CorrelationCondition is the condition of a correlation: all comparisons
// must hold (a range is written as two of them).
type CorrelationCondition struct {
	Comparisons []Comparison
	// Field is the field whose values are counted or aggregated (value_*
	// types). It may hold several fields.
	Field []string
	Pos   Pos
}

// Comparison is one comparison of a correlation condition, such as gte: 10.
type Comparison struct {
	Op    string // gt, gte, lt, lte, eq or neq
	Value float64
	Raw   string
	Pos   Pos
}

// Alias is a field name alias of a correlation.
type Alias struct {
	Name string
	// Fields maps a referenced rule (as written in rules) to its field.
	Fields map[string]string
	Pos    Pos
}
