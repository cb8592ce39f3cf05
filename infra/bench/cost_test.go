package bench

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The model counts what the template deploys: its alarms and dashboards
// are billed by the month whatever the volume.
func TestCost_countsTheTemplatesAlarmsAndDashboards(t *testing.T) {
	tpl, err := os.ReadFile(filepath.Join("..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]int{"AWS::CloudWatch::Alarm": Alarms, "AWS::CloudWatch::Dashboard": Dashboards} {
		n := len(regexp.MustCompile(`(?m)^    Type: `+regexp.QuoteMeta(typ)+`$`).FindAll(tpl, -1))
		if n != want {
			t.Errorf("the template has %d %s, the cost model counts %d (infra/bench/cost.go)", n, typ, want)
		}
	}
}

// Storage grows with what is kept: twice the months, twice the table.
func TestCost_storageIsTheTableKept(t *testing.T) {
	gb1, c1 := Storage(300000, 290000, 10000, 12)
	gb2, c2 := Storage(300000, 290000, 10000, 24)
	if gb1 <= 0 || gb2 != 2*gb1 || c2[0].USD != 2*c1[0].USD || c2[1].USD != 2*c1[1].USD {
		t.Errorf("12 months: %.2f GB %v; 24 months: %.2f GB %v", gb1, c1, gb2, c2)
	}
}
