package simulate

import "time"

// GroundTruthFile is the name of the ground truth, at the root of the output next to (not
// inside) AWSLogs/.
const GroundTruthFile = "ground-truth.json"

// GroundTruth says what a generated history contains: written as GroundTruthFile, and
// returned by Generate.
type GroundTruth struct {
	Seed     uint64        `json:"seed"`
	Start    time.Time     `json:"start"`
	End      time.Time     `json:"end"`
	Org      string        `json:"org"`
	Accounts []AccountInfo `json:"accounts"`
	Attacks  []AttackTruth `json:"attacks"`
	// LookAlikes are benign events that resemble attacker steps (admins creating users,
	// legitimate task definitions, 443 opened to the world, console logins with MFA, …).
	LookAlikes []LookAlike `json:"lookAlikes"`
	// Owners are the busy CI users (Options.BusyOwners, Options.CIUsers): what their
	// pipelines did, with the key that may leak. Their activity is benign, also when the
	// key is an attack's.
	Owners []OwnerTruth `json:"owners,omitempty"`
	// Duplicates lists the eventIDs delivered twice (in two files); every other eventID
	// occurs once.
	Duplicates []string `json:"duplicates"`
	Stats      Summary  `json:"stats"`
}

// AccountInfo describes one simulated account.
type AccountInfo struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Regions []string `json:"regions"`
}

// AttackTruth is everything one attack did.
type AttackTruth struct {
	Attack Attack    `json:"attack"`
	Name   string    `json:"name"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Identities are the principals the attacker used: the leaked key's user, and the users
	// and keys it created.
	Identities []Identity `json:"identities"`
	SourceIPs  []string   `json:"sourceIPs"`
	// Steps are every attacker event, in time order.
	Steps     []Step     `json:"steps"`
	Resources []Resource `json:"resources"`
	// BucketsRead are the S3 buckets the attacker listed or read objects of (attack 3).
	BucketsRead []string `json:"bucketsRead,omitempty"`
}

// OwnerTruth is a busy CI user and everything its pipeline did.
type OwnerTruth struct {
	Account     string `json:"account"`
	UserName    string `json:"userName"`
	ARN         string `json:"arn"`
	AccessKeyID string `json:"accessKeyId"`
	// Leaked is set when an attack uses this key (Options.BusyOwners).
	Leaked     bool     `json:"leaked,omitempty"`
	SourceIPs  []string `json:"sourceIPs"`
	UserAgents []string `json:"userAgents"`
	// Events counts the pipeline's calls; Resources are what it created (instances,
	// task definitions, roles and their policies, policy versions), deleted later or not.
	Events    int        `json:"events"`
	Resources []Resource `json:"resources"`
}

// Identity is one principal used by an attacker.
type Identity struct {
	Account     string `json:"account"`
	Type        string `json:"type"`
	ARN         string `json:"arn"`
	UserName    string `json:"userName,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// How is "leaked access key", "created user (console)", "created access key" or
	// "stolen instance-profile credentials".
	How string `json:"how"`
	// For stolen role credentials: the role, the instance they were issued to (the session
	// name) and the sts:AssumeRole by ec2.amazonaws.com that issued them.
	RoleARN      string `json:"roleArn,omitempty"`
	InstanceID   string `json:"instanceId,omitempty"`
	Region       string `json:"region,omitempty"`
	IssueEventID string `json:"issueEventID,omitempty"`
}

// Step is one attacker event.
type Step struct {
	Step        string    `json:"step"`
	EventID     string    `json:"eventID"`
	EventTime   time.Time `json:"eventTime"`
	EventSource string    `json:"eventSource"`
	EventName   string    `json:"eventName"`
	Account     string    `json:"account"`
	Region      string    `json:"region"`
	Identity    string    `json:"identity"` // ARN of userIdentity
	AccessKeyID string    `json:"accessKeyId,omitempty"`
	SourceIP    string    `json:"sourceIP"`
	ErrorCode   string    `json:"errorCode,omitempty"`
}

// Resource is something an attacker (or a busy owner) created. Kind is one of iam-user,
// iam-user-policy, login-profile, access-key, key-pair, security-group, security-group-rule,
// ecs-cluster, ecs-task-definition, ecs-service, and for owners ec2-instance (Name is the
// type), iam-role, iam-role-policy, iam-policy-version (Name the version, ARN the policy).
type Resource struct {
	Kind    string `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region"`
	Name    string `json:"name,omitempty"`
	ID      string `json:"id,omitempty"`
	ARN     string `json:"arn,omitempty"`
	// For rules and attachments: the group or user they belong to, and what they allow.
	Parent   string `json:"parent,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	FromPort int    `json:"fromPort,omitempty"`
	ToPort   int    `json:"toPort,omitempty"`
	CIDR     string `json:"cidr,omitempty"`
	Policy   string `json:"policy,omitempty"`
	// For ECS: the cluster of a service, its task definition, image and task count.
	Cluster        string `json:"cluster,omitempty"`
	TaskDefinition string `json:"taskDefinition,omitempty"`
	Image          string `json:"image,omitempty"`
	DesiredCount   int    `json:"desiredCount,omitempty"`
}

// LookAlike is a benign event that resembles an attacker step.
type LookAlike struct {
	Kind      string    `json:"kind"`
	EventID   string    `json:"eventID"`
	EventName string    `json:"eventName"`
	EventTime time.Time `json:"eventTime"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Identity  string    `json:"identity"`
}

// Summary counts what Generate wrote.
type Summary struct {
	// Files and DigestFiles are the numbers of log and digest files.
	Files       int `json:"files"`
	DigestFiles int `json:"digestFiles"`
	// Events is the number of records in all files, duplicates included; Duplicates the
	// number of second copies; Late the events delivered in a slot after their own.
	Events     int   `json:"events"`
	Duplicates int   `json:"duplicates"`
	Late       int   `json:"late"`
	RawBytes   int64 `json:"rawBytes"`
	GzipBytes  int64 `json:"gzipBytes"`
}

// step records r, just emitted with eventID id, as a step of attack a.
func (g *gen) step(a *AttackTruth, name string, r *rec, id []byte) {
	a.Steps = append(a.Steps, Step{
		Step: name, EventID: string(id), EventTime: r.at, EventSource: r.source, EventName: r.name,
		Account: r.acct.id, Region: r.region, Identity: r.who.arn, AccessKeyID: r.who.key, SourceIP: r.who.ip, ErrorCode: r.errCode,
	})
	if a.Start.IsZero() || r.at.Before(a.Start) {
		a.Start = r.at
	}
	if r.at.After(a.End) {
		a.End = r.at
	}
}

// lookAlike records r, just emitted with eventID id, as a benign look-alike.
func (g *gen) lookAlike(kind string, r *rec, id []byte) {
	g.truth.LookAlikes = append(g.truth.LookAlikes, LookAlike{
		Kind: kind, EventID: string(id), EventName: r.name, EventTime: r.at, Account: r.acct.id, Region: r.region, Identity: r.who.arn,
	})
}
