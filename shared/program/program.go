package program

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// defaultFile is compiled into every function, so a program change ships
// with the next deploy and no function ever runs with a file it cannot read.
//
//go:embed program.yaml
var defaultFile []byte

// DefaultName is the name problems in the embedded program are reported
// under.
const DefaultName = "program.yaml"

var defaultProgram = sync.OnceValues(func() (*Program, error) {
	return Parse(DefaultName, defaultFile)
})

// Default returns the program compiled into the binary. It is parsed once
// and shared: callers must treat it as read-only.
func Default() (*Program, error) { return defaultProgram() }

// Load reads and validates a program file.
func Load(path string) (*Program, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read program file: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a program file. filename only labels the
// problems. Any mistake, from a YAML syntax error to a step that points at a
// missing asset, comes back as a *ValidationError listing every problem
// found, each with its line, column and path.
func Parse(filename string, data []byte) (*Program, error) {
	root, problem := parseDocument(filename, data)
	if problem != nil {
		return nil, &ValidationError{Problems: []Problem{*problem}}
	}
	d := newDecoder(filename)
	var p Program
	d.values[""] = posOf(root)
	if root.Kind != yaml.MappingNode {
		d.problem(posOf(root), "", "the program must be key: value lines (version:, sender:, assets: ...), found %s", kindName(root))
		return nil, &ValidationError{Problems: d.problems}
	}
	d.decode(root, reflect.ValueOf(&p).Elem(), "")
	problems := d.problems
	if d.budget >= 0 {
		// Validating a half-decoded alias bomb would only repeat its size.
		problems = append(problems, validate(&p, d)...)
	}
	if len(problems) > 0 {
		// Top to bottom, as the person fixing them reads the file.
		slices.SortStableFunc(problems, func(a, b Problem) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, &ValidationError{Problems: problems}
	}
	p.lookups = newLookups(&p)
	return &p, nil
}

// parseDocument reads the single YAML document of a file.
func parseDocument(filename string, data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Problem{File: filename, Message: "the file is empty; start from the default program.yaml"}
		}
		return nil, syntaxProblem(filename, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxProblem(filename, err)
	default:
		return nil, &Problem{File: filename, Line: next.Line, Column: next.Column,
			Message: "a second document starts here; a program file holds one, so remove the --- line and what follows or merge it into the first"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Problem{File: filename, Message: "the file is empty; start from the default program.yaml"}
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml.v3 syntax error ("yaml: line 3: ...") into a
// problem on that line.
func syntaxProblem(filename string, err error) *Problem {
	p := &Problem{File: filename, Message: err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = m[2]
	}
	p.Message += " (this is not valid YAML: check the indentation, which must use spaces, and quote text containing \": \" or starting with a special character)"
	return p
}

// lookups indexes a parsed program's lists by id.
type lookups struct {
	assets, forms, questions, tracks, topics map[string]int
}

func newLookups(p *Program) *lookups {
	l := &lookups{
		assets:    indexBy(p.Assets, func(a Asset) string { return a.ID }),
		forms:     indexBy(p.Forms, func(f Form) string { return f.ID }),
		questions: indexBy(p.Questions, func(q Question) string { return q.ID }),
		tracks:    indexBy(p.Tracks, func(t Track) string { return t.ID }),
		topics:    indexBy(p.Tracks, func(t Track) string { return t.Topic }),
	}
	return l
}

func indexBy[T any](items []T, key func(T) string) map[string]int {
	m := make(map[string]int, len(items))
	for i, it := range items {
		if _, dup := m[key(it)]; !dup {
			m[key(it)] = i
		}
	}
	return m
}

// find looks id up through the index, checking the hit still matches: a
// caller may have edited the slices of a parsed program (tests do), and a
// stale index must not return the wrong item. Without a usable index it
// scans.
func find[T any](items []T, index map[string]int, id string, key func(T) string) (T, bool) {
	var zero T
	if id == "" {
		return zero, false
	}
	if i, ok := index[id]; ok && i < len(items) && key(items[i]) == id {
		return items[i], true
	}
	for _, it := range items {
		if key(it) == id {
			return it, true
		}
	}
	return zero, false
}

func (p *Program) index() *lookups {
	if p.lookups == nil {
		return &lookups{}
	}
	return p.lookups
}

// Asset returns the asset with the given id.
func (p *Program) Asset(id string) (Asset, bool) {
	return find(p.Assets, p.index().assets, id, func(a Asset) string { return a.ID })
}

// Form returns the form with the given id.
func (p *Program) Form(id string) (Form, bool) {
	return find(p.Forms, p.index().forms, id, func(f Form) string { return f.ID })
}

// Question returns the question with the given id.
func (p *Program) Question(id string) (Question, bool) {
	return find(p.Questions, p.index().questions, id, func(q Question) string { return q.ID })
}

// Track returns the track with the given id.
func (p *Program) Track(id string) (Track, bool) {
	return find(p.Tracks, p.index().tracks, id, func(t Track) string { return t.ID })
}

// TrackForTopic returns the track that nurtures a topic; validation allows
// at most one per topic.
func (p *Program) TrackForTopic(topic string) (Track, bool) {
	return find(p.Tracks, p.index().topics, topic, func(t Track) string { return t.Topic })
}

// Zone is the time zone of a lead whose browser did not say: the zone of
// their country answer, else the program's.
func (p *Program) Zone(country string) string {
	if country != "" {
		for _, q := range p.Questions {
			if q.Field != "country" {
				continue
			}
			for _, o := range q.Options {
				if o.Value == country && o.TimeZone != "" {
					return o.TimeZone
				}
			}
		}
	}
	return p.Schedule.TimeZone
}

// ActivityRetention is how long activity history is kept; zero keeps it.
func (p *Program) ActivityRetention() time.Duration {
	return time.Duration(p.Retention.ActivityDays) * 24 * time.Hour
}
