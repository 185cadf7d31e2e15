package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

func TestEach(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{
		"AWSLogs/1/CloudTrail/us-east-1/a.json.gz",
		"AWSLogs/1/CloudTrail/us-east-1/b.json",
		"AWSLogs/1/CloudTrail-Digest/us-east-1/1_CloudTrail-Digest_x.json.gz",
		"README.md",
	} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var logs, others []string
	err := Each(context.Background(), []string{dir}, Options{}, 3, func(in Input) {
		others = append(others, in.Kind.String())
	}, func(_ context.Context, inputs <-chan Input) error {
		for in := range inputs {
			mu.Lock()
			logs = append(logs, filepath.Base(in.Name))
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(logs)
	sort.Strings(others)
	if len(logs) != 2 || logs[0] != "a.json.gz" || logs[1] != "b.json" {
		t.Errorf("logs = %v", logs)
	}
	if len(others) != 2 || others[0] != "digest" || others[1] != "skipped" {
		t.Errorf("others = %v", others)
	}

	// A worker's error stops the walk and is returned.
	boom := errors.New("boom")
	err = Each(context.Background(), []string{dir}, Options{}, 2, nil, func(_ context.Context, inputs <-chan Input) error {
		for range inputs {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}
