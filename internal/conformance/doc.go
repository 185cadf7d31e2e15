// Package conformance holds trailhound's conformance tests against third-party Sigma
// content: the public CloudTrail rule sets (SigmaHQ and Suzaku) must load and compile, and
// trailhound's verdict on every rule and every shared CloudTrail event must agree with an
// independent Sigma implementation (github.com/bradleyjkemp/sigma-go), except for the
// disagreements explained in DISAGREEMENTS.md.
//
// The package has no code outside its tests. The tests read the team's shared data
// (../shared next to the module root) and skip when it is absent.
package conformance
