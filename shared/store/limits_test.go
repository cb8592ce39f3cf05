package store_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/store"
)

// newLimiter counts in a table of its own on DynamoDB Local, on a clock the
// test moves.
func newLimiter(t *testing.T) (*limit.Limiter, *store.Store, *clock.Fixed) {
	t.Helper()
	st := newStore(t, store.Options{})
	clk := clock.NewFixed(time.Date(2026, 12, 1, 9, 3, 0, 0, time.UTC))
	return &limit.Limiter{Policy: limit.Default(), Counter: st, Clock: clk}, st, clk
}

// The shipped rule for form posts per IP: its Max posts pass, the next is
// refused until its window ends, with the time left; the next window starts
// from zero. Time moves on the product's clock, never by sleeping.
func TestLimiter_perIP_refusesPostNPlusOne_untilTheWindowEnds(t *testing.T) {
	t.Parallel()
	l, _, clk := newLimiter(t)
	rule := l.Policy.CaptureIP
	start := clk.Now()
	windowEnd := start.Truncate(rule.Window).Add(rule.Window)
	for i := 1; i <= rule.Max; i++ {
		if err := l.Capture(t.Context(), "198.51.100.4"); err != nil {
			t.Fatalf("post %d of %d refused: %v", i, rule.Max, err)
		}
	}
	err := l.Capture(t.Context(), "198.51.100.4")
	e, limited := limit.AsExceeded(err)
	if !limited {
		t.Fatalf("post %d: %v, want the limit", rule.Max+1, err)
	}
	if e.RetryAfter != windowEnd.Sub(start) || e.Rule.Name != rule.Name {
		t.Errorf("refused by %s, retry after %s; want %s, %s", e.Rule.Name, e.RetryAfter, rule.Name, windowEnd.Sub(start))
	}
	// Another client is not limited by this one.
	if err := l.Capture(t.Context(), "198.51.100.5"); err != nil {
		t.Errorf("another IP refused: %v", err)
	}
	// Still refused just before the window ends, counted again after.
	clk.Set(windowEnd.Add(-time.Second))
	if _, limited := limit.AsExceeded(l.Capture(t.Context(), "198.51.100.4")); !limited {
		t.Error("allowed again a second before the window ends")
	}
	clk.Set(windowEnd)
	for i := 1; i <= rule.Max; i++ {
		if err := l.Capture(t.Context(), "198.51.100.4"); err != nil {
			t.Fatalf("next window, post %d refused: %v", i, err)
		}
	}
	if _, limited := limit.AsExceeded(l.Capture(t.Context(), "198.51.100.4")); !limited {
		t.Error("the next window allowed more than its Max")
	}
}

// Concurrent posts never pass more than Max: the condition is on the
// counter itself, not a read before the write.
func TestLimiter_concurrentPosts_passExactlyMax(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	rule := l.Policy.CaptureAddress
	var mu sync.Mutex
	passed, refused := 0, 0
	var wg sync.WaitGroup
	for range rule.Max * 3 {
		wg.Go(func() {
			err := l.CaptureOf(t.Context(), "lead-1")
			mu.Lock()
			defer mu.Unlock()
			if _, limited := limit.AsExceeded(err); limited {
				refused++
			} else if err == nil {
				passed++
			} else {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if passed != rule.Max || refused != 2*rule.Max {
		t.Errorf("passed %d, refused %d; want %d and %d", passed, refused, rule.Max, 2*rule.Max)
	}
}

// IPv6: one subscriber's /64 is one client, whatever address it takes.
func TestLimiter_ipv6_countsTheSlash64(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	for i := range l.Policy.CaptureIP.Max {
		if err := l.Capture(t.Context(), fmt.Sprintf("2001:db8:1:2::%x", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, limited := limit.AsExceeded(l.Capture(t.Context(), "2001:db8:1:2:ffff::1")); !limited {
		t.Error("a new address in the same /64 was a new client")
	}
	if err := l.Capture(t.Context(), "2001:db8:1:3::1"); err != nil {
		t.Errorf("the next /64 refused: %v", err)
	}
}

// A counter is one small item whose key holds the window, not the IP, and
// whose TTL lets DynamoDB drop it after the window; each counted request
// costs one write unit (a refused one is billed 1 WCU too, which the
// refusal does not report).
func TestLimiter_counterItem_noIPInTheClear_expires_oneWriteUnit(t *testing.T) {
	t.Parallel()
	db, table := newTable(t)
	st := store.New(db, table, store.Options{})
	clk := clock.NewFixed(time.Date(2026, 12, 1, 9, 3, 0, 0, time.UTC))
	l := &limit.Limiter{Policy: limit.Default(), Counter: st, Clock: clk}
	for range l.Policy.CaptureIP.Max + 1 {
		_ = l.Capture(t.Context(), "198.51.100.4")
	}
	if got, want := st.Usage().Write(), float64(l.Policy.CaptureIP.Max); got != want {
		t.Errorf("%d counted requests cost %.1f write units, want %.0f", l.Policy.CaptureIP.Max, got, want)
	}
	out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items, want one counter", len(out.Items))
	}
	item := out.Items[0]
	pk := item[store.AttrPK].(*types.AttributeValueMemberS).Value
	if strings.Contains(pk, "198.51.100.4") || !strings.HasPrefix(pk, "LIMIT#capture-ip#") {
		t.Errorf("counter key %q", pk)
	}
	exp, ok := item[store.AttrExpiresAt].(*types.AttributeValueMemberN)
	end := clk.Now().Truncate(l.Policy.CaptureIP.Window).Add(l.Policy.CaptureIP.Window)
	if !ok || exp.Value != fmt.Sprint(end.Add(time.Hour).Unix()) {
		t.Errorf("expiresAt %v, want an hour after the window's end %d", item[store.AttrExpiresAt], end.Unix())
	}
}

// DynamoDB throttling the counter: Allow lets the request through and says
// so in the log (a person's lead must not be lost to our trouble), while
// Try reports the failure to a caller that would rather not act.
func TestLimiter_counterThrottled_allowFailsOpen_tryReports(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	st := store.New(testenv.ThrottledDynamo(t), "any", store.Options{})
	l := &limit.Limiter{Policy: limit.Default(), Counter: st, Clock: clock.NewFixed(time.Now()),
		Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	for range l.Policy.CaptureIP.Max + 1 {
		if err := l.Capture(t.Context(), "198.51.100.4"); err != nil {
			t.Fatalf("Allow with the counter throttled: %v, want allowed", err)
		}
	}
	if !strings.Contains(logs.String(), `"limit not counted; allowed"`) || !strings.Contains(logs.String(), "ThrottlingException") {
		t.Errorf("the log does not say the limit was not counted: %s", logs.String())
	}
	err := l.Try(t.Context(), l.Policy.ConfirmAddress, "lead-1")
	if _, limited := limit.AsExceeded(err); err == nil || limited {
		t.Errorf("Try with the counter throttled: %v, want the counter's error", err)
	}
}
