//go:build !js

package natsroute

import (
	"testing"
	"time"
)

func TestDedupe(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDedupe(2)
	a, first := d.begin("a", t0.Add(time.Second), t0)
	if a == nil || !first {
		t.Fatalf("begin(a) = %v, %v; want a new entry", a, first)
	}
	if e, first := d.begin("a", t0.Add(time.Second), t0); e != a || first {
		t.Fatalf("repeat of a while in flight = %v, %v; want the same entry", e, first)
	}
	b, _ := d.begin("b", t0.Add(3*time.Second), t0)
	if e, _ := d.begin("c", t0.Add(time.Second), t0); e != nil {
		t.Fatal("begin(c) on a full cache: want nil (refused)")
	}
	d.finish(a, newReply(statusOK), true, t0)
	select {
	case <-a.done:
	default:
		t.Fatal("finish did not close done")
	}
	// Finished but alive: still remembered, still full.
	if e, first := d.begin("a", t0.Add(time.Second), t0.Add(500*time.Millisecond)); e != a || first || e.reply.Header.Get(hdrStatus) != statusOK {
		t.Fatalf("repeat of a after finish = %v, %v; want the finished entry", e, first)
	}
	// Past a's deadline it is forgotten, making room.
	c, first := d.begin("c", t0.Add(5*time.Second), t0.Add(time.Second))
	if c == nil || !first || d.len() != 2 {
		t.Fatalf("begin(c) after a expired = %v, %v, len %d; want a new entry, len 2", c, first, d.len())
	}
	// An unfinished entry is never expired, even past its deadline.
	if e, _ := d.begin("x", t0.Add(9*time.Second), t0.Add(4*time.Second)); e != nil {
		t.Fatal("b expired while unfinished")
	}
	// Nothing sent: forgotten at once, so a retry is served.
	d.finish(b, movingReply(), false, t0.Add(time.Second))
	if e, first := d.begin("b", t0.Add(3*time.Second), t0.Add(time.Second)); e == nil || !first {
		t.Fatalf("retry of b after not_connected = %v, %v; want a new entry", e, first)
	}
}

func TestDedupeFinishAfterDeadline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDedupe(1)
	a, _ := d.begin("a", t0.Add(time.Second), t0)
	d.finish(a, newReply(statusOK), true, t0.Add(2*time.Second))
	if d.len() != 0 {
		t.Errorf("len %d after finishing past the deadline, want 0", d.len())
	}
}

// A served request is remembered for dedupeWindow when its deadline is
// further away, so that long deadlines do not fill the cache.
func TestDedupeWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDedupe(1)
	a, _ := d.begin("a", t0.Add(time.Hour), t0)
	d.finish(a, newReply(statusOK), true, t0)
	if e, first := d.begin("a", t0.Add(time.Hour), t0.Add(dedupeWindow-time.Millisecond)); e != a || first {
		t.Fatalf("repeat within the window = %v, %v; want the first entry", e, first)
	}
	if e, first := d.begin("b", t0.Add(time.Hour), t0.Add(dedupeWindow)); e == nil || !first {
		t.Fatalf("begin(b) after the window = %v, %v; want a new entry", e, first)
	}
}
