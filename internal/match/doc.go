// Package match provides the value-matching primitives that Sigma field conditions compile
// to: string patterns with Sigma wildcards, sets of literal strings, regular expressions,
// CIDR ranges and numeric comparisons, plus the value transformations (base64, windash,
// UTF-16) that Sigma modifiers apply to rule values at compile time.
//
// Every matcher is compiled once from rule text and is then immutable and safe for concurrent
// use. Match methods take the raw bytes of one event value (the contents of a JSON string, or
// the text of a JSON number), do not retain them, and do not allocate.
//
// Patterns use Sigma's string syntax: '*' matches any sequence of characters, '?' exactly one
// character, and a backslash escapes '*', '?' and itself; a backslash before any other
// character, or at the end of the pattern, is a literal backslash. A character is one UTF-8
// encoded code point; each byte of invalid UTF-8 counts as one character that equals only
// itself. Matching is case-insensitive by default, using Unicode simple case folding (the
// equivalence of strings.EqualFold).
package match
