// Package metricstest reads the metric lines a metrics.Recorder wrote, as
// CloudWatch Logs reads a function's log, and fails the test on any line
// carrying _aws that is not a valid embedded metric format document (the
// rules of the EMF specification: a JSON object alone on its line, an
// integer Timestamp in milliseconds, each directive's Namespace,
// Dimensions and Metrics, every dimension and metric a member of the root
// with a string or a number).
package metricstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Point is one data point a line gives CloudWatch.
type Point struct {
	Namespace string
	Name      string
	Unit      string
	Value     float64
	// Dimensions are the point's dimension set, names to values.
	Dimensions map[string]string
	Time       time.Time
	// Root is the whole document, for the properties beside the metric.
	Root map[string]any
}

// Units CloudWatch accepts (MetricDatum's StandardUnit).
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Points returns the data points of every EMF line in log, in order; other
// lines (the JSON log's own) are skipped. A malformed EMF line fails t.
func Points(t testing.TB, log []byte) []Point {
	t.Helper()
	var out []Point
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		pts, err := Parse(line)
		if err != nil {
			t.Fatalf("log line %d is no valid EMF document: %v\n%s", n, err, line)
		}
		out = append(out, pts...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Count is how many of points are of the metric name, with the dimension
// values dims ("Lead=new") when given.
func Count(points []Point, name string, dims ...string) int {
	n := 0
	for _, p := range points {
		if p.Name != name {
			continue
		}
		match := true
		for _, d := range dims {
			k, v, _ := strings.Cut(d, "=")
			if p.Dimensions[k] != v {
				match = false
			}
		}
		if match {
			n++
		}
	}
	return n
}

// Parse checks one log line against the EMF specification and returns the
// data points it gives.
func Parse(line []byte) ([]Point, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON object")
	}
	meta, ok := root["_aws"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("_aws is not an object")
	}
	if err := only(meta, "_aws", "Timestamp", "CloudWatchMetrics"); err != nil {
		return nil, err
	}
	ts, ok := meta["Timestamp"].(json.Number)
	ms, err := ts.Int64()
	if !ok || err != nil || ms <= 0 {
		return nil, fmt.Errorf("_aws.Timestamp %v is not a positive whole number of milliseconds", meta["Timestamp"])
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		return nil, fmt.Errorf("_aws.CloudWatchMetrics is not a non-empty array")
	}
	var out []Point
	for i, d := range directives {
		dir, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("directive %d is not an object", i)
		}
		where := fmt.Sprintf("directive %d", i)
		if err := only(dir, where, "Namespace", "Dimensions", "Metrics"); err != nil {
			return nil, err
		}
		ns, _ := dir["Namespace"].(string)
		if ns == "" || len(ns) > 255 {
			return nil, fmt.Errorf("%s: Namespace %v is not a string of 1 to 255 characters", where, dir["Namespace"])
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok || len(sets) == 0 {
			return nil, fmt.Errorf("%s: Dimensions is not an array of dimension sets", where)
		}
		var dimSets []map[string]string
		for j, s := range sets {
			keys, ok := s.([]any)
			if !ok || len(keys) > 9 {
				return nil, fmt.Errorf("%s: dimension set %d is not an array of at most 9 keys", where, j)
			}
			set := map[string]string{}
			for _, k := range keys {
				name, _ := k.(string)
				v, ok := root[name].(string)
				if name == "" || !ok {
					return nil, fmt.Errorf("%s: dimension %v is not a member of the root with a string value", where, k)
				}
				set[name] = v
			}
			dimSets = append(dimSets, set)
		}
		defs, ok := dir["Metrics"].([]any)
		if !ok || len(defs) == 0 || len(defs) > 100 {
			return nil, fmt.Errorf("%s: Metrics is not an array of 1 to 100 definitions", where)
		}
		for j, d := range defs {
			def, ok := d.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: metric %d is not an object", where, j)
			}
			if err := only(def, where+" metric", "Name", "Unit"); err != nil {
				return nil, err
			}
			name, _ := def["Name"].(string)
			num, ok := root[name].(json.Number)
			if name == "" || !ok {
				return nil, fmt.Errorf("%s: metric %v is not a member of the root with a number", where, def["Name"])
			}
			unit, hasUnit := def["Unit"].(string)
			if _, set := def["Unit"]; set && (!hasUnit || !slices.Contains(units, unit)) {
				return nil, fmt.Errorf("%s: metric %s has unit %v, not a CloudWatch unit", where, name, def["Unit"])
			}
			v, err := num.Float64()
			if err != nil {
				return nil, fmt.Errorf("%s: metric %s: %w", where, name, err)
			}
			for _, set := range dimSets {
				out = append(out, Point{Namespace: ns, Name: name, Unit: unit, Value: v, Dimensions: set,
					Time: time.UnixMilli(ms).UTC(), Root: root})
			}
		}
	}
	return out, nil
}

// only fails on a member of m the specification does not define: objects
// of the specification "MUST NOT contain any additional members".
func only(m map[string]any, where string, allowed ...string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s has member %q, which EMF does not define", where, k)
		}
	}
	for _, k := range allowed {
		if _, ok := m[k]; !ok && k != "Unit" {
			return fmt.Errorf("%s has no %s", where, k)
		}
	}
	return nil
}
