package program

import (
	"errors"
	"testing"
)

// FuzzParse feeds Parse arbitrary files: whatever marketing types, the
// validator must answer with problems, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(defaultFile)
	f.Add(readTestdata(f, "minimal.yaml"))
	for _, s := range []string{
		"",
		"version: 1\n",
		"- a\n- b\n",
		"a: &a [*a]\n",
		"tracks:\n  - steps:\n      - wait: 2d12h\n        stage: decision\n",
		"assets: [{id: x, topics: y}]\nforms: [{asset: x}]\n",
		"scoring:\n  fit:\n    industry: {finance: x}\n",
		"version: 1\n---\n",
		"<<: {version: 1}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("want problems, got %T %v", err, err)
			}
			for _, pr := range verr.Problems {
				if pr.Message == "" || pr.File != "fuzz.yaml" {
					t.Fatalf("problem without message or file: %+v", pr)
				}
			}
			if p != nil {
				t.Fatal("a program came back with problems")
			}
			return
		}
		// A valid program keeps its promises to the code that uses it.
		for _, tr := range p.Tracks {
			if len(tr.Steps) == 0 {
				t.Fatalf("track %s has no steps", tr.ID)
			}
			if _, ok := p.TrackForTopic(tr.Topic); !ok {
				t.Fatalf("track %s not found by topic", tr.ID)
			}
			for _, s := range tr.Steps {
				if s.Wait.Duration < 0 {
					t.Fatal("negative wait passed validation")
				}
			}
		}
		for _, fm := range p.Forms {
			if _, ok := p.Asset(fm.Asset); !ok {
				t.Fatalf("form %s delivers missing asset %s", fm.ID, fm.Asset)
			}
		}
	})
}
