package remediate

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/trailhound/trailhound/internal/incident"
)

// GuardLine is the line near the top of every script that stops it before any command: the
// reviewer deletes it once the plan is read, so that running the script unreviewed does
// nothing.
const GuardLine = "exit 1 # REVIEW GUARD: delete this line once you have reviewed the whole plan"

// command builds one AWS CLI call as argv and as shell words. Operation names and flags come
// from this package; every value from a resource goes through opt, which checks it and
// single-quotes it. A value that cannot be passed safely sets bad, and the step becomes a
// skip.
type command struct {
	argv, words []string
	region      string
	bad         string
}

// aws starts a regional command; --region is appended last.
func aws(service, op, region string) *command {
	c := &command{argv: []string{"aws", service, op}, words: []string{"aws", service, op}}
	c.region = region
	if err := checkValue(region); err != nil {
		c.bad = "region " + err.Error()
	} else if strings.HasPrefix(region, "-") {
		c.bad = fmt.Sprintf("region %q starts with '-'", region)
	}
	return c
}

// iam starts an IAM command. IAM is global: no --region.
func iam(op string) *command {
	return &command{argv: []string{"aws", "iam", op}, words: []string{"aws", "iam", op}}
}

// word appends a fixed word (a waiter name).
func (c *command) word(w string) *command {
	c.argv, c.words = append(c.argv, w), append(c.words, w)
	return c
}

// flag appends a flag and fixed values written by this package.
func (c *command) flag(name string, values ...string) *command {
	c.argv, c.words = append(c.argv, name), append(c.words, name)
	c.argv, c.words = append(c.argv, values...), append(c.words, values...)
	return c
}

// opt appends a flag and its values, taken from a resource. A single value starting with "-"
// is written as --flag=value so that the CLI cannot read it as another flag.
func (c *command) opt(name string, values ...string) *command {
	for _, v := range values {
		if err := checkValue(v); err != nil && c.bad == "" {
			c.bad = fmt.Sprintf("%s value %s", name, err)
		}
	}
	if len(values) == 1 && strings.HasPrefix(values[0], "-") {
		c.argv = append(c.argv, name+"="+values[0])
		c.words = append(c.words, name+"="+shellQuote(values[0]))
		return c
	}
	for _, v := range values {
		if strings.HasPrefix(v, "-") && c.bad == "" {
			c.bad = fmt.Sprintf("%s value %q starts with '-' in a list", name, printable(v))
		}
	}
	c.argv, c.words = append(c.argv, name), append(c.words, name)
	for _, v := range values {
		c.argv, c.words = append(c.argv, v), append(c.words, shellQuote(v))
	}
	return c
}

// revokePolicyName is the inline policy the IAM console's "Revoke active sessions" writes.
const revokePolicyName = "AWSRevokeOlderSessions"

// revokeNow is the shell command substitution that gives the time the script runs, in the
// format of aws:TokenIssueTime.
const revokeNow = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

// revokeDocument appends flag name with the policy the IAM console's "Revoke active
// sessions" writes: deny everything to sessions issued before now, the time the script runs.
// The whole text is this package's; in argv the time is the command substitution itself.
func (c *command) revokeDocument(name string) *command {
	doc := func(now string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + now + `"}}}]}`
	}
	c.argv = append(c.argv, name, doc(revokeNow))
	// Single-quoted but for the command substitution, double-quoted so it stays one word
	// (the document holds no single quote).
	c.words = append(c.words, name, "'"+doc(`'"`+revokeNow+`"'`)+"'")
	return c
}

// final returns the argv and the shell line of the command, --region last.
func (c *command) final() ([]string, string) {
	argv, words := slices.Clip(c.argv), slices.Clip(c.words)
	if c.region != "" {
		argv = append(argv, "--region", c.region)
		words = append(words, "--region", shellQuote(c.region))
	}
	return argv, strings.Join(words, " ")
}

// checkValue rejects what no AWS identifier contains and a reviewer could not read: empty
// values, invalid UTF-8, control and format characters (newlines, NUL, bidi overrides).
func checkValue(v string) error {
	switch {
	case v == "":
		return errors.New("is empty")
	case !isPlain(v):
		return fmt.Errorf("%q holds characters no AWS identifier has", printable(v))
	}
	return nil
}

// ipPermission is the JSON shape of --ip-permissions.
type ipPermission struct {
	IPProtocol       string      `json:"IpProtocol"`
	FromPort         *int        `json:"FromPort,omitempty"`
	ToPort           *int        `json:"ToPort,omitempty"`
	IPRanges         []ipRange   `json:"IpRanges,omitempty"`
	IPv6Ranges       []ipv6Range `json:"Ipv6Ranges,omitempty"`
	UserIDGroupPairs []groupPair `json:"UserIdGroupPairs,omitempty"`
}

type ipRange struct {
	CidrIP string `json:"CidrIp"`
}

type ipv6Range struct {
	CidrIPv6 string `json:"CidrIpv6"`
}

type groupPair struct {
	GroupID string `json:"GroupId"`
}

// permission returns how to name a rule exactly: simple (tcp or udp from an IPv4 CIDR, for
// --protocol/--port/--cidr) or as --ip-permissions JSON.
func permission(d map[string]string) (string, bool, error) {
	proto, cidr, cidr6 := strings.ToLower(d["protocol"]), d["cidr"], d["cidr_ipv6"]
	if proto == "" {
		return "", false, errors.New("protocol of the rule unknown")
	}
	if cidr == "" && cidr6 == "" {
		return "", false, errors.New("source of the rule unknown")
	}
	allPorts := proto == "-1" || proto == "all"
	var from, to *int
	if !allPorts {
		f, err1 := strconv.Atoi(d["from_port"])
		t, err2 := strconv.Atoi(cmp.Or(d["to_port"], d["from_port"]))
		if err1 != nil || err2 != nil {
			return "", false, errors.New("ports of the rule unknown")
		}
		from, to = &f, &t
	}
	isGroup := strings.HasPrefix(cidr, "sg-")
	if (proto == "tcp" || proto == "udp") && cidr != "" && !isGroup && *from >= 0 {
		return "", true, nil
	}
	perm := ipPermission{IPProtocol: d["protocol"], FromPort: from, ToPort: to}
	switch {
	case isGroup:
		perm.UserIDGroupPairs = []groupPair{{GroupID: cidr}}
	case cidr != "":
		perm.IPRanges = []ipRange{{CidrIP: cidr}}
	default:
		perm.IPv6Ranges = []ipv6Range{{CidrIPv6: cidr6}}
	}
	b, err := json.Marshal([]ipPermission{perm})
	if err != nil {
		return "", false, fmt.Errorf("encoding the rule: %w", err)
	}
	return string(b), false, nil
}

// Counts sums a plan up: the commands it runs, those written commented out (unknown
// attribution) and the steps without a command.
type Counts struct {
	Commands, Commented, Skipped int
}

// Summary counts the steps of a plan.
func (p Plan) Summary() Counts {
	var c Counts
	for _, s := range p.Sections {
		for _, st := range s.Steps {
			switch {
			case st.Line != "" && st.Commented:
				c.Commented++
			case st.Line != "":
				c.Commands++
			default:
				c.Skipped++
			}
		}
	}
	return c
}

// CheckPlan verifies the plan's safety property against the attribution of the events it
// cites: every command that runs (not commented out, not a waiter) names an evidence event
// attributed to the attacker. attribution returns the attribution of an event id ("" when
// the investigation does not know the event). It returns every violation, or nil.
func CheckPlan(p Plan, attribution func(eventID string) incident.Attribution) error {
	var bad []string
	for _, s := range p.Sections {
		for _, st := range s.Steps {
			if st.Line == "" || st.Commented || st.Action == "wait" {
				continue
			}
			ok := false
			for _, id := range st.EvidenceEvents {
				ok = ok || attribution(id) == incident.Attacker
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%s/%s: %q targets %s with no evidence attributed to the attacker (events %v)",
					s.Account, s.Region, st.Line, cmp.Or(st.Target, "(no target)"), st.EvidenceEvents))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("checking the plan: %d command(s) not tied to the attacker:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	return nil
}

// WriteScript renders the plan as a POSIX shell script for a person to review and run. It
// starts with a banner and GuardLine, checks before each account's commands that the
// credentials are that account's, and precedes every command with the resource and the
// evidence. Values are single-quoted; comments escape every non-printable character.
func (p Plan) WriteScript(w io.Writer) error {
	var b strings.Builder
	comment := func(format string, args ...any) {
		b.WriteString("# " + printable(fmt.Sprintf(format, args...)) + "\n")
	}
	n := p.Summary()
	b.WriteString("#!/bin/sh\n")
	comment("Remediation plan generated by trailhound. REVIEW BEFORE RUNNING.")
	if p.Title != "" {
		comment("Incident: %s", p.Title)
	}
	comment("trailhound never runs this script. Its commands deactivate and delete what the")
	comment("investigation found; read each one and the evidence above it, and remove what you")
	comment("do not want. Names come from the attacker's requests: every value is single-quoted.")
	comment("Order per account: IAM first (deactivate keys, delete logins, detach policies, delete")
	comment("keys and users), then per region: ECS, EC2, Lambda. IAM is global: no --region.")
	comment("The script stops at the first failing command (set -e): comment out what already")
	comment("ran and run it again.")
	comment("%d commands, %d commented out (the logs do not tie their target to the attacker:", n.Commands, n.Commented)
	comment("uncomment once confirmed), %d resources left alone (see the 'skip' comments).", n.Skipped)
	if p.OwnerResources > 0 {
		comment("%d resources created by the owners' own calls of the credentials the attacker used", p.OwnerResources)
		comment("are not in this plan (the report lists them).")
	}
	b.WriteString("set -eu\nexport AWS_PAGER=''\n")
	b.WriteString("echo 'trailhound: this plan has not been reviewed. Read it, then delete the exit 1 guard line.' >&2\n")
	b.WriteString(GuardLine + "\n")
	account := "\x00"
	for _, s := range p.Sections {
		if s.Account != account {
			account = s.Account
			b.WriteString("\n")
			comment("##### account %s #####", s.Account)
			comment("Run what follows with credentials for account %s.", s.Account)
			if s.Profile != "" && checkValue(s.Profile) == nil {
				b.WriteString("export AWS_PROFILE=" + shellQuote(s.Profile) + "\n")
			} else {
				comment("export AWS_PROFILE='<the profile of account %s>'", s.Account)
			}
			if checkValue(s.Account) == nil {
				q := shellQuote(s.Account)
				fmt.Fprintf(&b, "test \"$(aws sts get-caller-identity --query Account --output text)\" = %s || "+
					"{ echo 'trailhound: the credentials are not for account '%s >&2; exit 1; }\n", q, q)
			}
		}
		b.WriteString("\n")
		comment("=== account %s, region %s ===", s.Account, s.Region)
		comment("(credentials for account %s)", s.Account)
		for _, st := range s.Steps {
			b.WriteString("\n")
			switch {
			case st.Skip != "":
				comment("skip: %s: %s", st.What, st.Skip)
			case st.Commented:
				comment("UNKNOWN ATTRIBUTION, commented out: %s: %s", st.Action, st.What)
			default:
				comment("%s: %s", st.Action, st.What)
			}
			if st.Evidence != "" {
				comment("evidence: %s", st.Evidence)
			}
			for _, n := range st.Notes {
				comment("note: %s", n)
			}
			switch {
			case st.Line != "" && st.Commented:
				b.WriteString("# " + st.Line + "\n")
			case st.Line != "":
				b.WriteString(st.Line + "\n")
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the remediation script: %w", err)
	}
	return nil
}
