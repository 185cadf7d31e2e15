// Package incident holds the vocabulary an investigation reports in: the identities in
// scope, the resources they created or changed, what data they touched. The investigate
// package computes these from events; the remediate package turns resources into a cost
// estimate and a cleanup plan; the outputs render them. Types only, no behaviour beyond
// small helpers, so each stage depends on this package and not on the others.
package incident

import (
	"strings"
	"time"
)

// GlobalRegion is the Region of resources that belong to no region (IAM).
const GlobalRegion = "global"

// ResourceType names what kind of AWS resource a Resource is. The values are stable strings.
type ResourceType string

// Global reports whether resources of the type belong to no region (IAM ones).
func (t ResourceType) Global() bool { return strings.HasPrefix(string(t), "iam:") }

// Resource types an investigation tracks.
const (
	IAMUser         ResourceType = "iam:user"
	IAMAccessKey    ResourceType = "iam:access-key"
	IAMLoginProfile ResourceType = "iam:login-profile"
	IAMRole         ResourceType = "iam:role"
	// IAMPolicyAttachment is a managed policy attached to a user, group or role; Name is the
	// policy ARN and Details["principal_type"]/["principal"] say to what; ID is
	// "PRINCIPAL_TYPE/PRINCIPAL POLICY_ARN", so that Key tells attachments apart.
	IAMPolicyAttachment ResourceType = "iam:policy-attachment"
	// IAMInlinePolicy is an inline policy put on a user, group or role; Name is the policy
	// name, Details as for IAMPolicyAttachment, ID "PRINCIPAL_TYPE/PRINCIPAL POLICY_NAME".
	IAMInlinePolicy ResourceType = "iam:inline-policy"
	// IAMGroupMembership is a user added to a group: ID "GROUP/USER", Name the group;
	// Details: group, user. The group's policies are not identities: the scope does not grow.
	IAMGroupMembership ResourceType = "iam:group-membership"
	// IAMManagedPolicy is a customer managed policy whose versions were changed
	// (CreatePolicyVersion, SetDefaultPolicyVersion): always Changed; ID and ARN the policy
	// ARN, Name its name; Details: version (created), set_as_default, default_version,
	// policy_document.
	IAMManagedPolicy ResourceType = "iam:managed-policy"
	EC2KeyPair       ResourceType = "ec2:key-pair"
	EC2SecurityGroup ResourceType = "ec2:security-group"
	// EC2SecurityGroupRule is one ingress rule; Details: group_id, protocol, from_port,
	// to_port, cidr (or cidr_ipv6).
	EC2SecurityGroupRule ResourceType = "ec2:security-group-rule"
	// EC2Instance is a launch request; Details: instance_type, count; ID is the instance id
	// when the launch succeeded, empty when it failed (Failed set; Name is then the eventID
	// of the refused request, so that two refused launches stay two resources).
	EC2Instance       ResourceType = "ec2:instance"
	ECSCluster        ResourceType = "ecs:cluster"
	ECSTaskDefinition ResourceType = "ecs:task-definition"
	// ECSService: Details: cluster, task_definition, desired_count, launch_type, cpu, memory
	// (from the task definition when known), public_ip (assignPublicIp: ENABLED or DISABLED).
	// ECSTaskDefinition: ID and Name are family:revision; Details: family, cpu, memory,
	// images (comma-separated), network_mode, requires_compatibilities.
	ECSService     ResourceType = "ecs:service"
	LambdaFunction ResourceType = "lambda:function"
)

// Attribution says whose activity an event, an identity or a resource is, inside an identity
// that an attacker and its legitimate owner share (a leaked key, a stolen role session).
type Attribution string

// Attributions. The zero value is not one of them: consumers treat it as Unknown.
const (
	// Attacker: the logs tie it to the attacker (a signal marks it, it comes from the
	// attacker's address or client, or an identity the attacker created made it).
	Attacker Attribution = "attacker"
	// Owner: the logs tie it to the identity's legitimate owner (its usual address and
	// client, or outside the attacker's activity).
	Owner Attribution = "owner"
	// Unknown: the logs do not tell.
	Unknown Attribution = "unknown"
)

// Or returns a, or Unknown when a is empty.
func (a Attribution) Or() Attribution {
	if a == "" {
		return Unknown
	}
	return a
}

// Resource is something an identity in scope created or changed.
type Resource struct {
	Type    ResourceType `json:"type"`
	Account string       `json:"account"`
	Region  string       `json:"region"`
	// ID is the AWS identifier (instance id, sg-…, key id, cluster name…); Name a human name
	// (user name, key pair name, policy ARN); ARN when CloudTrail gives one.
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	ARN  string `json:"arn,omitempty"`
	// CreatedBy is the normalised actor; CreatedAt and CreateEventID the evidence.
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
	CreateEventID string    `json:"create_event_id"`
	// Changed is set when the identity changed a resource it did not create (UpdateService,
	// UpdateLoginProfile, UpdateAccessKey…): CreatedBy/CreatedAt/CreateEventID then name the
	// change, and the cleanup is a revert rather than a deletion.
	Changed bool `json:"changed,omitempty"`
	// Failed is set when the creating call failed (errorCode), e.g. a refused RunInstances.
	Failed    bool   `json:"failed,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	// Deleted is set when the logs show the resource deleted later.
	Deleted       bool      `json:"deleted"`
	DeletedAt     time.Time `json:"deleted_at,omitzero"`
	DeleteEventID string    `json:"delete_event_id,omitempty"`
	// Details holds type-specific attributes (see the type constants).
	Details map[string]string `json:"details,omitempty"`
	// Attribution is that of the creating (or changing) event, with the evidence for it.
	// Empty counts as Unknown.
	Attribution Attribution `json:"attribution,omitempty"`
	Why         string      `json:"attribution_evidence,omitempty"`
}

// Credential kinds.
const (
	// CredentialAccessKey is a long-term access key (AKIA…) of an IAM user.
	CredentialAccessKey = "access-key"
	// CredentialRoleSession is the temporary key (ASIA…) of a role session.
	CredentialRoleSession = "role-session"
	// CredentialConsole is a console session of an IAM user (its password).
	CredentialConsole = "console-session"
	// CredentialUser is every credential of an IAM user (the start named the user).
	CredentialUser = "user"
	// CredentialRole is every session of a role (the start named the role).
	CredentialRole = "role"
)

// Credential is a credential that existed before the incident and that the attacker used, or
// may have: a leaked access key, a stolen role session, a user's console password. It
// belongs to a legitimate owner: a plan contains it (deactivates the key, revokes the role's
// sessions) and never deletes it. The owner and account come from the events.
type Credential struct {
	Kind    string `json:"kind"`
	Account string `json:"account"`
	// AccessKeyID is the key (AKIA… or ASIA…) when the credential is one.
	AccessKeyID string `json:"access_key_id,omitempty"`
	// UserARN and UserName name the IAM user of a key, console session or user credential.
	UserARN  string `json:"user_arn,omitempty"`
	UserName string `json:"user_name,omitempty"`
	// RoleARN and Session name the role and session of a role session (or the role of a
	// role credential).
	RoleARN string `json:"role_arn,omitempty"`
	Session string `json:"session,omitempty"`
	// IssuedBy and IssueEventID are who issued temporary credentials and the event
	// (sts:AssumeRole by ec2.amazonaws.com for an instance profile); InstanceID and Region
	// the instance they were issued to.
	IssuedBy     string `json:"issued_by,omitempty"`
	IssueEventID string `json:"issue_event_id,omitempty"`
	InstanceID   string `json:"instance_id,omitempty"`
	Region       string `json:"region,omitempty"`
	// Attribution is Attacker when some of its calls are the attacker's, Unknown when the
	// logs cannot tell, Owner when all are the owner's; Why says on what evidence.
	Attribution Attribution `json:"attribution"`
	Why         string      `json:"attribution_evidence"`
	// The credential's calls in scope by attribution.
	AttackerEvents int `json:"attacker_events"`
	OwnerEvents    int `json:"owner_events"`
	UnknownEvents  int `json:"unknown_events"`
	// FirstAttackerEventID is the attacker's first call with it; FirstAttacker and
	// LastAttacker bound the attacker's use.
	FirstAttackerEventID string    `json:"first_attacker_event_id,omitempty"`
	FirstAttacker        time.Time `json:"first_attacker,omitzero"`
	LastAttacker         time.Time `json:"last_attacker,omitzero"`
}

// DataRead is data the attacker read: a bucket, a secret, a parameter, a KMS key.
type DataRead struct {
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
	// Kind is s3-bucket, secret, parameter or kms-key; Name the bucket, secret id,
	// parameter name or key.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// What sums the reads up ("34 objects read, 2 listings").
	What string `json:"what"`
	// EventID is the first read.
	EventID string `json:"event_id"`
}

// Key identifies a resource within an incident.
func (r Resource) Key() string {
	id := r.ID
	if id == "" {
		id = r.Name
	}
	return string(r.Type) + "|" + r.Account + "|" + r.Region + "|" + id
}
