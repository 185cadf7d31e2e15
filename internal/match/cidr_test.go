package match

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseIP(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means not an address
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"0.0.0.0", "0.0.0.0"},
		{"255.255.255.255", "255.255.255.255"},
		{"075.050.255.67", "75.50.255.67"},
		{"010.001.000.009", "10.1.0.9"},
		{"256.1.1.1", ""},
		{"0256.1.1.1", ""},
		{"1.2.3", ""},
		{"1.2.3.4.5", ""},
		{"1..3.4", ""},
		{"1.2.3.4.", ""},
		{".1.2.3", ""},
		{"1.2.3.-4", ""},
		{" 1.2.3.4", ""},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:DB8::1", "2001:db8::1"},
		{"::", "::"},
		{"::1", "::1"},
		{"1::", "1::"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
		{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
		{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
		{"1:2:3:4:5:6:7:8:9", ""},
		{"1:2:3:4:5:6:7", ""},
		{"1::2::3", ""},
		{":1::2", ""},
		{"1:", ""},
		{"12345::1", ""},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"::ffff:075.050.255.67", "::ffff:75.50.255.67"},
		{"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
		{"1:2:3:4:5:1.2.3.4", ""},
		{"::1.2.3.4:5", ""},
		{"fe80::1%eth0", ""},
		{"ecs.amazonaws.com", ""},
		{"AWS Internal", ""},
		{"", ""},
		{"cloudtrail.amazonaws.com", ""},
	}
	for _, tt := range tests {
		got, ok := ParseIP([]byte(tt.in))
		if tt.want == "" {
			if ok {
				t.Errorf("ParseIP(%q) = %v, want not an address", tt.in, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tt.want) {
			t.Errorf("ParseIP(%q) = %v, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
}

func TestCIDR(t *testing.T) {
	c, err := CompileCIDR("10.0.0.0/8", "192.168.1.77/24", "2001:db8::/32", "::ffff:172.16.0.0/108", "203.0.113.9", "100.064.0.0/10")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value string
		want  bool
	}{
		{"10.1.2.3", true},
		{"010.001.002.003", true},
		{"11.1.2.3", false},
		{"192.168.1.1", true},
		{"192.168.2.1", false},
		{"172.16.5.5", true}, // from the mapped network
		{"172.32.0.1", false},
		{"::ffff:10.9.9.9", true}, // mapped value in an IPv4 network
		{"::ffff:11.9.9.9", false},
		{"2001:db8:1::5", true},
		{"2001:db9::5", false},
		{"203.0.113.9", true},
		{"203.0.113.10", false},
		{"100.100.0.1", true},
		{"ecs.amazonaws.com", false},
		{"AWS Internal", false},
		{"", false},
		{"10.1.2.3/8", false},
	}
	for _, tt := range tests {
		if got := c.Match([]byte(tt.value)); got != tt.want {
			t.Errorf("cidr Match(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
	all6, err := CompileCIDR("::/0")
	if err != nil {
		t.Fatal(err)
	}
	if !all6.Match([]byte("::ffff:1.2.3.4")) || all6.Match([]byte("1.2.3.4")) {
		t.Error("::/0 must contain IPv6 values, mapped ones as written, and no IPv4 values")
	}
	for _, bad := range []string{"", "10.0.0.0/33", "10.0.0.0/x", "2001:db8::/129", "example.com/8", "10.0.0.0/-1"} {
		if _, err := CompileCIDR(bad); err == nil {
			t.Errorf("CompileCIDR(%q) succeeded, want an error", bad)
		}
	}
}

// FuzzParseIP checks ParseIP against net/netip: it accepts every address netip accepts
// (without a zone) with the same result, and beyond that only IPv4 octets with leading zeros.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "075.050.255.67", "::", "2001:db8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "x", "1::2::3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseIP([]byte(s))
		want, err := netip.ParseAddr(s)
		if err == nil && want.Zone() == "" {
			if !ok || got != want {
				t.Fatalf("ParseIP(%q) = %v, %v; netip says %v", s, got, ok, want)
			}
			return
		}
		if !ok {
			return
		}
		// Accepted where netip is not: must be leading zeros, which netip reads the same way
		// once they are removed.
		stripped := stripLeadingZeros(s)
		if stripped == s {
			t.Fatalf("ParseIP(%q) = %v, netip rejects it: %v", s, got, err)
		}
		if want, err := netip.ParseAddr(stripped); err != nil || want != got {
			t.Fatalf("ParseIP(%q) = %v, netip on %q says %v, %v", s, got, stripped, want, err)
		}
	})
}

// stripLeadingZeros removes leading zeros from the dotted-decimal part of an address.
func stripLeadingZeros(s string) string {
	i := strings.LastIndexByte(s, ':') + 1
	parts := strings.Split(s[i:], ".")
	for k, p := range parts {
		if t := strings.TrimLeft(p, "0"); t != p {
			if t == "" {
				t = "0"
			}
			parts[k] = t
		}
	}
	return s[:i] + strings.Join(parts, ".")
}
