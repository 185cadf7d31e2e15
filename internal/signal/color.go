package signal

import (
	"os"

	"github.com/mattn/go-isatty"
)

// ColorEnabled reports whether output to f should be coloured: f is a terminal, the NO_COLOR
// environment variable is unset or empty (https://no-color.org) and TERM is not "dumb".
func ColorEnabled(f *os.File) bool {
	if f == nil {
		return false
	}
	fd := f.Fd()
	return colorEnabled(isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd), os.Getenv)
}

func colorEnabled(terminal bool, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return terminal
}
