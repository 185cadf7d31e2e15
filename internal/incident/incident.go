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
}

// Key identifies a resource within an incident.
func (r Resource) Key() string {
	id := r.ID
	if id == "" {
		id = r.Name
	}
	return string(r.Type) + "|" + r.Account + "|" + r.Region + "|" + id
}
