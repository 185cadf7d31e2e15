package remediate

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
)

// standardRegions are the 17 regions enabled by default in an AWS account.
var standardRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
	"eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2"}

func defaultPrices(t *testing.T) *Prices {
	t.Helper()
	p, err := DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCostGolden(t *testing.T) {
	est := EstimateCost(loadFixture(t), defaultPrices(t), time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC))
	var b bytes.Buffer
	if err := est.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "cost.golden.txt", b.Bytes())

	// The figures, computed by hand from prices.json, so that -update cannot hide a change.
	fargate := func(vcpu, gb float64) float64 { return (16*vcpu + 32*gb) * 25 }
	want := fargate(0.04048, 0.004445) + // us-east-1
		fargate(0.05056, 0.00553) + // ap-northeast-3, size from the task definition
		0.631 // g4dn.xlarge, us-west-1 (ec2_prices.csv); eu-west-1 service and c5 deleted
	if math.Abs(est.PerHour-want) > 1e-9 || math.Abs(est.PerDay-24*want) > 1e-9 {
		t.Errorf("total %.4f/h %.4f/day, want %.4f/h %.4f/day", est.PerHour, est.PerDay, want, 24*want)
	}
	if est.Unpriced != 1 {
		t.Errorf("unpriced = %d, want 1 (z9q.mega)", est.Unpriced)
	}
}

func TestCostLines(t *testing.T) {
	at := time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)
	svc := func(region string, d map[string]string) incident.Resource {
		return incident.Resource{Type: incident.ECSService, Account: "1", Region: region, ID: "s", Details: d, CreatedAt: at}
	}
	inst := func(region, typ, count string) incident.Resource {
		return incident.Resource{Type: incident.EC2Instance, Account: "1", Region: region, ID: "i-1",
			Details: map[string]string{"instance_type": typ, "count": count}, CreatedAt: at}
	}
	big := map[string]string{"cluster": "c", "cpu": "16384", "memory": "32768", "desired_count": "25", "launch_type": "FARGATE"}
	with := func(d map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range d {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	failed := inst("us-west-1", "r6i.metal", "2")
	failed.ID, failed.Failed, failed.ErrorCode = "", true, "Client.PendingVerification"
	gone := inst("us-east-1", "m5.large", "1")
	gone.Deleted, gone.DeletedAt = true, at.Add(10*time.Hour)
	taskDef := incident.Resource{Type: incident.ECSTaskDefinition, Account: "1", Region: "us-east-1", ID: "fam:2",
		Details: map[string]string{"cpu": "1024", "memory": "2048"}}
	tests := []struct {
		name      string
		in        []incident.Resource
		state     CostState
		perHour   float64
		def       bool
		hours     float64
		noteHas   string
		totalHour float64
	}{
		{"fargate us-east-1", []incident.Resource{svc("us-east-1", big)}, CostRunning, 19.748, false, 9, "", 19.748},
		{"fargate sizes in words", []incident.Resource{svc("us-east-1", with(big, "cpu", "16 vCPU", "memory", "32 GB"))}, CostRunning, 19.748, false, 9, "", 19.748},
		{"fargate us-west-1", []incident.Resource{svc("us-west-1", big)}, CostRunning, 22.712, false, 9, "", 22.712},
		{"fargate unlisted region", []incident.Resource{svc("me-central-1", big)}, CostRunning, 19.748, true, 9, "default-region price", 19.748},
		{"size from the task definition", []incident.Resource{taskDef, svc("us-east-1", with(big, "cpu", "", "memory", "",
			"task_definition", "arn:aws:ecs:us-east-1:1:task-definition/fam:2"))}, CostRunning, 25 * (0.04048 + 2*0.004445), false, 9, "", 25 * (0.04048 + 2*0.004445)},
		{"size unknown", []incident.Resource{svc("us-east-1", with(big, "cpu", ""))}, CostNoPrice, 0, false, 0, "task size", 0},
		{"EC2 launch type", []incident.Resource{svc("us-east-1", with(big, "launch_type", "EC2"))}, CostNoPrice, 0, false, 0, "container instances", 0},
		{"desired count unknown", []incident.Resource{svc("us-east-1", with(big, "desired_count", ""))}, CostRunning, 0.78992, false, 9, "1 assumed", 0.78992},
		{"r6i.metal ×2 us-west-1", []incident.Resource{inst("us-west-1", "r6i.metal", "2")}, CostRunning, 17.92, false, 9, "", 17.92},
		{"refused launch costs nothing", []incident.Resource{failed}, CostFailed, 0, false, 0, "Client.PendingVerification", 0},
		{"gpu in us-west-1", []incident.Resource{inst("us-west-1", "g4dn.xlarge", "1")}, CostRunning, 0.631, false, 9, "", 0.631},
		{"region the data lacks: the us-east-1 price", []incident.Resource{inst("xx-test-1", "g4dn.xlarge", "1")}, CostRunning, 0.526, true, 9, "default-region price", 0.526},
		{"unknown attribution is listed, not totalled", []incident.Resource{func() incident.Resource {
			r := inst("us-east-1", "m5.large", "1")
			r.Attribution = incident.Unknown
			return r
		}()}, CostUnattributed, 0.096, false, 9, "attribution unknown", 0},
		{"unknown type is not 0", []incident.Resource{inst("us-east-1", "z9q.mega", "1")}, CostNoPrice, 0, false, 0, "no price for instance type z9q.mega", 0},
		{"deleted is historical", []incident.Resource{gone}, CostHistorical, 0.096, false, 10, "deleted", 0},
	}
	asOf := at.Add(9 * time.Hour)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est := EstimateCost(tt.in, defaultPrices(t), asOf)
			if len(est.Lines) != 1 {
				t.Fatalf("%d lines, want 1: %+v", len(est.Lines), est.Lines)
			}
			l := est.Lines[0]
			if l.State != tt.state || math.Abs(l.PerHour-tt.perHour) > 1e-9 || l.DefaultPrice != tt.def ||
				math.Abs(l.Hours-tt.hours) > 1e-9 || !strings.Contains(l.Note, tt.noteHas) {
				t.Errorf("got %s %.5f/h default=%v %.1fh note %q; want %s %.5f/h default=%v %.1fh note with %q",
					l.State, l.PerHour, l.DefaultPrice, l.Hours, l.Note, tt.state, tt.perHour, tt.def, tt.hours, tt.noteHas)
			}
			accrued := l.PerHour * l.Hours
			if l.State == CostUnattributed {
				accrued = 0
			}
			if math.Abs(est.PerHour-tt.totalHour) > 1e-9 || math.Abs(est.Accrued-accrued) > 1e-9 {
				t.Errorf("total %.5f/h accrued %.5f; want %.5f/h accrued %.5f", est.PerHour, est.Accrued, tt.totalHour, accrued)
			}
		})
	}
}

// TestDefaultPrices: the shipped table covers the regions attack 2 uses and the types
// attackers favour in every standard region, every EC2 type has a default price, and the
// table says where its EC2 prices come from and of what date.
func TestDefaultPrices(t *testing.T) {
	p := defaultPrices(t)
	if !strings.Contains(p.Estimate, "ESTIMATE") || p.Currency != "USD" {
		t.Errorf("the table must say it is an estimate and its currency: %+v", p.Estimate)
	}
	if !strings.Contains(p.Source, "ec2instances.info") || !strings.Contains(p.Source, "cristim/ec2-instances-info v0.0.0-") ||
		!strings.Contains(p.AsOf, "EC2 2025-05-28") || !strings.Contains(p.AsOf, "Fargate 2024") {
		t.Errorf("source %q, as of %q: want the data set, its version and both dates", p.Source, p.AsOf)
	}
	if len(p.EC2) < 500 {
		t.Errorf("%d instance types: want every type of the data set", len(p.EC2))
	}
	for _, typ := range []string{"t3.micro", "m5.large", "c5.24xlarge", "r6i.metal", "g4dn.xlarge", "g4dn.12xlarge"} {
		for _, region := range standardRegions {
			if _, def, ok := p.ec2(typ, region); !ok || def {
				t.Errorf("no price of its own for %s in %s", typ, region)
			}
		}
	}
	for _, region := range []string{DefaultRegion, "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
		"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
		"ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2"} {
		if fp, ok := p.Fargate[region]; !ok || fp.VCPUHour <= 0 || fp.GBHour <= 0 {
			t.Errorf("no Fargate price for %s", region)
		}
	}
	for _, typ := range []string{"t3.micro", "m5.large", "c5.24xlarge", "r6i.metal", "p3.16xlarge", "p4d.24xlarge",
		"g4dn.xlarge", "g5.48xlarge", "x1.32xlarge"} {
		if _, ok := p.EC2[typ]; !ok {
			t.Errorf("no price for %s", typ)
		}
	}
	for typ, byRegion := range p.EC2 {
		if byRegion[DefaultRegion] <= 0 {
			t.Errorf("%s has no default price", typ)
		}
	}
}

func TestParsePricesErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown field", `{"ec2": {}, "fargat": {}}`, `unknown field "fargat"`},
		{"not json", `{`, "parsing prices x.json"},
		{"all bad prices, sorted", `{"ec2": {"t3.micro": {"us-east-1": -1}, "a1.large": {"default": -2}}, "fargate": {"default": {"vcpu_hour": -1, "gb_hour": 0}}}`,
			"x.json: ec2.a1.large.default: price must be finite and not negative\nx.json: ec2.t3.micro.us-east-1: price must be finite and not negative\nx.json: fargate.default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrices(strings.NewReader(tt.in), "x.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadPricesMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.json")
	user := `{"source": "our EDP rates", "as_of": "2026-10",
		"ec2": {"r6i.metal": {"us-west-1": 5}, "zz.huge": {"default": 1}},
		"fargate": {"us-west-1": {"vcpu_hour": 0.03, "gb_hour": 0.003}}}`
	if err := os.WriteFile(path, []byte(user), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPrices(path)
	if err != nil {
		t.Fatal(err)
	}
	def := defaultPrices(t)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"overridden type and region", p.EC2["r6i.metal"]["us-west-1"], 5},
		{"other region of that type kept", p.EC2["r6i.metal"]["us-east-1"], def.EC2["r6i.metal"]["us-east-1"]},
		{"new type", p.EC2["zz.huge"][DefaultRegion], 1},
		{"overridden Fargate region", p.Fargate["us-west-1"].VCPUHour, 0.03},
		{"other Fargate region kept", p.Fargate["eu-west-1"].VCPUHour, def.Fargate["eu-west-1"].VCPUHour},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if !strings.HasPrefix(p.Source, "our EDP rates; otherwise EC2: the ec2instances.info") || !strings.Contains(p.AsOf, "2026-10") {
		t.Errorf("source %q, as of %q: want both tables named", p.Source, p.AsOf)
	}
	if _, err := LoadPrices(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file must be an error")
	}
}

func TestParseTaskSize(t *testing.T) {
	tests := []struct {
		cpu, mem     string
		vcpu, gb     float64
		cpuOK, memOK bool
	}{
		{"16384", "32768", 16, 32, true, true},
		{"256", "512", 0.25, 0.5, true, true},
		{"4 vCPU", "8 GB", 4, 8, true, true},
		{".5 vcpu", "1GB", 0.5, 1, true, true},
		{"", "", 0, 0, false, false},
		{"lots", "-1", 0, 0, false, false},
	}
	for _, tt := range tests {
		vcpu, cpuOK := parseVCPU(tt.cpu)
		gb, memOK := parseGB(tt.mem)
		if cpuOK != tt.cpuOK || memOK != tt.memOK || (cpuOK && vcpu != tt.vcpu) || (memOK && gb != tt.gb) {
			t.Errorf("(%q, %q) = %v %v, %v %v; want %v %v, %v %v", tt.cpu, tt.mem, vcpu, cpuOK, gb, memOK, tt.vcpu, tt.cpuOK, tt.gb, tt.memOK)
		}
	}
}
