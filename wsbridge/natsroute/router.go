//go:build !js

package natsroute

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/nats-io/nats.go"
)

// Defaults for the zero fields of Options.
const (
	// DefaultTimeout bounds a Send whose context has no deadline: longer
	// than wsbridge.DefaultAckTimeout, so that a page that does not ack is
	// reported as wsbridge.ErrAckTimeout rather than ErrTimeout.
	DefaultTimeout = 35 * time.Second
	// DefaultRetryDelay is the wait before the one retry that follows "no
	// page there": a subscription made on one NATS server reaches the
	// others asynchronously (about 2 ms on loopback).
	DefaultRetryDelay = 50 * time.Millisecond
	// DefaultMaxInFlight bounds the requests a replica serves or remembers
	// (for dedupe) at once.
	DefaultMaxInFlight = 65536
	// DefaultMaxPerPage bounds the requests a replica serves at once for
	// one page: at one message per second, more than Timeout can use.
	DefaultMaxPerPage = 64
	// DefaultMaxHeldBytes bounds the encoded messages a replica holds for
	// the requests it serves.
	DefaultMaxHeldBytes = 64 << 20
)

// requestBuffer is the capacity of the channel all page subscriptions
// deliver to; NATS drops what does not fit (a slow-consumer error on the
// connection) and those Sends end with ErrTimeout.
const requestBuffer = 4096

const maxReplicaLen = 64

// Options configure a Router. Keys is required (or the loudly named
// InsecureNoKey); the zero value of every other field is usable: subjects
// under DefaultPrefix, a random replica name, the Default* limits.
type Options struct {
	// Keys are secrets the replicas share, each at least MinKeySize bytes
	// (32 random bytes, say; at most 4 keys). Everything the Router puts
	// on NATS is sealed with Keys[0] (XChaCha20-Poly1305), so that NATS
	// and the account's other clients can neither read it nor forge or
	// replay it; what arrives sealed under any of Keys is accepted. To
	// rotate: deploy [old, new] everywhere, then [new, old], then [new]
	// (see the package doc). New fails with ErrNoKey without a key,
	// ErrBadKey with a short one.
	Keys [][]byte
	// InsecureNoKey lets New run without Keys: requests, replies and
	// claims then travel in clear and unauthenticated, so any client of
	// the NATS account can read every message, fake a delivery, or close
	// any page's socket with a forged claim. Only for tests, or an
	// account no one else can use.
	InsecureNoKey bool
	// Prefix is the first token(s) of every subject the Router uses
	// (DefaultPrefix if empty): printable ASCII without spaces or
	// wildcards. Replicas of one service must share it; services sharing a
	// NATS account must not.
	Prefix string
	// Replica names this replica in claims and request ids (a random name
	// if empty). Each live replica must have its own; at most 64 bytes of
	// printable ASCII without spaces or dots.
	Replica string
	// Timeout bounds a Send whose context has no deadline, and how long
	// this replica serves a request from another, whatever deadline it
	// carries. Default DefaultTimeout.
	Timeout time.Duration
	// RetryDelay is how long a Send waits before its one retry after
	// finding no page. Default DefaultRetryDelay.
	RetryDelay time.Duration
	// MaxInFlight bounds the requests this replica serves at once plus
	// those it has served that are less than 5 s old (remembered, so that
	// a repeat or a replay is answered, not sent again; 2 s with
	// InsecureNoKey); beyond it requests fail with
	// wsbridge.ErrTooManyPending. Default DefaultMaxInFlight.
	MaxInFlight int
	// MaxPerPage bounds the requests this replica serves at once for one
	// page (waiting for the page's turn or its ack), and MaxHeldBytes the
	// encoded messages of all the requests it serves; beyond them requests
	// fail with wsbridge.ErrTooManyPending, nothing sent (one request is
	// always admitted). Defaults DefaultMaxPerPage, DefaultMaxHeldBytes.
	MaxPerPage   int
	MaxHeldBytes int
	// Logger receives routing events (never message content); nil
	// discards them.
	Logger *slog.Logger
}

// Router joins a wsbridge.Hub to a NATS connection, so that a Send on any
// replica reaches a page connected to any replica's Hub. Create it with
// New, which also creates the Hub. It is safe for concurrent use.
//
// The Router owns two goroutines (its request dispatcher and a watcher of
// NATS reconnects), one per request it is serving for a page of its Hub,
// and the NATS callback goroutine of its claim subscription; Close stops
// them all; its reply inbox's subscription outlives Close until the Sends
// waiting on it have ended (each by its context at the latest). It does
// not own the NATS connection: close that after the Router.
type Router struct {
	nc    *nats.Conn
	hub   *wsbridge.Hub
	opts  Options
	log   *slog.Logger
	clock hlc
	keys  *keyring // nil: InsecureNoKey
	inbox *inbox   // replies to this Router's sealed requests

	dropped atomic.Uint64 // see Dropped

	reqs     chan *nats.Msg // every page subscription delivers here
	claimSub *nats.Subscription
	status   chan nats.Status // reconnects, to announce our pages again
	quit     chan struct{}
	wg       sync.WaitGroup // the dispatcher, request goroutines and running claim callbacks

	mu      sync.Mutex
	closed  bool
	pages   map[string]*owned // pages of this Hub, by id
	dd      *dedupe
	repeats int            // answerRepeat goroutines; at most MaxInFlight
	perPage map[string]int // requests being served, by page id; at most MaxPerPage
	held    int            // bytes of their messages; at most MaxHeldBytes
}

// owned is a page connected to this replica's Hub.
type owned struct {
	conn uint64 // the Hub's connection number
	key  claimKey
	sub  *nats.Subscription
}

// New creates a Hub configured by hubOpts (the Router adds its own hooks
// after hubOpts.Hooks) and routes its pages through nc. Mount r.Hub() where
// the pages connect, exactly as a plain Hub.
//
// nc should be created with nats.MaxReconnects(-1) so that it never gives
// up; with nats.ReconnectBufSize(-1), a Send made while NATS is
// reconnecting fails at once with ErrUnavailable instead of waiting in the
// buffer (either way, a request reaching its page's replica after its
// deadline is dropped there, never delivered late).
func New(nc *nats.Conn, hubOpts wsbridge.Options, opts Options) (*Router, error) {
	if nc == nil {
		return nil, errors.New("natsroute: nil NATS connection")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.Replica == "" {
		var b [8]byte
		rand.Read(b[:])
		opts.Replica = hex.EncodeToString(b[:])
	}
	if err := checkReplica(opts.Replica); err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.MaxPerPage <= 0 {
		opts.MaxPerPage = DefaultMaxPerPage
	}
	if opts.MaxHeldBytes <= 0 {
		opts.MaxHeldBytes = DefaultMaxHeldBytes
	}
	var keys *keyring
	switch {
	case len(opts.Keys) > 0:
		var err error
		if keys, err = newKeyring(opts.Keys); err != nil {
			return nil, err
		}
	case !opts.InsecureNoKey:
		return nil, ErrNoKey
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{
		nc:      nc,
		opts:    opts,
		log:     log,
		clock:   hlc{now: time.Now},
		keys:    keys,
		reqs:    make(chan *nats.Msg, requestBuffer),
		quit:    make(chan struct{}),
		pages:   make(map[string]*owned),
		dd:      newDedupe(opts.MaxInFlight),
		perPage: make(map[string]int),
	}
	hubOpts.Hooks = append(append([]wsbridge.Hooks(nil), hubOpts.Hooks...), wsbridge.Hooks{
		Connect:    r.onConnect,
		Disconnect: r.onDisconnect,
	})
	r.hub = wsbridge.NewHub(hubOpts)
	sub, err := nc.Subscribe(claimSubject(opts.Prefix), r.onClaim)
	if err != nil {
		r.hub.Close()
		return nil, fmt.Errorf("natsroute: subscribing to claims: %w", err)
	}
	r.claimSub = sub
	if keys != nil {
		if r.inbox, err = newInbox(nc); err != nil {
			sub.Unsubscribe()
			r.hub.Close()
			return nil, fmt.Errorf("natsroute: subscribing to replies: %w", err)
		}
	}
	r.status = nc.StatusChanged(nats.CONNECTED)
	r.wg.Add(2)
	go r.dispatch()
	go r.watch()
	return r, nil
}

func checkReplica(s string) error {
	if len(s) > maxReplicaLen {
		return fmt.Errorf("natsroute: replica name longer than %d bytes", maxReplicaLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '.' {
			return fmt.Errorf("natsroute: replica name %q: only printable ASCII without spaces or dots", s)
		}
	}
	return nil
}

// Hub returns the Router's Hub: mount it where the pages connect. Close
// the Router rather than the Hub.
func (r *Router) Hub() *wsbridge.Hub { return r.hub }

// Replica returns this replica's name.
func (r *Router) Replica() string { return r.opts.Replica }

// Close closes the Hub (its pages' pending sends fail, as with Hub.Close),
// then stops routing: unsubscribes, and waits for the requests it was
// serving to be answered. Sends through the Router fail with ErrClosed
// afterwards. It does not close the NATS connection. Close is idempotent.
func (r *Router) Close() error {
	if r.setClosed() {
		r.hub.Close() // the Disconnect hooks unsubscribe the pages
		r.stop()
	}
	r.wg.Wait()
	return nil
}

// Shutdown is Close for a deploy: it drains the Hub with Hub.Shutdown
// (Sends in progress finish, then the pages are closed with 1001 and
// reconnect, to another replica), then stops routing as Close does. Sends
// through the Router fail with ErrClosed from the start. If ctx ends
// first, it returns ctx.Err() after closing what is left.
func (r *Router) Shutdown(ctx context.Context) error {
	var err error
	if r.setClosed() {
		err = r.hub.Shutdown(ctx)
		r.hub.Close()
		r.stop()
	}
	r.wg.Wait()
	return err
}

func (r *Router) setClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.closed = true
	return true
}

// stop ends routing once the Hub is closed.
func (r *Router) stop() {
	r.mu.Lock()
	for id, o := range r.pages {
		o.sub.Unsubscribe()
		delete(r.pages, id)
	}
	r.mu.Unlock()
	r.claimSub.Unsubscribe()
	if r.inbox != nil {
		r.inbox.close()
	}
	r.nc.RemoveStatusListener(r.status)
	close(r.quit)
}

// onConnect subscribes to the page's subject, then claims the page.
func (r *Router) onConnect(ci wsbridge.ConnectInfo) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	o := r.pages[ci.ID]
	if o != nil && o.conn > ci.Conn {
		r.mu.Unlock()
		return // a newer local connection already took over
	}
	if o == nil {
		sub, err := r.nc.ChanQueueSubscribe(pageSubject(r.opts.Prefix, ci.ID), "owner", r.reqs)
		if err != nil {
			r.mu.Unlock()
			r.log.Warn("natsroute: page reachable from this replica only", "err", err)
			return
		}
		o = &owned{sub: sub}
		r.pages[ci.ID] = o
	}
	o.conn = ci.Conn
	o.key = claimKey{r.clock.stamp(), r.opts.Replica, ci.Conn}
	key := o.key
	r.mu.Unlock()
	r.announce(ci.ID, key)
}

// announce publishes a claim for page id.
func (r *Router) announce(id string, key claimKey) {
	data, _ := json.Marshal(claim{ID: id, Replica: key.replica, T: key.t, Conn: key.conn})
	if err := r.publish(claimSubject(r.opts.Prefix), data); err != nil {
		r.log.Warn("natsroute: could not announce a page; an older connection elsewhere stays open until NATS is back", "err", err)
	}
}

// reannounceAfter are the delays, after each reconnect to NATS, at which
// a replica announces its pages again: at once, then twice more, because
// a restarted server may not have its routes to the others yet.
var reannounceAfter = []time.Duration{0, time.Second, 5 * time.Second}

// watch announces every page of this Hub again after each reconnect to
// NATS: claims published while it was down were lost, and another replica
// may have taken a page over meanwhile (see onClaim).
func (r *Router) watch() {
	defer r.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	var next []time.Duration // the rest of reannounceAfter
	var last time.Duration
	for {
		select {
		case <-r.quit:
			return
		case _, ok := <-r.status:
			if !ok {
				return
			}
			next, last = reannounceAfter, 0
		case <-t.C:
		}
		for len(next) > 0 && next[0] == last {
			next = next[1:]
			r.announceAll()
		}
		if len(next) > 0 {
			t.Reset(next[0] - last)
			last = next[0]
		}
	}
}

func (r *Router) announceAll() {
	r.mu.Lock()
	claims := make(map[string]claimKey, len(r.pages))
	for id, o := range r.pages {
		claims[id] = o.key
	}
	r.mu.Unlock()
	for id, key := range claims {
		r.announce(id, key)
	}
}

// onDisconnect unsubscribes, unless a newer local connection holds the id.
func (r *Router) onDisconnect(di wsbridge.DisconnectInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.pages[di.ID]
	if o == nil || o.conn != di.Conn || r.hub.Connected(di.ID) {
		return
	}
	delete(r.pages, di.ID)
	o.sub.Unsubscribe()
}

// onClaim closes this Hub's connection for a page another replica claimed
// with a greater key, and answers a claim with a smaller key by announcing
// its own again, so that the older holder closes even if it missed the
// first announcement (claims are not stored anywhere).
func (r *Router) onClaim(m *nats.Msg) {
	// Unsubscribe does not wait for a running callback: Close waits here.
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
	defer r.wg.Done()
	data, sealer, ok := r.openClaim(m)
	if !ok {
		return
	}
	c, err := parseClaim(data)
	if err == nil && sealer != "" && c.Replica != sealer {
		err = errors.New("claim sealed by another replica")
	}
	if err != nil {
		r.log.Warn("natsroute: malformed claim", "err", err)
		return
	}
	if c.Replica == r.opts.Replica {
		return
	}
	if !r.clock.observe(c.T) {
		r.dropped.Add(1)
		r.log.Warn("natsroute: claim from a clock too far ahead, ignored", "replica", c.Replica)
		return
	}
	r.mu.Lock()
	o := r.pages[c.ID]
	if o == nil {
		r.mu.Unlock()
		return
	}
	cmp, conn, key := o.key.compare(c.key()), o.conn, o.key
	r.mu.Unlock()
	switch {
	case cmp < 0:
		if r.hub.Replace(c.ID, conn) {
			r.log.Info("natsroute: page taken over by another replica", "replica", c.Replica)
		}
	case cmp > 0:
		r.announce(c.ID, key)
	}
}

// dispatch hands each request to a goroutine of its own: the owning Hub
// paces each page, so a request may wait its turn for a while.
func (r *Router) dispatch() {
	defer r.wg.Done()
	for {
		select {
		case <-r.quit:
			return
		case m := <-r.reqs:
			r.serve(m)
		}
	}
}

func (r *Router) serve(sealed *nats.Msg) {
	m, sent, nonce, ok := r.openRequest(sealed)
	if !ok {
		return // forged, tampered with, replayed: counted, never answered
	}
	if m.Reply == "" {
		return // not a request: nobody to answer, so do not deliver
	}
	id, ok := pageID(r.opts.Prefix, m.Subject)
	reqID, deadline, err := parseRequest(m)
	if !ok || err != nil {
		r.log.Warn("natsroute: malformed request", "err", err)
		r.respond(m, newReply(statusInvalid, "natsroute: malformed request"))
		return
	}
	now := time.Now()
	replyBy := deadline // the caller's: it waits for an answer until then
	if limit := now.Add(r.opts.Timeout); deadline.After(limit) {
		deadline = limit // the owner's bound, whatever the caller asked for
	}
	if !now.Before(deadline) {
		return // its caller has given up: never deliver late
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.respond(m, newReply(statusClosed, ""))
		return
	}
	e, first := r.dd.begin(requestKey(id, reqID, m.Data), nonce, sent, deadline, now)
	if e == nil || !first && r.repeats >= r.opts.MaxInFlight {
		r.mu.Unlock()
		r.respond(m, newReply(statusBusy, "natsroute: replica at MaxInFlight"))
		return
	}
	if first {
		if busy := r.admit(id, len(m.Data)); busy != "" {
			r.dd.abort(e)
			r.mu.Unlock()
			r.respond(m, newReply(statusBusy, busy))
			return
		}
	} else {
		r.repeats++
	}
	r.wg.Add(1)
	r.mu.Unlock()
	if !first {
		go r.answerRepeat(m, e, deadline)
		return
	}
	go r.deliver(m, id, e, deadline, replyBy)
}

// deliver sends one request's message through the Hub and answers it.
// The send ends by deadline (the owner's bound); it is answered if the
// caller still waits (replyBy).
func (r *Router) deliver(m *nats.Msg, id string, e *entry, deadline, replyBy time.Time) {
	defer r.wg.Done()
	msg, err := assistant.Decode(m.Data)
	held := len(m.Data)
	m.Data = nil // msg is all that is held from here
	if err == nil {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err = r.hub.Sender(id).Send(ctx, msg)
		cancel()
	}
	reply := replyTo(err)
	status := reply.Header.Get(hdrStatus)
	sent := status != statusNotConnected && status != statusClosed && status != statusTooManyPending &&
		status != statusInvalid && status != statusTooLarge
	now := time.Now()
	r.mu.Lock()
	r.dd.finish(e, reply, sent, now)
	r.release(id, held)
	r.mu.Unlock()
	if now.Before(replyBy) {
		r.respond(m, reply)
	}
}

// answerRepeat answers a repeated request id with the first one's result,
// without sending again.
func (r *Router) answerRepeat(m *nats.Msg, e *entry, deadline time.Time) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		r.repeats--
		r.mu.Unlock()
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-e.done:
		r.respond(m, &nats.Msg{Header: e.reply.Header})
	case <-t.C:
	case <-r.quit:
	}
}

// admit counts a new request for page id with a message of n bytes
// against MaxPerPage and MaxHeldBytes, or returns why it cannot be
// served. r.mu is held.
func (r *Router) admit(id string, n int) (busy string) {
	switch {
	case r.perPage[id] >= r.opts.MaxPerPage:
		return "natsroute: page's replica at MaxPerPage requests for it"
	case r.held > 0 && r.held+n > r.opts.MaxHeldBytes:
		return "natsroute: page's replica at MaxHeldBytes"
	}
	r.perPage[id]++
	r.held += n
	return ""
}

// release undoes admit once the request is answered. r.mu is held.
func (r *Router) release(id string, n int) {
	if r.perPage[id]--; r.perPage[id] <= 0 {
		delete(r.perPage, id)
	}
	r.held -= n
}
