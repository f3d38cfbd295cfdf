//go:build !js

package natsroute

import (
	"container/heap"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// dedupe remembers the requests an owner is serving, and has served, by
// requestKey (page, request id and message): a repeat is answered with
// the first one's result instead of being sent again.
//
// Sealed requests (Options.Keys) are remembered until they are maxAge old
// by the seal's time: an older copy is dropped unread (see seal.go), so a
// captured request replayed later is never delivered again. A sender
// retries a request id only after an answer that nothing was sent, and
// seals each attempt anew: after such an answer, a repeat with another
// seal nonce is served again, one with the same nonce (a replay of that
// very attempt) gets the same answer.
//
// Unsealed requests (InsecureNoKey) are remembered for dedupeWindow, or
// until their deadline if that is sooner, and forgotten at once after an
// answer that nothing was sent.
//
// The number of entries is bounded; when full, new requests are refused
// (with nothing sent) rather than forgetting an entry early. Not safe for
// concurrent use: the Router locks it.
type dedupe struct {
	max   int
	byKey map[[32]byte]*entry
	heap  entryHeap // by deadline
}

// requestKey is the dedupe key: a request id repeated with another page or
// message is not a repeat.
func requestKey(page, reqID string, data []byte) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, s := range [][]byte{[]byte(page), []byte(reqID), data} {
		h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(len(s))))
		h.Write(s)
	}
	return [32]byte(h.Sum(nil))
}

// dedupeWindow is how long a served request id is remembered at most.
const dedupeWindow = 2 * time.Second

type entry struct {
	key      [32]byte
	nonces   []string      // of the seals of the attempts served; none when unsealed
	sent     time.Time     // the seal's time; zero when unsealed
	retry    bool          // finished, and nothing was sent
	deadline time.Time     // the request's; once finished, when to forget it
	done     chan struct{} // closed by finish
	reply    *nats.Msg     // the answer (headers only); valid once done is closed
	index    int           // in heap
}

func newDedupe(max int) *dedupe {
	return &dedupe{max: max, byKey: make(map[[32]byte]*entry)}
}

// begin returns the entry for key: a new one (first is true) for the
// caller to serve and then finish or abort, or the existing one for a
// repeat. nonce and sent are the seal's (zero when unsealed). It returns
// nil when the cache is full of live entries.
func (d *dedupe) begin(key [32]byte, nonce string, sent, deadline, now time.Time) (e *entry, first bool) {
	var earlier []string
	if old := d.byKey[key]; old != nil {
		if !old.retry || nonce == "" || slices.Contains(old.nonces, nonce) {
			return old, false
		}
		// A new attempt after "nothing sent": served, and the earlier
		// attempts' copies still get the cached answer.
		earlier = old.nonces
		d.remove(old)
	}
	d.expire(now)
	if len(d.byKey) >= d.max {
		return nil, false
	}
	e = &entry{key: key, sent: sent, deadline: deadline, done: make(chan struct{})}
	if nonce != "" {
		e.nonces = append(earlier, nonce)
	}
	d.byKey[key] = e
	heap.Push(&d.heap, e)
	return e, true
}

// abort forgets a new entry that will not be served.
func (d *dedupe) abort(e *entry) {
	close(e.done)
	d.remove(e)
}

// finish records e's result. keep false says that nothing was sent, so a
// retry may be served.
func (d *dedupe) finish(e *entry, reply *nats.Msg, keep bool, now time.Time) {
	e.reply = reply
	e.retry = !keep
	close(e.done)
	until := e.sent.Add(maxAge)
	if e.sent.IsZero() {
		if !keep {
			d.remove(e)
			return
		}
		until = e.deadline
		if w := now.Add(dedupeWindow); w.Before(until) {
			until = w
		}
	}
	if !now.Before(until) {
		d.remove(e)
		return
	}
	e.deadline = until
	heap.Fix(&d.heap, e.index)
}

// expire forgets finished entries whose time has passed.
func (d *dedupe) expire(now time.Time) {
	for len(d.heap) > 0 {
		e := d.heap[0]
		if now.Before(e.deadline) {
			return
		}
		select {
		case <-e.done:
			d.remove(e)
		default:
			return // still being served; finish removes it
		}
	}
}

func (d *dedupe) remove(e *entry) {
	if d.byKey[e.key] != e {
		return
	}
	delete(d.byKey, e.key)
	heap.Remove(&d.heap, e.index)
}

func (d *dedupe) len() int { return len(d.byKey) }

type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
