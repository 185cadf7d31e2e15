// Package shareddata finds the third-party data the team keeps beside the checkout
// (../shared: public Sigma rule sets, real CloudTrail, IP databases) for tests and
// benchmarks. A user's clone has none of it: Dir then skips the test with a message.
// Only tests import this package.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the folder of go.mod, found upwards from the working directory (a test
// runs in its package's folder).
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getting working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("finding go.mod: not found above the working directory")
		}
		dir = parent
	}
}

// Path returns ../shared/elem... beside the module and whether it exists.
func Path(tb testing.TB, elem ...string) (string, bool) {
	tb.Helper()
	p := filepath.Join(append([]string{ModuleRoot(tb), "..", "shared"}, elem...)...)
	_, err := os.Stat(p)
	return p, err == nil
}

// Dir returns ../shared/elem... beside the module, or skips the test when it is absent.
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, ok := Path(tb, elem...)
	if !ok {
		tb.Skipf("%s is absent: this test needs the third-party data kept beside the project's own checkout (../shared)", p)
	}
	return p
}
