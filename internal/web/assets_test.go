package web

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/internal/shareddata"
)

// TestAssetsMatchSources: the committed, embedded bundle is what its pinned sources build
// (frontend/build.sh --check: npm ci from package-lock.json, then esbuild). It needs npm and
// the npm registry; outside CI it is skipped without npm.
func TestAssetsMatchSources(t *testing.T) {
	if testing.Short() {
		t.Skip("installs the front-end's packages")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		if shareddata.InCI() {
			t.Fatal("npm is not installed; CI must have it to check the committed front-end bundle")
		}
		t.Skip("npm is not installed: the committed bundle is not checked against its sources")
	}
	cmd := exec.Command(filepath.Join("frontend", "build.sh"), "--check")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("frontend/build.sh --check: %v\n%s", err, out)
	}
}
