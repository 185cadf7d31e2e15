package signal

import "strings"

// shortActor turns a principal ARN into the short form a responder reads at a glance:
//
//	arn:aws:iam::111122223333:user/dept/alice          -> user/alice
//	arn:aws:iam::111122223333:role/Admin#session       -> role/Admin#session
//	arn:aws:sts::111122223333:assumed-role/Admin/sess  -> role/Admin#sess
//	arn:aws:iam::111122223333:root                     -> root
//
// Anything that is not an ARN (service principals, "IAMUser:AIDA…") is returned unchanged.
func shortActor(actor string) string {
	if !strings.HasPrefix(actor, "arn:") {
		return actor
	}
	parts := strings.SplitN(actor, ":", 6)
	if len(parts) < 6 || parts[5] == "" {
		return actor
	}
	resource, session, hasSession := strings.Cut(parts[5], "#")
	kind, path, ok := strings.Cut(resource, "/")
	if !ok {
		return parts[5]
	}
	if kind == "assumed-role" {
		role, sess, ok := strings.Cut(path, "/")
		if ok && !hasSession {
			session, hasSession = sess, true
		}
		kind, path = "role", role
	}
	name := path[strings.LastIndexByte(path, '/')+1:]
	if hasSession {
		return kind + "/" + name + "#" + session
	}
	return kind + "/" + name
}

// arnAccount returns the account id field of an ARN, or "".
func arnAccount(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
