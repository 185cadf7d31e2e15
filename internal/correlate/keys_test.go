package correlate

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// TestEncodeFields: keys round-trip through decodeFields, are allocated at their exact
// length, and values that would collide when joined stay apart.
func TestEncodeFields(t *testing.T) {
	long := strings.Repeat("x", 300) // a two-byte length
	tests := [][]string{
		{"a"},
		{"", ""},
		{"a", "bc"},
		{"ab", "c"},
		{long, "", "z"},
		{"1", "2", "3", "4", "5", "6"}, // more than the stack buffer holds
	}
	seen := map[string][]string{}
	for _, vals := range tests {
		key := encodeValues(vals)
		if got := decodeFields(key); !slices.Equal(got, vals) {
			t.Errorf("decodeFields(encodeValues(%q)) = %q", vals, got)
		}
		want := 0
		for _, v := range vals {
			want += len(binary.AppendUvarint(nil, uint64(len(v)))) + len(v)
		}
		if len(key) != want {
			t.Errorf("key of %q is %d bytes, want %d", vals, len(key), want)
		}
		if prev, ok := seen[key]; ok {
			t.Errorf("%q and %q encode alike", prev, vals)
		}
		seen[key] = vals
	}
	for _, x := range []int{0, 1, 127, 128, 16383, 16384, 1 << 40} {
		if got, want := uvarintLen(x), len(binary.AppendUvarint(nil, uint64(x))); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", x, got, want)
		}
	}
}
