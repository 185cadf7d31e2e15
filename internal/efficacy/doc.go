// Package efficacy measures how well the built-in rules do on simulated busy accounts —
// recall per attack step with and without the IOC lists, and medium+ false signals per 100k
// benign events, over several seeds at 200k and 2M background events (recall_test.go), the
// remediation plans of the simulated attacks (plan_test.go) — and on data written by others: the
// Stratus Red Team detonation logs (each technique a built-in rule claims to cover must fire
// it), Panther's labelled rule tests (agreement, for the built-in rules that correspond to a
// Panther rule), and a benign university trail (false positives). Its tests write the tables
// to docs/EFFICACY.md (go test ./internal/efficacy -update) and fail when a claimed
// technique is missed or the document is out of date. The claims and the explanations of
// disagreements are data, in testdata/coverage.yml.
package efficacy
