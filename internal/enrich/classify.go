package enrich

import (
	"net/netip"
	"strings"

	"github.com/trailhound/trailhound/internal/match"
)

// IPKind says what a CloudTrail sourceIPAddress holds.
type IPKind uint8

// The kinds of source address. IPNone is an absent or empty field.
const (
	IPNone IPKind = iota
	// IPPublic is a globally routable address; only these are looked up in the databases.
	IPPublic
	// IPPrivate is an address that is not globally routable: RFC 1918, loopback, link-local,
	// shared (CGNAT), documentation, benchmarking, multicast, reserved, IPv6 ULA. The
	// databases map some of them to countries; trailhound never looks them up.
	IPPrivate
	// IPAWSService is a service principal written instead of an address
	// ("ecs.amazonaws.com").
	IPAWSService
	// IPAWSInternal is the literal "AWS Internal".
	IPAWSInternal
	// IPInvalid is anything else.
	IPInvalid
)

var ipKindNames = [...]string{
	IPNone:        "",
	IPPublic:      "public",
	IPPrivate:     "private",
	IPAWSService:  "aws_service",
	IPAWSInternal: "aws_internal",
	IPInvalid:     "invalid",
}

// String returns the value of the src_ip_kind field ("" for IPNone).
func (k IPKind) String() string {
	if int(k) < len(ipKindNames) {
		return ipKindNames[k]
	}
	return "invalid"
}

// nonGlobal are the special-purpose networks that are not globally reachable (IANA IPv4 and
// IPv6 special-purpose address registries), plus multicast and the IPv6 documentation prefix
// 3fff::/20 (RFC 9637).
var (
	nonGlobal4 = mustPrefixes(
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	)
	nonGlobal6 = mustPrefixes(
		"::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:2::/48", "2001:10::/28",
		"2001:db8::/32", "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	)
)

// mustPrefixes parses constant networks; it panics on a typo, which the tests catch.
func mustPrefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// ClassifySourceIP classifies a sourceIPAddress value and returns the address for
// IPPublic and IPPrivate (IPv4-mapped IPv6 addresses are unmapped). IPv4 octets with leading
// zeros are read as decimal (match.ParseIP). It does not allocate.
func ClassifySourceIP(b []byte) (IPKind, netip.Addr) {
	if len(b) == 0 {
		return IPNone, netip.Addr{}
	}
	if addr, ok := match.ParseIP(b); ok {
		addr = addr.Unmap()
		if isNonGlobal(addr) {
			return IPPrivate, addr
		}
		return IPPublic, addr
	}
	switch {
	case string(b) == "AWS Internal":
		return IPAWSInternal, netip.Addr{}
	case isServiceHost(b):
		return IPAWSService, netip.Addr{}
	}
	return IPInvalid, netip.Addr{}
}

// SourceNet is the src_net field of a source address of kind k (addr its parsed address for
// public and private kinds, raw the sourceIPAddress value): the /24 of a public IPv4
// address, the /48 of a public IPv6 address, "private" for private and reserved addresses,
// the host for an AWS service, "aws_internal"; "" for an invalid or absent address.
func SourceNet(k IPKind, addr *netip.Addr, raw []byte) string {
	switch k {
	case IPPublic:
		bits := 48
		if addr.Is4() {
			bits = 24
		}
		p, err := addr.Prefix(bits)
		if err != nil {
			return ""
		}
		return p.String()
	case IPPrivate:
		return "private"
	case IPAWSService:
		return strings.ToLower(string(raw))
	case IPAWSInternal:
		return "aws_internal"
	}
	return ""
}

func isNonGlobal(addr netip.Addr) bool {
	list := nonGlobal6
	if addr.Is4() {
		list = nonGlobal4
	}
	for _, p := range list {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// isServiceHost reports whether b is a host name under amazonaws.com (or amazonaws.com.cn),
// as AWS writes service principals: letters, digits, '-' and '.', at least one label before
// the domain.
func isServiceHost(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn"} {
		if len(b) > len(suffix) && hasSuffixFold(b, suffix) && b[0] != '.' {
			return true
		}
	}
	return false
}

// AccessKeyType returns "long_term" for an IAM user's access key (AKIA…), "temporary" for
// STS credentials (ASIA…), and "" otherwise.
func AccessKeyType(id []byte) string {
	if len(id) < 5 {
		return ""
	}
	switch string(id[:4]) {
	case "AKIA":
		return "long_term"
	case "ASIA":
		return "temporary"
	}
	return ""
}

// The user_agent_family values.
const (
	UAAWSCLI     = "aws-cli"
	UABoto3      = "boto3" // boto3, botocore and the old Boto
	UAGo         = "aws-sdk-go"
	UAJava       = "aws-sdk-java"
	UAJS         = "aws-sdk-js" // aws-sdk-js v3 and aws-sdk-nodejs v2
	UATerraform  = "terraform"
	UAConsole    = "console"
	UABrowser    = "browser"
	UAAWSService = "aws-service"
	UAOther      = "other"
)

// UserAgentFamily maps a userAgent value to a coarse family (the UA constants), or "" for an
// empty one. Checks run in this order, so a tool's own token wins over the SDK it embeds:
//   - console: signin.amazonaws.com, console.amazonaws.com, any *.amazonaws.com host with a
//     "console" or "signin" label (console.ec2.amazonaws.com), and the bracketed
//     [S3Console/…] agent;
//   - aws-service: another *.amazonaws.com host, "AWS Internal", or an aws-internal/ token;
//   - aws-cli (before boto3: the CLI embeds botocore), terraform (before aws-sdk-go: the
//     provider embeds it), boto3, aws-sdk-go, aws-sdk-java, aws-sdk-js;
//   - browser: a value starting with Mozilla/;
//   - other: everything else (other SDKs, curl, attack tools).
//
// Token comparisons ignore ASCII case. It does not allocate.
func UserAgentFamily(ua []byte) string {
	ua = trimSpace(ua)
	if len(ua) == 0 {
		return ""
	}
	if isServiceHost(ua) {
		if hasLabelFold(ua, "console") || hasLabelFold(ua, "signin") {
			return UAConsole
		}
		return UAAWSService
	}
	switch {
	case containsFold(ua, "s3console/"):
		return UAConsole
	case string(ua) == "AWS Internal", containsFold(ua, "aws-internal/"):
		return UAAWSService
	case containsFold(ua, "aws-cli/"):
		return UAAWSCLI
	case containsFold(ua, "terraform/"), containsFold(ua, "terraform-provider-aws"):
		return UATerraform
	case containsFold(ua, "boto3/"), containsFold(ua, "botocore/"), hasPrefixFold(ua, "boto/"):
		return UABoto3
	case containsFold(ua, "aws-sdk-go"):
		return UAGo
	case containsFold(ua, "aws-sdk-java"):
		return UAJava
	case containsFold(ua, "aws-sdk-js"), containsFold(ua, "aws-sdk-nodejs"):
		return UAJS
	case hasPrefixFold(ua, "mozilla/"):
		return UABrowser
	}
	return UAOther
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// lower folds an ASCII upper-case letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold compares b with the lower-case ASCII string s, ignoring ASCII case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(s) {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFold(b[:len(prefix)], prefix)
}

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && equalFold(b[len(b)-len(suffix):], suffix)
}

// containsFold reports whether b contains the lower-case ASCII string sub, ignoring case.
func containsFold(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if lower(b[i]) == sub[0] && equalFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// hasLabelFold reports whether the dotted host name b has the label label.
func hasLabelFold(b []byte, label string) bool {
	for len(b) > 0 {
		end := 0
		for end < len(b) && b[end] != '.' {
			end++
		}
		if equalFold(b[:end], label) {
			return true
		}
		if end == len(b) {
			break
		}
		b = b[end+1:]
	}
	return false
}
