package investigate

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/trailhound/trailhound/internal/incident"
)

// rootCount sums up the attribution of a root's calls.
type rootCount struct {
	attacker, owner, unknown int
	first, last              int32 // the attacker's first and last calls, -1 when none
	unknownWhy               string
	x                        *Index
}

// rootCounts counts the attributions of evs (a root's calls, in time order).
func (s *scope) rootCounts(evs []int32) rootCount {
	c := rootCount{first: -1, last: -1, x: s.x}
	for _, e := range evs {
		switch a := s.attrOf(e); a.a {
		case incident.Attacker:
			c.attacker++
			if c.first < 0 {
				c.first = e
			}
			c.last = e
		case incident.Owner:
			c.owner++
		default:
			c.unknown++
			if c.unknownWhy == "" {
				c.unknownWhy = a.why
			}
		}
	}
	return c
}

// attribution is that of a root: the attacker's when any of its calls is, unknown when some
// cannot be told, else the owner's.
func (c rootCount) attribution() (incident.Attribution, string) {
	n := c.attacker + c.owner + c.unknown
	switch {
	case c.attacker > 0:
		return incident.Attacker, fmt.Sprintf("pre-existing identity used by the attacker: %d of its %d calls in scope are the attacker's (%s to %s), %d its owner's, %d unknown",
			c.attacker, n, c.x.time(c.first).Format("2006-01-02T15:04:05Z"), c.x.time(c.last).Format("2006-01-02T15:04:05Z"), c.owner, c.unknown)
	case c.unknown > 0:
		return incident.Unknown, fmt.Sprintf("pre-existing identity: %d of its %d calls cannot be attributed (%s)", c.unknown, n, c.unknownWhy)
	}
	return incident.Owner, fmt.Sprintf("pre-existing identity: all its %d calls in scope are its owner's", n)
}

// credentials describes the scope's roots as credentials: whose they are (read from the
// events' userIdentity, never guessed), what issued temporary ones, and their attribution.
func (s *scope) credentials() []incident.Credential {
	x := s.x
	out := []incident.Credential{}
	for i, sub := range s.subjects {
		if !sub.shared {
			continue
		}
		v := x.str(sub.val)
		c := incident.Credential{}
		// The identity the events name: the first call that is not a service's on its behalf.
		var who *record
		for _, e := range s.evOf[i] {
			if r := &x.recs[e]; r.invokedBy == 0 && r.actor != 0 {
				who = r
				break
			}
		}
		actor, account := "", ""
		if who != nil {
			actor = x.str(who.actor)
			account = cmp.Or(arnAccount(actor), x.str(who.account))
		}
		switch sub.kind {
		case subjKey:
			c.AccessKeyID = v
			switch {
			case strings.Contains(actor, "#"):
				c.Kind = incident.CredentialRoleSession
				c.RoleARN, c.Session, _ = strings.Cut(actor, "#")
				if li, ok := x.keyLink[sub.val]; ok {
					issue := &x.recs[x.links[li].ev]
					c.IssuedBy, c.IssueEventID = x.str(issue.actor), x.str(issue.id)
					if c.IssuedBy == "ec2.amazonaws.com" && strings.HasPrefix(c.Session, "i-") {
						c.InstanceID, c.Region = c.Session, x.str(issue.region)
					}
				}
			case who != nil && who.flags&flagConsole != 0:
				c.Kind = incident.CredentialConsole
			default:
				c.Kind = incident.CredentialAccessKey
			}
			if strings.Contains(actor, ":user/") || strings.HasSuffix(actor, ":root") {
				c.UserARN = actor
				if strings.Contains(actor, ":user/") {
					c.UserName = actor[strings.LastIndexByte(actor, '/')+1:]
				}
			}
		case subjPrincipal:
			c.Kind = incident.CredentialUser
			c.UserARN, account = v, cmp.Or(arnAccount(v), account)
			if strings.Contains(v, ":user/") {
				c.UserName = v[strings.LastIndexByte(v, '/')+1:]
			}
		case subjRole:
			c.Kind, c.RoleARN, account = incident.CredentialRole, v, cmp.Or(arnAccount(v), account)
		default:
			continue
		}
		c.Account = account
		n := s.rootCounts(s.evOf[i])
		c.Attribution, c.Why = n.attribution()
		c.AttackerEvents, c.OwnerEvents, c.UnknownEvents = n.attacker, n.owner, n.unknown
		if n.first >= 0 {
			c.FirstAttackerEventID, c.FirstAttacker, c.LastAttacker = x.str(x.recs[n.first].id), x.time(n.first), x.time(n.last)
		}
		out = append(out, c)
	}
	return append(out, s.assumedRoles()...)
}

// assumedRoles describes the pre-existing roles the attacker assumed (a session derived by
// an AssumeRole attributed to the attacker, of a role the scope did not create): their
// sessions outlive the key that opened them (up to 12 hours), so a plan revokes them. One
// per role, in the order the sessions joined the scope.
func (s *scope) assumedRoles() []incident.Credential {
	x := s.x
	created := map[string]bool{}
	for _, sub := range s.subjects {
		if sub.kind == subjRole {
			created[x.str(sub.val)] = true
		}
	}
	var out []incident.Credential
	seen := map[string]bool{}
	for i, sub := range s.subjects {
		if sub.shared || sub.kind != subjKey || sub.attr.a != incident.Attacker || sub.ev < 0 {
			continue
		}
		l := x.links[x.recs[sub.ev].link]
		if l.kind != linkAssumeRole {
			continue
		}
		role, session, _ := strings.Cut(x.str(l.b), "#")
		if role == "" || created[role] || seen[role] {
			continue
		}
		seen[role] = true
		n := s.rootCounts(s.evOf[i])
		c := incident.Credential{Kind: incident.CredentialRoleSession, Account: arnAccount(role), AccessKeyID: x.str(sub.val),
			RoleARN: role, Session: session, IssuedBy: x.str(x.recs[sub.ev].actor), IssueEventID: x.str(x.recs[sub.ev].id),
			Attribution: incident.Attacker, AttackerEvents: n.attacker, OwnerEvents: n.owner, UnknownEvents: n.unknown,
			Why:                  "a session of a pre-existing role the attacker assumed (event " + x.str(x.recs[sub.ev].id) + "): it outlives the key that opened it",
			FirstAttackerEventID: x.str(x.recs[sub.ev].id), FirstAttacker: x.time(sub.ev)}
		if n.last >= 0 {
			c.LastAttacker = x.time(n.last)
		}
		out = append(out, c)
	}
	return out
}
