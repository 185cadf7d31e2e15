// Command gen writes the demo CloudTrail sample of package sample to its data directory,
// replacing the previous files. Run it through `go generate` in internal/sample.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trailhound/trailhound/internal/sample"
)

func main() {
	dir := flag.String("dir", "data", "directory to write the sample into")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := sample.Generate()
	if err != nil {
		return fmt.Errorf("generating sample: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "AWSLogs")); err != nil {
		return fmt.Errorf("removing old sample: %w", err)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("creating directory for %s: %w", f.Path, err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	return nil
}
