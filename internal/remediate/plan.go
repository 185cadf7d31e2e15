package remediate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/trailhound/trailhound/internal/incident"
)

// GlobalRegion is the region of IAM resources (incident.GlobalRegion).
const GlobalRegion = incident.GlobalRegion

// PlanOptions configures BuildPlan. The zero value is valid.
type PlanOptions struct {
	// Credentials are the pre-existing credentials of the incident (a leaked key, a stolen
	// role session): they belong to legitimate owners, so the plan deactivates keys and
	// revokes role sessions, and never deletes the users, keys or roles. Their users are
	// legitimate: the plan never deletes them either.
	Credentials []incident.Credential
	// DataRead lists what the attacker read: each gets a review step (reads cannot be
	// undone).
	DataRead []incident.DataRead
	// OwnerResources counts the resources the owners' calls created: they are left alone
	// and the banner says so.
	OwnerResources int
	// Profiles maps an account id to the AWS CLI profile for it: the script then exports
	// AWS_PROFILE before that account's commands. Without one, it leaves a commented line.
	Profiles map[string]string
	// Title, when set, names the incident in the script's banner.
	Title string
}

// Plan is an ordered cleanup plan, grouped by account then region. It is data: WriteScript
// renders it as a shell script; trailhound never runs it.
type Plan struct {
	Title string `json:"title,omitempty"`
	// OwnerResources counts the resources of the owners' calls, left alone.
	OwnerResources int       `json:"owner_resources,omitempty"`
	Sections       []Section `json:"sections"`
}

// Section holds the steps of one account and region (GlobalRegion for IAM), in the order
// they must run.
type Section struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Profile is the AWS CLI profile to use, when PlanOptions.Profiles names one.
	Profile string `json:"profile,omitempty"`
	Steps   []Step `json:"steps"`
}

// Step is one command of the plan, or a resource deliberately left alone (Skip set,
// Command empty).
type Step struct {
	// Action names what the command does ("deactivate-access-key", "delete-user", …, "wait",
	// "skip").
	Action string `json:"action"`
	// What describes the resource; Evidence the event that created or changed it.
	What     string   `json:"what"`
	Evidence string   `json:"evidence,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// Command is the AWS CLI argv ("aws", service, operation, options…); Line the same as
	// one shell line with every value single-quoted.
	Command []string `json:"command,omitempty"`
	Line    string   `json:"line,omitempty"`
	// Skip says why there is no command.
	Skip string `json:"skip,omitempty"`
	// Commented is set for a command the script writes commented out: the logs do not tie
	// its target to the attacker (unknown attribution); a reviewer uncomments it once sure.
	Commented bool `json:"commented,omitempty"`
	// Target names what the step acts on: a resource as TYPE|ACCOUNT|REGION|ID (its
	// incident.Resource.Key; an ingress rule by GROUP PROTOCOL FROM-TO SOURCE), a
	// credential as key|ACCESS_KEY_ID or role|ACCOUNT|ROLE_NAME, an instance as
	// instance|ACCOUNT|ID, data as KIND|ACCOUNT|NAME. EvidenceEvents are the events that tie
	// it to the attacker (CheckPlan verifies every command has one).
	Target         string   `json:"target,omitempty"`
	EvidenceEvents []string `json:"evidence_events,omitempty"`
}

// Phases: the order of steps within a section. Containment first (keys off, logins off,
// permissions off), then deletions, each after what it depends on.
const (
	phaseRevokeSessions = 10 + iota
	phaseDeactivateKey
	phaseDeleteLoginProfile
	phaseDetachPolicy
	phaseRemoveFromGroup
	phaseRestorePolicyVersion
	phaseDeleteInlinePolicy
	phaseDeletePolicyVersion
	phaseDeleteAccessKey
	phaseDeleteUser
	phaseDeleteRole
	phaseScaleService
	phaseDeleteService
	phaseWaitServices
	phaseDeleteCluster
	phaseDeregisterTaskDef
	phaseTerminateInstance
	phaseWaitInstances
	phaseRevokeRule
	phaseDeleteSecurityGroup
	phaseDeleteKeyPair
	phaseDeleteFunction
	phaseIsolateInstance
	phaseReviewData
	phaseOther
)

// planned is a step with its place in the plan.
type planned struct {
	account, region string
	phase           int
	step            Step
}

// planner builds a plan; it lives for one BuildPlan call.
type planner struct {
	opts  PlanOptions
	steps []planned
	// deactivated holds the access keys that already have a deactivate step.
	deactivated map[string]bool
	// deletedSG, deletedCluster: groups and clusters the logs show deleted (account|region|id).
	deletedSG, deletedCluster map[string]bool
	// dropSG, dropCluster: groups and clusters the plan deletes (account|region|id).
	dropSG, dropCluster map[string]bool
	// servicesByCluster: services the plan deletes, per cluster; terminated: instances per
	// account|region.
	servicesByCluster map[string][]string
	terminated        map[string][]string
}

// BuildPlan returns the cleanup plan of resources. Resources already deleted, failed
// creations, and resources of legitimate owners are kept as skipped steps saying why. The
// result is deterministic for the same input.
func BuildPlan(resources []incident.Resource, opts PlanOptions) Plan {
	p := &planner{
		opts: opts, deactivated: map[string]bool{},
		deletedSG: map[string]bool{}, deletedCluster: map[string]bool{},
		dropSG: map[string]bool{}, dropCluster: map[string]bool{},
		servicesByCluster: map[string][]string{}, terminated: map[string][]string{},
	}
	rs := slices.Clone(resources)
	slices.SortStableFunc(rs, func(a, b incident.Resource) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Key(), b.Key()))
	})
	for _, r := range rs {
		loc := r.Account + "|" + r.Region + "|"
		switch {
		case r.Type == incident.EC2SecurityGroup && r.Deleted:
			p.deletedSG[loc+r.ID] = true
		case r.Type == incident.EC2SecurityGroup && !r.Failed && !r.Changed && r.ID != "":
			p.dropSG[loc+r.ID] = true
		case r.Type == incident.ECSCluster && r.Deleted:
			p.deletedCluster[loc+clusterName(r)] = true
		case r.Type == incident.ECSCluster && !r.Failed && !r.Changed:
			p.dropCluster[loc+clusterName(r)] = true
		}
	}
	// The leaked credentials first: they are how the attacker gets in.
	p.credentials()
	for _, r := range rs {
		p.resource(r)
	}
	p.dataRead()
	p.waits()
	plan := p.plan()
	plan.OwnerResources = opts.OwnerResources
	return plan
}

// originalUser reports whether the user name belongs to a legitimate owner in the account:
// the user of a pre-existing credential.
func (p *planner) originalUser(account, user string) bool {
	for _, c := range p.opts.Credentials {
		if c.UserName != "" && c.UserName == user && (c.Account == "" || c.Account == account) {
			return true
		}
	}
	return false
}

// originalKey reports whether the access key is a pre-existing credential of the incident.
func (p *planner) originalKey(key string) bool {
	for _, c := range p.opts.Credentials {
		if c.AccessKeyID != "" && c.AccessKeyID == key {
			return true
		}
	}
	return false
}

// add appends the step of a resource; a command whose values cannot be passed safely
// becomes a skip, and one whose target the logs do not tie to the attacker (unknown
// attribution) is written commented out.
func (p *planner) add(r incident.Resource, phase int, action, what string, c *command, notes ...string) {
	s := Step{Action: action, What: what, Evidence: evidence(r), Notes: notes, Target: target(r), EvidenceEvents: events(r.CreateEventID)}
	if c != nil {
		if c.bad != "" {
			s.Action, s.Skip = "skip", c.bad
		} else {
			s.Command, s.Line = c.final()
			if r.Attribution.Or() != incident.Attacker {
				s.Commented = true
				s.Notes = append(s.Notes, "attribution unknown: "+cmp.Or(r.Why, "the logs do not say whose call created it")+
					"; uncomment only once you have confirmed it is the attacker's")
			}
		}
	}
	p.steps = append(p.steps, planned{account: r.Account, region: r.Region, phase: phase, step: s})
}

// skip appends a step without a command.
func (p *planner) skip(r incident.Resource, phase int, what, why string, notes ...string) {
	s := Step{Action: "skip", What: what, Evidence: evidence(r), Notes: notes, Skip: why, Target: target(r), EvidenceEvents: events(r.CreateEventID)}
	p.steps = append(p.steps, planned{account: r.Account, region: r.Region, phase: phase, step: s})
}

// target names what a resource's steps act on: its key (incident.Resource.Key), but for an
// ingress rule its group, protocol, ports and source (what the command names), not its
// rule id.
func target(r incident.Resource) string {
	if r.Type == incident.EC2SecurityGroupRule && r.Name != "" {
		return string(r.Type) + "|" + r.Account + "|" + r.Region + "|" + r.Name
	}
	return r.Key()
}

// events returns the non-empty event ids.
func events(ids ...string) []string {
	var out []string
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// evidence describes the event behind a resource and its attribution.
func evidence(r incident.Resource) string {
	verb := "created"
	if r.Changed {
		verb = "changed"
	}
	s := fmt.Sprintf("%s %s by %s (event %s)", verb, stamp(r.CreatedAt), cmp.Or(r.CreatedBy, "(unknown)"), cmp.Or(r.CreateEventID, "(unknown)"))
	if r.Attribution != "" {
		s += ", attributed to the " + string(r.Attribution)
		if r.Why != "" {
			s += ": " + r.Why
		}
	}
	return s
}

// gone returns why a resource needs no command (failed, deleted), or "".
func gone(r incident.Resource) string {
	switch {
	case r.Failed:
		return fmt.Sprintf("creation failed (%s): nothing to remove", cmp.Or(r.ErrorCode, "error"))
	case r.Deleted:
		return fmt.Sprintf("already deleted %s (event %s)", stamp(r.DeletedAt), cmp.Or(r.DeleteEventID, "(unknown)"))
	}
	return ""
}

// firstPhase returns where the steps (or the skip) of a resource type go.
func firstPhase(t incident.ResourceType) (int, bool) {
	switch t {
	case incident.IAMAccessKey:
		return phaseDeactivateKey, true
	case incident.IAMLoginProfile:
		return phaseDeleteLoginProfile, true
	case incident.IAMPolicyAttachment:
		return phaseDetachPolicy, true
	case incident.IAMInlinePolicy:
		return phaseDeleteInlinePolicy, true
	case incident.IAMGroupMembership:
		return phaseRemoveFromGroup, true
	case incident.IAMManagedPolicy:
		return phaseRestorePolicyVersion, true
	case incident.IAMUser:
		return phaseDeleteUser, true
	case incident.IAMRole:
		return phaseDeleteRole, true
	case incident.ECSService:
		return phaseScaleService, true
	case incident.ECSCluster:
		return phaseDeleteCluster, true
	case incident.ECSTaskDefinition:
		return phaseDeregisterTaskDef, true
	case incident.EC2Instance:
		return phaseTerminateInstance, true
	case incident.EC2SecurityGroupRule:
		return phaseRevokeRule, true
	case incident.EC2SecurityGroup:
		return phaseDeleteSecurityGroup, true
	case incident.EC2KeyPair:
		return phaseDeleteKeyPair, true
	case incident.LambdaFunction:
		return phaseDeleteFunction, true
	}
	return phaseOther, false
}

// resource adds the steps of one resource.
func (p *planner) resource(r incident.Resource) {
	what := describe(r)
	phase, known := firstPhase(r.Type)
	if !known {
		p.skip(r, phaseOther, what, "no cleanup known for this resource type: review by hand")
		return
	}
	if r.Attribution == incident.Owner {
		p.skip(r, phase, what, "made by its owner's calls, not the attacker's: left alone")
		return
	}
	if why := gone(r); why != "" {
		p.skip(r, phase, what, why)
		return
	}
	region := r.Region
	switch r.Type {
	case incident.IAMAccessKey:
		p.accessKey(r, what)
	case incident.IAMLoginProfile:
		if r.Changed {
			p.skip(r, phase, what, "the attacker changed the password of an existing login",
				"agree with the owner: reset the password (aws iam update-login-profile) or delete the login profile")
			return
		}
		var notes []string
		if p.originalUser(r.Account, r.Name) {
			notes = append(notes, "the user is legitimate, but the attacker created this console login")
		}
		p.add(r, phase, "delete-login-profile", what, iam("delete-login-profile").opt("--user-name", r.Name), notes...)
	case incident.IAMPolicyAttachment:
		pt, pr := r.Details["principal_type"], r.Details["principal"]
		if !validPrincipalType(pt) || pr == "" {
			p.skip(r, phase, what, "principal of the attachment unknown: review by hand")
			return
		}
		p.add(r, phase, "detach-"+pt+"-policy", what,
			iam("detach-"+pt+"-policy").opt("--"+pt+"-name", pr).opt("--policy-arn", cmp.Or(r.ARN, r.Name)))
	case incident.IAMInlinePolicy:
		pt, pr := r.Details["principal_type"], r.Details["principal"]
		if !validPrincipalType(pt) || pr == "" {
			p.skip(r, phase, what, "principal of the inline policy unknown: review by hand")
			return
		}
		p.add(r, phase, "delete-"+pt+"-policy", what,
			iam("delete-"+pt+"-policy").opt("--"+pt+"-name", pr).opt("--policy-name", r.Name),
			"if the attacker replaced an existing policy of this name, restore it instead")
	case incident.IAMGroupMembership:
		g, u := cmp.Or(r.Details["group"], r.Name), r.Details["user"]
		if g == "" || u == "" {
			p.skip(r, phase, what, "group or user of the membership unknown: review by hand")
			return
		}
		var notes []string
		if p.originalUser(r.Account, u) {
			notes = append(notes, "the user is legitimate, but the attacker added it to this group")
		}
		p.add(r, phase, "remove-user-from-group", what, iam("remove-user-from-group").opt("--group-name", g).opt("--user-name", u), notes...)
	case incident.IAMManagedPolicy:
		p.policyVersion(r, what)
	case incident.IAMUser:
		if p.originalUser(r.Account, r.Name) {
			p.skip(r, phase, what, "legitimate identity: not deleted")
			return
		}
		p.add(r, phase, "delete-user", what, iam("delete-user").opt("--user-name", r.Name),
			"delete-user fails while the user still has keys, a login, policies, groups, MFA devices, certificates or SSH keys the logs did not show: check with aws iam list-access-keys / list-groups-for-user / list-mfa-devices")
	case incident.IAMRole:
		if r.Changed {
			p.skip(r, phase, what, "the attacker changed the trust policy of an existing role: restore it with the owner")
			return
		}
		p.add(r, phase, "delete-role", what, iam("delete-role").opt("--role-name", r.Name),
			"delete-role fails while policies or instance profiles remain: check list-attached-role-policies, list-role-policies, list-instance-profiles-for-role")
	case incident.ECSService:
		cl := cmp.Or(r.Details["cluster"], "default")
		svc := cmp.Or(r.ID, r.Name)
		switch {
		case r.Changed:
			p.skip(r, phase, what, "the attacker changed an existing service: revert its task definition and desired count with the owner")
		case p.deletedCluster[r.Account+"|"+region+"|"+cl]:
			p.skip(r, phase, what, "its cluster is already deleted")
		default:
			p.add(r, phaseScaleService, "scale-service-to-zero", what,
				aws("ecs", "update-service", region).opt("--cluster", cl).opt("--service", svc).flag("--desired-count", "0"))
			p.add(r, phaseDeleteService, "delete-service", what,
				aws("ecs", "delete-service", region).opt("--cluster", cl).opt("--service", svc).flag("--force"))
			k := r.Account + "|" + region + "|" + cl
			p.servicesByCluster[k] = append(p.servicesByCluster[k], svc)
		}
	case incident.ECSCluster:
		p.add(r, phase, "delete-cluster", what, aws("ecs", "delete-cluster", region).opt("--cluster", clusterName(r)))
	case incident.ECSTaskDefinition:
		td := taskDefID(cmp.Or(r.ID, r.ARN, r.Name))
		if fam, rev, ok := strings.Cut(td, ":"); !ok || fam == "" || rev == "" {
			p.skip(r, phase, what, "revision unknown: list them with aws ecs list-task-definitions --family-prefix and deregister each")
			return
		}
		p.add(r, phase, "deregister-task-definition", what, aws("ecs", "deregister-task-definition", region).opt("--task-definition", td))
	case incident.EC2Instance:
		if r.ID == "" {
			p.skip(r, phase, what, "no instance id in the logs: find it with aws ec2 describe-instances")
			return
		}
		p.add(r, phase, "terminate-instances", what, aws("ec2", "terminate-instances", region).opt("--instance-ids", r.ID))
		k := r.Account + "|" + region
		p.terminated[k] = append(p.terminated[k], r.ID)
	case incident.EC2SecurityGroupRule:
		p.revoke(r, what)
	case incident.EC2SecurityGroup:
		if r.Changed {
			p.skip(r, phase, what, "existing group changed by the attacker: not deleted")
			return
		}
		if r.ID == "" {
			p.skip(r, phase, what, "no group id in the logs: find it with aws ec2 describe-security-groups")
			return
		}
		p.add(r, phase, "delete-security-group", what, aws("ec2", "delete-security-group", region).opt("--group-id", r.ID))
	case incident.EC2KeyPair:
		c := aws("ec2", "delete-key-pair", region)
		if r.ID != "" {
			c.opt("--key-pair-id", r.ID)
		} else {
			c.opt("--key-name", r.Name)
		}
		p.add(r, phase, "delete-key-pair", what, c)
	case incident.LambdaFunction:
		if r.Changed {
			p.skip(r, phase, what, "the attacker changed an existing function: restore its code and configuration with the owner")
			return
		}
		p.add(r, phase, "delete-function", what, aws("lambda", "delete-function", region).opt("--function-name", cmp.Or(r.ID, r.Name)))
	}
}

// policyVersion adds the steps of a managed policy whose versions the attacker changed. A
// version the attacker created and left non-default is deleted. When the attacker made a
// version the default, the version that was the default before is not in the event, so the
// plan cannot restore it: that step is a skip saying how, and the attacker's version is
// deleted after it (AWS refuses to delete the default version, so the script stops there if
// the restore was not done).
func (p *planner) policyVersion(r incident.Resource, what string) {
	arn := cmp.Or(r.ARN, r.ID)
	d := r.Details
	created, def := d["version"], d["default_version"]
	if arn == "" {
		p.skip(r, phaseRestorePolicyVersion, what, "policy ARN unknown: review by hand")
		return
	}
	if def != "" {
		p.skip(r, phaseRestorePolicyVersion, what,
			fmt.Sprintf("the attacker made version %s the default; the previous default is not in the logs: find it with aws iam list-policy-versions --policy-arn and restore it with aws iam set-default-policy-version", def))
	}
	if created == "" {
		if def == "" {
			p.skip(r, phaseRestorePolicyVersion, what, "version unknown: review the policy's versions by hand (aws iam list-policy-versions)")
		}
		return
	}
	var notes []string
	if def == created {
		notes = append(notes, "fails while this version is still the default: restore the previous default first (see above)")
	}
	p.add(r, phaseDeletePolicyVersion, "delete-policy-version", what,
		iam("delete-policy-version").opt("--policy-arn", arn).opt("--version-id", created), notes...)
}

// accessKey adds the steps of an access key: deactivate, then delete unless it belongs to a
// legitimate owner (a leaked key, or an existing key the attacker changed).
func (p *planner) accessKey(r incident.Resource, what string) {
	user := cmp.Or(r.Details["user"], r.Name)
	if user == "" {
		// CreateAccessKey without userName creates a key for the caller.
		if _, after, ok := strings.Cut(r.CreatedBy, ":user/"); ok && strings.Contains(r.CreatedBy, ":"+r.Account+":") {
			user = after[strings.LastIndex(after, "/")+1:]
		}
	}
	if user == "" {
		p.skip(r, phaseDeactivateKey, what, "owner of the key unknown: find it with aws iam get-access-key-last-used --access-key-id")
		return
	}
	if p.originalKey(r.ID) && p.deactivated[r.ID] {
		p.skip(r, phaseDeactivateKey, what, "a leaked key of a legitimate user: deactivated above, to be rotated with its owner")
		return
	}
	deactivate := iam("update-access-key").opt("--user-name", user).opt("--access-key-id", r.ID).flag("--status", "Inactive")
	p.deactivated[r.ID] = true
	if r.Changed || p.originalKey(r.ID) {
		p.add(r, phaseDeactivateKey, "deactivate-access-key", what, deactivate,
			"key of a legitimate user: deactivated only; rotate it with its owner (new key, update its users, then delete this one)")
		return
	}
	var notes []string
	if p.originalUser(r.Account, user) {
		notes = append(notes, "the user is legitimate, but the attacker created this key")
	}
	p.add(r, phaseDeactivateKey, "deactivate-access-key", what, deactivate, notes...)
	p.add(r, phaseDeleteAccessKey, "delete-access-key", what, iam("delete-access-key").opt("--user-name", user).opt("--access-key-id", r.ID), notes...)
}

// credentials adds the containment of the incident's pre-existing credentials: a leaked
// access key deactivated (never deleted: its owner rotates it), a stolen role session's role
// told to deny every session issued before the script runs (what the IAM console's "Revoke
// active sessions" writes), the instance it was issued to named for isolation, a console
// password to reset with its owner. A credential whose calls are all the owner's gets no
// command; one the logs cannot attribute gets its command commented out.
func (p *planner) credentials() {
	for _, c := range p.opts.Credentials {
		s := Step{Evidence: "pre-existing credential: " + c.Why, EvidenceEvents: events(c.FirstAttackerEventID)}
		region := GlobalRegion
		var cmd *command
		switch c.Kind {
		case incident.CredentialAccessKey:
			if c.AccessKeyID == "" || p.deactivated[c.AccessKeyID] {
				continue
			}
			p.deactivated[c.AccessKeyID] = true
			s.Action, s.Target = "deactivate-access-key", "key|"+c.AccessKeyID
			s.What = fmt.Sprintf("leaked access key %s of user %s", c.AccessKeyID, cmp.Or(c.UserName, c.UserARN, "(not in the events)"))
			s.Notes = []string{"key of a legitimate user: deactivated only; rotate it with its owner (new key, update its users, then delete this one)"}
			switch {
			case c.UserName == "" && strings.HasSuffix(c.UserARN, ":root"):
				s.Skip = "a root user's access key: deactivate it signed in as root (Security credentials page), then delete it"
			case c.UserName == "":
				s.Skip = "the events do not name the key's user: find it with aws iam get-access-key-last-used --access-key-id"
			default:
				cmd = iam("update-access-key").opt("--user-name", c.UserName).opt("--access-key-id", c.AccessKeyID).flag("--status", "Inactive")
			}
		case incident.CredentialRoleSession, incident.CredentialRole:
			role := roleName(c.RoleARN)
			s.Action, s.Target = "revoke-role-sessions", "role|"+c.Account+"|"+role
			s.What = "sessions of role " + cmp.Or(role, c.RoleARN, "(unknown)")
			if c.AccessKeyID != "" {
				s.What += " (stolen temporary key " + c.AccessKeyID + ")"
			}
			s.Notes = []string{"denies every session of the role issued before the script runs (aws:TokenIssueTime), as the IAM console's Revoke active sessions does; " +
				"whoever holds the role legitimately gets new credentials and goes on (an instance at its next refresh); delete the AWSRevokeOlderSessions policy once the incident is closed"}
			if role == "" {
				s.Skip = "the role of the session is not in the events: review by hand"
			} else {
				cmd = iam("put-role-policy").opt("--role-name", role).flag("--policy-name", revokePolicyName).revokeDocument("--policy-document")
			}
		case incident.CredentialConsole, incident.CredentialUser:
			s.Action, s.Target = "skip", "user|"+c.Account+"|"+c.UserName
			s.What = "console and keys of user " + cmp.Or(c.UserName, c.UserARN, "(unknown)")
			s.Skip = "a legitimate user's credentials the attacker used: with its owner, reset the password (aws iam update-login-profile --password-reset-required), review its keys (aws iam list-access-keys) and MFA devices"
		default:
			continue
		}
		switch {
		case s.Skip != "":
			s.Action = "skip"
		case c.Attribution == incident.Owner:
			s.Action, s.Skip = "skip", "all its calls in scope are its owner's: left alone"
		case cmd != nil && cmd.bad != "":
			s.Action, s.Skip = "skip", cmd.bad
		case cmd != nil:
			s.Command, s.Line = cmd.final()
			if c.Attribution != incident.Attacker {
				s.Commented = true
				s.Notes = append(s.Notes, "attribution unknown: "+c.Why+"; uncomment only once you have confirmed the attacker used it")
			}
		}
		p.steps = append(p.steps, planned{account: c.Account, region: region, phase: p.credentialPhase(c), step: s})
		if c.InstanceID != "" && c.Attribution != incident.Owner {
			p.steps = append(p.steps, planned{account: c.Account, region: cmp.Or(c.Region, GlobalRegion), phase: phaseIsolateInstance, step: Step{
				Action: "skip", What: "instance " + c.InstanceID + ", whose role credentials were stolen",
				Evidence: "credentials issued to it by " + cmp.Or(c.IssuedBy, "EC2") + " (event " + cmp.Or(c.IssueEventID, "(unknown)") + ")",
				Target:   "instance|" + c.Account + "|" + c.InstanceID, EvidenceEvents: events(c.FirstAttackerEventID),
				Skip: "isolate it before anything else touches it: snapshot its volumes for forensics, move it to a security group without rules, and find how its credentials left it (an SSRF to the metadata service is the usual way)",
				Notes: []string{"to stop credential theft through the metadata service, require IMDSv2 once its software supports it: aws ec2 modify-instance-metadata-options --instance-id " +
					shellQuote(c.InstanceID) + " --http-tokens required --region " + shellQuote(cmp.Or(c.Region, "REGION"))},
			}})
		}
	}
}

// credentialPhase orders containment: role sessions revoked first, keys deactivated next.
func (p *planner) credentialPhase(c incident.Credential) int {
	if c.Kind == incident.CredentialRoleSession || c.Kind == incident.CredentialRole {
		return phaseRevokeSessions
	}
	return phaseDeactivateKey
}

// dataRead adds a review step for each thing the attacker read: reads cannot be undone,
// their exposure must be assessed.
func (p *planner) dataRead() {
	for _, d := range p.opts.DataRead {
		p.steps = append(p.steps, planned{account: d.Account, region: GlobalRegion, phase: phaseReviewData, step: Step{
			Action: "skip", What: d.Kind + " " + d.Name + " read by the attacker: " + d.What, Evidence: "first read: event " + d.EventID,
			Target: d.Kind + "|" + d.Account + "|" + d.Name, EvidenceEvents: events(d.EventID),
			Skip: "a read cannot be undone: assess what it held (secrets, personal data) and rotate what it exposed",
		}})
	}
}

// roleName returns the name of a role ARN (arn:aws:iam::ACCT:role/PATH/NAME).
func roleName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":role/")
	if !ok {
		return ""
	}
	return rest[strings.LastIndexByte(rest, '/')+1:]
}

// revoke adds the revocation of one ingress rule, named exactly by protocol, ports and source.
func (p *planner) revoke(r incident.Resource, what string) {
	d := r.Details
	gid := d["group_id"]
	if gid == "" {
		p.skip(r, phaseRevokeRule, what, "group of the rule unknown: review by hand")
		return
	}
	if p.deletedSG[r.Account+"|"+r.Region+"|"+gid] {
		p.skip(r, phaseRevokeRule, what, "its security group is already deleted")
		return
	}
	perm, simple, err := permission(d)
	if err != nil {
		p.skip(r, phaseRevokeRule, what, err.Error()+": review by hand")
		return
	}
	c := aws("ec2", "revoke-security-group-ingress", r.Region).opt("--group-id", gid)
	if simple {
		c.opt("--protocol", d["protocol"]).opt("--port", portRange(d["from_port"], d["to_port"])).opt("--cidr", d["cidr"])
	} else {
		c.opt("--ip-permissions", perm)
	}
	var notes []string
	if r.ID != "" {
		notes = append(notes, "rule id "+r.ID)
	}
	if !p.dropSG[r.Account+"|"+r.Region+"|"+gid] {
		notes = append(notes, "the group itself was not created by the attacker: only this rule is revoked")
	}
	p.add(r, phaseRevokeRule, "revoke-security-group-ingress", what, c, notes...)
}

// waits adds the waiters a deletion depends on: services inactive before their cluster is
// deleted, instances terminated before security groups are deleted.
func (p *planner) waits() {
	for _, k := range sortedKeys(p.servicesByCluster) {
		if !p.dropCluster[k] {
			continue
		}
		parts := strings.SplitN(k, "|", 3)
		svcs := p.servicesByCluster[k]
		// describe-services, behind the waiter, takes at most 10 services.
		for chunk := range slices.Chunk(svcs, 10) {
			c := aws("ecs", "wait", parts[1]).word("services-inactive").opt("--cluster", parts[2]).opt("--services", chunk...)
			p.waitStep(parts[0], parts[1], phaseWaitServices, "services of cluster "+parts[2]+" inactive before the cluster is deleted", c)
		}
	}
	for _, k := range sortedKeys(p.terminated) {
		account, region, _ := strings.Cut(k, "|")
		needed := false
		for sg := range p.dropSG {
			needed = needed || strings.HasPrefix(sg, k+"|")
		}
		if !needed {
			continue
		}
		c := aws("ec2", "wait", region).word("instance-terminated").opt("--instance-ids", p.terminated[k]...)
		p.waitStep(account, region, phaseWaitInstances, "instances terminated before their security groups are deleted", c)
	}
}

func (p *planner) waitStep(account, region string, phase int, what string, c *command) {
	s := Step{Action: "wait", What: what}
	if c.bad != "" {
		s.Action, s.Skip = "skip", c.bad
	} else {
		s.Command, s.Line = c.final()
	}
	p.steps = append(p.steps, planned{account: account, region: region, phase: phase, step: s})
}

// plan groups the steps by account, then region (IAM first), in phase order.
func (p *planner) plan() Plan {
	slices.SortStableFunc(p.steps, func(a, b planned) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(regionRank(a.region), regionRank(b.region)),
			cmp.Compare(a.region, b.region), cmp.Compare(a.phase, b.phase))
	})
	plan := Plan{Title: p.opts.Title}
	for _, s := range p.steps {
		n := len(plan.Sections)
		if n == 0 || plan.Sections[n-1].Account != s.account || plan.Sections[n-1].Region != s.region {
			plan.Sections = append(plan.Sections, Section{Account: s.account, Region: s.region, Profile: p.opts.Profiles[s.account]})
			n++
		}
		plan.Sections[n-1].Steps = append(plan.Sections[n-1].Steps, s.step)
	}
	return plan
}

func regionRank(r string) int {
	if r == GlobalRegion {
		return 0
	}
	return 1
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func validPrincipalType(t string) bool { return t == "user" || t == "role" || t == "group" }

func clusterName(r incident.Resource) string {
	return cmp.Or(r.ID, r.Name, "default")
}

// describe names a resource for a comment.
func describe(r incident.Resource) string {
	d := r.Details
	switch r.Type {
	case incident.IAMUser:
		return "IAM user " + r.Name
	case incident.IAMAccessKey:
		return "access key " + r.ID + " of user " + cmp.Or(d["user"], r.Name, "(unknown)")
	case incident.IAMLoginProfile:
		return "console login of user " + r.Name
	case incident.IAMPolicyAttachment:
		return "policy " + cmp.Or(r.ARN, r.Name) + " attached to " + d["principal_type"] + " " + d["principal"]
	case incident.IAMInlinePolicy:
		return "inline policy " + r.Name + " of " + d["principal_type"] + " " + d["principal"]
	case incident.IAMRole:
		return "IAM role " + r.Name
	case incident.IAMGroupMembership:
		return "membership of user " + cmp.Or(d["user"], "(unknown)") + " in group " + cmp.Or(d["group"], r.Name, "(unknown)")
	case incident.IAMManagedPolicy:
		s := "managed policy " + cmp.Or(r.ARN, r.ID, r.Name)
		if v := d["version"]; v != "" {
			s += ", version " + v + " created"
		}
		if v := d["default_version"]; v != "" {
			s += ", default set to " + v
		}
		return s
	case incident.ECSCluster:
		return "ECS cluster " + clusterName(r)
	case incident.ECSService:
		s := "ECS service " + cmp.Or(r.ID, r.Name) + " in cluster " + cmp.Or(d["cluster"], "default")
		if n := d["desired_count"]; n != "" {
			s += ", " + n + " tasks"
		}
		return s
	case incident.ECSTaskDefinition:
		s := "ECS task definition " + cmp.Or(r.ID, r.Name)
		if img := d["images"]; img != "" {
			s += " (image " + img + ")"
		}
		return s
	case incident.EC2Instance:
		if r.ID == "" {
			return fmt.Sprintf("launch of %s × %s (RunInstances)", cmp.Or(d["instance_type"], "?"), cmp.Or(d["count"], "?"))
		}
		return "EC2 instance " + r.ID + " (" + cmp.Or(d["instance_type"], "?") + ")"
	case incident.EC2SecurityGroupRule:
		what := cmp.Or(d["protocol"], "?") + " " + cmp.Or(portRange(d["from_port"], d["to_port"]), "all ports")
		if d["protocol"] == "-1" || d["protocol"] == "all" {
			what = "all traffic"
		}
		return fmt.Sprintf("ingress rule of %s: %s from %s", d["group_id"], what, cmp.Or(d["cidr"], d["cidr_ipv6"], "?"))
	case incident.EC2SecurityGroup:
		return "security group " + r.ID + " (" + r.Name + ")"
	case incident.EC2KeyPair:
		if r.ID != "" {
			return "key pair " + r.Name + " (" + r.ID + ")"
		}
		return "key pair " + r.Name
	case incident.LambdaFunction:
		return "Lambda function " + cmp.Or(r.ID, r.Name)
	}
	return string(r.Type) + " " + cmp.Or(r.ID, r.Name)
}

func portRange(from, to string) string {
	if to == "" || to == from {
		return from
	}
	return from + "-" + to
}
