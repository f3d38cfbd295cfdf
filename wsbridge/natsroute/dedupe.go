//go:build !js

package natsroute

import (
	"container/heap"
	"time"

	"github.com/nats-io/nats.go"
)

// dedupe remembers the requests an owner is serving, and has served, by
// request id: a repeated id is answered with the first one's result
// instead of being sent again. A served request is remembered for
// dedupeWindow, or until its deadline if that is sooner (past its deadline
// a request is dropped unread anyway). Repeats come from the network
// path, within milliseconds; a sender retries an id only after an answer
// that nothing was sent, which forgets it at once. The number of entries
// is bounded; when full, new requests are refused (with nothing sent)
// rather than forgetting an entry early. Not safe for concurrent use: the
// Router locks it.
type dedupe struct {
	max  int
	byID map[string]*entry
	heap entryHeap // by deadline
}

// dedupeWindow is how long a served request id is remembered at most.
const dedupeWindow = 2 * time.Second

type entry struct {
	id       string
	deadline time.Time     // the request's; once finished, when to forget it
	done     chan struct{} // closed by finish
	reply    *nats.Msg     // the answer (headers only); valid once done is closed
	index    int           // in heap
}

func newDedupe(max int) *dedupe {
	return &dedupe{max: max, byID: make(map[string]*entry)}
}

// begin returns the entry for id: a new one (first is true) for the caller
// to serve and finish, or the existing one for a repeat. It returns nil
// when the cache is full of live entries.
func (d *dedupe) begin(id string, deadline, now time.Time) (e *entry, first bool) {
	if e := d.byID[id]; e != nil {
		return e, false
	}
	d.expire(now)
	if len(d.byID) >= d.max {
		return nil, false
	}
	e = &entry{id: id, deadline: deadline, done: make(chan struct{})}
	d.byID[id] = e
	heap.Push(&d.heap, e)
	return e, true
}

// finish records e's result. keep false forgets e at once: nothing was
// sent, so a retry with the same id may be served.
func (d *dedupe) finish(e *entry, reply *nats.Msg, keep bool, now time.Time) {
	e.reply = reply
	close(e.done)
	if !keep || !now.Before(e.deadline) {
		d.remove(e)
		return
	}
	if until := now.Add(dedupeWindow); until.Before(e.deadline) {
		e.deadline = until
		heap.Fix(&d.heap, e.index)
	}
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
	if d.byID[e.id] != e {
		return
	}
	delete(d.byID, e.id)
	heap.Remove(&d.heap, e.index)
}

func (d *dedupe) len() int { return len(d.byID) }

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
