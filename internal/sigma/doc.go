// Package sigma parses Sigma detection and correlation rules into a syntax
// tree, validates them, and reports every problem with its file:line:col.
//
// It is the parser half of trailhound's Sigma engine: it never evaluates a
// rule. Package detect compiles the tree built here into an executable
// program. The split follows Prometheus' promql/parser and engine.
//
// Entry points:
//
//   - Parse reads one file, which may hold several YAML documents (detection
//     rules and correlation rules).
//   - LoadFS and LoadPaths read a whole rule set, skip rule test files
//     (*_test.yml, *_test.yaml), and check what only a set can show:
//     duplicate ids and names, and correlation references across files.
//   - NewRuleSet does the same set-wide checks on files already parsed.
//
// Errors are returned as an ErrorList sorted by position; lint findings
// that do not make a rule unusable (tag format, date format, unused search
// identifiers, ...) are returned separately as warnings.
//
// The syntax tree keeps values as written: string values keep their raw
// text (wildcards and escapes are the compiler's business), numbers keep
// their literal text, and every node knows its position.
//
// Trailhound extensions to Sigma: the new_value and baseline_count correlation
// types (see CorrelationType; baseline_count adds a factor key), and correlation rule references that fall back to a rule's
// title, which the public Suzaku rule set relies on (a warning is reported).
package sigma
