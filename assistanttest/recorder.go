// Package assistanttest provides Senders for tests: a Recorder to mock a
// transport, a strict Host that refuses what a real host would drop, and
// TestSender, a conformance suite for any assistant.Sender implementation.
//
// Mocking the Sender in a unit test of your code:
//
//	rec := &assistanttest.Recorder{}
//	if err := notifyShipped(ctx, rec, order); err != nil { // your code, taking an assistant.Sender
//		t.Fatal(err)
//	}
//	want := []assistant.Message{assistant.NewText("Your order 7 has shipped")}
//	if diff := cmp.Diff(want, rec.Messages()); diff != "" {
//		t.Errorf("sent messages (-want +got):\n%s", diff)
//	}
package assistanttest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/imworkspace/assistant"
)

// Record is one message a Recorder or Host received.
type Record struct {
	Message assistant.Message // the decoded message (a value type)
	Wire    []byte            // the exact bytes assistant.Encode produced
	At      time.Time         // arrival time, by the receiver's clock
}

// Recorder is an assistant.Sender that records what it is sent. It
// delivers instantly, so under testing/synctest arrival times are exact.
// The zero Recorder is ready to use; it is safe for concurrent use.
type Recorder struct {
	// Now, if set, is the clock for Record.At; time.Now otherwise.
	Now func() time.Time

	mu       sync.Mutex
	records  []Record
	failN    int
	failWith error
}

// Send records m with its wire bytes and arrival time. It returns the
// validation error for an invalid m (checked first, as
// assistant.RateLimited does; assistant.Rejected), ctx.Err() wrapped as
// assistant.NotDelivered if ctx is done, and the error set by FailNext
// while that lasts; none of those is recorded.
func (r *Recorder) Send(ctx context.Context, m assistant.Message) error {
	wire, err := assistant.Encode(m)
	if err != nil {
		return err
	}
	dec, err := assistant.Decode(wire)
	if err != nil {
		return err // unreachable unless Encode and Decode disagree
	}
	if err := ctx.Err(); err != nil {
		return assistant.WithDelivery(err, assistant.NotDelivered)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failN > 0 {
		r.failN--
		return r.failWith
	}
	r.records = append(r.records, Record{Message: dec, Wire: wire, At: r.now()})
	return nil
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// FailNext makes the next n sends of valid messages with a live ctx fail
// with err, recording nothing; n <= 0 cancels pending failures. err is
// returned as it is, so its class is yours to choose: unmarked it is
// assistant.MaybeDelivered (the message may have arrived), or mark it with
// assistant.WithDelivery.
//
// A nil err is a mistake, since a nil Send error means delivered: those n
// sends then fail with an error saying so (assistant.NotDelivered, as
// nothing is recorded), so the test sees the failures it asked for and
// why.
func (r *Recorder) FailNext(n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		err = errNilFailure
	}
	r.failN, r.failWith = n, err
}

// errNilFailure is what FailNext's sends return for a nil err.
var errNilFailure = assistant.WithDelivery(errors.New("assistanttest: Recorder.FailNext was given a nil error, which would mean delivered; pass the error Send should return"), assistant.NotDelivered)

// Records returns a copy of what was recorded, in arrival order.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Messages returns the recorded messages, in arrival order.
func (r *Recorder) Messages() []assistant.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	ms := make([]assistant.Message, len(r.records))
	for i, rec := range r.records {
		ms[i] = rec.Message
	}
	return ms
}

// Wire returns the recorded wire bytes, in arrival order.
func (r *Recorder) Wire() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := make([][]byte, len(r.records))
	for i, rec := range r.records {
		ws[i] = rec.Wire
	}
	return ws
}

// Reset forgets every record and pending failure.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records, r.failN, r.failWith = nil, 0, nil
}
