package metrics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/metrics/metricstest"
)

var at = time.Date(2026, 12, 1, 9, 30, 0, 123e6, time.UTC)

func TestRecorder_eachEventIsOneEMFLine_ofItsMetric(t *testing.T) {
	for _, tc := range []struct {
		record func(r *metrics.Recorder)
		metric metrics.Metric
		dims   map[string]string
		props  map[string]string
	}{
		{func(r *metrics.Recorder) { r.Captured(at, "lead-1", true) }, metrics.LeadsCaptured,
			map[string]string{"Lead": "new"}, map[string]string{"leadId": "lead-1"}},
		{func(r *metrics.Recorder) { r.Captured(at, "lead-1", false) }, metrics.LeadsCaptured,
			map[string]string{"Lead": "returning"}, map[string]string{"leadId": "lead-1"}},
		{func(r *metrics.Recorder) { r.Sent(at, "lead-1", "finops") }, metrics.NurtureEmailsSent,
			map[string]string{}, map[string]string{"leadId": "lead-1", "track": "finops"}},
		{func(r *metrics.Recorder) { r.SalesReady(at, "lead-1", "mql") }, metrics.SalesReady,
			map[string]string{}, map[string]string{"leadId": "lead-1", "threshold": "mql"}},
		{func(r *metrics.Recorder) { r.Decided(at, "lead-1", true, "") }, metrics.SalesAccepted,
			map[string]string{}, map[string]string{"leadId": "lead-1"}},
		{func(r *metrics.Recorder) { r.Decided(at, "lead-1", false, "not-ready") }, metrics.SalesReturned,
			map[string]string{}, map[string]string{"leadId": "lead-1", "reason": "not-ready"}},
	} {
		t.Run(tc.metric.Name+fmt.Sprint(tc.dims), func(t *testing.T) {
			var buf bytes.Buffer
			tc.record(metrics.New(&buf))
			if lines := strings.Count(buf.String(), "\n"); lines != 1 || !strings.HasSuffix(buf.String(), "}\n") {
				t.Fatalf("want one JSON line, got %d:\n%s", lines, buf.String())
			}
			pts := metricstest.Points(t, buf.Bytes())
			if len(pts) != 1 {
				t.Fatalf("%d data points, want 1:\n%s", len(pts), buf.String())
			}
			p := pts[0]
			if p.Namespace != metrics.Namespace || p.Name != tc.metric.Name || p.Unit != "Count" || p.Value != 1 || !p.Time.Equal(at.Truncate(time.Millisecond)) {
				t.Errorf("point %s %s %s %v at %s, want %s %s Count 1 at %s", p.Namespace, p.Name, p.Unit, p.Value, p.Time, metrics.Namespace, tc.metric.Name, at)
			}
			if fmt.Sprint(p.Dimensions) != fmt.Sprint(tc.dims) {
				t.Errorf("dimensions %v, want %v", p.Dimensions, tc.dims)
			}
			for k, v := range tc.props {
				if p.Root[k] != v {
					t.Errorf("property %s = %v, want %q", k, p.Root[k], v)
				}
			}
			// The address never goes into a log line; nor does anything that
			// would make a custom metric per lead.
			if strings.Contains(buf.String(), "@") {
				t.Errorf("an address in the line: %s", buf.String())
			}
		})
	}
}

// The exact document, as the specification's example spells it: a reader
// of the log sees what CloudWatch reads.
func TestRecorder_lineIsTheSpecificationsShape(t *testing.T) {
	var buf bytes.Buffer
	metrics.New(&buf).Captured(at, "lead-1", true)
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_aws": map[string]any{
			"Timestamp": float64(at.UnixMilli()),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "LeadNurturing",
				"Dimensions": []any{[]any{"Lead"}},
				"Metrics":    []any{map[string]any{"Name": "LeadsCaptured", "Unit": "Count"}},
			}},
		},
		"LeadsCaptured": float64(1),
		"Lead":          "new",
		"leadId":        "lead-1",
		"msg":           "metric",
	}
	if g, w := canon(got), canon(want); g != w {
		t.Errorf("line\n got %s\nwant %s", g, w)
	}
}

func TestRecorder_metricWithoutDimension_hasOneEmptyDimensionSet(t *testing.T) {
	var buf bytes.Buffer
	metrics.New(&buf).Sent(at, "lead-1", "finops")
	var doc struct {
		AWS metrics.Metadata `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if d := doc.AWS.CloudWatchMetrics[0].Dimensions; len(d) != 1 || len(d[0]) != 0 {
		t.Errorf("Dimensions %v, want [[]]: the metric without dimensions", d)
	}
}

func TestRecorder_concurrentLinesNeverInterleave_andTotalsCount(t *testing.T) {
	var buf bytes.Buffer
	r := metrics.New(&buf)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Captured(at, fmt.Sprintf("lead-%d", i), i%4 == 0)
			r.Sent(at, fmt.Sprintf("lead-%d", i), "finops")
		}()
	}
	wg.Wait()
	pts := metricstest.Points(t, buf.Bytes())
	if n := metricstest.Count(pts, "LeadsCaptured", "Lead=new"); n != 10 {
		t.Errorf("%d new leads, want 10", n)
	}
	if n := metricstest.Count(pts, "LeadsCaptured", "Lead=returning"); n != 30 {
		t.Errorf("%d returning leads, want 30", n)
	}
	if n := metricstest.Count(pts, "NurtureEmailsSent"); n != 40 {
		t.Errorf("%d emails, want 40", n)
	}
	tot := r.Totals()
	if tot["LeadsCaptured"] != 40 || tot["LeadsCaptured/new"] != 10 || tot["LeadsCaptured/returning"] != 30 || tot["NurtureEmailsSent"] != 40 {
		t.Errorf("totals %v", tot)
	}
}

func TestRecorder_nilRecordsNothing(t *testing.T) {
	var r *metrics.Recorder
	r.Captured(at, "lead-1", true)
	r.Sent(at, "lead-1", "finops")
	r.SalesReady(at, "lead-1", "mql")
	r.Decided(at, "lead-1", true, "")
	if len(r.Totals()) != 0 {
		t.Error("a nil recorder has totals")
	}
}

// Every metric's dimension has a closed set of values: a custom metric is
// billed per name and dimension value.
func TestMetrics_fewAndLowCardinality(t *testing.T) {
	series := 0
	names := map[string]bool{}
	for _, m := range metrics.All {
		if names[m.Name] {
			t.Errorf("%s twice", m.Name)
		}
		names[m.Name] = true
		if m.Means == "" {
			t.Errorf("%s does not say what it counts", m.Name)
		}
		switch {
		case m.Dimension == "" && len(m.Values) == 0:
			series++
		case m.Dimension != "" && len(m.Values) > 0:
			series += len(m.Values)
		default:
			t.Errorf("%s: dimension %q with values %v", m.Name, m.Dimension, m.Values)
		}
	}
	if series != metrics.Series() {
		t.Errorf("Series() = %d, counted %d", metrics.Series(), series)
	}
	if series > 10 {
		t.Errorf("%d custom metrics; each costs every month", series)
	}
}

// The checker itself refuses what CloudWatch would not extract.
func TestParse_refusesMalformedDocuments(t *testing.T) {
	good := `{"_aws":{"Timestamp":1764581400123,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Lead"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"M":1,"Lead":"new"}`
	if _, err := metricstest.Parse([]byte(good)); err != nil {
		t.Fatalf("good document refused: %v", err)
	}
	for name, bad := range map[string]string{
		"seconds, not ms":      strings.Replace(good, "1764581400123", "1764581400.5", 1),
		"dimension missing":    strings.Replace(good, `,"Lead":"new"`, "", 1),
		"dimension not string": strings.Replace(good, `"Lead":"new"`, `"Lead":1`, 1),
		"metric missing":       strings.Replace(good, `"M":1,`, "", 1),
		"metric a string":      strings.Replace(good, `"M":1`, `"M":"1"`, 1),
		"unit unknown":         strings.Replace(good, `"Count"`, `"Leads"`, 1),
		"no namespace":         strings.Replace(good, `"Namespace":"N",`, "", 1),
		"no dimension sets":    strings.Replace(good, `[["Lead"]]`, `[]`, 1),
		"extra member":         strings.Replace(good, `"Namespace":"N"`, `"Namespace":"N","Region":"x"`, 1),
		"trailing data":        good + ` x`,
	} {
		if _, err := metricstest.Parse([]byte(bad)); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}

func canon(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
