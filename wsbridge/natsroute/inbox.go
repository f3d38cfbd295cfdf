//go:build !js

package natsroute

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// inbox receives the replies to this Router's requests on one wildcard
// subscription, as nats.go's own request multiplexer does, but hands
// every message to the request it names even if it does not verify: the
// request drops it and keeps waiting, so that a forged reply from a
// client on the account is neither believed nor able to stop the real
// one from being heard. (A subscription per request would not do: its
// interest would reach the other NATS servers after the reply might.)
type inbox struct {
	prefix string // "_INBOX.<random>."
	sub    *nats.Subscription

	mu      sync.Mutex
	waiting map[string]chan *nats.Msg
	closing bool // unsubscribe once no request waits
}

// inboxBuffer is how many unread messages a request keeps; NATS messages
// to a full one are dropped (a flood of forgeries cannot block the
// connection's callback goroutine).
const inboxBuffer = 8

func newInbox(nc *nats.Conn) (*inbox, error) {
	in := &inbox{prefix: nats.NewInbox() + ".", waiting: make(map[string]chan *nats.Msg)}
	sub, err := nc.Subscribe(in.prefix+"*", func(m *nats.Msg) {
		in.mu.Lock()
		ch := in.waiting[m.Subject]
		in.mu.Unlock()
		select {
		case ch <- m: // a nil ch (no such request) blocks: default
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	in.sub = sub
	return in, nil
}

// register returns a fresh reply subject and the channel its messages go to.
func (in *inbox) register() (string, chan *nats.Msg) {
	var b [12]byte
	rand.Read(b[:])
	subj := in.prefix + base64.RawURLEncoding.EncodeToString(b[:])
	ch := make(chan *nats.Msg, inboxBuffer)
	in.mu.Lock()
	in.waiting[subj] = ch
	in.mu.Unlock()
	return subj, ch
}

func (in *inbox) unregister(subj string) {
	in.mu.Lock()
	delete(in.waiting, subj)
	last := in.closing && len(in.waiting) == 0
	in.mu.Unlock()
	if last {
		in.sub.Unsubscribe()
	}
}

// close unsubscribes once the requests waiting for a reply have ended
// (each by its context at the latest): a Router that closes still hears
// the answers to the Sends it made before.
func (in *inbox) close() {
	in.mu.Lock()
	in.closing = true
	last := len(in.waiting) == 0
	in.mu.Unlock()
	if last {
		in.sub.Unsubscribe()
	}
}

// request sends req and returns its reply, with the errors of
// nats.Conn.RequestMsgWithContext: nats.ErrNoResponders, ctx.Err(),
// nats.ErrMaxPayload, or the connection's. With keys, req is sealed and
// only a reply that verifies and is bound to req's request id is
// returned; others are dropped (and counted) while it keeps waiting.
func (r *Router) request(ctx context.Context, req *nats.Msg) (*nats.Msg, error) {
	if r.keys == nil {
		return r.nc.RequestMsgWithContext(ctx, req)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	reqID := req.Header.Get(hdrRequest)
	if reqID == "" {
		return nil, errors.New("natsroute: request without a request id")
	}
	subj, ch := r.inbox.register()
	defer r.inbox.unregister(subj)
	m, err := r.keys.seal(kindRequest, req.Subject, subj, envelope{
		replica: r.opts.Replica, sent: time.Now(), reqID: reqID, header: req.Header, data: req.Data,
	})
	if err != nil {
		return nil, err
	}
	if err := r.nc.PublishMsg(m); err != nil {
		return nil, err
	}
	for {
		select {
		case m := <-ch:
			if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
				// NATS's "no responders" cannot be authenticated; see
				// the package doc.
				return nil, nats.ErrNoResponders
			}
			e, err := r.keys.open(kindReply, subj, "", m, time.Now())
			if err == nil && e.reqID != reqID {
				err = errors.New("reply to another request")
			}
			if err != nil {
				r.drop("reply", err)
				continue
			}
			return &nats.Msg{Subject: subj, Header: e.header, Data: e.data}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
