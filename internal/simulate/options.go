package simulate

import (
	"fmt"
	"slices"
	"time"
)

// Attack names one of the two seed attacks of DESIGN.md.
type Attack int

const (
	// AttackLeakedKeyAdmin is seed attack 1: a leaked IAM user key creates admin users,
	// signs in to the console, reads S3 and tries to start metal instances in us-west-1.
	AttackLeakedKeyAdmin Attack = 1
	// AttackECSCryptomining is seed attack 2: another leaked key creates ECS clusters, task
	// definitions and services (25 large Fargate tasks each) in 17 regions within minutes.
	AttackECSCryptomining Attack = 2
	// AttackRoleTheft is instance-role credential theft (SSRF to the metadata service): the
	// temporary credentials of an instance profile are used from outside the instance to
	// list buckets and read objects. Not in the default set.
	AttackRoleTheft Attack = 3
)

// Default values of Options.
const (
	DefaultDays         = 7
	DefaultAccounts     = 2
	DefaultEventsPerDay = 20_000
	// DefaultMaxPerFile bounds the records of one delivery file; a busier slot is split
	// into several files, as CloudTrail does.
	DefaultMaxPerFile = 2000
	// DefaultDuplicateRate is the share of events CloudTrail delivers a second time.
	DefaultDuplicateRate = 0.0005
)

// defaultRegions are the regions the simulated organisation uses unless told otherwise.
var defaultRegions = []string{"us-east-1", "eu-west-1", "us-east-2"}

// standardRegions are the 17 regions enabled by default in an AWS account; attack 2 uses
// all of them.
var standardRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
}

// Options configures Generate. The zero value is valid: a week from 2026-11-16 (a Monday),
// two accounts, three regions, about 20,000 background events a day, both attacks.
type Options struct {
	// Seed fixes every random choice: the same Options give the same bytes, and another
	// seed gives other account IDs, user names, keys and attacker names.
	Seed uint64
	// Start is the beginning of the simulated history (truncated to the minute, UTC); zero
	// means 2026-11-16T00:00:00Z, a Monday.
	Start time.Time
	// Days of history; 0 means DefaultDays.
	Days int
	// Accounts is the number of AWS accounts (the first is "prod", the second "dev");
	// 0 means DefaultAccounts.
	Accounts int
	// EventsPerDay is the approximate number of background events per day over all
	// accounts (monitoring polls, S3 and Lambda data events, KMS, service role sessions);
	// human, CI and attack activity add a few hundred a day on top. 0 means
	// DefaultEventsPerDay.
	EventsPerDay int
	// Attacks lists the attacks to include; nil means the two seed attacks (1 and 2). Use
	// NoAttacks for none.
	Attacks []Attack
	// NoAttacks writes benign activity only (Attacks is then ignored).
	NoAttacks bool
	// Regions used by the organisation; empty means us-east-1, eu-west-1, us-east-2. The
	// first is the home region. Attack 1 needs us-west-1 to be unused.
	Regions []string
	// Digests also writes hourly CloudTrail-Digest files.
	Digests bool
	// MaxPerFile bounds the records in one file; 0 means DefaultMaxPerFile.
	MaxPerFile int
	// DuplicateRate is the share of events delivered twice; 0 means DefaultDuplicateRate,
	// a negative value none.
	DuplicateRate float64
	// GzipLevel is the compression level of the files; 0 means gzip.BestSpeed.
	GzipLevel int
	// BusyOwners makes the keys that leak in attacks 1 and 2 belong to busy CI/deployment
	// users (the CIUsers shape) instead of a quiet mailer and a nightly backup job: the
	// owner's pipeline keeps using the same key before, during and after the attack, from
	// its usual runners and clients. GroundTruth.Owners lists what it did.
	BusyOwners bool
	// CIUsers adds that many benign busy CI/deployment IAM users to every account (at most
	// 6): a long-term key that a pipeline uses all day from the organisation's runners
	// (Terraform and the AWS CLI): test instances launched and terminated, ECS deployments,
	// IAM roles of ephemeral environments, managed policy versions.
	CIUsers int
	// CIRunsPerDay is the number of pipeline runs of each CI user on a weekday (a quarter
	// on weekends); each launches 2 to 4 instances. 0 means DefaultCIRunsPerDay.
	CIRunsPerDay int
	// S3Readers adds that many heavy S3 readers to every account (at most 4): ECS task
	// roles of batch jobs that read thousands of objects a day, 3 to 6 jobs a day of a few
	// hundred objects each in 10 to 30 minutes, each job a new task (a new session) from a
	// private address of the VPC.
	S3Readers int
	// Scanners adds a cloud security posture scanner to every account: every hour its
	// vendor's account assumes the account's cspm-audit role (session
	// ProwlerAssessmentSession, Prowler's documented user agent) and lists and describes
	// everything in every region the account uses.
	Scanners bool
	// UnlistedInfra makes the attacks' infrastructure mostly unknown to the built-in IOC
	// lists: of attacks 1 and 2's addresses one in four comes from the published range
	// 140.213.52.0/24 and the others from random hosting networks, and of attack 2's
	// container images one in four is one of the 40 known mining images and the others
	// fresh names. Attack 3 always comes from unlisted networks.
	UnlistedInfra bool
}

// withDefaults returns o with zero fields defaulted, or an error for an invalid field.
func (o Options) withDefaults() (Options, error) {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC().Truncate(time.Minute)
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Accounts == 0 {
		o.Accounts = DefaultAccounts
	}
	if o.EventsPerDay == 0 {
		o.EventsPerDay = DefaultEventsPerDay
	}
	if o.MaxPerFile == 0 {
		o.MaxPerFile = DefaultMaxPerFile
	}
	if o.DuplicateRate == 0 {
		o.DuplicateRate = DefaultDuplicateRate
	}
	if o.DuplicateRate < 0 {
		o.DuplicateRate = 0
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = 1
	}
	if o.CIRunsPerDay == 0 {
		o.CIRunsPerDay = DefaultCIRunsPerDay
	}
	if len(o.Regions) == 0 {
		o.Regions = defaultRegions
	}
	o.Regions = slices.Clone(o.Regions)
	if o.NoAttacks {
		o.Attacks = nil
	} else if o.Attacks == nil {
		o.Attacks = []Attack{AttackLeakedKeyAdmin, AttackECSCryptomining}
	}
	switch {
	case o.Days < 1 || o.Days > 366:
		return o, fmt.Errorf("days: %d is not between 1 and 366", o.Days)
	case o.Accounts < 1 || o.Accounts > len(accountNames):
		return o, fmt.Errorf("accounts: %d is not between 1 and %d", o.Accounts, len(accountNames))
	case o.EventsPerDay < 0:
		return o, fmt.Errorf("events per day: %d is negative", o.EventsPerDay)
	case o.MaxPerFile < 1:
		return o, fmt.Errorf("max per file: %d is below 1", o.MaxPerFile)
	case o.DuplicateRate > 0.5:
		return o, fmt.Errorf("duplicate rate: %g is above 0.5", o.DuplicateRate)
	case o.GzipLevel < -2 || o.GzipLevel > 9:
		return o, fmt.Errorf("gzip level: %d is not between -2 and 9", o.GzipLevel)
	case o.CIUsers < 0 || o.CIUsers > 6:
		return o, fmt.Errorf("CI users: %d is not between 0 and 6", o.CIUsers)
	case o.CIRunsPerDay < 1 || o.CIRunsPerDay > 2000:
		return o, fmt.Errorf("CI runs per day: %d is not between 1 and 2000", o.CIRunsPerDay)
	case o.S3Readers < 0 || o.S3Readers > len(readerNames):
		return o, fmt.Errorf("S3 readers: %d is not between 0 and %d", o.S3Readers, len(readerNames))
	}
	for _, r := range o.Regions {
		if !slices.Contains(standardRegions, r) {
			return o, fmt.Errorf("regions: %q is not one of the 17 standard regions", r)
		}
	}
	for _, a := range o.Attacks {
		switch a {
		case AttackLeakedKeyAdmin:
			if slices.Contains(o.Regions, "us-west-1") {
				return o, fmt.Errorf("regions: attack 1 needs us-west-1 to be unused by the organisation")
			}
		case AttackECSCryptomining, AttackRoleTheft:
		default:
			return o, fmt.Errorf("attacks: unknown attack %d (want 1, 2 or 3)", a)
		}
	}
	return o, nil
}

func (o Options) has(a Attack) bool { return slices.Contains(o.Attacks, a) }
