package signal

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a summary lists; the rest is counted ("and 4 more APIs").
const (
	summaryAPIs      = 3
	summaryCodes     = 3
	summaryRegions   = 3
	summaryUserAgent = 80 // runes
)

// summary writes the one-sentence summary of the evidence. The strings it quotes are raw:
// writers escape them. (Built with plain concatenation: fmt took a third of the time of
// building a signal, and a hunt builds tens of thousands.)
func (a *Accumulator) summary() string {
	if a.count == 0 {
		return "No events."
	}
	var b strings.Builder
	b.WriteString(a.who())
	apis := tally(apiNames(a.apis))
	if a.count == 1 {
		if a.failed == 1 {
			b.WriteString(" failed to call " + apis[0].name + " (" + tally(a.errors)[0].name + ")")
		} else {
			b.WriteString(" called " + apis[0].name)
		}
	} else {
		b.WriteString(" made " + strconv.Itoa(a.count) + " calls")
		if a.failed > 0 {
			n := strconv.Itoa(a.failed)
			if a.failed == a.count {
				n = "all"
			}
			b.WriteString(" (" + n + " failed with " + listNames(tally(a.errors), summaryCodes, false, "or", "other error codes") + ")")
		}
		b.WriteString(" to " + listNames(apis, summaryAPIs, len(apis) > 1, "and", "other APIs"))
	}
	b.WriteString(a.where())
	if len(a.ips.vals) > 0 {
		b.WriteString(" from " + a.ips.vals[0])
		if others := len(a.ips.vals) - 1; a.ips.truncated {
			b.WriteString(" and at least " + strconv.Itoa(others+1) + " other source IPs")
		} else if others > 0 {
			b.WriteString(" and " + strconv.Itoa(others) + " other source " + plural(others, "IP", "IPs"))
		}
	}
	if a.count > 1 && !a.first.IsZero() {
		b.WriteString(" between " + a.first.Format(time.RFC3339) + " and " + a.last.Format(time.RFC3339) + " (" + humanDuration(a.last.Sub(a.first)) + ")")
	}
	if ua := a.userAgent.val; ua != "" && !a.userAgent.mixed {
		b.WriteString(` using "` + shorten(ua, summaryUserAgent) + `"`)
	}
	b.WriteString(".")
	return b.String()
}

// who names the actor in its short form, with its account when that is not the account of the
// events.
func (a *Accumulator) who() string {
	actor := a.actor.val
	if actor == "" {
		return "An unknown principal"
	}
	short := shortActor(actor)
	if acct := arnAccount(actor); acct != "" && acct != a.account.val && short != actor {
		short += " (account " + acct + ")"
	}
	actor = short
	if a.actor.mixed {
		actor += " and other principals"
	}
	return actor
}

// where says in which account and regions the events happened.
func (a *Accumulator) where() string {
	var b strings.Builder
	if a.account.val != "" {
		b.WriteString(" in account " + a.account.val)
		if a.account.mixed {
			b.WriteString(" and others")
		}
	}
	if r := a.regions.vals; len(r) > 0 {
		list := strings.Join(r[:min(len(r), summaryRegions)], ", ")
		if more := len(r) - summaryRegions; a.regions.truncated {
			list += " and more"
		} else if more > 0 {
			list += " and " + strconv.Itoa(more) + " more"
		}
		if b.Len() > 0 {
			b.WriteString(" (" + list + ")")
		} else {
			b.WriteString(" in " + list)
		}
	}
	return b.String()
}

type count struct {
	name string
	n    int
}

// tally sorts counts, most frequent first, then by name.
func tally(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{k, n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	return out
}

// listNames writes "a (3), b (2) and 4 other APIs".
func listNames(c []count, limit int, withCounts bool, conj, others string) string {
	var parts []string
	for _, e := range c[:min(len(c), limit)] {
		if withCounts {
			parts = append(parts, e.name+" ("+strconv.Itoa(e.n)+")")
		} else {
			parts = append(parts, e.name)
		}
	}
	if more := len(c) - limit; more > 0 {
		parts = append(parts, strconv.Itoa(more)+" "+others)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + conj + " " + parts[len(parts)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shorten cuts s to at most n runes, ending with "…" when cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// humanDuration writes d with at most its two largest units: "3d4h", "2h5m", "4m12s", "12s".
func humanDuration(d time.Duration) string {
	units := [...]struct {
		secs int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	s := int64(d.Round(time.Second) / time.Second)
	for i, u := range units {
		if s < u.secs {
			continue
		}
		out := strconv.FormatInt(s/u.secs, 10) + u.name
		if i+1 < len(units) {
			next := units[i+1]
			if q := s % u.secs / next.secs; q > 0 {
				out += strconv.FormatInt(q, 10) + next.name
			}
		}
		return out
	}
	return "0s"
}
