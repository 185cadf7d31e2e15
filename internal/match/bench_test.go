package match

import (
	"testing"
)

// sink keeps the compiler from discarding Match results.
var sink bool

func benchMatch(b *testing.B, m interface{ Match([]byte) bool }, values ...string) {
	b.Helper()
	vs := make([][]byte, len(values))
	for i, v := range values {
		vs[i] = []byte(v)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sink = m.Match(vs[i%len(vs)])
	}
}

func mustString(b *testing.B, op Op, pattern string, opts Options) *String {
	b.Helper()
	m, err := CompileString(op, pattern, opts)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

const arn = "arn:aws:sts::123456789012:assumed-role/OrganizationAccountAccessRole/botocore-session-1700000000"

func BenchmarkString(b *testing.B) {
	cases := []struct {
		name    string
		op      Op
		pattern string
		opts    Options
		values  []string
	}{
		{"equals/fold", Equals, "ConsoleLogin", Options{}, []string{"ConsoleLogin", "GetObject"}},
		{"equals/cased", Equals, "ConsoleLogin", Options{Cased: true}, []string{"ConsoleLogin", "GetObject"}},
		{"startswith/fold", StartsWith, "arn:aws:sts::", Options{}, []string{arn}},
		{"endswith/fold", EndsWith, "-1700000000", Options{}, []string{arn}},
		{"contains/fold", Contains, "AccountAccess", Options{}, []string{arn}},
		{"contains/fold-miss", Contains, "AdministratorAccess", Options{}, []string{arn}},
		{"contains/cased", Contains, "AccountAccess", Options{Cased: true}, []string{arn}},
		{"contains/kelvin-safe", Contains, "botocore", Options{}, []string{arn}},
		{"contains/unicode", Contains, "straße", Options{}, []string{"Hauptstraße 1, Zürich"}},
		{"glob/fold", Equals, "arn:aws:sts::*:assumed-role/*Access*/*", Options{}, []string{arn}},
		{"glob/question", Equals, "arn:aws:sts::????????????:assumed-role/*", Options{}, []string{arn}},
		{"glob/cased", Equals, "arn:aws:sts::*:assumed-role/*Access*/*", Options{Cased: true}, []string{arn}},
		{"glob/pathological", Equals, "*a*a*a*a*a*a*b", Options{}, []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			benchMatch(b, mustString(b, c.op, c.pattern, c.opts), c.values...)
		})
	}
}

func BenchmarkSet(b *testing.B) {
	names := []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "DeleteFlowLogs",
		"DeleteDetector", "DisableSecurityHub", "DeleteConfigRule", "StopConfigurationRecorder",
		"DeleteConfigurationRecorder", "PutBucketLogging", "DeleteBucketPolicy", "CreateAccessKey",
		"AttachUserPolicy", "CreateLoginProfile", "UpdateLoginProfile", "ConsoleLogin", "AssumeRole",
		"GetSessionToken", "GetFederationToken"}
	s, err := NewSet(Options{}, names...)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fold/hit", func(b *testing.B) { benchMatch(b, s, "GetFederationToken", "consolelogin") })
	b.Run("fold/miss", func(b *testing.B) { benchMatch(b, s, "DescribeInstances", "GetObject") })
	// The same question asked with one String per value, for comparison.
	ms := make([]*String, len(names))
	for i, n := range names {
		ms[i] = mustString(b, Equals, n, Options{})
	}
	b.Run("fold/loop-of-strings", func(b *testing.B) {
		v := []byte("GetFederationToken")
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range ms {
				if m.Match(v) {
					break
				}
			}
		}
	})
}

func BenchmarkRegex(b *testing.B) {
	r, err := CompileRegex(`^arn:aws:sts::\d{12}:assumed-role/`, 0)
	if err != nil {
		b.Fatal(err)
	}
	benchMatch(b, r, arn)
}

func BenchmarkCIDR(b *testing.B) {
	c, err := CompileCIDR("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("v4", func(b *testing.B) { benchMatch(b, c, "192.168.10.20", "203.0.113.7") })
	b.Run("v4-leading-zeros", func(b *testing.B) { benchMatch(b, c, "075.050.255.067") })
	b.Run("v6", func(b *testing.B) { benchMatch(b, c, "2001:db8:85a3::8a2e:370:7334") })
	b.Run("not-ip", func(b *testing.B) { benchMatch(b, c, "ecs.amazonaws.com", "AWS Internal") })
}

func BenchmarkNumeric(b *testing.B) {
	n, err := CompileNumeric(NumGt, "100")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("int", func(b *testing.B) { benchMatch(b, n, "1234") })
	b.Run("float", func(b *testing.B) { benchMatch(b, n, "1234.5678") })
	b.Run("not-number", func(b *testing.B) { benchMatch(b, n, "abc") })
}

// TestMatchDoesNotAllocate is the allocation guarantee as a test, so it fails without anyone
// reading benchmark output.
func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	if testing.Short() {
		t.Skip("allocation counts in -short mode are not needed")
	}
	str := func(op Op, p string, opts Options) *String {
		m, err := CompileString(op, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	set, _ := NewSet(Options{}, "ConsoleLogin", "straße", "Kelvin")
	re, _ := CompileRegex(`^arn:aws:sts::\d{12}:`, RegexI)
	cidr, _ := CompileCIDR("10.0.0.0/8", "2001:db8::/32")
	num, _ := CompileNumeric(NumLte, "2.5")
	any, _ := NewAny([]*String{str(Contains, "risk", Options{}), str(StartsWith, "straße", Options{}),
		str(EndsWith, "kelvin", Options{}), str(Equals, "Exact", Options{Cased: true})})
	matchers := []struct {
		name   string
		m      interface{ Match([]byte) bool }
		values []string
	}{
		{"string equals", str(Equals, "ConsoleLogin", Options{}), []string{"consolelogin", "\u212a"}},
		{"string contains", str(Contains, "risk", Options{}), []string{"RIS\u212a", "risky", "no"}},
		{"string glob", str(Equals, "a*ß?*k", Options{}), []string{"AxẞyzK", "\xffß\u212a"}},
		{"string glob cased", str(Equals, "a*b?*c", Options{Cased: true}), []string{"axbyc", "abc"}},
		{"set", set, []string{"STRASSE", "STRAẞE", "kelvin", "\u212aelvin", "nope"}},
		{"regex", re, []string{arn, "x"}},
		{"cidr", cidr, []string{"010.1.2.3", "2001:db8::1", "::ffff:10.0.0.1", "AWS Internal"}},
		{"numeric", num, []string{"2", "2.5", "-1e999", "1e309", "0.0000001", "x"}},
		{"any", any, []string{"RIS\u212a", "STRASSE 1", "Lord \u212aelvin", "Exact", "none"}},
	}
	for _, tt := range matchers {
		for _, v := range tt.values {
			b := []byte(v)
			if n := testing.AllocsPerRun(100, func() { sink = tt.m.Match(b) }); n != 0 {
				t.Errorf("%s Match(%q) allocates %v times, want 0", tt.name, v, n)
			}
		}
	}
}
