package program

import (
	"fmt"
	"math"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// ParseDuration reads a wait as people write it in the program file: Go's
// units (h, m, s, ...) plus d for days and w for weeks, combined freely, as in
// "72h", "90m", "3d", "1w" or "2d12h". time.ParseDuration alone has no days,
// and nurture waits are almost always counted in days.
func ParseDuration(s string) (time.Duration, error) {
	in := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, durationError(in)
	}
	var total time.Duration
	for s != "" {
		// One segment: a number, then its unit.
		i := 0
		for i < len(s) && (s[i] == '.' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		num := s[:i]
		j := i
		for j < len(s) && (s[j] < '0' || s[j] > '9') && s[j] != '.' {
			j++
		}
		unit := s[i:j]
		s = s[j:]
		if num == "" || unit == "" {
			return 0, durationError(in)
		}
		var part time.Duration
		switch unit {
		case "d", "w":
			// Let the standard parser read the number as hours, so fractions
			// like 1.5d are exact, then scale with an overflow check.
			h, err := time.ParseDuration(num + "h")
			if err != nil {
				return 0, durationError(in)
			}
			scale := time.Duration(24)
			if unit == "w" {
				scale = 24 * 7
			}
			if h > math.MaxInt64/scale {
				return 0, fmt.Errorf("%q is too long a wait", in)
			}
			part = h * scale
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, durationError(in)
			}
			part = d
		}
		if total > math.MaxInt64-part {
			return 0, fmt.Errorf("%q is too long a wait", in)
		}
		total += part
	}
	if neg {
		total = -total
	}
	return total, nil
}

func durationError(s string) error {
	return fmt.Errorf("%q is not a duration; write a number with a unit, e.g. 2d, 12h, 1w or 2d12h (w weeks, d days, h hours, m minutes)", s)
}

// FormatDuration writes d the way ParseDuration reads it, in days and hours
// rather than Go's hours only ("7d", not "168h0m0s"), so a wait reads in the
// file the way marketing thinks of it.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		if d == math.MinInt64 {
			return d.String() // -d would overflow; no one waits that long
		}
		sign, d = "-", -d
	}
	days, rest := d/day, d%day
	var b strings.Builder
	b.WriteString(sign)
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if rest > 0 {
		r := rest.String()
		// time.Duration writes 12h0m0s; drop the zero tails.
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		b.WriteString(r)
	}
	return b.String()
}

// String writes the wait as it would appear in the file, e.g. "2d12h".
func (d Duration) String() string { return FormatDuration(d.Duration) }

// UnmarshalYAML reads a wait written with ParseDuration's units.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a wait such as 2d or 12h, found %s", kindName(n))
	}
	v, err := ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the wait in the file's own notation, so a program
// written back out parses to the same waits.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
