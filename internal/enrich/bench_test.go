package enrich

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/internal/event"
)

const benchEvent = `{"eventVersion":"1.08","eventTime":"2026-06-17T10:00:00Z","eventSource":"ecs.amazonaws.com",
"eventName":"RegisterTaskDefinition","awsRegion":"us-east-1","sourceIPAddress":"%s",
"userAgent":"aws-cli/2.13.5 Python/3.11.4 Linux/6.2.0 exe/x86_64.ubuntu.22 prompt/off command/ecs.register-task-definition",
"userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/dev","accountId":"123456789012","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"dev"}}`

// benchEvents returns n events whose source addresses are n distinct public addresses.
func benchEvents(b *testing.B, n int) []*event.Event {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = mustEvent(b, fmt.Sprintf(benchEvent, fmt.Sprintf("140.213.%d.%d", 52+i/256%200, i%256)))
	}
	return evs
}

func benchEnrich(b *testing.B, paths []string, cacheSize, distinct int) {
	e := mustOpen(b, Config{GeoIP: paths, CacheSize: cacheSize})
	s := e.NewState()
	evs := benchEvents(b, distinct)
	for _, ev := range evs { // warm the arena (and, when it fits, the cache)
		s.Enrich(ev)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Enrich(evs[i%len(evs)])
	}
}

// BenchmarkEnrich measures one event's enrichment: warm (the address and principal are
// cached) and cold (every address is a database lookup), on synthetic databases and, when
// present, on the real ones in ../shared.
func BenchmarkEnrich(b *testing.B) {
	d := makeTestDBs(b)
	b.Run("nodb", func(b *testing.B) { benchEnrich(b, nil, 0, 1) })
	b.Run("synthetic/warm", func(b *testing.B) { benchEnrich(b, []string{d.asn, d.flat}, 0, 64) })
	b.Run("synthetic/cold", func(b *testing.B) { benchEnrich(b, []string{d.asn, d.flat}, 1, 4096) })
	b.Run("shared/warm", func(b *testing.B) {
		benchEnrich(b, []string{sharedFile(b, filepath.Join("data", "geoip", "asn.mmdb")), sharedFile(b, filepath.Join("data", "geoip", "country.mmdb"))}, 0, 64)
	})
	b.Run("shared/cold", func(b *testing.B) {
		benchEnrich(b, []string{sharedFile(b, filepath.Join("data", "geoip", "asn.mmdb")), sharedFile(b, filepath.Join("data", "geoip", "country.mmdb"))}, 1, 4096)
	})
}

func BenchmarkUserAgentFamily(b *testing.B) {
	ua := []byte("APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.31.0 aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5")
	b.ReportAllocs()
	for range b.N {
		UserAgentFamily(ua)
	}
}

func BenchmarkClassifySourceIP(b *testing.B) {
	ip := []byte("2001:4860:4860::8888")
	b.ReportAllocs()
	for range b.N {
		ClassifySourceIP(ip)
	}
}

// BenchmarkSharedWith measures reading the grantees of a role trust policy (a JSON string to
// parse), and the cost for an event that grants nothing (a map lookup).
func BenchmarkSharedWith(b *testing.B) {
	trust := grantEvent(b, "iam.amazonaws.com", "UpdateAssumeRolePolicy", `{"roleName":"app","policyDocument":`+
		policyString(b, `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`,
			`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::193672423079:root"},"Action":"sts:AssumeRole"}`)+`}`)
	other := mustEvent(b, fmt.Sprintf(benchEvent, "140.213.52.1"))
	for _, bc := range []struct {
		name string
		ev   *event.Event
	}{{"trust-policy", trust}, {"no-grant", other}} {
		b.Run(bc.name, func(b *testing.B) {
			var g grants
			b.ReportAllocs()
			for range b.N {
				g.SharedWith(bc.ev)
			}
		})
	}
}
