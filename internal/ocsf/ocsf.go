// Package ocsf maps trailhound's signals to the Open Cybersecurity Schema Framework: one
// Detection Finding (OCSF 1.8, class_uid 2004, category Findings) per signal, for SIEMs and
// data lakes that read OCSF (Amazon Security Lake, Splunk, ...). The mapping is one pure
// function, Finding, so that every output that writes OCSF — hunt -f ocsf today, the live
// service's sink later — writes the same object for the same signal.
//
// What goes where:
//   - finding_info: uid is the signal id, title the rule title, desc the summary, analytic
//     the rule (uid = rule id, type Rule), attacks the ATT&CK tactics and techniques, first
//     and last seen times, related_events the CloudTrail eventIDs (at most the signal's cap;
//     related_events_count has them all), data_sources "AWS CloudTrail".
//   - severity_id from the level (informational 1 … critical 5); status New; activity from
//     the signal's lifecycle: Create for its first revision (a batch hunt's only one), Update
//     for an update, Close for a close after earlier revisions.
//   - time, start_time and end_time are the first and last event times (milliseconds since
//     the epoch): the same signal gives the same finding on every run.
//   - cloud (profile "cloud"): provider AWS, the account, the first region.
//   - evidences: the actor (user uid is the normalised principal ARN, credential_uid the
//     access key id) and, per source address, the source endpoint (ip when it is an
//     address, else domain: CloudTrail writes AWS service names there).
//   - observables: the source IP addresses and the actor.
//   - unmapped.trailhound: what OCSF has no place for (all regions, event count).
package ocsf

import (
	"net/netip"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
)

// SchemaVersion is the OCSF version the findings follow.
const SchemaVersion = "1.8.0"

// The class of every finding.
const (
	CategoryUID = 2
	ClassUID    = 2004
	// ActivityCreate is activity_id Create: a signal's first revision (batch hunts emit a
	// signal once, when it closes: that is its first); ActivityUpdate a later one while it
	// is open; ActivityClose its close after earlier revisions.
	ActivityCreate = 1
	ActivityUpdate = 2
	ActivityClose  = 3
)

// DetectionFinding is an OCSF Detection Finding, with the attributes trailhound fills.
type DetectionFinding struct {
	ActivityID   int            `json:"activity_id"`
	ActivityName string         `json:"activity_name"`
	CategoryUID  int            `json:"category_uid"`
	CategoryName string         `json:"category_name"`
	ClassUID     int            `json:"class_uid"`
	ClassName    string         `json:"class_name"`
	TypeUID      int64          `json:"type_uid"`
	TypeName     string         `json:"type_name"`
	SeverityID   int            `json:"severity_id"`
	Severity     string         `json:"severity"`
	StatusID     int            `json:"status_id"`
	Status       string         `json:"status"`
	IsAlert      bool           `json:"is_alert"`
	Time         int64          `json:"time"`
	StartTime    int64          `json:"start_time,omitempty"`
	EndTime      int64          `json:"end_time,omitempty"`
	Count        int            `json:"count"`
	Message      string         `json:"message"`
	Metadata     Metadata       `json:"metadata"`
	FindingInfo  FindingInfo    `json:"finding_info"`
	Cloud        Cloud          `json:"cloud"`
	Evidences    []Evidence     `json:"evidences,omitempty"`
	Observables  []Observable   `json:"observables,omitempty"`
	Unmapped     map[string]any `json:"unmapped,omitempty"`
}

// Metadata says what wrote the finding.
type Metadata struct {
	Version  string   `json:"version"`
	Product  Product  `json:"product"`
	Profiles []string `json:"profiles"`
	UID      string   `json:"uid"`
	LogName  string   `json:"log_name"`
}

// Product is trailhound.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// FindingInfo describes the detection.
type FindingInfo struct {
	UID                string         `json:"uid"`
	Title              string         `json:"title"`
	Desc               string         `json:"desc,omitempty"`
	Analytic           Analytic       `json:"analytic"`
	Attacks            []Attack       `json:"attacks,omitempty"`
	FirstSeenTime      int64          `json:"first_seen_time,omitempty"`
	LastSeenTime       int64          `json:"last_seen_time,omitempty"`
	DataSources        []string       `json:"data_sources"`
	RelatedEvents      []RelatedEvent `json:"related_events,omitempty"`
	RelatedEventsCount int            `json:"related_events_count"`
}

// Analytic is the rule that matched.
type Analytic struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Attack is one ATT&CK tactic or technique.
type Attack struct {
	Tactic    *Entity `json:"tactic,omitempty"`
	Technique *Entity `json:"technique,omitempty"`
	Version   string  `json:"version,omitempty"`
}

// Entity is a name and an id.
type Entity struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
}

// RelatedEvent is one CloudTrail event of the evidence.
type RelatedEvent struct {
	UID string `json:"uid"`
}

// Cloud is where the events happened.
type Cloud struct {
	Provider string   `json:"provider"`
	Account  *Account `json:"account,omitempty"`
	Region   string   `json:"region,omitempty"`
}

// Account is an AWS account.
type Account struct {
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Evidence is who acted, and from where.
type Evidence struct {
	Actor       *Actor    `json:"actor,omitempty"`
	SrcEndpoint *Endpoint `json:"src_endpoint,omitempty"`
}

// Actor is the principal of the events.
type Actor struct {
	User User `json:"user"`
}

// User is an AWS principal.
type User struct {
	UID           string   `json:"uid"`
	Name          string   `json:"name,omitempty"`
	CredentialUID string   `json:"credential_uid,omitempty"`
	Account       *Account `json:"account,omitempty"`
}

// Endpoint is a source of the events: an address, or an AWS service name.
type Endpoint struct {
	IP     string `json:"ip,omitempty"`
	Domain string `json:"domain,omitempty"`
}

// Observable is a value a SIEM can pivot on.
type Observable struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

// severities are OCSF's severity_id captions by trailhound level.
var severities = map[signal.Level]struct {
	id   int
	name string
}{
	signal.LevelInformational: {1, "Informational"},
	signal.LevelLow:           {2, "Low"},
	signal.LevelMedium:        {3, "Medium"},
	signal.LevelHigh:          {4, "High"},
	signal.LevelCritical:      {5, "Critical"},
}

// tactics are the ATT&CK Enterprise tactic ids by the names Sigma tags use.
var tactics = map[string]struct{ id, name string }{
	"reconnaissance":       {"TA0043", "Reconnaissance"},
	"resource-development": {"TA0042", "Resource Development"},
	"initial-access":       {"TA0001", "Initial Access"},
	"execution":            {"TA0002", "Execution"},
	"persistence":          {"TA0003", "Persistence"},
	"privilege-escalation": {"TA0004", "Privilege Escalation"},
	"defense-evasion":      {"TA0005", "Defense Evasion"},
	"credential-access":    {"TA0006", "Credential Access"},
	"discovery":            {"TA0007", "Discovery"},
	"lateral-movement":     {"TA0008", "Lateral Movement"},
	"collection":           {"TA0009", "Collection"},
	"command-and-control":  {"TA0011", "Command and Control"},
	"exfiltration":         {"TA0010", "Exfiltration"},
	"impact":               {"TA0040", "Impact"},
}

// Finding maps a signal to its Detection Finding. version is trailhound's version, for
// metadata.product. The function reads nothing but its arguments and keeps no state.
func Finding(s signal.Signal, version string) DetectionFinding {
	sev, ok := severities[s.Level]
	if !ok {
		sev.id, sev.name = 0, "Unknown"
	}
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	activity, activityName := ActivityCreate, "Create"
	switch status, rev := s.Lifecycle(); {
	case status == signal.StatusUpdated:
		activity, activityName = ActivityUpdate, "Update"
	case status == signal.StatusClosed && rev > 1:
		activity, activityName = ActivityClose, "Close"
	}
	f := DetectionFinding{
		ActivityID: activity, ActivityName: activityName,
		CategoryUID: CategoryUID, CategoryName: "Findings",
		ClassUID: ClassUID, ClassName: "Detection Finding",
		TypeUID: ClassUID*100 + int64(activity), TypeName: "Detection Finding: " + activityName,
		SeverityID: sev.id, Severity: sev.name,
		StatusID: 1, Status: "New",
		IsAlert:   true,
		Time:      ms(s.LastSeen), // 0 when no event had a valid time
		StartTime: ms(s.FirstSeen),
		EndTime:   ms(s.LastSeen),
		Count:     s.EventCount,
		Message:   s.Summary,
		Metadata: Metadata{
			Version:  SchemaVersion,
			Product:  Product{Name: "trailhound", VendorName: "trailhound", Version: version},
			Profiles: []string{"cloud"},
			UID:      s.ID,
			LogName:  "CloudTrail",
		},
		FindingInfo: FindingInfo{
			UID:                s.ID,
			Title:              s.Title,
			Desc:               s.Summary,
			Analytic:           Analytic{UID: s.RuleID, Name: s.Title, TypeID: 1, Type: "Rule"},
			FirstSeenTime:      ms(s.FirstSeen),
			LastSeenTime:       ms(s.LastSeen),
			DataSources:        []string{"AWS CloudTrail"},
			RelatedEventsCount: s.EventCount,
		},
		Cloud: Cloud{Provider: "AWS"},
	}
	for _, id := range s.EventIDs {
		f.FindingInfo.RelatedEvents = append(f.FindingInfo.RelatedEvents, RelatedEvent{UID: id})
	}
	for _, name := range s.Tactics {
		t, ok := tactics[name]
		if !ok {
			f.FindingInfo.Attacks = append(f.FindingInfo.Attacks, Attack{Tactic: &Entity{Name: name}})
			continue
		}
		f.FindingInfo.Attacks = append(f.FindingInfo.Attacks, Attack{Tactic: &Entity{UID: t.id, Name: t.name}})
	}
	for _, id := range s.Techniques {
		f.FindingInfo.Attacks = append(f.FindingInfo.Attacks, Attack{Technique: &Entity{UID: id}})
	}
	var account *Account
	if s.AccountID != "" {
		account = &Account{UID: s.AccountID, TypeID: 10, Type: "AWS Account"}
		f.Cloud.Account = account
	}
	if len(s.Regions) > 0 {
		f.Cloud.Region = s.Regions[0]
	}
	var actor *Actor
	if s.Actor != "" {
		actor = &Actor{User: User{UID: s.Actor, Name: shortName(s.Actor), CredentialUID: s.AccessKeyID, Account: account}}
		f.Observables = append(f.Observables, Observable{Name: "evidences[].actor.user.uid", TypeID: 10, Type: "Resource UID", Value: s.Actor})
	}
	for _, src := range s.SourceIPs {
		ep := &Endpoint{}
		if addr, err := netip.ParseAddr(src); err == nil {
			ep.IP = addr.String()
			f.Observables = append(f.Observables, Observable{Name: "evidences[].src_endpoint.ip", TypeID: 2, Type: "IP Address", Value: ep.IP})
		} else {
			ep.Domain = src
		}
		f.Evidences = append(f.Evidences, Evidence{Actor: actor, SrcEndpoint: ep})
	}
	if len(f.Evidences) == 0 && actor != nil {
		f.Evidences = []Evidence{{Actor: actor}}
	}
	status, rev := s.Lifecycle()
	th := map[string]any{
		"status":        string(status),
		"revision":      rev,
		"regions":       nonNil(s.Regions),
		"event_count":   s.EventCount,
		"source_ips":    nonNil(s.SourceIPs),
		"access_key_id": s.AccessKeyID,
	}
	if s.SupersededBy != "" {
		th["superseded_by"] = s.SupersededBy
	}
	f.Unmapped = map[string]any{"trailhound": th}
	return f
}

// shortName keeps what follows the account in an ARN ("user/alice", "role/x#session").
func shortName(arn string) string {
	if i := strings.LastIndex(arn, ":"); strings.HasPrefix(arn, "arn:") && i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
