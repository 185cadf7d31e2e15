// Package investigate turns one starting point (a signal, an access key, a principal ARN, an
// IAM user name or a source address) into the whole incident: the scope of identities the
// attacker used, every event they made, the identity graph, the resources they created or
// changed and whether the logs show them deleted, the data they read, what the data cannot
// show (blind spots), and the ATT&CK tactic matrix of the signals in scope.
//
// Load reads CloudTrail logs with the project's decoder into an Index: one compact record per
// distinct eventID (interned header, identity and enrichment fields, lineage facts, the few
// request fields data reads need). Only calls that create, change or delete a tracked
// resource keep their raw JSON. LoadStore builds the same Index from an event store, reading
// only the events a starting point's scope can reach (what trailhound investigate uses);
// Load, over every event, is the reference the tests compare it to. Investigate computes a
// Report from an Index; both are safe for concurrent use once built.
//
// # Lineage rules
//
// The scope starts from the identities of the starting point and grows, to a fixed point,
// across every account and region in the data, only through these rules, each applied to a
// successful call (no errorCode) made by an identity already in scope:
//
//   - iam:CreateUser: the new user (arn:aws:iam::ACCT:user/[PATH/]NAME) joins as a principal:
//     every event it makes from its creation until a DeleteUser of it, console sessions
//     (ConsoleLogin and the session's calls) included.
//   - iam:CreateAccessKey: the new key (responseElements.accessKey.accessKeyId), for the
//     named user or the caller: every event made with it. A key made for a user the scope
//     did not create brings in that key only, not the user's other activity.
//   - iam:CreateLoginProfile / UpdateLoginProfile: the console sessions of that user opened
//     from then on (ConsoleLogin by the user, and events with sessionCredentialFromConsole
//     whose session creationDate is not earlier), not the user's key-based activity.
//   - iam:CreateRole: every session of the new role, whoever assumes it.
//   - sts:AssumeRole: the session's temporary key (responseElements.credentials.accessKeyId):
//     every event made with it, in whichever account, so role chains and cross-account hops
//     follow. A session is its key, never its name: session names ("GitHubActions") are reused
//     by unrelated sessions. A sourceIdentity the scope sets joins too: every session
//     carrying it (sessionContext.sourceIdentity persists along role chains).
//   - sts:GetSessionToken and sts:GetFederationToken: the new temporary key.
//   - sts:AssumeRoleWithSAML and sts:AssumeRoleWithWebIdentity: the session's temporary key
//     (responseElements.credentials.accessKeyId; the session name is the last part of
//     assumedRoleUser.arn), as for AssumeRole. Their callers are SAML and web identities
//     (SAMLUser, WebIdentityUser) outside any scope, so these calls are followed only from a
//     role in scope (every session of the role opened in its window: the keys join, the call
//     and its caller do not, nor the caller's sessions of other roles) or from a start that
//     names the identity itself (--arn SAMLUser:… or WebIdentityUser:…). A start at one such
//     key (--access-key ASIA…) is that session only: session names are reused.
//
// Nothing else links: not the account, not the source address, not closeness in time. A
// benign administrator in the same account, working from the same NAT address at the same
// hour, stays out unless an identity in scope created or handed them credentials. The source
// address is only a starting point (Start.IP: every identity with a call from it), never an
// expansion rule. AWS service principals (invokedBy, service-linked sessions) are never
// expanded; calls a service makes on behalf of an identity in scope (KMS Decrypt by S3)
// carry that identity and so are in scope.
//
// Resources are not identities: iam:AddUserToGroup by the scope is recorded as a group
// membership resource (IAMGroupMembership, an acted-on edge in the graph) but the group's
// policies and other members never join the scope; iam:CreatePolicyVersion and
// SetDefaultPolicyVersion are recorded as changed managed policies (IAMManagedPolicy,
// Changed); the remediation plan removes such memberships and deletes the policy versions
// the attacker created (restoring a previous default is left to the reviewer, since the logs
// do not say which version it was).
//
// A starting signal contributes its actor (every event of an IAM user, root or federated
// user) and its access key; for an assumed-role actor, only its temporary key.
package investigate
