package web

import "embed"

// assetFS holds the page and the bundle frontend/build.sh writes (committed, so that
// `go build` alone gives a working binary).
//
//go:embed assets
var assetFS embed.FS
