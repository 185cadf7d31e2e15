package hunt

import (
	"io"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
)

func sourceStdin(r io.Reader) source.Options { return source.Options{Stdin: r} }

func posOf(file string, record, line int) event.Position {
	return event.Position{File: file, Record: record, Line: line}
}
