package program

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"72h", 72 * time.Hour},
		{"90m", 90 * time.Minute},
		{"3d", 3 * day},
		{"1w", week},
		{"2d12h", 2*day + 12*time.Hour},
		{"1w2d", 9 * day},
		{"1.5d", 36 * time.Hour},
		{"0", 0},
		{"0d", 0},
		{"45s", 45 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"-1d", -day},
		{"+2d", 2 * day},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDuration_rejectsWhatIsNotAWait(t *testing.T) {
	for _, in := range []string{"", "3", "d", "3x", "3 d", "1.2.3d", "2dd", "-", "1y", "99999999999w", "9223372036854775807ns1h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
	_, err := ParseDuration("3x")
	if err == nil || !strings.Contains(err.Error(), "e.g. 2d") {
		t.Errorf("the error should show how to write a wait: %v", err)
	}
}

func TestFormatDuration_readsTheWayItIsWritten(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{7 * day, "7d"},
		{2*day + 12*time.Hour, "2d12h"},
		{90 * time.Minute, "1h30m"},
		{12 * time.Hour, "12h"},
		{day + 30*time.Second, "1d30s"},
		{-3 * day, "-3d"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseDuration(FormatDuration(tt.in))
		if err != nil || back != tt.in {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", tt.in, back, err)
		}
	}
}

func TestDuration_yamlRoundTrip(t *testing.T) {
	var s struct {
		Wait Duration `yaml:"wait"`
	}
	if err := yaml.Unmarshal([]byte("wait: 2d12h\n"), &s); err != nil {
		t.Fatal(err)
	}
	if s.Wait.Duration != 60*time.Hour {
		t.Fatalf("wait = %v", s.Wait.Duration)
	}
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "wait: 2d12h\n" {
		t.Errorf("marshalled %q", out)
	}
	if err := yaml.Unmarshal([]byte("wait: [1d]\n"), &s); err == nil {
		t.Error("a list is not a wait")
	}
}

func FuzzDuration_formatReadsBack(f *testing.F) {
	for _, s := range []string{"72h", "3d", "1w2d12h30m", "1.5d", "-0", "0.000000001ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("%q = %v, formats as %q, which reads back as %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}
