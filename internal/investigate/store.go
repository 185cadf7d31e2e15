package investigate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// StoreSource is an event store to investigate (store.Store satisfies it).
type StoreSource interface {
	// Events calls fn, from the calling goroutine, for every stored event matching f.
	Events(ctx context.Context, f store.Filter, fn func(store.Record, *event.Event) error) error
	// Activity summarises every stored event by account, region and API.
	Activity(ctx context.Context) (store.Activity, error)
}

// maxRounds bounds the lookups of LoadStore: each round follows one more generation of
// derived identities, and real incidents have a handful.
const maxRounds = 64

// LoadStore builds the Index that an investigation from start needs, reading from src only
// the events that can be in its scope, never the whole store:
//   - the events of the starting point (its actor, key, user name, address);
//   - round after round, the events of every identity the scope has reached, until a round
//     derives no new identity (an identity's events are what derive the next ones);
//   - the calls that matter whoever made them: resource deletions (a defender's clean-up
//     shows in the report), the IAM calls that make users, keys, passwords and roles (the
//     walk back to roots) and, once a role is in scope, the SAML and web-identity sessions
//     of roles (a role in scope takes in their sessions);
//   - for a temporary key whose issuing call is not loaded, the STS calls of the 36 hours
//     before its first use; the identities on the walk back from every root, and the other
//     calls of a root key's principal (its owner's habits, for attribution);
//   - the store's activity summary, for blind spots.
//
// Investigate then gives, for start and the same signals, the report an Index of every
// event would give. opts.Decode, opts.Source and opts.Workers are not used.
func LoadStore(ctx context.Context, src StoreSource, start Start, signals []signal.Signal, opts LoadOptions) (*Index, error) {
	if err := start.validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	act, err := src.Activity(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the store's activity: %w", err)
	}
	l := &storeLoader{src: src, b: newBuilder(opts.Enricher), loaded: map[store.Ref]bool{},
		actors: map[string]bool{}, keys: map[string]bool{}, srcIDs: map[string]bool{}, issuersOf: map[string]bool{}}
	// The calls every scope may need, whoever made them.
	if err := l.fetch(ctx, store.Filter{EventName: anyScopeNeeds}); err != nil {
		return nil, err
	}
	first, err := startFilter(start, signals)
	if err != nil {
		return nil, err
	}
	if err := l.fetch(ctx, first); err != nil {
		return nil, err
	}
	for round := 1; ; round++ {
		x := l.index(act, opts)
		_, err := x.startSubjects(start, signals)
		if errors.Is(err, ErrNotFound) && start.AccessKey != "" && !l.keysCreated {
			// A key without calls can still have been created in the data.
			l.keysCreated = true
			if err := l.fetch(ctx, store.Filter{EventName: func(n string) bool { return n == "CreateAccessKey" }}); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return x, nil // Investigate reports it
		}
		s, err := x.resolve(start, signals)
		if err != nil {
			return x, nil
		}
		if !l.fedLoaded && slices.ContainsFunc(s.subjects, func(sub subject) bool { return sub.kind == subjRole }) {
			// A role in scope takes in the sessions SAML and web identities opened: those
			// calls are made by identities outside the scope, so they are read only now (an
			// EKS cluster can make millions of AssumeRoleWithWebIdentity calls).
			l.fedLoaded = true
			if err := l.fetch(ctx, store.Filter{EventName: federatedCall}); err != nil {
				return nil, err
			}
			continue
		}
		fetched, err := l.issuers(ctx, x, s)
		if err != nil {
			return nil, err
		}
		if fetched {
			continue
		}
		next := l.next(x, l.wanted(x, s))
		if next.Actors == nil && next.AccessKeys == nil && next.SourceIdentities == nil {
			opts.Logger.Debug("index loaded from store", "rounds", round, "events", len(x.recs), "identities", len(s.subjects))
			return x, nil
		}
		if round == maxRounds {
			return nil, fmt.Errorf("loading the scope from the store: still new identities after %d rounds", maxRounds)
		}
		if err := l.fetch(ctx, next); err != nil {
			return nil, err
		}
	}
}

// wanted returns the identities whose events an investigation over the loaded events
// touches: the scope's, every identity on the walk back from the starting identities and
// the scope's roots to the calls that made them (resolve weighs each), and the principals
// whose other calls show a root key's owner at work (peers).
func (l *storeLoader) wanted(x *Index, s *scope) []subject {
	out := slices.Clone(s.subjects)
	var walk []subject
	for _, sub := range s.subjects {
		if sub.shared {
			walk = append(walk, sub)
		}
	}
	for len(walk) > 0 {
		sub := walk[0]
		walk = walk[1:]
		if _, up, ok := x.madeBy(sub); ok && !slices.ContainsFunc(out, func(o subject) bool { return o.kind == up.kind && o.val == up.val }) {
			out = append(out, up)
			walk = append(walk, up)
		}
	}
	for _, sub := range slices.Clone(out) {
		if sub.kind != subjKey {
			continue
		}
		for _, e := range x.byKey[sub.val] {
			if a := x.recs[e].actor; a != 0 && strings.HasPrefix(x.str(a), "arn:") {
				out = append(out, subject{kind: subjPrincipal, val: a})
			}
		}
	}
	return out
}

// issuers reads, once per key, the STS calls around the first use of every temporary key
// whose issuing call is not loaded: the walk back to roots follows them, and the report
// names the AssumeRole that issued a stolen session. STS credentials live at most 36 hours.
func (l *storeLoader) issuers(ctx context.Context, x *Index, s *scope) (bool, error) {
	var f store.Filter
	for _, sub := range l.wanted(x, s) {
		if sub.kind != subjKey || l.issuersOf[x.str(sub.val)] {
			continue
		}
		if _, ok := x.keyLink[sub.val]; ok {
			continue
		}
		list := x.byKey[sub.val]
		if len(list) == 0 || !strings.HasPrefix(x.str(sub.val), "ASIA") {
			continue
		}
		l.issuersOf[x.str(sub.val)] = true
		first := x.time(list[0])
		since, until := first.Add(-36*time.Hour), first.Add(time.Second)
		if f.Since.IsZero() || since.Before(f.Since) {
			f.Since = since
		}
		if until.After(f.Until) {
			f.Until = until
		}
	}
	if f.Until.IsZero() {
		return false, nil
	}
	f.EventName = stsIssuing
	if err := l.fetch(ctx, f); err != nil {
		return false, err
	}
	return true, nil
}

// stsIssuing selects the STS calls that issue temporary keys.
func stsIssuing(name string) bool {
	switch name {
	case "AssumeRole", "GetSessionToken", "GetFederationToken", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
		return true
	}
	return false
}

// storeLoader accumulates the events LoadStore reads.
type storeLoader struct {
	src    StoreSource
	b      *builder
	loaded map[store.Ref]bool
	// actors, keys, srcIDs: the identities whose events are loaded.
	actors, keys, srcIDs map[string]bool
	// issuersOf holds the temporary keys whose issuing STS calls were looked for.
	issuersOf   map[string]bool
	keysCreated bool
	fedLoaded   bool // the SAML and web-identity sessions are loaded
}

// fetch adds the events of f not loaded yet.
func (l *storeLoader) fetch(ctx context.Context, f store.Filter) error {
	err := l.src.Events(ctx, f, func(r store.Record, ev *event.Event) error {
		if l.loaded[r.Ref] {
			return nil
		}
		l.loaded[r.Ref] = true
		l.b.stats.Read++
		l.b.curFile = l.b.in.s(ev.Pos.File)
		l.b.add(ev)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading stored events: %w", err)
	}
	return nil
}

// index builds an Index of what is loaded, with the store's activity.
func (l *storeLoader) index(act store.Activity, opts LoadOptions) *Index {
	x := merge([]*builder{l.b})
	x.opts = opts
	x.hasGeo = opts.Enricher != nil && opts.Enricher.Provides() != 0
	a := &activity{regions: map[acctRegion]*regionStat{}, apis: map[apiKey]int{}}
	for _, r := range act.Regions {
		a.regions[acctRegion{x.intern(r.Account), x.intern(r.Region)}] = &regionStat{events: r.Events, hours: r.Hours}
	}
	for _, p := range act.APIs {
		a.apis[apiKey{x.intern(p.Account), x.intern(p.Source), x.intern(p.Name)}] = p.Events
	}
	x.act = a
	return x
}

// next returns the filter of the scope's identities whose events are not loaded yet, and
// marks them loaded.
func (l *storeLoader) next(x *Index, subjects []subject) store.Filter {
	var f store.Filter
	for _, sub := range subjects {
		v := x.str(sub.val)
		switch sub.kind {
		case subjPrincipal, subjConsole, subjRole: // a role ARN matches every session of the role
			if !l.actors[v] {
				l.actors[v] = true
				f.Actors = append(f.Actors, v)
			}
		case subjKey:
			if !l.keys[v] {
				l.keys[v] = true
				f.AccessKeys = append(f.AccessKeys, v)
			}
		case subjSourceIdentity:
			if !l.srcIDs[v] {
				l.srcIDs[v] = true
				f.SourceIdentities = append(f.SourceIdentities, v)
			}
		}
	}
	return f
}

// startFilter selects the events a starting point is resolved from (startSubjects).
func startFilter(st Start, signals []signal.Signal) (store.Filter, error) {
	switch {
	case st.Signal != "":
		sig, err := findSignal(signals, st.Signal)
		if err != nil {
			return store.Filter{}, err
		}
		f := store.Filter{Actors: []string{sig.Actor}}
		if sig.AccessKeyID != "" {
			f.AccessKeys = []string{sig.AccessKeyID}
		}
		return f, nil
	case st.AccessKey != "":
		return store.Filter{AccessKeys: []string{st.AccessKey}}, nil
	case st.ARN != "":
		if rest, ok := cutAssumedRole(st.ARN); ok {
			return store.Filter{ActorSuffixes: []string{"/" + rest}}, nil
		}
		return store.Filter{Actors: []string{st.ARN}}, nil
	case st.User != "":
		return store.Filter{UserNames: []string{st.User}}, nil
	default:
		return store.Filter{SourceIPs: []string{st.IP}}, nil
	}
}

// federatedCall selects the calls that open SAML and web-identity sessions of roles.
func federatedCall(name string) bool {
	return name == "AssumeRoleWithSAML" || name == "AssumeRoleWithWebIdentity"
}

// cutAssumedRole returns, for arn:aws:sts::ACCT:assumed-role/ROLE/SESSION, "ROLE#SESSION":
// the end of the normalised actor of those sessions.
func cutAssumedRole(arn string) (string, bool) {
	_, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok {
		return "", false
	}
	role, sess, ok := strings.Cut(rest, "/")
	return role + "#" + sess, ok
}

// anyScopeNeeds selects, by event name, the calls LoadStore reads whoever made them:
// resource deletions of any source the report tracks, user deletions among them (they end a
// created user's scope), and the IAM calls that make users, keys, passwords and roles (the
// walk back from an identity to the call that made it; they are few).
func anyScopeNeeds(name string) bool {
	switch name {
	case "CreateUser", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile", "CreateRole":
		return true
	}
	for _, src := range [...]string{"iam.amazonaws.com", "ec2.amazonaws.com", "ecs.amazonaws.com", "lambda.amazonaws.com"} {
		if resourceOp(src, name) == opDelete {
			return true
		}
	}
	return false
}
