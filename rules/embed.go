// Package rules holds trailhound's built-in Sigma rules for AWS CloudTrail, one rule per
// aws_<what>.yml file, each next to its aws_<what>_test.yml file of events in and expected
// signals out (see README.md). The files are data: the sigma and detect packages parse and
// run them, and `trailhound rules test` runs the test files.
package rules

import "embed"

// FS holds every rule file and every *_test.yml file of this directory, at the root of the
// file system. It is read-only and safe for concurrent use. Rule loaders skip *_test.yml.
//
//go:embed *.yml
var FS embed.FS
