package investigate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/valyala/fastjson"
)

// sym is an interned string: an index into Index.strs. 0 is the empty string.
type sym uint32

// interner maps strings to syms. It is owned by one goroutine.
type interner struct {
	m    map[string]sym
	strs []string
}

func newInterner() *interner {
	return &interner{m: map[string]sym{"": 0}, strs: []string{""}}
}

// b interns a byte slice without allocating when the string is already known.
func (in *interner) b(b []byte) sym {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	return in.s(string(b))
}

func (in *interner) s(s string) sym {
	if v, ok := in.m[s]; ok {
		return v
	}
	v := sym(len(in.strs))
	in.strs = append(in.strs, s)
	in.m[s] = v
	return v
}

// Record flags.
const (
	// flagConsole: the credentials come from a console session (sessionCredentialFromConsole).
	flagConsole uint8 = 1 << iota
	// flagLoginOK: a successful ConsoleLogin.
	flagLoginOK
)

// record is the compact form of one event: what lineage, the timeline and the reports need,
// as interned strings. The raw JSON is kept only for events that create, change or delete
// resources (rare); the rest can be read again from their position (Index.Raw).
type record struct {
	t      int64 // eventTime, Unix nanoseconds
	sessAt int64 // userIdentity.sessionContext.attributes.creationDate, Unix seconds; 0 if absent

	id, source, name, account, region, ip, ua, key, errCode, actor sym
	role                                                           sym // actor before "#": the role of an assumed-role session
	invokedBy, srcIdentity, uaFamily, asOrg, country, file         sym
	// d1, d2: details of data events (bucket and key, secret id, parameter names and
	// withDecryption, KMS key and encryption context); see dataDetails.
	d1, d2 sym

	asn   uint32
	pos   int32 // record index in file
	line  int32
	link  int32 // index into Index.links, or -1
	raw   int32 // index into Index.raws, or -1
	flags uint8
}

// linkKind says how an event derives a new identity.
type linkKind uint8

const (
	_ linkKind = iota // the zero value: no link
	// linkCreateUser: a = user ARN.
	linkCreateUser
	// linkCreateKey: a = access key id, b = user ARN.
	linkCreateKey
	// linkLoginProfile: a = user ARN (CreateLoginProfile, UpdateLoginProfile).
	linkLoginProfile
	// linkCreateRole: a = role ARN.
	linkCreateRole
	// linkAssumeRole: a = temporary key, b = session (role ARN#session name), c = sourceIdentity.
	linkAssumeRole
	// linkSessionToken: a = temporary key (GetSessionToken).
	linkSessionToken
	// linkFederation: a = temporary key, b = federated user ARN (GetFederationToken).
	linkFederation
	// linkDeleteUser: a = user ARN.
	linkDeleteUser
	// linkAssumeRoleSAML: AssumeRoleWithSAML; a, b, c as for linkAssumeRole.
	linkAssumeRoleSAML
	// linkAssumeRoleWebIdentity: AssumeRoleWithWebIdentity; a, b, c as for linkAssumeRole.
	linkAssumeRoleWebIdentity
)

// link is a lineage fact: event ev derives identity a (and b, c) of the given kind.
type link struct {
	ev      int32
	kind    linkKind
	a, b, c sym
}

// LoadOptions configures Load. The zero value is usable.
type LoadOptions struct {
	// Workers is the number of files decoded at once; 0 means GOMAXPROCS.
	Workers int
	// Decode configures the decoder.
	Decode decode.Options
	// Source configures how folders are walked.
	Source source.Options
	// Enricher, when set, adds ASN and country of source addresses to every event.
	Enricher *enrich.Enricher
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
}

// LoadStats counts what Load read.
type LoadStats struct {
	Files    int `json:"files"`
	Read     int `json:"read"`
	Rejected int `json:"rejected"`
	// Duplicates are events whose eventID was already seen (CloudTrail delivers some twice).
	Duplicates int `json:"duplicates"`
	Events     int `json:"events"`
}

// Index is every event of the inputs in a compact, read-only, in-memory form, indexed by
// principal, access key, role, source address and sourceIdentity. It is built once by Load
// and is safe for concurrent use by any number of investigations.
type Index struct {
	strs  []string
	recs  []record
	links []link
	raws  [][]byte
	// deletes are the records whose event deletes a resource, in time order.
	deletes []int32

	byActor, byKey, byRole, byIP, bySrcID map[sym][]int32
	byID                                  map[sym]int32
	// fedByRole lists, per role ARN, the successful AssumeRoleWithSAML and
	// AssumeRoleWithWebIdentity events that opened a session of it, in time order.
	fedByRole map[sym][]int32
	// keyLink maps an access key to the link that issued it (CreateAccessKey, STS);
	// userLinks lists, per IAM user ARN, its CreateUser and login-profile links in time
	// order; roleLink maps a role ARN to its CreateRole link. They lead from an identity
	// back to the call that made it (roots).
	keyLink   map[sym]int32
	userLinks map[sym][]int32
	roleLink  map[sym]int32
	symOf     map[string]sym
	// act is the activity of the whole data, for blind spots: of recs for an Index of every
	// event (Load), of the whole store for one loaded from a store (LoadStore).
	act *activity
	// hasGeo is set when an enricher with databases was used.
	hasGeo bool
	stats  LoadStats
	opts   LoadOptions
}

// Stats returns the counts of the load.
func (x *Index) Stats() LoadStats { return x.stats }

// Len returns the number of (distinct) events.
func (x *Index) Len() int { return len(x.recs) }

func (x *Index) str(s sym) string { return x.strs[s] }

// intern returns the sym of s, adding it (only while the Index is being built).
func (x *Index) intern(s string) sym {
	in := interner{strs: x.strs, m: x.symOf}
	v := in.s(s)
	x.strs = in.strs
	return v
}

// lookup returns the sym of s, or 0 and false when no event holds s.
func (x *Index) lookup(s string) (sym, bool) {
	i, ok := x.symOf[s]
	return i, ok
}

// Load decodes every event of paths (files, folders, "-") into an Index. Unreadable files and
// rejected records are counted, as hunt does; Load fails only when the inputs cannot be walked
// or ctx is done.
func Load(ctx context.Context, paths []string, opts LoadOptions) (*Index, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var mu sync.Mutex
	var parts []*builder
	err := source.Each(ctx, paths, opts.Source, opts.Workers, nil, func(ctx context.Context, inputs <-chan source.Input) error {
		b := newBuilder(opts.Enricher)
		dec := decode.New(opts.Decode)
		for in := range inputs {
			if err := b.file(ctx, dec, in); err != nil {
				return err
			}
		}
		mu.Lock()
		parts = append(parts, b)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading events: %w", err)
	}
	x := merge(parts)
	x.opts = opts
	x.hasGeo = opts.Enricher != nil && opts.Enricher.Provides() != 0
	opts.Logger.Debug("index loaded", "events", len(x.recs), "duplicates", x.stats.Duplicates)
	return x, nil
}

// builder extracts records from events on one goroutine.
type builder struct {
	in      *interner
	recs    []record
	links   []link
	raws    [][]byte
	enr     *enrich.State
	stats   LoadStats
	curFile sym
	tmp     []byte
}

func newBuilder(e *enrich.Enricher) *builder {
	b := &builder{in: newInterner()}
	if e != nil {
		b.enr = e.NewState()
	}
	return b
}

func (b *builder) file(ctx context.Context, dec *decode.Decoder, in source.Input) error {
	b.stats.Files++
	rc, err := in.Open(ctx)
	if err != nil {
		b.stats.Read++
		b.stats.Rejected++
		return nil
	}
	defer rc.Close()
	b.curFile = b.in.s(in.Name)
	st, err := dec.Decode(ctx, in.Name, rc, decode.HandlerFuncs{
		EventFunc: func(ev *event.Event) error { b.add(ev); return nil },
	})
	b.stats.Read += st.Read
	b.stats.Rejected += st.Rejected
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("reading %s: %w", in.Name, err)
	}
	return nil
}

// add extracts the record of one event.
func (b *builder) add(ev *event.Event) {
	v := ev.Value
	in := b.in
	str := func(keys ...string) sym { return in.b(v.GetStringBytes(keys...)) }
	r := record{
		id: str("eventID"), source: str("eventSource"), name: str("eventName"),
		region: str("awsRegion"), ip: str("sourceIPAddress"), ua: str("userAgent"),
		key: str("userIdentity", "accessKeyId"), errCode: str("errorCode"),
		invokedBy:   str("userIdentity", "invokedBy"),
		srcIdentity: str("userIdentity", "sessionContext", "sourceIdentity"),
		file:        b.curFile, pos: int32(ev.Pos.Record), line: int32(ev.Pos.Line),
		link: -1, raw: -1,
	}
	if t, err := event.ParseTime(v.GetStringBytes("eventTime")); err == nil {
		r.t = t.UnixNano()
	}
	if t, err := event.ParseTime(v.GetStringBytes("userIdentity", "sessionContext", "attributes", "creationDate")); err == nil {
		r.sessAt = t.Unix()
	}
	r.account = str("recipientAccountId")
	if r.account == 0 {
		r.account = str("userIdentity", "accountId")
	}
	actor := event.Actor(v)
	r.actor = in.s(actor)
	if role, _, ok := strings.Cut(actor, "#"); ok {
		r.role = in.s(role)
	}
	if string(v.GetStringBytes("sessionCredentialFromConsole")) == "true" {
		r.flags |= flagConsole
	}
	name := in.strs[r.name]
	if name == "ConsoleLogin" {
		if string(v.GetStringBytes("responseElements", "ConsoleLogin")) == "Failure" && r.errCode == 0 {
			r.errCode = in.s("ConsoleLoginFailure")
		}
		if r.errCode == 0 {
			r.flags |= flagLoginOK
		}
	}
	r.uaFamily = in.s(enrich.UserAgentFamily(v.GetStringBytes("userAgent")))
	if b.enr != nil {
		info := b.enr.IP(v.GetStringBytes("sourceIPAddress"))
		r.asn, r.asOrg, r.country = info.ASN, in.s(info.ASOrg), in.s(info.Country)
	}
	b.dataDetails(v, &r, name)
	if r.errCode == 0 {
		if l, ok := b.lineage(v, &r, name); ok {
			r.link = int32(len(b.links))
			b.links = append(b.links, l)
		}
	}
	if resourceOp(in.strs[r.source], name) != opNone {
		r.raw = int32(len(b.raws))
		b.raws = append(b.raws, append([]byte(nil), ev.Raw...))
	}
	b.recs = append(b.recs, r)
}

// dataDetails keeps the fields "data touched" reports: S3 bucket and key, secret ids, SSM
// parameter names and withDecryption, KMS key and encryption context.
func (b *builder) dataDetails(v *fastjson.Value, r *record, name string) {
	in := b.in
	rp := v.Get("requestParameters")
	if rp == nil || rp.Type() != fastjson.TypeObject {
		return
	}
	switch dataKind(in.strs[r.source], name) {
	case dataS3:
		r.d1 = in.b(rp.GetStringBytes("bucketName"))
		k := rp.GetStringBytes("key")
		if len(k) == 0 {
			k = rp.GetStringBytes("prefix")
		}
		r.d2 = in.b(k)
	case dataSecret:
		if id := rp.GetStringBytes("secretId"); len(id) > 0 {
			r.d1 = in.b(id)
		} else {
			r.d1 = b.joined(rp.GetArray("secretIdList"))
			if r.d1 == 0 && rp.Get("filters") != nil {
				r.d1 = in.s("(filters)")
			}
		}
	case dataSSM:
		switch {
		case len(rp.GetStringBytes("name")) > 0:
			r.d1 = in.b(rp.GetStringBytes("name"))
		case len(rp.GetStringBytes("path")) > 0:
			r.d1 = in.b(rp.GetStringBytes("path"))
		default:
			r.d1 = b.joined(rp.GetArray("names"))
		}
		if rp.GetBool("withDecryption") {
			r.d2 = in.s("true")
		}
	case dataKMS:
		k := rp.GetStringBytes("keyId")
		if len(k) == 0 {
			k = v.GetStringBytes("resources", "0", "ARN")
		}
		r.d1 = in.b(k)
		if ec := rp.Get("encryptionContext"); ec != nil && ec.Type() == fastjson.TypeObject {
			if s := ec.GetStringBytes("aws:s3:arn"); len(s) > 0 {
				r.d2 = in.b(s)
			} else {
				o, _ := ec.Object()
				o.Visit(func(k []byte, v *fastjson.Value) {
					if r.d2 == 0 && v.Type() == fastjson.TypeString {
						r.d2 = in.b(append(append(append(b.tmp[:0], k...), '='), v.GetStringBytes()...))
					}
				})
			}
		}
	}
}

// joined interns the string elements of arr joined by newlines.
func (b *builder) joined(arr []*fastjson.Value) sym {
	buf := b.tmp[:0]
	for i, e := range arr {
		if i > 0 {
			buf = append(buf, '\n')
		}
		buf = append(buf, e.GetStringBytes()...)
	}
	b.tmp = buf
	return b.in.b(buf)
}

// lineage extracts the lineage fact of a successful event, if it has one.
func (b *builder) lineage(v *fastjson.Value, r *record, name string) (link, bool) {
	in := b.in
	acct := in.strs[r.account]
	src := in.strs[r.source]
	rp := func(keys ...string) string {
		return string(v.GetStringBytes(append([]string{"requestParameters"}, keys...)...))
	}
	re := func(keys ...string) []byte { return v.GetStringBytes(append([]string{"responseElements"}, keys...)...) }
	userARN := func(user string) string {
		if user == "" {
			// The caller itself: an IAM user acting on its own login profile or keys.
			if a := in.strs[r.actor]; strings.Contains(a, ":user/") {
				return a
			}
			return ""
		}
		return iamARN(acct, "user", rp("path"), user)
	}
	switch src {
	case "iam.amazonaws.com":
		switch name {
		case "CreateUser":
			arn := string(re("user", "arn"))
			if arn == "" {
				arn = userARN(rp("userName"))
			}
			return link{kind: linkCreateUser, a: in.s(arn)}, arn != ""
		case "DeleteUser":
			arn := iamARN(acct, "user", "", rp("userName"))
			return link{kind: linkDeleteUser, a: in.s(arn)}, rp("userName") != ""
		case "CreateAccessKey":
			key := re("accessKey", "accessKeyId")
			user := rp("userName")
			if user == "" {
				user = string(re("accessKey", "userName"))
			}
			u := userARN(user)
			if user != "" && strings.HasSuffix(in.strs[r.actor], ":user/"+user) {
				u = in.strs[r.actor] // keep the caller's path
			}
			return link{kind: linkCreateKey, a: in.b(key), b: in.s(u)}, len(key) > 0
		case "CreateLoginProfile", "UpdateLoginProfile":
			u := userARN(rp("userName"))
			if rp("userName") != "" && strings.HasSuffix(in.strs[r.actor], ":user/"+rp("userName")) {
				u = in.strs[r.actor]
			}
			return link{kind: linkLoginProfile, a: in.s(u)}, u != ""
		case "CreateRole":
			arn := string(re("role", "arn"))
			if arn == "" && rp("roleName") != "" {
				arn = iamARN(acct, "role", rp("path"), rp("roleName"))
			}
			return link{kind: linkCreateRole, a: in.s(arn)}, arn != ""
		}
	case "sts.amazonaws.com":
		key := re("credentials", "accessKeyId")
		if len(key) == 0 {
			return link{}, false
		}
		switch name {
		case "AssumeRole":
			session := ""
			if role, sess := rp("roleArn"), rp("roleSessionName"); role != "" {
				session = role + "#" + sess
			}
			return link{kind: linkAssumeRole, a: in.b(key), b: in.s(session), c: in.s(rp("sourceIdentity"))}, true
		case "GetSessionToken":
			return link{kind: linkSessionToken, a: in.b(key)}, true
		case "GetFederationToken":
			return link{kind: linkFederation, a: in.b(key), b: in.b(re("federatedUser", "arn"))}, true
		case "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
			// The session name comes from the assertion or token: the assumed-role ARN has it.
			session := ""
			if role := rp("roleArn"); role != "" {
				sess := string(re("assumedRoleUser", "arn"))
				if i := strings.LastIndexByte(sess, '/'); i >= 0 && strings.Contains(sess, ":assumed-role/") {
					sess = sess[i+1:]
				} else {
					sess = rp("roleSessionName")
				}
				session = role + "#" + sess
				in.s(role) // the index looks sessions up by role (fedByRole)
			}
			kind := linkAssumeRoleSAML
			if name == "AssumeRoleWithWebIdentity" {
				kind = linkAssumeRoleWebIdentity
			}
			return link{kind: kind, a: in.b(key), b: in.s(session), c: in.b(re("sourceIdentity"))}, true
		}
	}
	return link{}, false
}

// iamARN builds arn:aws:iam::ACCOUNT:KIND/PATH/NAME (path "/" or "" for none).
func iamARN(acct, kind, path, name string) string {
	if name == "" {
		return ""
	}
	path = strings.Trim(path, "/")
	if path != "" {
		path += "/"
	}
	return "arn:aws:iam::" + acct + ":" + kind + "/" + path + name
}

// merge joins the workers' parts into one Index: strings re-interned, records sorted by
// time (then eventID), duplicate eventIDs dropped, maps built.
func merge(parts []*builder) *Index {
	// Workers finish in any order: sym numbers depend on it, but nothing visible does (the
	// records are sorted by time, eventID and position).
	g := newInterner()
	x := &Index{}
	var recs []record
	for _, p := range parts {
		remap := make([]sym, len(p.in.strs))
		for i, s := range p.in.strs {
			remap[i] = g.s(s)
		}
		linkBase, rawBase := int32(len(x.links)), int32(len(x.raws))
		for _, l := range p.links {
			l.a, l.b, l.c = remap[l.a], remap[l.b], remap[l.c]
			x.links = append(x.links, l)
		}
		x.raws = append(x.raws, p.raws...)
		for _, r := range p.recs {
			for _, f := range r.syms() {
				*f = remap[*f]
			}
			if r.link >= 0 {
				r.link += linkBase
			}
			if r.raw >= 0 {
				r.raw += rawBase
			}
			recs = append(recs, r)
		}
		x.stats.Files += p.stats.Files
		x.stats.Read += p.stats.Read
		x.stats.Rejected += p.stats.Rejected
	}
	x.strs = g.strs
	x.symOf = g.m
	x.finish(recs)
	return x
}

// syms returns pointers to the interned fields of r.
func (r *record) syms() []*sym {
	return []*sym{&r.id, &r.source, &r.name, &r.account, &r.region, &r.ip, &r.ua, &r.key, &r.errCode,
		&r.actor, &r.role, &r.invokedBy, &r.srcIdentity, &r.uaFamily, &r.asOrg, &r.country, &r.file, &r.d1, &r.d2}
}

// finish sorts and deduplicates recs and builds the lookup maps.
func (x *Index) finish(recs []record) {
	strs := x.strs
	slices.SortFunc(recs, func(a, b record) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		if c := strings.Compare(strs[a.id], strs[b.id]); c != 0 {
			return c
		}
		if c := strings.Compare(strs[a.file], strs[b.file]); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	x.byID = make(map[sym]int32, len(recs))
	out := recs[:0]
	for _, r := range recs {
		if r.id != 0 {
			if _, dup := x.byID[r.id]; dup {
				x.stats.Duplicates++
				continue
			}
			x.byID[r.id] = int32(len(out))
		}
		out = append(out, r)
	}
	x.recs = out
	x.stats.Events = len(out)
	x.act = activityOf(out)
	x.byActor, x.byKey, x.byRole = map[sym][]int32{}, map[sym][]int32{}, map[sym][]int32{}
	x.byIP, x.bySrcID = map[sym][]int32{}, map[sym][]int32{}
	x.fedByRole = map[sym][]int32{}
	x.keyLink, x.userLinks, x.roleLink = map[sym]int32{}, map[sym][]int32{}, map[sym]int32{}
	add := func(m map[sym][]int32, s sym, i int32) {
		if s != 0 {
			m[s] = append(m[s], i)
		}
	}
	for i := range x.recs {
		r := &x.recs[i]
		ii := int32(i)
		add(x.byActor, r.actor, ii)
		add(x.byKey, r.key, ii)
		add(x.byRole, r.role, ii)
		add(x.byIP, r.ip, ii)
		add(x.bySrcID, r.srcIdentity, ii)
		if r.link >= 0 {
			l := &x.links[r.link]
			l.ev = ii
			switch l.kind {
			case linkCreateKey, linkAssumeRole, linkSessionToken, linkFederation, linkAssumeRoleSAML, linkAssumeRoleWebIdentity:
				if _, ok := x.keyLink[l.a]; !ok && l.a != 0 {
					x.keyLink[l.a] = r.link
				}
			case linkCreateUser, linkLoginProfile:
				add(x.userLinks, l.a, r.link)
			case linkCreateRole:
				if _, ok := x.roleLink[l.a]; !ok && l.a != 0 {
					x.roleLink[l.a] = r.link
				}
			}
			if l.kind == linkAssumeRoleSAML || l.kind == linkAssumeRoleWebIdentity {
				role, _, _ := strings.Cut(x.str(l.b), "#")
				if v, ok := x.symOf[role]; ok && role != "" {
					x.fedByRole[v] = append(x.fedByRole[v], ii)
				}
			}
		}
		if r.raw >= 0 && resourceOp(strs[r.source], strs[r.name]) == opDelete {
			x.deletes = append(x.deletes, ii)
		}
	}
}

// time returns the event time of record i.
func (x *Index) time(i int32) time.Time { return time.Unix(0, x.recs[i].t).UTC() }
