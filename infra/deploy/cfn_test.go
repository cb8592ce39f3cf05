package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"
)

// root is the repository root, seen from this package's folder (go test
// runs a package's tests in its folder).
const root = "../.."

var templatePath = filepath.Join(root, "infra", "template.yaml")

// Template is infra/template.yaml with CloudFormation's short forms spelled
// out: !Ref X is {"Ref": "X"}, !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]},
// !Sub s is {"Fn::Sub": s} and so on.
type Template struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Globals    map[string]map[string]any
	Resources  map[string]Resource
	Outputs    map[string]map[string]any
}

// Resource is one entry of Resources.
type Resource struct {
	Type           string
	Condition      string
	DeletionPolicy string
	Metadata       map[string]any
	Properties     map[string]any
}

func loadTemplate(t testing.TB) *Template {
	t.Helper()
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	v, err := cfnValue(&doc)
	if err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tpl Template
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	if len(tpl.Resources) == 0 {
		t.Fatalf("%s has no resources", templatePath)
	}
	return &tpl
}

// cfnValue turns a YAML node into plain Go values, the CloudFormation short
// forms (!Ref, !Sub, !GetAtt ...) into their long forms.
func cfnValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if isShortForm(n.Tag) {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	}
	if !isShortForm(n.Tag) {
		return v, nil
	}
	switch fn := n.Tag[1:]; fn {
	case "Ref", "Condition":
		return map[string]any{fn: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + fn: v}, nil
	}
}

func isShortForm(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

// Functions returns the AWS::Serverless::Function resources by logical id.
func (tpl *Template) Functions() map[string]Resource {
	fns := map[string]Resource{}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::Serverless::Function" {
			fns[id] = r
		}
	}
	return fns
}

// FunctionProp is a function's property, or the Globals' when it has none.
func (tpl *Template) FunctionProp(fn Resource, name string) any {
	if v, ok := fn.Properties[name]; ok {
		return v
	}
	return tpl.Globals["Function"][name]
}

// Env is a function's environment: the Globals' variables and its own.
func (tpl *Template) Env(fn Resource) map[string]any {
	env := map[string]any{}
	for _, src := range []any{tpl.Globals["Function"]["Environment"], fn.Properties["Environment"]} {
		for k, v := range mapAt(src, "Variables") {
			env[k] = v
		}
	}
	return env
}

// logicalID is the function resource for a folder of functions/: capture is
// CaptureFunction (the Makefile's build-%Function rule relies on it).
func logicalID(folder string) string {
	r := []rune(folder)
	r[0] = unicode.ToUpper(r[0])
	return string(r) + "Function"
}

// ref returns X for {"Ref": "X"}.
func ref(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}

// getAtt returns A, B for {"Fn::GetAtt": ["A", "B"]}.
func getAtt(v any) (string, string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", "", false
	}
	s, ok := m["Fn::GetAtt"].([]any)
	if !ok || len(s) != 2 {
		return "", "", false
	}
	a, _ := s[0].(string)
	b, _ := s[1].(string)
	return a, b, a != "" && b != ""
}

// sub returns the string of {"Fn::Sub": "..."}.
func sub(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Fn::Sub"].(string)
	return s, ok
}

func mapAt(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	out, _ := m[key].(map[string]any)
	return out
}

func listOf(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// canon is a stable text form of a template value, for comparing and
// for messages.
func canon(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
