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
	var p Program
	err := decodeFile(filename, data, &p, "the program", "version:, sender:, assets: ...", func(d *decoder) []Problem {
		return validate(&p, d)
	})
	if err != nil {
		return nil, err
	}
	p.lookups = newLookups(&p)
	return &p, nil
}

// decodeFile decodes a file's YAML into v, a pointer to a struct, and then
// checks it with check, unless decoding was cut short. Every problem comes
// back in one *ValidationError, top to bottom. what and keys name the file
// and its first keys for the message on a file that is not key: value lines.
func decodeFile(filename string, data []byte, v any, what, keys string, check func(d *decoder) []Problem) error {
	root, problem := parseDocument(filename, data)
	if problem != nil {
		return &ValidationError{Problems: []Problem{*problem}}
	}
	d := newDecoder(filename)
	d.values[""] = posOf(root)
	if root.Kind != yaml.MappingNode {
		d.problem(posOf(root), "", "%s must be key: value lines (%s), found %s", what, keys, kindName(root))
		return &ValidationError{Problems: d.problems}
	}
	d.decode(root, reflect.ValueOf(v).Elem(), "")
	problems := d.problems
	if d.budget >= 0 {
		// Validating a half-decoded alias bomb would only repeat its size.
		problems = append(problems, check(d)...)
	}
	if len(problems) == 0 {
		return nil
	}
	// Top to bottom, as the person fixing them reads the file.
	slices.SortStableFunc(problems, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return &ValidationError{Problems: problems}
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
	// same maps an asset id to every asset of the same content (sameAs,
	// followed both ways and through chains), itself included.
	same map[string][]string
}

func newLookups(p *Program) *lookups {
	l := &lookups{
		assets:    indexBy(p.Assets, func(a Asset) string { return a.ID }),
		forms:     indexBy(p.Forms, func(f Form) string { return f.ID }),
		questions: indexBy(p.Questions, func(q Question) string { return q.ID }),
		tracks:    indexBy(p.Tracks, func(t Track) string { return t.ID }),
		topics:    indexBy(p.Tracks, func(t Track) string { return t.Topic }),
		same:      sameContent(p.Assets),
	}
	return l
}

// sameContent groups the assets sameAs links together: a video of a
// whitepaper and a briefing of that video are one content in three formats.
func sameContent(assets []Asset) map[string][]string {
	root := map[string]string{}
	var find func(string) string
	find = func(id string) string {
		r, ok := root[id]
		if !ok || r == id {
			return id
		}
		r = find(r)
		root[id] = r
		return r
	}
	for _, a := range assets {
		if a.SameAs != "" && a.SameAs != a.ID {
			if ra, rb := find(a.ID), find(a.SameAs); ra != rb {
				root[ra] = rb
			}
		}
	}
	groups := map[string][]string{}
	for _, a := range assets {
		r := find(a.ID)
		groups[r] = append(groups[r], a.ID)
	}
	same := map[string][]string{}
	for _, g := range groups {
		if len(g) > 1 {
			for _, id := range g {
				same[id] = g
			}
		}
	}
	return same
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

// SameContent lists the assets with the same content as the asset id
// (sameAs), itself included: a lead who had any of them gets none of the
// others.
func (p *Program) SameContent(id string) []string {
	same := p.index().same
	if p.lookups == nil {
		same = sameContent(p.Assets)
	}
	if g, ok := same[id]; ok {
		return g
	}
	return []string{id}
}

// Pinned reports whether a step names the asset (Step.Asset): it goes
// out from such steps only, never as another step's or evergreen's pick
// (an invitation to talk to an engineer, say, is for the leads its step
// is for).
func (p *Program) Pinned(assetID string) bool {
	// A dozen steps: scanning them is cheaper than keeping an index right
	// for programs tests change.
	for _, t := range p.Tracks {
		for _, s := range t.Steps {
			if s.Asset == assetID {
				return true
			}
		}
	}
	return false
}

// EvergreenOn reports whether leads go on to the evergreen cadence after
// their tracks.
func (p *Program) EvergreenOn() bool { return p.Evergreen.Every.Duration > 0 }

// ReengageOn reports whether silent leads are asked whether to go on.
func (p *Program) ReengageOn() bool { return p.Reengage.After.Duration > 0 }

// ReturnAction is what a lead sales returns with reason does next
// (ReturnActions); reasons the program does not map resume.
func (p *Program) ReturnAction(reason string) string {
	if a, ok := p.Returns[reason]; ok && a != "" {
		return a
	}
	return ReturnResume
}

// PublishedAt is the day the asset came out, midnight UTC; zero when the
// program does not say.
func (a Asset) PublishedAt() time.Time {
	t, err := time.Parse(time.DateOnly, a.Published)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ParseNoSendDate reads a no-send date: "2026-12-24" is that day (year
// set), "12-25" is that day every year (year 0).
func ParseNoSendDate(s string) (year int, month time.Month, day int, err error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Year(), t.Month(), t.Day(), nil
	}
	// 2024 is a leap year, so 02-29 reads as a yearly date.
	if t, err := time.Parse(time.DateOnly, "2024-"+s); err == nil && len(s) == 5 {
		return 0, t.Month(), t.Day(), nil
	}
	return 0, 0, 0, fmt.Errorf("%q is not a date; write YYYY-MM-DD for one day (2026-12-24) or MM-DD for that day every year (12-25)", s)
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
