package program

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder fills a Program from a yaml.Node tree by walking it against the Go
// types. yaml.v3's own decoder stops at the first unknown key and reports
// lines without columns or paths; walking the nodes ourselves reports every
// unknown key and wrong type at once, each with its line, column and path,
// and remembers where every value sits so validation can point at it too.
type decoder struct {
	file     string
	problems []Problem
	values   map[string]position // path -> where its value starts
	keys     map[string]position // path -> where its key starts
	// covered marks paths a decoding problem already explains (a misspelt
	// key means the right one looks missing), so validation stays quiet on
	// them instead of reporting the same mistake twice.
	covered map[string]bool
	budget  int
}

type position struct{ line, column int }

// maxNodes bounds the work an input can cause: aliases can make a small file
// expand into an enormous one ("billion laughs"). A real program has a few
// thousand nodes.
const maxNodes = 200_000

func newDecoder(file string) *decoder {
	return &decoder{
		file:    file,
		values:  map[string]position{},
		keys:    map[string]position{},
		covered: map[string]bool{},
		budget:  maxNodes,
	}
}

func posOf(n *yaml.Node) position { return position{n.Line, n.Column} }

func (d *decoder) problem(at position, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{
		File: d.file, Line: at.line, Column: at.column, Path: path,
		Message: fmt.Sprintf(format, args...),
	})
	d.covered[path] = true
}

// at finds where to point for a path: its key or value, or failing that the
// nearest enclosing value that is in the file (a missing key is reported on
// the mapping it should be added to).
func (d *decoder) at(path string, preferKey bool) position {
	first := true
	for {
		if preferKey || !first {
			if p, ok := d.keys[path]; ok {
				return p
			}
		}
		if p, ok := d.values[path]; ok {
			return p
		}
		if path == "" {
			return position{}
		}
		path, first = parentPath(path), false
	}
}

// parentPath strips the last step of a path: tracks[1].steps[2] -> tracks[1].steps.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func hasKey(mapping *yaml.Node, key string) bool {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return true
		}
	}
	return false
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value lines)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode stores n into v, which must be addressable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.budget--
	if d.budget < 0 {
		if d.budget == -1 {
			d.problem(posOf(n), path, "the file is too large, or its aliases (*name) expand too far; write the values out")
		}
		return
	}
	if _, seen := d.values[path]; !seen {
		d.values[path] = posOf(n)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.problem(posOf(n), path, "alias *%s has no matching &%s anchor", n.Value, n.Value)
			return
		}
		// Decode the anchored value, still under this path.
		d.decode(n.Alias, v, path)
		return
	}
	if isNull(n) {
		return // an empty value leaves the zero value; validation says if it is needed
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.problem(posOf(n), path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		// An optional value whose zero means something (a score of 0):
		// set only when written.
		e := reflect.New(v.Type().Elem())
		d.decode(n, e.Elem(), path)
		v.Set(e)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(posOf(n), path, "expected key: value lines here, found %s", kindName(n))
		return
	}
	fields, names := yamlFields(v.Type())
	// Suggest only keys not already written here: "titel" next to a
	// "title" is more likely something else.
	var unused []string
	for _, name := range names {
		if !hasKey(n, name) {
			unused = append(unused, name)
		}
	}
	d.eachPair(n, path, func(key string, keyNode, val *yaml.Node) {
		i, ok := fields[key]
		if !ok {
			if s := closest(key, unused); s != "" {
				d.problem(posOf(keyNode), childPath(path, key), "unknown key %q; did you mean %q?", key, s)
				d.covered[childPath(path, s)] = true
				return
			}
			d.problem(posOf(keyNode), childPath(path, key), "unknown key %q; use one of %s", key, strings.Join(names, ", "))
			return
		}
		d.decode(val, v.Field(i), childPath(path, key))
	})
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(posOf(n), path, "expected key: value lines here, found %s", kindName(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.eachPair(n, path, func(key string, _, val *yaml.Node) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, childPath(path, key))
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
}

// eachPair walks a mapping's key/value pairs, rejecting what the Go types
// cannot hold: non-text keys, repeated keys (yaml.v3 would silently keep the
// last one) and merge keys.
func (d *decoder) eachPair(n *yaml.Node, path string, fn func(key string, keyNode, val *yaml.Node)) {
	seen := map[string]position{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.problem(posOf(k), path, "a key must be a plain word, found %s", kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.problem(posOf(k), path, "merge keys (<<) are not supported; write the keys out, or reuse a whole value with *name")
			continue
		}
		key := k.Value
		p := childPath(path, key)
		if first, dup := seen[key]; dup {
			d.problem(posOf(k), p, "%q appears twice here (first on line %d); keep one", key, first.line)
			continue
		}
		seen[key] = posOf(k)
		d.keys[p] = posOf(k)
		if isNull(val) && val.Value == "" {
			// An empty value has no place of its own; point at its key.
			d.values[p] = posOf(k)
		}
		fn(key, k, val)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("; write [%s], or put each item on its own line starting with \"- \"", n.Value)
		}
		d.problem(posOf(n), path, "expected a list here, found %s%s", kindName(n), hint)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// scalarKinds names, for messages, what each kind of Go field expects.
var scalarKinds = map[reflect.Kind]string{
	reflect.String:  "text",
	reflect.Int:     "a whole number, e.g. 10",
	reflect.Float64: "a number, e.g. 30",
	reflect.Bool:    "true or false",
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	want := scalarKinds[v.Kind()]
	if want == "" {
		// Only reachable if someone adds a field of a new kind to types.go.
		d.problem(posOf(n), path, "this value has a type the program reader does not know (%s)", v.Type())
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.problem(posOf(n), path, "expected %s here, found %s", want, kindName(n))
		return
	}
	if v.Kind() == reflect.String {
		// Any scalar is fine as text: a title of 2024 or a version of 1.0
		// mean what they say.
		v.SetString(n.Value)
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			d.problem(posOf(n), path, "%q is in quotes, which makes it text; remove the quotes (expected %s)", n.Value, want)
			return
		}
		d.problem(posOf(n), path, "%q is not %s", n.Value, want)
	}
}

// yamlFields maps each yaml key of a struct to its field index, and lists
// the keys in declaration order for messages.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, names
}
