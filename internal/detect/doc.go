// Package detect compiles Sigma detection rules into immutable programs and evaluates them
// on CloudTrail events.
//
// Compile turns the syntax trees of package sigma into an Engine once; an Engine is safe for
// concurrent use and never changes. Each goroutine that evaluates events takes its own
// Matcher (NewMatcher), which holds the scratch buffers that keep evaluation free of
// allocations. Rules are indexed by the eventName values their condition requires, so an
// event meets only the rules that can match it.
//
// Matching semantics (Sigma v2, with trailhound's choices where the specification leaves
// room):
//   - Field names are dotted JSON paths; a path that crosses an array visits every element,
//     and a field whose value is an array matches when any element matches.
//   - Strings compare case-insensitively unless |cased; *, ? and \ escapes follow the spec.
//     A JSON number or boolean compares by its JSON text, so `desiredCount: '25'` and
//     `desiredCount: 25` both match the number 25; a rule number also matches a numeric
//     string. An object or array reached by a field name compares by its compact JSON
//     text, so `requestParameters|contains: Suspended` searches the whole object.
//   - `field: null` matches when the field is absent or JSON null.
//   - A list of values is an OR; with |all every value must be matched by some element.
//   - Keywords (a search without field names) match when any string, number or boolean
//     anywhere in the event contains the keyword (wildcards allowed).
//   - |neq negates the value match: the field matches when none of its values equals any of
//     the rule's values (an absent field is different from every value).
//   - |expand replaces %name% placeholders with every value of the named list
//     (Options.Placeholders); placeholder values are Sigma patterns, so IOC lists may use
//     wildcards. A placeholder without a list is a compile error.
//   - Time modifiers (|minute … |year) read the field as an RFC 3339 time, in UTC.
package detect
