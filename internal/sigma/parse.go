package sigma

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the YAML nodes visited per file, so alias chains cannot
// make parsing explode.
const maxNodes = 1 << 20

// Parse parses one rule file. name is used in positions and error messages.
// A file may hold several YAML documents separated by "---", each a
// detection rule or a correlation rule.
//
// Parse always returns a File. Documents with errors are left out of it;
// the error, when not nil, is an ErrorList with every problem of the file,
// sorted. Warnings are in File.Warnings.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{diag: diag{file: name}, file: &File{Name: name}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			at := yamlErrorPos(err)
			p.errorf(at, "%s", yamlErrorMsg(err))
			if correlationKeyRe.Match(fromLine(data, at.Line)) {
				// The documents after the error are lost, a correlation among them: the
				// rules it references must not run without it.
				p.file.invalid = append(p.file.invalid, p.errs[len(p.errs)-1])
			}
			break
		}
		p.document(&n, doc)
	}
	p.errs.Sort()
	p.warnings.Sort()
	p.file.Warnings = p.warnings
	return p.file, p.errs.Err()
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// correlationKeyRe finds a correlation document's top-level key.
var correlationKeyRe = regexp.MustCompile(`(?m)^correlation\s*:`)

// fromLine returns data from the start of its 1-based line on (all of it for line 0 or 1).
func fromLine(data []byte, line int) []byte {
	for ; line > 1 && len(data) > 0; line-- {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	return data
}

func yamlErrorPos(err error) Pos {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Pos{Line: line, Col: 1}
	}
	return Pos{Line: 1, Col: 1}
}

func yamlErrorMsg(err error) string {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		msg = m[2]
	}
	return "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")
}

type parser struct {
	diag
	file  *File
	nodes int
}

// deref follows aliases and counts nodes against the budget. It returns
// nil once the budget is spent.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if p.nodes++; p.nodes == maxNodes {
		p.errorf(pos(n), "document is too large or uses too many YAML aliases")
	}
	if p.nodes >= maxNodes {
		return nil
	}
	return n
}

func pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{}
	}
	return Pos{Line: n.Line, Col: n.Column}
}

// scalarPos returns the position of byte off inside scalar n. It is exact
// for single-line plain and quoted scalars without escapes, and falls back
// to the scalar's start otherwise.
func scalarPos(n *yaml.Node, off int) Pos {
	p := pos(n)
	if off <= 0 || off > len(n.Value) || strings.Contains(n.Value[:off], "\n") {
		return p
	}
	switch n.Style {
	case 0:
		p.Col += off
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		p.Col += off + 1
	}
	return p
}

// mapEntry is one key/value pair of a YAML map.
type mapEntry struct {
	key   string
	kNode *yaml.Node
	vNode *yaml.Node
}

// entries returns the pairs of map n, reporting duplicate and non-scalar keys.
func (p *parser) entries(n *yaml.Node, what string) []mapEntry {
	var out []mapEntry
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.deref(n.Content[i]), p.deref(n.Content[i+1])
		if k == nil || v == nil {
			return out
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(pos(k), "keys of %s must be plain strings", what)
			continue
		}
		if prev, dup := first[k.Value]; dup {
			p.errorf(pos(k), "duplicate key %q in %s (first at line %d)", k.Value, what, prev.Line)
			continue
		}
		first[k.Value] = k
		out = append(out, mapEntry{k.Value, k, v})
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a " + valueKind(n).String()
	}
	return "an unsupported YAML node"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (p *parser) document(root *yaml.Node, doc int) {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n = p.deref(n); n == nil || isNull(n) {
		return // an empty document, e.g. after a trailing "---"
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(pos(n), "a rule document must be a YAML map, found %s", kindName(n))
		return
	}
	ents := p.entries(n, "the rule")
	keys := map[string]mapEntry{}
	for _, e := range ents {
		keys[e.key] = e
	}
	docPos := pos(n)
	if len(ents) > 0 {
		docPos = pos(ents[0].kNode)
	}
	if a, ok := keys["action"]; ok {
		p.errorf(pos(a.kNode), "\"action: %s\" documents (Sigma v1 rule collections) are not supported: write each rule as a complete document", a.vNode.Value)
		return
	}
	_, hasDet := keys["detection"]
	_, hasCorr := keys["correlation"]
	_, hasFilter := keys["filter"]
	switch {
	case hasCorr && hasDet:
		p.errorf(pos(keys["correlation"].kNode), "a document cannot have both detection and correlation: put the correlation rule in its own YAML document")
		p.file.invalid = append(p.file.invalid, p.errs[len(p.errs)-1])
	case hasCorr:
		before := len(p.errs)
		if c := p.correlation(ents, docPos, doc); c != nil {
			c.digest = digest(n)
			p.file.Correlations = append(p.file.Correlations, c)
		} else {
			p.file.invalid = append(p.file.invalid, p.errs[before:]...)
		}
	case hasFilter && !hasDet:
		p.errorf(pos(keys["filter"].kNode), "Sigma filter documents are not supported")
	default:
		if r := p.rule(ents, docPos, doc); r != nil {
			r.digest = digest(n)
			p.file.Rules = append(p.file.Rules, r)
		}
	}
}

// digest hashes a document's content, without positions: kind, tag, anchor and value of
// every node, length-prefixed, depth first. (Marshalling the tree back to YAML and hashing
// that took half of the time of loading a rule.)
func digest(n *yaml.Node) [32]byte {
	h := sha256.New()
	var buf []byte
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		buf = append(buf[:0], byte(n.Kind))
		for _, s := range []string{n.Tag, n.Anchor, n.Value} {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
		buf = binary.AppendUvarint(buf, uint64(len(n.Content)))
		h.Write(buf)
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// rule parses a detection rule document. It returns nil when the document
// has errors.
func (p *parser) rule(ents []mapEntry, docPos Pos, doc int) *Rule {
	before := len(p.errs)
	r := &Rule{File: p.file.Name, Doc: doc, Pos: docPos}
	var haveLogSource, haveDetection bool
	for _, e := range ents {
		switch e.key {
		case "logsource":
			haveLogSource = true
			r.LogSource = p.logSource(e)
		case "detection":
			haveDetection = true
			r.Detection = p.detection(e)
		default:
			p.meta(&r.Meta, e)
		}
	}
	p.checkMeta(&r.Meta, docPos, ents)
	if !haveLogSource {
		p.errorf(docPos, "rule has no logsource")
	}
	if !haveDetection {
		p.errorf(docPos, "rule has no detection")
	}
	if len(p.errs) > before {
		p.reject(&r.Meta)
		return nil
	}
	return r
}

// reject remembers the references of a document left out for errors.
func (p *parser) reject(m *Meta) {
	if p.file.rejected == nil {
		p.file.rejected = map[string]bool{}
	}
	for _, s := range []string{m.ID, m.Name, m.Title} {
		if s != "" {
			p.file.rejected[s] = true
		}
	}
}

// str reads a scalar string value; null gives "".
func (p *parser) str(e mapEntry) string {
	if isNull(e.vNode) {
		return ""
	}
	if e.vNode.Kind != yaml.ScalarNode {
		p.errorf(pos(e.vNode), "%s must be a string, found %s", e.key, kindName(e.vNode))
		return ""
	}
	return e.vNode.Value
}

// strList reads a list of strings; a single string and null are accepted.
func (p *parser) strList(e mapEntry) []string {
	v := e.vNode
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		return []string{v.Value}
	case v.Kind != yaml.SequenceNode:
		p.errorf(pos(v), "%s must be a list of strings, found %s", e.key, kindName(v))
		return nil
	}
	var out []string
	for _, it := range v.Content {
		if it = p.deref(it); it == nil {
			return out
		}
		if it.Kind != yaml.ScalarNode || isNull(it) {
			p.errorf(pos(it), "items of %s must be strings, found %s", e.key, kindName(it))
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

// meta stores a metadata key, or keeps it as a custom key.
func (p *parser) meta(m *Meta, e mapEntry) {
	switch e.key {
	case "title":
		m.Title = p.str(e)
	case "id":
		m.ID = p.str(e)
	case "name":
		m.Name = p.str(e)
	case "status":
		m.Status = p.str(e)
	case "description":
		m.Description = p.str(e)
	case "license":
		m.License = p.str(e)
	case "author":
		m.Author = p.str(e)
	case "date":
		m.Date = p.str(e)
	case "modified":
		m.Modified = p.str(e)
	case "taxonomy":
		m.Taxonomy = p.str(e)
	case "level":
		m.Level = p.str(e)
	case "references":
		m.References = p.strList(e)
	case "tags":
		m.Tags = p.strList(e)
	case "falsepositives":
		m.FalsePositives = p.strList(e)
	case "fields":
		m.Fields = p.strList(e)
	case "scope":
		m.Scope = p.strList(e)
	case "related":
		m.Related = p.related(e)
	default:
		var v any
		if err := e.vNode.Decode(&v); err != nil {
			p.errorf(pos(e.vNode), "decoding custom key %q: %v", e.key, err)
			return
		}
		if m.Custom == nil {
			m.Custom = map[string]any{}
		}
		m.Custom[e.key] = v
	}
}

var relatedTypes = []string{"derived", "obsolete", "merged", "renamed", "similar"}

func (p *parser) related(e mapEntry) []Related {
	if isNull(e.vNode) {
		return nil
	}
	if e.vNode.Kind != yaml.SequenceNode {
		p.errorf(pos(e.vNode), "related must be a list of {id, type} maps, found %s", kindName(e.vNode))
		return nil
	}
	var out []Related
	for _, it := range e.vNode.Content {
		if it = p.deref(it); it == nil {
			return out
		}
		if it.Kind != yaml.MappingNode {
			p.errorf(pos(it), "items of related must be {id, type} maps, found %s", kindName(it))
			continue
		}
		var r Related
		for _, f := range p.entries(it, "related") {
			switch f.key {
			case "id":
				r.ID = p.str(f)
			case "type":
				r.Type = p.str(f)
				if !inList(r.Type, relatedTypes) {
					p.errorf(pos(f.vNode), "invalid related type %q: use one of %s", r.Type, strings.Join(relatedTypes, ", "))
				}
			default:
				p.errorf(pos(f.kNode), "unknown key %q in related (only id and type)", f.key)
			}
		}
		if r.ID == "" {
			p.errorf(pos(it), "related entry has no id")
		}
		if r.Type == "" {
			p.errorf(pos(it), "related entry has no type")
		}
		out = append(out, r)
	}
	return out
}

func inList(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var (
	levels   = []string{"informational", "low", "medium", "high", "critical"}
	statuses = []string{"stable", "test", "experimental", "deprecated", "unsupported"}
	uuidRe   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tagRe    = regexp.MustCompile(`^[a-z0-9_-]+\.[a-z0-9._-]+$`)
	dateRe   = regexp.MustCompile(`^\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$`)
)

// checkMeta applies the lint checks shared by rules and correlations.
// Errors point at the offending value, or at the document when a key is
// missing.
func (p *parser) checkMeta(m *Meta, at Pos, ents []mapEntry) {
	valuePos := map[string]*yaml.Node{}
	for _, e := range ents {
		valuePos[e.key] = e.vNode
	}
	where := func(key string) Pos {
		if n, ok := valuePos[key]; ok {
			return pos(n)
		}
		return at
	}
	if strings.TrimSpace(m.Title) == "" {
		p.errorf(where("title"), "rule has no title")
	} else if len(m.Title) > 256 {
		p.warnf(where("title"), "title is longer than 256 characters")
	}
	if m.ID != "" && !uuidRe.MatchString(m.ID) {
		p.errorf(where("id"), "invalid id %q: Sigma rule ids are UUIDs such as 929a690e-bef0-4204-a928-ef5e620d6fcc", m.ID)
	}
	if m.Level != "" && !inList(m.Level, levels) {
		p.errorf(where("level"), "invalid level %q: use one of %s", m.Level, strings.Join(levels, ", "))
	}
	if m.Status != "" && !inList(m.Status, statuses) {
		p.errorf(where("status"), "invalid status %q: use one of %s", m.Status, strings.Join(statuses, ", "))
	}
	if tags, ok := valuePos["tags"]; ok {
		items := []*yaml.Node{tags}
		if tags.Kind == yaml.SequenceNode {
			items = tags.Content
		}
		for _, it := range items {
			if it.Kind == yaml.ScalarNode && !isNull(it) && !tagRe.MatchString(it.Value) {
				p.warnf(pos(it), "tag %q does not follow the Sigma tag format namespace.name (lower-case letters, digits, _, - and .)", it.Value)
			}
		}
	}
	for _, d := range []struct{ key, v string }{{"date", m.Date}, {"modified", m.Modified}} {
		if d.v != "" && !dateRe.MatchString(d.v) {
			p.warnf(where(d.key), "%s %q is not an ISO 8601 date (YYYY-MM-DD)", d.key, d.v)
		}
	}
}

func (p *parser) logSource(e mapEntry) LogSource {
	ls := LogSource{Pos: pos(e.kNode)}
	if e.vNode.Kind != yaml.MappingNode {
		p.errorf(pos(e.vNode), "logsource must be a map (category, product, service, definition), found %s", kindName(e.vNode))
		return ls
	}
	for _, f := range p.entries(e.vNode, "logsource") {
		v := p.str(f)
		switch f.key {
		case "category":
			ls.Category = v
		case "product":
			ls.Product = v
		case "service":
			ls.Service = v
		case "definition":
			ls.Definition = v
		default:
			if ls.Custom == nil {
				ls.Custom = map[string]string{}
			}
			ls.Custom[f.key] = v
		}
	}
	return ls
}

func (p *parser) detection(e mapEntry) Detection {
	det := Detection{Pos: pos(e.kNode)}
	if e.vNode.Kind != yaml.MappingNode {
		p.errorf(pos(e.vNode), "detection must be a map of search identifiers and a condition, found %s", kindName(e.vNode))
		return det
	}
	var cond *mapEntry
	ents := p.entries(e.vNode, "detection")
	for _, f := range ents {
		switch f.key {
		case "condition":
			cond = &f
		case "timeframe":
			p.errorf(pos(f.kNode), "timeframe is not part of Sigma v2 detections: write a correlation rule with a timespan instead")
		default:
			if s := p.search(f); s != nil {
				det.Searches = append(det.Searches, s)
			}
		}
	}
	if len(ents) == 0 || len(ents) == 1 && cond != nil {
		p.errorf(pos(e.kNode), "detection has no search identifiers")
	}
	if cond == nil {
		p.errorf(pos(e.kNode), "detection has no condition")
		return det
	}
	names := make([]string, 0, len(det.Searches))
	for _, s := range det.Searches {
		names = append(names, s.Name)
	}
	// Search identifiers that failed to parse still count as defined, so
	// the condition does not report them a second time.
	for _, f := range ents {
		if f.key != "condition" && f.key != "timeframe" && det.Search(f.key) == nil {
			names = append(names, f.key)
		}
	}
	det.Conditions = p.conditions(*cond, names)
	used := map[string]bool{}
	for _, c := range det.Conditions {
		markUsed(c.Expr, used)
	}
	for _, s := range det.Searches {
		if !used[s.Name] && !strings.HasPrefix(s.Name, "_") && len(det.Conditions) > 0 {
			p.warnf(s.Pos, "search identifier %q is not used in the condition", s.Name)
		}
	}
	return det
}

func markUsed(e Expr, used map[string]bool) {
	switch e := e.(type) {
	case *Ident:
		used[e.Name] = true
	case *NotExpr:
		markUsed(e.X, used)
	case *AndExpr:
		for _, t := range e.Terms {
			markUsed(t, used)
		}
	case *OrExpr:
		for _, t := range e.Terms {
			markUsed(t, used)
		}
	case *OfExpr:
		for _, n := range e.Names {
			used[n] = true
		}
	}
}

func (p *parser) conditions(e mapEntry, names []string) []*Condition {
	var nodes []*yaml.Node
	switch v := e.vNode; {
	case v.Kind == yaml.ScalarNode && !isNull(v):
		nodes = []*yaml.Node{v}
	case v.Kind == yaml.SequenceNode && len(v.Content) > 0:
		for _, it := range v.Content {
			if it = p.deref(it); it == nil {
				return nil
			}
			if it.Kind != yaml.ScalarNode || isNull(it) {
				p.errorf(pos(it), "items of condition must be strings, found %s", kindName(it))
				continue
			}
			nodes = append(nodes, it)
		}
	default:
		p.errorf(pos(v), "condition must be a string or a list of strings, found %s", kindName(v))
		return nil
	}
	var out []*Condition
	for _, n := range nodes {
		expr, err := parseCondition(n.Value)
		if err != nil {
			p.errorf(scalarPos(n, err.Offset), "condition: %s", err.Msg)
			continue
		}
		bad := false
		for _, err := range resolveCondition(expr, names) {
			p.errorf(scalarPos(n, err.Offset), "condition: %s", err.Msg)
			bad = true
		}
		if !bad {
			out = append(out, &Condition{Raw: n.Value, Expr: expr, Pos: pos(n)})
		}
	}
	return out
}

func (p *parser) search(e mapEntry) *Search {
	s := &Search{Name: e.key, Pos: pos(e.kNode)}
	if e.key == "" {
		p.errorf(pos(e.kNode), "empty search identifier name")
		return nil
	}
	before := len(p.errs)
	v := e.vNode
	switch {
	case v.Kind == yaml.MappingNode:
		s.Form = FormMap
		if sel := p.selection(v, e.key); sel != nil {
			s.Selections = []*Selection{sel}
		}
	case v.Kind == yaml.SequenceNode:
		if len(v.Content) == 0 {
			p.errorf(pos(v), "search identifier %q is an empty list", e.key)
			return nil
		}
		var maps, scalars int
		var items []*yaml.Node
		for _, it := range v.Content {
			if it = p.deref(it); it == nil {
				return nil
			}
			items = append(items, it)
			switch it.Kind {
			case yaml.MappingNode:
				maps++
			case yaml.ScalarNode:
				scalars++
			default:
				p.errorf(pos(it), "items of search identifier %q must be maps or plain values, found %s", e.key, kindName(it))
			}
		}
		switch {
		case maps > 0 && scalars > 0:
			p.errorf(pos(v), "search identifier %q mixes maps and plain values in one list: split it into two search identifiers", e.key)
		case maps > 0:
			s.Form = FormMapList
			for _, it := range items {
				if sel := p.selection(it, e.key); sel != nil {
					s.Selections = append(s.Selections, sel)
				}
			}
		case scalars > 0:
			s.Form = FormKeywords
			m := p.matcher(e.kNode, "", nil, items, e.key)
			s.Selections = []*Selection{{Matchers: []*Matcher{m}, Pos: pos(v)}}
		}
	case v.Kind == yaml.ScalarNode && !isNull(v):
		s.Form = FormKeywords
		m := p.matcher(e.kNode, "", nil, []*yaml.Node{v}, e.key)
		s.Selections = []*Selection{{Matchers: []*Matcher{m}, Pos: pos(v)}}
	default:
		p.errorf(pos(e.kNode), "search identifier %q must be a map, a list of maps or a list of values, found %s", e.key, kindName(v))
	}
	if len(p.errs) > before {
		return nil
	}
	return s
}

func (p *parser) selection(n *yaml.Node, search string) *Selection {
	sel := &Selection{Pos: pos(n)}
	ents := p.entries(n, fmt.Sprintf("search identifier %q", search))
	if len(ents) == 0 {
		p.errorf(pos(n), "search identifier %q has an empty map", search)
		return nil
	}
	for _, f := range ents {
		var vals []*yaml.Node
		switch v := f.vNode; v.Kind {
		case yaml.ScalarNode:
			vals = []*yaml.Node{v}
		case yaml.SequenceNode:
			if len(v.Content) == 0 {
				p.errorf(pos(v), "field %q has an empty list of values", f.key)
				continue
			}
			for _, it := range v.Content {
				if it = p.deref(it); it == nil {
					return nil
				}
				if it.Kind != yaml.ScalarNode {
					p.errorf(pos(it), "values of %q must be plain values, found %s", f.key, kindName(it))
					continue
				}
				vals = append(vals, it)
			}
		default:
			p.errorf(pos(v), "value of %q must be a value or a list of values, found %s", f.key, kindName(v))
			continue
		}
		if len(vals) == 0 {
			continue // every item was reported above
		}
		field, parts := splitKey(f.key)
		if field == "" && len(parts) == 0 {
			p.errorf(pos(f.kNode), "empty field name")
			continue
		}
		if m := p.matcher(f.kNode, field, parts, vals, search); m != nil {
			sel.Matchers = append(sel.Matchers, m)
		}
	}
	return sel
}

func valueKind(n *yaml.Node) ValueKind {
	switch n.Tag {
	case "!!null":
		return KindNull
	case "!!bool":
		return KindBool
	case "!!int", "!!float":
		return KindNumber
	}
	return KindString
}

// value types a scalar.
func (p *parser) value(n *yaml.Node) *Value {
	v := &Value{Kind: valueKind(n), Raw: n.Value, Pos: pos(n)}
	switch v.Kind {
	case KindBool:
		if err := n.Decode(&v.Bool); err != nil {
			v.Kind = KindString
		}
	case KindNumber:
		if err := n.Decode(&v.Number); err != nil {
			// An integer too large for float64 decoding; keep it as text.
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				v.Kind = KindString
			}
			v.Number = f
		}
	}
	return v
}

var stringModifiers = []Modifier{
	ModContains, ModStartsWith, ModEndsWith, ModWindash, ModRe, ModBase64, ModBase64Offset,
	ModUTF16, ModUTF16LE, ModUTF16BE, ModWide, ModCIDR, ModExpand, ModFieldRef, ModCased,
}

var numericModifiers = []Modifier{ModGT, ModGTE, ModLT, ModLTE, ModMinute, ModHour, ModDay, ModWeek, ModMonth, ModYear}

// matcher builds and checks one field condition. keyNode is the map key
// (or, for keyword lists, the search identifier's key).
func (p *parser) matcher(keyNode *yaml.Node, field string, parts []keyPart, vals []*yaml.Node, search string) *Matcher {
	m := &Matcher{Field: field, Pos: pos(keyNode)}
	mods, merrs := checkModifiers(parts)
	for _, e := range merrs {
		p.errorf(scalarPos(keyNode, e.off), "%s", e.msg)
	}
	m.Modifiers = mods
	for _, n := range vals {
		m.Values = append(m.Values, p.value(n))
	}
	name := field
	if name == "" {
		name = "keywords of " + search
	}
	if m.Has(ModAll) && len(m.Values) < 2 {
		p.errorf(m.Pos, "modifier all needs a list of two or more values (a single value with all is not allowed)")
	}
	if m.Has(ModExists) {
		if len(m.Values) != 1 || m.Values[0].Kind != KindBool {
			p.errorf(m.Values[0].Pos, "modifier exists takes a single true or false, found %s %q", m.Values[0].Kind, m.Values[0].Raw)
		}
		return m
	}
	for _, v := range m.Values {
		if v.Kind == KindNull {
			if len(m.Values) > 1 {
				p.errorf(v.Pos, "null cannot be part of a list of values of %q: put it in a search identifier of its own", name)
			} else if len(m.Modifiers) > 0 {
				p.errorf(v.Pos, "null cannot be used with modifier %q", m.Modifiers[0])
			}
			continue
		}
		for _, mod := range m.Modifiers {
			switch {
			case contains(numericModifiers, mod) && v.Kind != KindNumber:
				p.errorf(v.Pos, "modifier %s needs a number, found %s %q", mod, v.Kind, v.Raw)
			case contains(stringModifiers, mod) && v.Kind == KindBool:
				p.errorf(v.Pos, "modifier %s needs a string, found bool %q", mod, v.Raw)
			}
		}
	}
	for i, v := range m.Values {
		if v.Kind != KindString && v.Kind != KindNumber {
			continue
		}
		switch {
		case m.Has(ModRe):
			p.checkRegexp(m, vals[i], v)
		case m.Has(ModCIDR) && !m.Has(ModExpand):
			if _, err := netip.ParsePrefix(v.Raw); err != nil {
				if _, err2 := netip.ParseAddr(v.Raw); err2 != nil {
					p.errorf(v.Pos, "invalid CIDR network %q: %v", v.Raw, err)
				}
			}
		case m.Has(ModFieldRef):
			if v.Raw == "" {
				p.errorf(v.Pos, "modifier fieldref needs a field name, found an empty string")
			}
		}
		if m.Has(ModExpand) {
			v.Placeholders = placeholders(v.Raw)
			if len(v.Placeholders) == 0 {
				p.warnf(v.Pos, "modifier expand is used but %q has no %%placeholder%%", v.Raw)
			}
		}
	}
	return m
}

// checkRegexp compiles a re value with Go's RE2 and reports unsupported
// constructs at their position.
func (p *parser) checkRegexp(m *Matcher, n *yaml.Node, v *Value) {
	flags := ""
	for _, f := range []Modifier{ModReI, ModReM, ModReS} {
		if m.Has(f) {
			flags += string(f)
		}
	}
	src := v.Raw
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	_, err := regexp.Compile(src)
	if err == nil {
		return
	}
	var serr *syntax.Error
	if !errors.As(err, &serr) {
		p.errorf(v.Pos, "invalid regular expression %q: %v", v.Raw, err)
		return
	}
	off := strings.Index(v.Raw, serr.Expr)
	if off < 0 {
		off = 0
	}
	what := ""
	switch {
	case strings.HasPrefix(serr.Expr, "(?=") || strings.HasPrefix(serr.Expr, "(?!"):
		what = " (lookahead is not supported by Go's RE2 regular expressions)"
	case strings.HasPrefix(serr.Expr, "(?<=") || strings.HasPrefix(serr.Expr, "(?<!"):
		what = " (lookbehind is not supported by Go's RE2 regular expressions)"
	case strings.HasPrefix(serr.Expr, "(?>"):
		what = " (atomic groups are not supported by Go's RE2 regular expressions)"
	case len(serr.Expr) == 2 && serr.Expr[0] == '\\' && serr.Expr[1] >= '1' && serr.Expr[1] <= '9':
		what = " (backreferences are not supported by Go's RE2 regular expressions)"
	}
	p.errorf(scalarPos(n, off), "invalid regular expression: %s: `%s`%s", serr.Code, serr.Expr, what)
}

// placeholders returns the %name% placeholders of s; a percent sign
// escaped with a backslash is plain.
func placeholders(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '%':
			if start < 0 {
				start = i
				continue
			}
			if i > start+1 {
				out = append(out, s[start+1:i])
			}
			start = -1
		}
	}
	return out
}
