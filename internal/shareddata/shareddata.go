// Package shareddata finds the third-party data the team keeps beside the checkout
// (../shared: public Sigma rule sets, real CloudTrail, IP databases) for tests and
// benchmarks. A user's clone has none of it: Dir then skips the test with a message. In CI
// (the environment variable CI set to true, as CI services and .ci/run's runner set it) the
// data must be there, and Dir fails the test instead: a missing ../shared would otherwise
// turn every test over real data into a silent skip and CI green for having checked nothing.
// Only tests import this package.
package shareddata

import (
	"os"
	"path/filepath"
	"strconv"
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

// Dir returns ../shared/elem... beside the module. When it is absent, Dir skips the test, or
// fails it in CI (see InCI).
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, ok := Path(tb, elem...)
	if !ok {
		const why = "%s is absent: this test needs the third-party data kept beside the project's own checkout (../shared)"
		if InCI() {
			tb.Fatalf(why+"; CI must have it (CI=%s)", p, os.Getenv("CI"))
		} else {
			tb.Skipf(why, p)
		}
	}
	return p
}

// InCI reports whether the tests run in CI: the environment variable CI holds a true value
// ("true", "1", ...).
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}
