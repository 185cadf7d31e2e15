package source

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestPrefetch: a small remote object is read once, whole, when prefetched, and opening the
// prefetched input gives its bytes (or the error reading it gave) without reading again;
// a big one, a local file and an input that cannot be read are left as they are.
func TestPrefetch(t *testing.T) {
	ctx := context.Background()
	opens := 0
	remote := func(size int64, body string, err error) Input {
		return Input{Name: "s3://b/k", Kind: KindLog, Info: S3Object{Bucket: "b", Key: "k", Size: size}.Info(),
			open: func(context.Context) (io.ReadCloser, error) {
				opens++
				if err != nil {
					return nil, err
				}
				return io.NopCloser(strings.NewReader(body)), nil
			}}
	}
	read := func(in Input) (string, error) {
		rc, err := in.Open(ctx)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}

	p := Prefetch(ctx, remote(5, "hello", nil), 100)
	if opens != 1 {
		t.Fatalf("prefetching opened the object %d times", opens)
	}
	for range 2 {
		if got, err := read(p); got != "hello" || err != nil {
			t.Fatalf("prefetched input reads %q, %v", got, err)
		}
	}
	if opens != 1 {
		t.Errorf("reading the prefetched input opened the object again (%d opens)", opens)
	}

	denied := errors.New("AccessDenied")
	if _, err := read(Prefetch(ctx, remote(5, "", denied), 100)); !errors.Is(err, denied) {
		t.Errorf("a failed prefetch opens with %v, want the GET's error", err)
	}

	opens = 0
	big := Prefetch(ctx, remote(1000, "big", nil), 100)
	if opens != 0 {
		t.Errorf("an object over the limit was fetched ahead")
	}
	if got, _ := read(big); got != "big" || opens != 1 {
		t.Errorf("an object over the limit reads %q with %d opens, want it streamed once", got, opens)
	}
	local := FileInput("testdata/none.json")
	if got := Prefetch(ctx, local, 100); got.Info != nil || got.Name != local.Name {
		t.Errorf("a local file was changed by Prefetch: %+v", got)
	}
}
