// Package simulate writes a realistic multi-account CloudTrail history, as AWS delivers it to
// S3, with the two seed attacks of DESIGN.md woven into days of benign activity (in a week,
// on the second day and the fourth or fifth; in a longer history, in its last week, after
// the first week that first-seen rules learn from), and a ground truth that names every
// attacker event, identity and resource.
//
// The benign side has CI deploys (GitHub OIDC and CodeBuild role sessions registering
// private-ECR task definitions and updating small ECS services), console users signing in
// with MFA, an SSO (SAML) user, admins onboarding read-only users and rotating their own
// keys, Terraform opening web security groups on 443 to the world and starting instances of
// the account's two usual types (in its regions in turn), monitoring tools polling
// Describe/List/Get, S3 and Lambda data events, KMS decrypts by S3, role sessions of AWS
// services, and occasional AccessDenied errors. Several of these are deliberate look-alikes
// of attacker steps and are listed as such.
//
// Options add shapes that investigations need: BusyOwners makes the leaked keys of attacks 1
// and 2 belong to busy CI users whose pipelines keep running with them (hundreds of instance
// launches and terminations, ECS deployments, IAM roles and policy versions a day, from their
// own runners and clients), CIUsers adds such users as benign traffic, and attack 3
// (AttackRoleTheft) steals an instance profile's credentials and uses them from outside the
// instance; GroundTruth.Owners lists what the CI users did.
//
// Delivery is modelled, not idealised: one gzip'd {"Records":[...]} file per account,
// region and 5-minute slot (split past Options.MaxPerFile records), records shuffled
// inside a file, each event delayed by about five minutes (a few percent by 12 to 25), so
// many land in a later slot, and a few delivered twice. Digest files are optional.
//
// Generation is deterministic for a seed and streams: events are produced in time order,
// a tick of five minutes at a time, and a slot is written as soon as no later event can
// fall into it, so memory does not grow with the length of the history.
package simulate
