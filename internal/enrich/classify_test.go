package enrich

import (
	"net/netip"
	"strings"
	"testing"
)

func TestClassifySourceIP(t *testing.T) {
	cases := []struct {
		in       string
		want     IPKind
		wantAddr string
	}{
		{"", IPNone, ""},
		{"140.213.52.7", IPPublic, "140.213.52.7"},
		{"075.050.255.67", IPPublic, "75.50.255.67"},
		{"2001:4860::8888", IPPublic, "2001:4860::8888"},
		{"::ffff:140.213.52.7", IPPublic, "140.213.52.7"},
		{"10.1.2.3", IPPrivate, "10.1.2.3"},
		{"172.31.0.1", IPPrivate, "172.31.0.1"},
		{"192.168.1.1", IPPrivate, "192.168.1.1"},
		{"127.0.0.1", IPPrivate, "127.0.0.1"},
		{"169.254.169.254", IPPrivate, "169.254.169.254"},
		{"100.64.0.1", IPPrivate, "100.64.0.1"},
		{"192.0.2.10", IPPrivate, "192.0.2.10"},
		{"198.51.100.1", IPPrivate, "198.51.100.1"},
		{"203.0.113.5", IPPrivate, "203.0.113.5"},
		{"198.18.0.1", IPPrivate, "198.18.0.1"},
		{"0.0.0.0", IPPrivate, "0.0.0.0"},
		{"255.255.255.255", IPPrivate, "255.255.255.255"},
		{"224.0.0.1", IPPrivate, "224.0.0.1"},
		{"::1", IPPrivate, "::1"},
		{"fd00::1", IPPrivate, "fd00::1"},
		{"fe80::1", IPPrivate, "fe80::1"},
		{"2001:db8::1", IPPrivate, "2001:db8::1"},
		{"::ffff:10.0.0.1", IPPrivate, "10.0.0.1"},
		{"172.32.0.1", IPPublic, "172.32.0.1"},
		{"ecs.amazonaws.com", IPAWSService, ""},
		{"resource-explorer-2.amazonaws.com", IPAWSService, ""},
		{"ec2.amazonaws.com.cn", IPAWSService, ""},
		{"AWS Internal", IPAWSInternal, ""},
		{"aws internal", IPInvalid, ""},
		{"amazonaws.com", IPInvalid, ""},
		{".amazonaws.com", IPInvalid, ""},
		{"evil.com", IPInvalid, ""},
		{"a b.amazonaws.com", IPInvalid, ""},
		{"256.1.1.1", IPInvalid, ""},
		{"1.2.3", IPInvalid, ""},
		{"fe80::1%eth0", IPInvalid, ""},
	}
	for _, tc := range cases {
		kind, addr := ClassifySourceIP([]byte(tc.in))
		gotAddr := ""
		if addr.IsValid() {
			gotAddr = addr.String()
		}
		if kind != tc.want || gotAddr != tc.wantAddr {
			t.Errorf("ClassifySourceIP(%q): got %v %q, want %v %q", tc.in, kind, gotAddr, tc.want, tc.wantAddr)
		}
	}
}

func TestIPKindString(t *testing.T) {
	for k, want := range map[IPKind]string{IPNone: "", IPPublic: "public", IPPrivate: "private", IPAWSService: "aws_service", IPAWSInternal: "aws_internal", IPInvalid: "invalid", 200: "invalid"} {
		if got := k.String(); got != want {
			t.Errorf("IPKind(%d).String(): got %q, want %q", k, got, want)
		}
	}
}

func TestUserAgentFamily(t *testing.T) {
	cases := []struct{ ua, want string }{
		{"", ""},
		{"  ", ""},
		{"signin.amazonaws.com", UAConsole},
		{"console.amazonaws.com", UAConsole},
		{"console.ec2.amazonaws.com", UAConsole},
		{"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard]", UAConsole},
		{"autoscaling.amazonaws.com", UAAWSService},
		{"ecs.amazonaws.com", UAAWSService},
		{"AWS Internal", UAAWSService},
		{"aws-internal/3 aws-sdk-java/1.11.1030 Linux/4.14", UAAWSService},
		{"aws-cli/1.18.69 Python/3.8.2 Linux/5.4.0-1021-aws botocore/1.17.0", UAAWSCLI},
		{"aws-cli/2.13.5 Python/3.11.4 Linux/6.2.0 exe/x86_64.ubuntu.22 prompt/off command/iam.create-user", UAAWSCLI},
		{"[aws-cli/2.15.0 md/Botocore#2.0.0 ua/2.0 os/linux#6.1]", UAAWSCLI},
		{"Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.15 md/arch#x86_64 lang/python#3.11.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.0", UABoto3},
		{"botocore/1.29.0 Python/3.10", UABoto3},
		{"Boto/2.38.0 Python/2.7.6 Linux/3.13.0-74-generic", UABoto3},
		{"APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5", UATerraform},
		{"aws-sdk-go/1.44.0 (go1.19; linux; amd64)", UAGo},
		{"aws-sdk-go-v2/1.17.1 os/linux lang/go#1.19.3 md/GOOS#linux md/GOARCH#amd64 exec-env/grimoire api/sts#1.17.4", UAGo},
		{"aws-sdk-java/1.12.400 Linux/5.10 OpenJDK_64-Bit_Server_VM/11", UAJava},
		{"aws-sdk-js/3.370.0 ua/2.0 os/linux#5.15 lang/js md/nodejs#18.17.0", UAJS},
		{"aws-sdk-nodejs/2.1400.0 linux/v18.16.0 exec-env/AWS_Lambda_nodejs18.x", UAJS},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", UABrowser},
		{"MOZILLA/5.0 (X11)", UABrowser},
		{"stratus-red-team_4c5e1b6a-7f3c-4d2a", UAOther},
		{"curl/7.68.0", UAOther},
		{"OpsWorks aws-sdk-ruby/1.8.4 ruby/2.0.0 x86_64-linux", UAOther},
		{"evil.com", UAOther},
	}
	for _, tc := range cases {
		if got := UserAgentFamily([]byte(tc.ua)); got != tc.want {
			t.Errorf("UserAgentFamily(%q): got %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestAccessKeyType(t *testing.T) {
	cases := []struct{ id, want string }{
		{"AKIAIOSFODNN7EXAMPLE", "long_term"},
		{"ASIAY34FZKBOKMUTVV7A", "temporary"},
		{"ABIAXXXXXXXXXXXXXXXX", ""},
		{"akiaiosfodnn7example", ""},
		{"AKIA", ""},
		{"", ""},
	}
	for _, tc := range cases {
		if got := AccessKeyType([]byte(tc.id)); got != tc.want {
			t.Errorf("AccessKeyType(%q): got %q, want %q", tc.id, got, tc.want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"140.213.52.7", "075.050.255.67", "::ffff:10.0.0.1", "2001:db8::1", "ecs.amazonaws.com",
		"AWS Internal", "", "1.2.3", "signin.amazonaws.com", "aws-cli/2.0 botocore/1",
		"Mozilla/5.0", "AKIAIOSFODNN7EXAMPLE", "a.amazonaws.com.cn", "::", "1::2:3.4.5.6",
	} {
		f.Add(s)
	}
	valid := map[string]bool{}
	for _, v := range []string{UAAWSCLI, UABoto3, UAGo, UAJava, UAJS, UATerraform, UAConsole, UABrowser, UAAWSService, UAOther} {
		valid[v] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		kind, addr := ClassifySourceIP(b)
		switch kind {
		case IPPublic, IPPrivate:
			if !addr.IsValid() || addr.Is4In6() {
				t.Fatalf("ClassifySourceIP(%q): kind %v with address %v", s, kind, addr)
			}
		case IPNone:
			if s != "" {
				t.Fatalf("ClassifySourceIP(%q): IPNone for a non-empty value", s)
			}
		case IPAWSService, IPAWSInternal, IPInvalid:
			if addr.IsValid() {
				t.Fatalf("ClassifySourceIP(%q): kind %v with address %v", s, kind, addr)
			}
		default:
			t.Fatalf("ClassifySourceIP(%q): kind %d out of range", s, kind)
		}
		// Whatever the standard library parses as an address (without a zone) must be one.
		if std, err := netip.ParseAddr(s); err == nil && std.Zone() == "" {
			if kind != IPPublic && kind != IPPrivate || addr != std.Unmap() {
				t.Fatalf("ClassifySourceIP(%q): got %v %v, netip says %v", s, kind, addr, std)
			}
		}
		fam := UserAgentFamily(b)
		if (fam == "") != (strings.Trim(s, " \t") == "") || fam != "" && !valid[fam] {
			t.Fatalf("UserAgentFamily(%q): got %q", s, fam)
		}
		switch k := AccessKeyType(b); k {
		case "", "long_term", "temporary":
		default:
			t.Fatalf("AccessKeyType(%q): got %q", s, k)
		}
	})
}
