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
// A starting signal contributes its actor (every event of a root or federated user, of an IAM
// user without a key) and its access key; for an IAM user's long-term key or an assumed-role
// actor, only the key.
//
// # Roots: one incident, one scope
//
// The scope grows from roots, not from the starting point itself: an identity the data shows
// made by a call (a user by CreateUser, a key by CreateAccessKey or an STS call, a console
// session by the login profile its user's password came from) is replaced by the identity
// that made that call when attribution gives that call to the attacker, and so on up. A start
// at the leaked key, at the signal on it, at the attacker's address, at a user or key the
// attacker created or at its console session reaches the same roots, so the same scope, the
// same report (but for its start) and the same plan. A call by an AWS service, a SAML or web
// identity, or one attributed to an owner stops the walk: a key an administrator created
// legitimately and that leaked later is its own root.
//
// # Attribution
//
// A root existed before the incident (a leaked long-term key, a stolen role session, a role
// or user named at the start): its legitimate owner uses it too. Every event of the scope is
// attributed to the attacker, the owner or nobody known (incident.Attacker, Owner, Unknown),
// with the evidence:
//
//   - identities derived from the roots take the attribution of the call that made them;
//     calls attributed to an owner derive nothing (the owner's own sessions and keys stay
//     out of the scope);
//   - a root's calls that signals at medium or above (or the starting signal) mark are the
//     attacker's seeds, and so are, for a role session, calls from outside where it lives:
//     EC2 instance credentials used from a public address and a client the instance never
//     used, or any session used from another network and client than the one that assumed
//     the role (sessionSeeds);
//   - the addresses, exact user agents and, with a database, networks (ASNs) of the seeds
//     and of the attacker's derived identities are the attacker's; those of the root's other
//     calls outside the seeds' span (plus an hour each side), and of the same principal's
//     calls with other keys, are the owner's; a call is attributed by its address, then its
//     client, then its network, and is unknown when they disagree or tell nothing;
//   - a seed from the owner's usual address and client is not believed (unknown); calls a
//     service makes on the identity's behalf follow the call before them; unknown calls
//     outside the attacker's first and last calls are the owner's; with no seed at all,
//     every call of the root is unknown.
//
// The report keeps every event in the timeline with its attribution; the owner's calls do not
// count in the summary, the data touched, the graph, the blind spots or the ATT&CK matrix;
// resources of the owner's calls are listed apart (OwnerResources) and never reach a plan;
// resources of unknown attribution reach it as commented-out commands.
package investigate
