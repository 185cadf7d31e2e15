package event

import (
	"strings"

	"github.com/valyala/fastjson"
)

// Actor returns the normalised principal of a CloudTrail record, the key trailhound groups
// activity by:
//   - IAM user, root, federated user: the identity's ARN;
//   - assumed role: the role's IAM ARN (from sessionContext.sessionIssuer, or rebuilt from the
//     STS ARN on old records) followed by "#" and the session name, so two sessions of one role
//     stay apart while the role is recoverable by cutting at "#";
//   - AWS service: the service principal (invokedBy, e.g. "ecs.amazonaws.com");
//   - anything else: the ARN, or the type and principal ID, or "" when the record has no identity.
func Actor(v *fastjson.Value) string {
	ui := v.Get("userIdentity")
	if ui == nil || ui.Type() != fastjson.TypeObject {
		return ""
	}
	str := func(keys ...string) string {
		b := ui.GetStringBytes(keys...)
		return string(b)
	}
	typ, arn := str("type"), str("arn")
	switch typ {
	case "AssumedRole":
		return assumedRole(arn, str("sessionContext", "sessionIssuer", "arn"))
	case "AWSService":
		if s := str("invokedBy"); s != "" {
			return s
		}
	}
	if arn != "" {
		return arn
	}
	if id := str("principalId"); id != "" {
		if typ != "" {
			return typ + ":" + id
		}
		return id
	}
	if s := str("invokedBy"); s != "" {
		return s
	}
	return typ
}

// assumedRole turns arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION into
// arn:aws:iam::ACCOUNT:role/[PATH/]ROLE#SESSION.
func assumedRole(stsARN, issuerARN string) string {
	const marker = ":assumed-role/"
	i := strings.Index(stsARN, marker)
	if i < 0 {
		if issuerARN != "" {
			return issuerARN
		}
		return stsARN
	}
	rest := stsARN[i+len(marker):]
	role, session, _ := strings.Cut(rest, "/")
	roleARN := issuerARN
	if roleARN == "" {
		// arn:aws:sts::123:assumed-role/R/S -> arn:aws:iam::123:role/R
		prefix := stsARN[:i] // arn:PARTITION:sts::ACCOUNT
		prefix = strings.Replace(prefix, ":sts:", ":iam:", 1)
		roleARN = prefix + ":role/" + role
	}
	if session == "" {
		return roleARN
	}
	return roleARN + "#" + session
}
