package match

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// CIDR matches IP addresses inside any of a list of networks (the Sigma "cidr" modifier). It
// is immutable and safe for concurrent use.
type CIDR struct {
	v4, v6 []netip.Prefix
}

// CompileCIDR compiles networks in CIDR notation ("10.0.0.0/8", "2001:db8::/32"). A bare
// address is a network of one address. Host bits are ignored, IPv4 octets may have leading
// zeros (read as decimal), and an IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) is the
// IPv4 network it maps.
func CompileCIDR(list ...string) (*CIDR, error) {
	c := &CIDR{}
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("compiling cidr %q: %w", s, err)
		}
		if p.Addr().Is4() {
			c.v4 = append(c.v4, p)
		} else {
			c.v6 = append(c.v6, p)
		}
	}
	return c, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	addrText, bitsText, hasBits := strings.Cut(strings.TrimSpace(s), "/")
	addr, ok := ParseIP([]byte(addrText))
	if !ok {
		return netip.Prefix{}, fmt.Errorf("parsing address %q: not an IP address", addrText)
	}
	bits := addr.BitLen()
	if hasBits {
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 0 || n > addr.BitLen() {
			return netip.Prefix{}, fmt.Errorf("parsing prefix length %q: must be 0 to %d", bitsText, addr.BitLen())
		}
		bits = n
	}
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
	}
	return netip.PrefixFrom(addr, bits).Masked(), nil
}

// Match reports whether b is an IP address (as ParseIP reads it) inside one of the networks.
// An IPv4-mapped IPv6 address matches the IPv4 networks its IPv4 address is in, and the
// IPv6 networks that contain it as written. It does not allocate.
func (c *CIDR) Match(b []byte) bool {
	addr, ok := ParseIP(b)
	if !ok {
		return false
	}
	if addr.Is6() {
		for _, p := range c.v6 {
			if p.Contains(addr) {
				return true
			}
		}
		if !addr.Is4In6() {
			return false
		}
		addr = addr.Unmap()
	}
	for _, p := range c.v4 {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseIP parses an IPv4 or IPv6 address as it appears in CloudTrail. It accepts what
// netip.ParseAddr accepts except zones, and also IPv4 octets with leading zeros, read as
// decimal ("075.050.255.67" is 75.50.255.67), as anonymised logs contain them. An IPv4-mapped
// IPv6 address is returned as such (use Unmap). It does not allocate.
func ParseIP(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			v4, ok := parseIPv4(b)
			if !ok {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(v4), true
		case ':':
			return parseIPv6(b)
		}
	}
	return netip.Addr{}, false
}

// parseIPv4 parses four decimal octets of one to three digits each.
func parseIPv4(b []byte) ([4]byte, bool) {
	var ip [4]byte
	octet, digits, pos := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || pos > 3 {
				return ip, false
			}
			ip[pos] = byte(octet)
			pos++
			octet, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || digits == 3 {
			return ip, false
		}
		octet = octet*10 + int(c-'0')
		digits++
		if octet > 255 {
			return ip, false
		}
	}
	return ip, pos == 4
}

// parseIPv6 parses hexadecimal groups with at most one "::" and an optional trailing IPv4
// address.
func parseIPv6(b []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // byte index in ip where "::" stands
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis = 0
		b = b[2:]
		if len(b) == 0 {
			return netip.AddrFrom16(ip), true
		}
	}
	i := 0
	for i < 16 {
		// One group of up to four hex digits.
		acc, off := 0, 0
		for off < len(b) {
			d, ok := hexDigit(b[off])
			if !ok {
				break
			}
			acc = acc<<4 + d
			off++
			if off > 4 {
				return netip.Addr{}, false
			}
		}
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(b) && b[off] == '.' {
			// Trailing IPv4 address.
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			v4, ok := parseIPv4(b)
			if !ok {
				return netip.Addr{}, false
			}
			copy(ip[i:], v4[:])
			i += 4
			b = nil
			break
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i += 2
		b = b[off:]
		if len(b) == 0 {
			break
		}
		if b[0] != ':' || len(b) == 1 {
			return netip.Addr{}, false
		}
		b = b[1:]
		if b[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			b = b[1:]
			if len(b) == 0 {
				break
			}
		}
	}
	if len(b) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		// "::" must stand for at least one group.
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}

func hexDigit(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}
