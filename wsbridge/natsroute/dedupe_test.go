//go:build !js

package natsroute

import (
	"testing"
	"time"
)

func k(reqID string) [32]byte { return requestKey("p", reqID, nil) }

func TestDedupe(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDedupe(2)
	a, first := d.begin(k("a"), "", time.Time{}, t0.Add(time.Second), t0)
	if a == nil || !first {
		t.Fatalf("begin(a) = %v, %v; want a new entry", a, first)
	}
	if e, first := d.begin(k("a"), "", time.Time{}, t0.Add(time.Second), t0); e != a || first {
		t.Fatalf("repeat of a while in flight = %v, %v; want the same entry", e, first)
	}
	b, _ := d.begin(k("b"), "", time.Time{}, t0.Add(3*time.Second), t0)
	if e, _ := d.begin(k("c"), "", time.Time{}, t0.Add(time.Second), t0); e != nil {
		t.Fatal("begin(c) on a full cache: want nil (refused)")
	}
	d.finish(a, newReply(statusOK), true, t0)
	select {
	case <-a.done:
	default:
		t.Fatal("finish did not close done")
	}
	// Finished but alive: still remembered, still full.
	if e, first := d.begin(k("a"), "", time.Time{}, t0.Add(time.Second), t0.Add(500*time.Millisecond)); e != a || first || e.reply.Header.Get(hdrStatus) != statusOK {
		t.Fatalf("repeat of a after finish = %v, %v; want the finished entry", e, first)
	}
	// Past a's deadline it is forgotten, making room.
	c, first := d.begin(k("c"), "", time.Time{}, t0.Add(5*time.Second), t0.Add(time.Second))
	if c == nil || !first || d.len() != 2 {
		t.Fatalf("begin(c) after a expired = %v, %v, len %d; want a new entry, len 2", c, first, d.len())
	}
	// An unfinished entry is never expired, even past its deadline.
	if e, _ := d.begin(k("x"), "", time.Time{}, t0.Add(9*time.Second), t0.Add(4*time.Second)); e != nil {
		t.Fatal("b expired while unfinished")
	}
	// Nothing sent: forgotten at once, so a retry is served.
	d.finish(b, movingReply(), false, t0.Add(time.Second))
	if e, first := d.begin(k("b"), "", time.Time{}, t0.Add(3*time.Second), t0.Add(time.Second)); e == nil || !first {
		t.Fatalf("retry of b after not_connected = %v, %v; want a new entry", e, first)
	}
}

func TestDedupeFinishAfterDeadline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDedupe(1)
	a, _ := d.begin(k("a"), "", time.Time{}, t0.Add(time.Second), t0)
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
	a, _ := d.begin(k("a"), "", time.Time{}, t0.Add(time.Hour), t0)
	d.finish(a, newReply(statusOK), true, t0)
	if e, first := d.begin(k("a"), "", time.Time{}, t0.Add(time.Hour), t0.Add(dedupeWindow-time.Millisecond)); e != a || first {
		t.Fatalf("repeat within the window = %v, %v; want the first entry", e, first)
	}
	if e, first := d.begin(k("b"), "", time.Time{}, t0.Add(time.Hour), t0.Add(dedupeWindow)); e == nil || !first {
		t.Fatalf("begin(b) after the window = %v, %v; want a new entry", e, first)
	}
}

// Sealed requests: remembered until maxAge after their seal, whatever
// their deadline; after "nothing sent", a new attempt (another seal
// nonce) is served, while copies of earlier attempts get the cached
// answer.
func TestDedupeSealed(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDedupe(4)
	a, first := d.begin(k("a"), "n1", t0, t0.Add(time.Hour), t0)
	if !first {
		t.Fatal("begin(a) not first")
	}
	d.finish(a, movingReply(), false, t0)
	if e, first := d.begin(k("a"), "n1", t0, t0.Add(time.Hour), t0.Add(time.Second)); e != a || first {
		t.Fatalf("replay of attempt 1 after nothing sent = %v, %v; want the cached answer", e, first)
	}
	a2, first := d.begin(k("a"), "n2", t0.Add(time.Second), t0.Add(time.Hour), t0.Add(time.Second))
	if a2 == a || !first {
		t.Fatalf("attempt 2 = %v, %v; want a new entry", a2, first)
	}
	d.finish(a2, movingReply(), false, t0.Add(time.Second))
	for _, n := range []string{"n1", "n2"} {
		if e, first := d.begin(k("a"), n, t0, t0.Add(time.Hour), t0.Add(2*time.Second)); e != a2 || first {
			t.Errorf("replay of %s after attempt 2 = %v, %v; want the cached answer", n, e, first)
		}
	}
	b, _ := d.begin(k("b"), "m1", t0, t0.Add(time.Hour), t0)
	d.finish(b, newReply(statusOK), true, t0)
	if e, first := d.begin(k("b"), "m2", t0, t0.Add(time.Hour), t0.Add(maxAge-time.Millisecond)); e != b || first {
		t.Errorf("repeat of a delivered request within maxAge = %v, %v; want the cached answer", e, first)
	}
	d.begin(k("c"), "x", t0.Add(maxAge), t0.Add(time.Hour), t0.Add(maxAge))
	if _, ok := d.byKey[k("b")]; ok {
		t.Error("b still remembered maxAge after its seal")
	}
}
