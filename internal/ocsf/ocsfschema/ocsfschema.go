// Package ocsfschema checks JSON documents against an OCSF schema folder as the OCSF project
// publishes it (dictionary.json, categories.json, events/, objects/, profiles/): the class
// is resolved as the OCSF server does — "extends" followed, attributes merged, profiles
// included — and a document is checked for required attributes, attributes the class or
// object does not define, attributes of profiles the document does not declare in
// metadata.profiles, types (and their regular expressions), arrays, enum values, "at least
// one of" constraints, and the class, category and type ids and names. It is test support:
// only tests import it, reading ../shared/ocsf-schema.
package ocsfschema

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Schema is a loaded OCSF schema.
type Schema struct {
	dir        string
	version    string
	dict       map[string]attr
	types      map[string]typeDef
	objects    map[string]rawDef
	classes    map[string]rawDef // by name
	categories map[string]int    // by name
	observable map[int]bool      // type_id values of observables, from types and objects
}

type typeDef struct {
	Type  string `json:"type"`
	Regex string `json:"regex"`
	re    *regexp.Regexp
}

type rawDef struct {
	Name        string                     `json:"name"`
	Caption     string                     `json:"caption"`
	UID         int                        `json:"uid"`
	Category    string                     `json:"category"`
	Extends     string                     `json:"extends"`
	Attributes  map[string]json.RawMessage `json:"attributes"`
	Constraints struct {
		AtLeastOne []string `json:"at_least_one"`
		JustOne    []string `json:"just_one"`
	} `json:"constraints"`
	Observable int `json:"observable"`
}

type enumValue struct {
	Caption string `json:"caption"`
}

// attr is one attribute as resolved: dictionary entry overlaid by the class or object.
type attr struct {
	Type        string               `json:"type"`
	IsArray     bool                 `json:"is_array"`
	Requirement string               `json:"requirement"`
	Enum        map[string]enumValue `json:"enum"`
	Profile     *string              `json:"profile"`
	Caption     string               `json:"caption"`
}

// Load reads the schema in dir.
func Load(dir string) (*Schema, error) {
	s := &Schema{dir: dir, objects: map[string]rawDef{}, classes: map[string]rawDef{}, categories: map[string]int{}, observable: map[int]bool{}}
	var dict struct {
		Attributes map[string]attr `json:"attributes"`
		Types      struct {
			Attributes map[string]typeDef `json:"attributes"`
		} `json:"types"`
	}
	if err := readJSON(filepath.Join(dir, "dictionary.json"), &dict); err != nil {
		return nil, err
	}
	s.dict, s.types = dict.Attributes, dict.Types.Attributes
	for name, t := range s.types {
		if t.Regex != "" {
			re, err := regexp.Compile(t.Regex)
			if err != nil {
				return nil, fmt.Errorf("type %s: %w", name, err)
			}
			t.re = re
			s.types[name] = t
		}
	}
	var rawTypes struct {
		Types struct {
			Attributes map[string]struct {
				Observable int `json:"observable"`
			} `json:"attributes"`
		} `json:"types"`
	}
	if err := readJSON(filepath.Join(dir, "dictionary.json"), &rawTypes); err != nil {
		return nil, err
	}
	for _, t := range rawTypes.Types.Attributes {
		if t.Observable != 0 {
			s.observable[t.Observable] = true
		}
	}
	var cats struct {
		Attributes map[string]struct {
			UID int `json:"uid"`
		} `json:"attributes"`
	}
	if err := readJSON(filepath.Join(dir, "categories.json"), &cats); err != nil {
		return nil, err
	}
	for name, c := range cats.Attributes {
		s.categories[name] = c.UID
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(dir, "version.json"), &v); err != nil {
		return nil, err
	}
	s.version = v.Version
	for _, sub := range []string{"objects", "events"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
				return err
			}
			var def rawDef
			if err := readJSON(p, &def); err != nil {
				return err
			}
			if sub == "objects" {
				s.objects[def.Name] = def
				if def.Observable != 0 {
					s.observable[def.Observable] = true
				}
			} else {
				s.classes[def.Name] = def
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Version is the schema's version ("1.8.0").
func (s *Schema) Version() string { return s.version }

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}

// resolved is a class or an object with its attributes merged along "extends".
type resolved struct {
	def        rawDef
	attrs      map[string]attr
	atLeastOne []string
	justOne    []string
}

// resolve merges def's attributes over its parents', including profile files.
func (s *Schema) resolve(def rawDef, byName map[string]rawDef) (resolved, error) {
	r := resolved{def: def, attrs: map[string]attr{}}
	if def.Extends != "" {
		parent, ok := byName[def.Extends]
		if !ok {
			return r, fmt.Errorf("%s extends unknown %s", def.Name, def.Extends)
		}
		p, err := s.resolve(parent, byName)
		if err != nil {
			return r, err
		}
		for k, v := range p.attrs {
			r.attrs[k] = v
		}
		r.atLeastOne, r.justOne = p.atLeastOne, p.justOne
	}
	if len(def.Constraints.AtLeastOne) > 0 {
		r.atLeastOne = def.Constraints.AtLeastOne
	}
	if len(def.Constraints.JustOne) > 0 {
		r.justOne = def.Constraints.JustOne
	}
	for name, raw := range def.Attributes {
		if name == "$include" {
			var incs []string
			if err := json.Unmarshal(raw, &incs); err != nil {
				return r, fmt.Errorf("%s: $include: %w", def.Name, err)
			}
			for _, inc := range incs {
				var prof struct {
					Name       string          `json:"name"`
					Attributes map[string]attr `json:"attributes"`
				}
				if err := readJSON(filepath.Join(s.dir, inc), &prof); err != nil {
					return r, err
				}
				for k, a := range prof.Attributes {
					if a.Profile == nil && strings.HasPrefix(inc, "profiles/") {
						name := prof.Name
						a.Profile = &name
					}
					r.attrs[k] = overlay(r.attrs[k], a)
				}
			}
			continue
		}
		var a attr
		if err := json.Unmarshal(raw, &a); err != nil {
			return r, fmt.Errorf("%s.%s: %w", def.Name, name, err)
		}
		prev := r.attrs[name]
		merged := overlay(prev, a)
		if a.Profile == nil && prev.Profile != nil && strings.Contains(string(raw), `"profile"`) {
			merged.Profile = nil // "profile": null: the class makes it its own
		}
		r.attrs[name] = merged
	}
	// Fill type, array-ness and enum from the dictionary.
	for name, a := range r.attrs {
		d := s.dict[name]
		if a.Type == "" {
			a.Type = d.Type
		}
		if !a.IsArray {
			a.IsArray = d.IsArray
		}
		if a.Enum == nil {
			a.Enum = d.Enum
		}
		r.attrs[name] = a
	}
	return r, nil
}

// overlay returns base with the fields set in top.
func overlay(base, top attr) attr {
	if top.Type != "" {
		base.Type = top.Type
	}
	if top.IsArray {
		base.IsArray = true
	}
	if top.Requirement != "" {
		base.Requirement = top.Requirement
	}
	if top.Enum != nil {
		base.Enum = top.Enum
	}
	if top.Profile != nil {
		base.Profile = top.Profile
	}
	if top.Caption != "" {
		base.Caption = top.Caption
	}
	return base
}

// Validate checks doc, one JSON event, against the class named class ("detection_finding")
// and returns every problem found, sorted, each with the path of the attribute.
func (s *Schema) Validate(class string, doc []byte) []string {
	def, ok := s.classes[class]
	if !ok {
		return []string{fmt.Sprintf("unknown class %q", class)}
	}
	r, err := s.resolve(def, s.classes)
	if err != nil {
		return []string{err.Error()}
	}
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []string{fmt.Sprintf("not a JSON object: %v", err)}
	}
	c := &checker{s: s, profiles: map[string]bool{}}
	if md, ok := v["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				if name, ok := p.(string); ok {
					c.profiles[name] = true
				}
			}
		}
	}
	c.object("", r, v)
	// Ids and names of the class.
	cat := s.categories[r.def.Category]
	if r.def.Category == "" {
		for d := def; d.Extends != ""; d = s.classes[d.Extends] {
			if p := s.classes[d.Extends]; p.Category != "" {
				cat = s.categories[p.Category]
				break
			}
		}
	}
	classUID := int64(cat*1000 + def.UID)
	c.wantInt("class_uid", v["class_uid"], classUID)
	c.wantInt("category_uid", v["category_uid"], int64(cat))
	if act, ok := intOf(v["activity_id"]); ok {
		c.wantInt("type_uid", v["type_uid"], classUID*100+act)
	}
	if name, ok := v["class_name"].(string); ok && name != def.Caption {
		c.errf("class_name", "%q, want %q", name, def.Caption)
	}
	for _, pair := range [][2]string{{"activity_id", "activity_name"}, {"severity_id", "severity"}, {"status_id", "status"}} {
		if id, ok := v[pair[0]].(json.Number); ok {
			if name, ok := v[pair[1]].(string); ok {
				if e, ok := r.attrs[pair[0]].Enum[id.String()]; ok && e.Caption != name && id.String() != "99" {
					c.errf(pair[1], "%q, want %q (the caption of %s %s)", name, e.Caption, pair[0], id)
				}
			}
		}
	}
	sort.Strings(c.errs)
	return c.errs
}

type checker struct {
	s        *Schema
	profiles map[string]bool
	errs     []string
}

func (c *checker) errf(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

func (c *checker) wantInt(path string, v any, want int64) {
	got, ok := intOf(v)
	if !ok || got != want {
		c.errf(path, "%v, want %d", v, want)
	}
}

func intOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// object checks the attributes of one object (or the event itself) against r.
func (c *checker) object(path string, r resolved, v map[string]any) {
	for name, a := range r.attrs {
		if a.Requirement == "required" {
			if _, ok := v[name]; !ok && (a.Profile == nil || c.profiles[*a.Profile]) {
				c.errf(join(path, name), "required, missing")
			}
		}
	}
	for _, group := range [][]string{r.atLeastOne} {
		if len(group) == 0 {
			continue
		}
		found := false
		for _, name := range group {
			if _, ok := v[name]; ok {
				found = true
			}
		}
		if !found {
			c.errf(path, "needs at least one of %v", group)
		}
	}
	if len(r.justOne) > 0 {
		n := 0
		for _, name := range r.justOne {
			if _, ok := v[name]; ok {
				n++
			}
		}
		if n != 1 {
			c.errf(path, "needs exactly one of %v, has %d", r.justOne, n)
		}
	}
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := join(path, name)
		a, ok := r.attrs[name]
		if !ok {
			c.errf(p, "not an attribute of %s", r.def.Name)
			continue
		}
		if a.Profile != nil && !c.profiles[*a.Profile] {
			c.errf(p, "attribute of profile %q, which metadata.profiles does not declare", *a.Profile)
		}
		c.value(p, r.def.Name, name, a, v[name])
	}
}

// value checks one attribute's value; parent names the object (or class) holding it.
func (c *checker) value(path, parent, name string, a attr, v any) {
	if a.IsArray {
		list, ok := v.([]any)
		if !ok {
			c.errf(path, "want an array, got %T", v)
			return
		}
		one := a
		one.IsArray = false
		for i, item := range list {
			c.value(fmt.Sprintf("%s[%d]", path, i), parent, name, one, item)
		}
		return
	}
	if v == nil {
		c.errf(path, "null")
		return
	}
	if a.Enum != nil && path != "class_uid" && path != "category_uid" {
		// class_uid and category_uid are checked against the class (Validate). An
		// observable's type_id also takes the observable number of every type and object
		// (ip_t is 2), as the OCSF server lists them.
		_, ok := a.Enum[fmt.Sprint(v)]
		if !ok && !(parent == "observable" && name == "type_id" && c.isObservable(v)) {
			c.errf(path, "%v is not one of the enum values %v", v, enumKeys(a.Enum))
		}
	}
	base, re := c.baseType(a.Type)
	switch base {
	case "string_t":
		s, ok := v.(string)
		if !ok {
			c.errf(path, "want a string (%s), got %T", a.Type, v)
		} else if re != nil && !re.MatchString(s) {
			c.errf(path, "%q does not match the format of %s", s, a.Type)
		}
	case "integer_t", "long_t":
		n, ok := v.(json.Number)
		if _, err := strconv.ParseInt(string(n), 10, 64); !ok || err != nil {
			c.errf(path, "want an integer (%s), got %v", a.Type, v)
		} else if a.Type == "integer_t" {
			if i, _ := n.Int64(); i < math.MinInt32 || i > math.MaxInt32 {
				c.errf(path, "%d does not fit an integer_t", i)
			}
		}
	case "float_t":
		if _, ok := v.(json.Number); !ok {
			c.errf(path, "want a number, got %T", v)
		}
	case "boolean_t":
		if _, ok := v.(bool); !ok {
			c.errf(path, "want a boolean, got %T", v)
		}
	case "json_t":
	case "object":
		if _, ok := v.(map[string]any); !ok {
			c.errf(path, "want an object, got %T", v)
		}
	default:
		def, ok := c.s.objects[a.Type]
		if !ok {
			c.errf(path, "unknown type %q", a.Type)
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			c.errf(path, "want a %s object, got %T", a.Type, v)
			return
		}
		r, err := c.s.resolve(def, c.s.objects)
		if err != nil {
			c.errf(path, "%v", err)
			return
		}
		c.object(path, r, obj)
	}
}

func (c *checker) isObservable(v any) bool {
	i, ok := intOf(v)
	return ok && c.s.observable[int(i)]
}

// baseType returns the primitive a type is made of ("string_t" for ip_t) and the regular
// expression values of the type must match, or the type itself for objects.
func (c *checker) baseType(t string) (string, *regexp.Regexp) {
	td, ok := c.s.types[t]
	if !ok {
		return t, nil
	}
	if td.Type == "" {
		return t, td.re
	}
	base, _ := c.baseType(td.Type)
	return base, td.re
}

func enumKeys(m map[string]enumValue) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
