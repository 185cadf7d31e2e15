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

// Identity is a principal the attacker used but did not create: the user of a leaked access
// key. The plan deactivates its key and asks for a rotation; it never deletes the user, its
// login profile or its keys, since they belong to a legitimate owner.
type Identity struct {
	Account string `json:"account"`
	// ARN is the user's ARN; UserName and Account are taken from it when empty.
	ARN      string `json:"arn,omitempty"`
	UserName string `json:"user_name,omitempty"`
	// AccessKeyID is the leaked key (deactivated, never deleted); empty if unknown.
	AccessKeyID string `json:"access_key_id,omitempty"`
}

// PlanOptions configures BuildPlan. The zero value is valid.
type PlanOptions struct {
	// Original lists the identities that belong to legitimate owners (see Identity).
	Original []Identity
	// Profiles maps an account id to the AWS CLI profile for it: the script then exports
	// AWS_PROFILE before that account's commands. Without one, it leaves a commented line.
	Profiles map[string]string
	// Title, when set, names the incident in the script's banner.
	Title string
}

// Plan is an ordered cleanup plan, grouped by account then region. It is data: WriteScript
// renders it as a shell script; trailhound never runs it.
type Plan struct {
	Title    string    `json:"title,omitempty"`
	Sections []Section `json:"sections"`
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
}

// Phases: the order of steps within a section. Containment first (keys off, logins off,
// permissions off), then deletions, each after what it depends on.
const (
	phaseDeactivateKey = 10 + iota
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
	orig  []Identity
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
	for _, id := range opts.Original {
		p.orig = append(p.orig, normalise(id))
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
	// The leaked keys first: they are how the attacker gets in.
	p.originalKeys()
	for _, r := range rs {
		p.resource(r)
	}
	p.waits()
	return p.plan()
}

// normalise fills an identity's account and user name from its ARN.
func normalise(id Identity) Identity {
	// arn:aws:iam::ACCOUNT:user/PATH/NAME
	parts := strings.SplitN(id.ARN, ":", 6)
	if len(parts) == 6 && strings.HasPrefix(parts[5], "user/") {
		id.Account = cmp.Or(id.Account, parts[4])
		id.UserName = cmp.Or(id.UserName, parts[5][strings.LastIndex(parts[5], "/")+1:])
	}
	return id
}

// originalUser reports whether the user name belongs to a legitimate owner in the account.
func (p *planner) originalUser(account, user string) bool {
	for _, id := range p.orig {
		if id.UserName != "" && id.UserName == user && (id.Account == "" || id.Account == account) {
			return true
		}
	}
	return false
}

// originalKey reports whether the access key is a leaked key of a legitimate owner.
func (p *planner) originalKey(key string) bool {
	for _, id := range p.orig {
		if id.AccessKeyID != "" && id.AccessKeyID == key {
			return true
		}
	}
	return false
}

// add appends a step; a command whose values cannot be passed safely becomes a skip.
func (p *planner) add(r incident.Resource, phase int, action, what string, c *command, notes ...string) {
	s := Step{Action: action, What: what, Evidence: evidence(r), Notes: notes}
	if c != nil {
		if c.bad != "" {
			s.Action, s.Skip = "skip", c.bad
		} else {
			s.Command, s.Line = c.final()
		}
	}
	p.steps = append(p.steps, planned{account: r.Account, region: r.Region, phase: phase, step: s})
}

// skip appends a step without a command.
func (p *planner) skip(r incident.Resource, phase int, what, why string, notes ...string) {
	s := Step{Action: "skip", What: what, Evidence: evidence(r), Notes: notes, Skip: why}
	p.steps = append(p.steps, planned{account: r.Account, region: r.Region, phase: phase, step: s})
}

// evidence describes the event behind a resource.
func evidence(r incident.Resource) string {
	verb := "created"
	if r.Changed {
		verb = "changed"
	}
	return fmt.Sprintf("%s %s by %s (event %s)", verb, stamp(r.CreatedAt), cmp.Or(r.CreatedBy, "(unknown)"), cmp.Or(r.CreateEventID, "(unknown)"))
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

// originalKeys deactivates the leaked keys of legitimate owners.
func (p *planner) originalKeys() {
	for _, id := range p.orig {
		if id.AccessKeyID == "" || p.deactivated[id.AccessKeyID] {
			continue
		}
		p.deactivated[id.AccessKeyID] = true
		r := incident.Resource{Account: id.Account, Region: GlobalRegion}
		what := fmt.Sprintf("leaked access key %s of legitimate user %s", id.AccessKeyID, cmp.Or(id.UserName, id.ARN, "(unknown)"))
		s := Step{Action: "deactivate-access-key", What: what, Evidence: "used by the attacker (an original identity of the incident)",
			Notes: []string{"key of a legitimate user: deactivated only; rotate it with its owner (new key, update its users, then delete this one)"}}
		switch {
		case strings.HasPrefix(id.AccessKeyID, "ASIA"):
			s.Action, s.Skip = "skip", "temporary credentials cannot be deactivated: revoke the sessions of the role they belong to"
		case id.UserName == "":
			s.Action, s.Skip = "skip", "owner of the key unknown: find it with aws iam get-access-key-last-used --access-key-id"
		default:
			c := iam("update-access-key").opt("--user-name", id.UserName).opt("--access-key-id", id.AccessKeyID).flag("--status", "Inactive")
			if c.bad != "" {
				s.Action, s.Skip = "skip", c.bad
			} else {
				s.Command, s.Line = c.final()
			}
		}
		p.steps = append(p.steps, planned{account: r.Account, region: r.Region, phase: phaseDeactivateKey, step: s})
	}
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
