package remediate

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
)

// CostState says how a cost line counts.
type CostState string

// Cost line states. Only CostRunning lines count towards the hourly totals.
const (
	// CostRunning: the resource is running as far as the logs show.
	CostRunning CostState = "running"
	// CostHistorical: the logs show it deleted later; its cost stopped then.
	CostHistorical CostState = "historical"
	// CostFailed: the creating call failed, nothing runs and nothing is billed.
	CostFailed CostState = "failed"
	// CostNoPrice: the table has no price for it (an unknown instance type, a task size not
	// in the logs); it is listed, never counted as 0.
	CostNoPrice CostState = "no price"
	// CostUnattributed: the logs do not say whether the attacker created it (unknown
	// attribution); it is priced and listed, not in the attacker's totals.
	CostUnattributed CostState = "unknown attribution"
)

// costAssumptions returns the premises of every estimate, stated in every report.
func costAssumptions() []string {
	return []string{
		"on-demand list prices, Linux, x86, shared tenancy; no Savings Plans, Reserved Instances, Spot or negotiated discounts",
		"resources run around the clock from their creation at the size and count requested (ECS: desired count × task size on Fargate)",
		"a resource the logs show deleted stopped costing then (listed as historical, not in the totals)",
		"not included: EBS volumes, data transfer, public IPv4 addresses, load balancers, Lambda invocations, taxes",
	}
}

// CostLine is the estimate for one resource that costs by the hour.
type CostLine struct {
	Account string                `json:"account"`
	Region  string                `json:"region"`
	Type    incident.ResourceType `json:"type"`
	// ID names the resource: an instance id (or the event id of a refused launch), or
	// cluster/service for an ECS service.
	ID string `json:"id"`
	// What is the priced quantity, e.g. "r6i.metal × 2" or "Fargate 16 vCPU 32 GB × 25 tasks".
	What  string    `json:"what"`
	State CostState `json:"state"`
	// PerHour is the hourly price of the resource (for a historical one, what it cost while
	// it ran); 0 for failed and unpriced lines.
	PerHour float64 `json:"per_hour"`
	// DefaultPrice is set when the region has no price of its own and the table's default
	// region price was used.
	DefaultPrice bool `json:"default_price,omitempty"`
	// Hours is how long it ran: created to deleted, or created to the estimate's AsOf time
	// (0 when unknown); Accrued is PerHour × Hours.
	Hours   float64 `json:"hours,omitempty"`
	Accrued float64 `json:"accrued,omitempty"`
	// Note says why a line is failed, historical or unpriced, and any assumption made.
	Note          string `json:"note,omitempty"`
	CreateEventID string `json:"create_event_id,omitempty"`
}

// RegionCost is the running cost of one account and region.
type RegionCost struct {
	Account  string  `json:"account"`
	Region   string  `json:"region"`
	PerHour  float64 `json:"per_hour"`
	PerDay   float64 `json:"per_day"`
	Unpriced int     `json:"unpriced,omitempty"`
}

// Estimate is the estimated cost of an incident's infrastructure.
type Estimate struct {
	// Disclaimer, Source, AsOf and Currency come from the price table.
	Disclaimer  string       `json:"disclaimer"`
	Source      string       `json:"source"`
	PricesAsOf  string       `json:"prices_as_of"`
	Currency    string       `json:"currency"`
	Assumptions []string     `json:"assumptions"`
	Lines       []CostLine   `json:"lines"`
	Regions     []RegionCost `json:"regions"`
	// PerHour and PerDay total the running lines; Unpriced counts the lines without a price.
	PerHour  float64 `json:"per_hour"`
	PerDay   float64 `json:"per_day"`
	Unpriced int     `json:"unpriced"`
	// AsOf is the time running resources are accrued to (zero: no accrual); Accrued sums
	// the accrued cost of the running and historical lines.
	AsOf    time.Time `json:"as_of,omitzero"`
	Accrued float64   `json:"accrued,omitempty"`
}

// EstimateCost prices the resources that cost by the hour: ECS services (Fargate vCPU and
// memory × desired count) and EC2 instances (type × count). Give it the attacker's resources:
// those of unknown attribution are listed apart (CostUnattributed), not totalled. asOf, when not zero, is the time
// running resources are accrued to (usually the end of the investigated data). The result is
// deterministic: lines are sorted by account, region, type and id.
func EstimateCost(resources []incident.Resource, prices *Prices, asOf time.Time) Estimate {
	est := Estimate{
		Disclaimer: prices.Estimate, Source: prices.Source, PricesAsOf: prices.AsOf,
		Currency: cmp.Or(prices.Currency, "USD"), Assumptions: costAssumptions(), AsOf: asOf,
	}
	taskDefs := map[string]incident.Resource{}
	for _, r := range resources {
		if r.Type == incident.ECSTaskDefinition && !r.Failed {
			taskDefs[r.Account+"|"+r.Region+"|"+taskDefID(r.ID)] = r
		}
	}
	for _, r := range resources {
		var l CostLine
		switch r.Type {
		case incident.EC2Instance:
			l = instanceCost(r, prices)
		case incident.ECSService:
			l = serviceCost(r, prices, taskDefs)
		default:
			continue
		}
		l.Account, l.Region, l.Type, l.CreateEventID = r.Account, r.Region, r.Type, r.CreateEventID
		switch {
		case l.State == CostFailed:
		case l.State == CostNoPrice:
			if r.Deleted {
				l.Note = joinNotes(l.Note, "deleted "+stamp(r.DeletedAt))
			}
		case r.Deleted:
			l.State = CostHistorical
			l.Note = joinNotes(fmt.Sprintf("deleted %s (event %s)", stamp(r.DeletedAt), r.DeleteEventID), l.Note)
			if !r.DeletedAt.IsZero() && r.DeletedAt.After(r.CreatedAt) {
				l.Hours = r.DeletedAt.Sub(r.CreatedAt).Hours()
			}
		default:
			l.State = CostRunning
			if !asOf.IsZero() && asOf.After(r.CreatedAt) {
				l.Hours = asOf.Sub(r.CreatedAt).Hours()
			}
		}
		if r.Attribution == incident.Unknown && l.State != CostFailed && l.State != CostNoPrice {
			l.State = CostUnattributed
			l.Note = joinNotes("attribution unknown: not in the attacker's totals", l.Note)
		}
		l.Accrued = l.PerHour * l.Hours
		if l.State == CostUnattributed {
			l.Accrued = 0
		}
		est.Lines = append(est.Lines, l)
	}
	slices.SortStableFunc(est.Lines, func(a, b CostLine) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	for _, l := range est.Lines {
		n := len(est.Regions)
		if n == 0 || est.Regions[n-1].Account != l.Account || est.Regions[n-1].Region != l.Region {
			est.Regions = append(est.Regions, RegionCost{Account: l.Account, Region: l.Region})
			n++
		}
		rc := &est.Regions[n-1]
		switch l.State {
		case CostRunning:
			rc.PerHour += l.PerHour
			est.PerHour += l.PerHour
		case CostNoPrice:
			rc.Unpriced++
			est.Unpriced++
		}
		est.Accrued += l.Accrued
	}
	for i := range est.Regions {
		est.Regions[i].PerDay = est.Regions[i].PerHour * 24
	}
	est.PerDay = est.PerHour * 24
	return est
}

// instanceCost prices an EC2 launch: instance type × count in its region.
func instanceCost(r incident.Resource, prices *Prices) CostLine {
	typ := r.Details["instance_type"]
	n, err := strconv.Atoi(r.Details["count"])
	if err != nil || n < 1 {
		n = 1
	}
	l := CostLine{ID: cmp.Or(r.ID, r.Name, r.CreateEventID), What: fmt.Sprintf("%s × %d", cmp.Or(typ, "unknown type"), n)}
	if r.Failed {
		l.State, l.Note = CostFailed, "launch failed ("+cmp.Or(r.ErrorCode, "error")+"): nothing runs"
		return l
	}
	price, def, ok := prices.ec2(typ, r.Region)
	if !ok {
		l.State, l.Note = CostNoPrice, "no price for instance type "+cmp.Or(typ, "(unknown)")
		return l
	}
	l.PerHour, l.DefaultPrice = price*float64(n), def
	if def {
		l.Note = "default-region price"
	}
	return l
}

// serviceCost prices an ECS service on Fargate: (vCPU × vCPU-hour + GB × GB-hour) × desired
// count. The task size comes from the service's details, else from its task definition.
func serviceCost(r incident.Resource, prices *Prices, taskDefs map[string]incident.Resource) CostLine {
	d := r.Details
	l := CostLine{ID: cmp.Or(d["cluster"], "default") + "/" + cmp.Or(r.ID, r.Name)}
	cpu, mem := d["cpu"], d["memory"]
	td, tdOK := taskDefs[r.Account+"|"+r.Region+"|"+taskDefID(d["task_definition"])]
	if tdOK {
		cpu, mem = cmp.Or(cpu, td.Details["cpu"]), cmp.Or(mem, td.Details["memory"])
	}
	var notes []string
	if r.Changed {
		notes = append(notes, "pre-existing service changed by the attacker: the whole service is counted")
	}
	count, err := strconv.Atoi(d["desired_count"])
	if err != nil || count < 0 {
		count = 1
		notes = append(notes, "desired count unknown, 1 assumed")
	}
	vcpu, cpuOK := parseVCPU(cpu)
	gb, memOK := parseGB(mem)
	l.What = fmt.Sprintf("Fargate %s vCPU %s GB × %d tasks", num(vcpu, cpuOK), num(gb, memOK), count)
	if r.Failed {
		l.State, l.Note = CostFailed, joinNotes("creation failed ("+cmp.Or(r.ErrorCode, "error")+"): nothing runs", notes...)
		return l
	}
	switch lt := strings.ToUpper(d["launch_type"]); {
	case lt == "EC2" || lt == "EXTERNAL":
		l.What = fmt.Sprintf("%s launch type × %d tasks", lt, count)
		l.State, l.Note = CostNoPrice, joinNotes("tasks run on container instances: priced as those instances", notes...)
		return l
	case lt == "" && tdOK && td.Details["requires_compatibilities"] != "" && !strings.Contains(td.Details["requires_compatibilities"], "FARGATE"):
		l.State, l.Note = CostNoPrice, joinNotes("launch type unknown and the task definition is not for Fargate", notes...)
		return l
	case lt == "":
		notes = append(notes, "launch type unknown, priced as Fargate")
	}
	if !cpuOK || !memOK {
		l.State, l.Note = CostNoPrice, joinNotes("task size (cpu, memory) not in the logs", notes...)
		return l
	}
	fp, def, ok := prices.fargate(r.Region)
	if !ok {
		l.State, l.Note = CostNoPrice, joinNotes("no Fargate price for the region", notes...)
		return l
	}
	l.PerHour, l.DefaultPrice = (vcpu*fp.VCPUHour+gb*fp.GBHour)*float64(count), def
	if def {
		notes = append(notes, "default-region price")
	}
	l.Note = joinNotes("", notes...)
	return l
}

// taskDefID returns family:revision of a task definition ARN or id.
func taskDefID(s string) string {
	if i := strings.Index(s, ":task-definition/"); i >= 0 {
		return s[i+len(":task-definition/"):]
	}
	return s
}

// parseVCPU reads an ECS cpu value: CPU units ("16384", 1024 a vCPU) or "16 vCPU".
func parseVCPU(s string) (float64, bool) { return parseECSSize(s, "vcpu") }

// parseGB reads an ECS memory value: MiB ("32768") or "32 GB".
func parseGB(s string) (float64, bool) { return parseECSSize(s, "gb") }

// parseECSSize reads an ECS task size: a number with the (lower-case) unit, or a bare
// number of 1/1024ths of the unit (CPU units, MiB). Sizes must be positive.
func parseECSSize(s, unit string) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if v, ok := strings.CutSuffix(s, unit); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && f > 0
	}
	f, err := strconv.ParseFloat(s, 64)
	return f / 1024, err == nil && f > 0
}

func num(f float64, ok bool) string {
	if !ok {
		return "?"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func joinNotes(first string, rest ...string) string {
	var parts []string
	for _, s := range append([]string{first}, rest...) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(time unknown)"
	}
	return t.UTC().Format(time.RFC3339)
}

// money formats an amount: cents, or four decimals below a cent.
func money(v float64) string {
	if v != 0 && v < 0.01 {
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// WriteText writes the estimate as a terminal report. Attacker-chosen names are escaped
// (see printable).
func (e Estimate) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "ESTIMATED COST of the attacker's infrastructure (%s) — an estimate, not a bill\n", e.Currency)
	if e.Disclaimer != "" {
		fmt.Fprintf(&b, "%s\n", printable(e.Disclaimer))
	}
	fmt.Fprintf(&b, "Prices (as of %s): %s\nAssumptions:\n", printable(e.PricesAsOf), printable(e.Source))
	for _, a := range e.Assumptions {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tRESOURCE\tWHAT\tSTATE\t/HOUR\t/DAY\tNOTE")
	for _, l := range e.Lines {
		hour, day := money(l.PerHour), money(l.PerHour*24)
		switch l.State {
		case CostNoPrice:
			hour, day = "-", "-"
		case CostHistorical:
			hour, day = "("+hour+")", "("+day+")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", printable(l.Account), printable(l.Region), l.Type,
			printable(l.ID), printable(l.What), l.State, hour, day, printable(l.Note))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the cost table: %w", err)
	}
	b.WriteString("\nRunning, per account and region:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\t/HOUR\t/DAY\tWITHOUT PRICE")
	for _, rc := range e.Regions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", printable(rc.Account), printable(rc.Region), money(rc.PerHour), money(rc.PerDay), rc.Unpriced)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the cost table: %w", err)
	}
	fmt.Fprintf(&b, "\nTOTAL (estimate): %s %s per hour, %s per day", e.Currency, money(e.PerHour), money(e.PerDay))
	if e.Unpriced > 0 {
		fmt.Fprintf(&b, "; %d resource(s) without a price not included", e.Unpriced)
	}
	b.WriteString("\n")
	if !e.AsOf.IsZero() {
		fmt.Fprintf(&b, "Accrued up to %s, historical included (estimate): %s %s\n", stamp(e.AsOf), e.Currency, money(e.Accrued))
	}
	// tabwriter pads the last, empty NOTE cells: trim the trailing blanks.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if _, err := io.WriteString(w, strings.Join(lines, "\n")); err != nil {
		return fmt.Errorf("writing the cost estimate: %w", err)
	}
	return nil
}
