// Package clock gives handlers their notion of now, so the local stack and
// tests can move time forward (a week of nurture in a second) while Lambda
// uses the real time.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns the current UTC time.
func (System) Now() time.Time { return time.Now().UTC() }

// Offset is the real clock moved forward by an adjustable amount; time keeps
// flowing, so leases and timeouts behave as they do in production.
type Offset struct {
	mu     sync.RWMutex
	offset time.Duration
}

// Now returns the real time plus the offset.
func (o *Offset) Now() time.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return time.Now().UTC().Add(o.offset)
}

// Set moves the clock to t; time flows on from there. The local stack
// starts at a chosen instant with it (LOCAL_CLOCK), so a demo or a test
// behaves the same at any hour of the real day.
func (o *Offset) Set(t time.Time) {
	o.mu.Lock()
	o.offset = time.Until(t)
	o.mu.Unlock()
}

// Advance moves the clock forward by d (negative d is ignored: time in the
// stack never runs backwards) and returns the new time.
func (o *Offset) Advance(d time.Duration) time.Time {
	o.mu.Lock()
	if d > 0 {
		o.offset += d
	}
	o.mu.Unlock()
	return o.Now()
}

// Fixed is a clock that stands still until set; for unit tests.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a clock standing at t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t.UTC()} }

// Now returns the set time.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fixed) Set(t time.Time) {
	f.mu.Lock()
	f.t = t.UTC()
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fixed) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}
