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
	// InsecureNoKey lets New run without Keys: requests, replies,
	// withdrawals and claims then travel in clear and unauthenticated, so
	// any client of the NATS account can read every message, fake a
	// delivery, cancel a Send, or close any page's socket with a forged
	// claim. Only for tests, or an account no one else can use.
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
// the NATS callback goroutine of its claim subscription, and a timer per
// page that just left; Close stops them all; its reply inbox's
// subscription outlives Close until the Sends waiting on it have ended
// (each by its context at the latest). It does not own the NATS
// connection: close that after the Router.
type Router struct {
	nc    *nats.Conn
	hub   *wsbridge.Hub
	opts  Options
	log   *slog.Logger
	clock hlc
	keys  *keyring     // nil: InsecureNoKey
	inbox *inbox       // replies to this Router's sealed requests
	moves atomic.Int64 // "moving" answers this Router's Sends got (tests read it)

	dropped atomic.Uint64 // see Dropped

	reqs       chan *nats.Msg // every page subscription delivers here
	claimSub   *nats.Subscription
	status     chan nats.Status // reconnects, to announce our pages again
	quit       chan struct{}
	dispatched chan struct{}    // closed when the dispatcher has answered its last request
	stopped    chan struct{}    // closed when routing has stopped (see stop)
	hooks      []wsbridge.Hooks // the caller's, for the Sends that went through NATS
	wg         sync.WaitGroup   // the dispatcher, request goroutines, running claim callbacks, a Shutdown's Hub.Close
	serving    sync.WaitGroup   // request goroutines: stop sends their answers before it returns

	mu      sync.Mutex
	closed  bool
	pages   map[string]*owned // pages of this Hub, by id
	dd      *dedupe
	repeats int                           // answerRepeat goroutines; at most MaxInFlight
	perPage map[string]int                // requests being served, by page id; at most MaxPerPage
	held    int                           // bytes of their messages; at most MaxHeldBytes
	running map[string]context.CancelFunc // requests being sent, by runKey: a withdrawal cancels
	moved   chan struct{}                 // closed and replaced when a leaving page's subscription ends
	sends   int                           // Sends of this Router in progress
	idle    chan struct{}                 // if not nil, closed when sends reaches 0
}

// owned is a page connected to this replica's Hub, or one that just left
// it (leaving): its subscription stays, answering "moving", until another
// replica claims the page or moveLinger passes. Dropping it at once would
// lose the requests NATS is routing to it at that moment (the caller
// would wait for its deadline and get an ambiguous ErrTimeout); once the
// new owner's subscription is known, the NATS server hands such requests
// to it instead.
type owned struct {
	conn    uint64 // the Hub's connection number
	key     claimKey
	sub     *nats.Subscription
	leaving *time.Timer // non-nil once the page has left: ends the linger
	// claimed: another replica has claimed the page with a greater key
	// since conn connected (its subscription is known, as its claim came
	// after it): when conn ends, the subscription ends at once.
	claimed bool
}

// moveLinger bounds how long a page's subscription outlives its
// connection when no other replica claims the page (it is gone for good).
const moveLinger = 3 * time.Second

// stopWait bounds each NATS round trip of stopping (the flushes that make
// sure every request sent to this replica has been received, then
// answered): Shutdown returns at most about twice that after its ctx.
const stopWait = time.Second

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
		nc:         nc,
		opts:       opts,
		log:        log,
		clock:      hlc{now: time.Now},
		keys:       keys,
		reqs:       make(chan *nats.Msg, requestBuffer),
		quit:       make(chan struct{}),
		dispatched: make(chan struct{}),
		stopped:    make(chan struct{}),
		hooks:      append([]wsbridge.Hooks(nil), hubOpts.Hooks...),
		pages:      make(map[string]*owned),
		dd:         newDedupe(opts.MaxInFlight),
		perPage:    make(map[string]int),
		running:    make(map[string]context.CancelFunc),
		moved:      make(chan struct{}),
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
// then stops routing: every request this replica received is answered
// (those it was not serving with "moving", which makes their callers look
// for the page again), and it unsubscribes. Sends through the Router fail
// with ErrClosed afterwards. Close waits for everything the Router
// started, including the Hub's closing handshakes (about 10 s at most for
// a dead peer). It does not close the NATS connection. Close is
// idempotent, and ends a Shutdown in progress at once.
func (r *Router) Close() error {
	r.setClosed()
	r.hub.Close() // the Disconnect hooks mark the pages leaving
	r.stop()
	r.wg.Wait()
	return nil
}

// Shutdown is Close for a deploy. Sends through the Router fail with
// ErrClosed from the start, and requests from other replicas are answered
// "moving" (their callers look for the page again). It drains the Hub
// with Hub.Shutdown (Sends in progress finish, then the pages are closed
// with 1001 and reconnect, to another replica), waits for the Sends made
// through the Router to end (their answers come over the NATS connection
// you close next), waits until another replica has claimed each page that
// left (or 3 s pass), then stops routing as Close does. It returns nil when all that is done.
//
// If ctx ends first, it closes what is left (as Hub.Shutdown does) and
// returns ctx.Err() after stopping routing, which takes at most about two
// NATS round trips (bounded by 1 s each), without waiting for the
// pages' closing handshakes: call Close to wait for those. A second call,
// or one during Close, waits for the first with its own ctx.
func (r *Router) Shutdown(ctx context.Context) error {
	if !r.setClosed() {
		select {
		case <-r.stopped:
			return nil
		default:
		}
		select {
		case <-r.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.wg.Add(1) // now, so that a concurrent Close waits for the goroutine below
	err := r.hub.Shutdown(ctx)
	r.waitSends(ctx) // the caller closes the NATS connection next: answers would be lost
	// The Hub's closing handshakes; Close waits for them.
	go func() {
		defer r.wg.Done()
		r.hub.Close()
	}()
	r.waitMoved(ctx)
	r.stop()
	if err == nil {
		err = ctx.Err()
	}
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

// beginSend counts a Send in, unless the Router is closed; endSend
// counts it out.
func (r *Router) beginSend() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.sends++
	return true
}

func (r *Router) endSend() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sends--; r.sends == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

// waitSends waits until no Send of this Router is in progress, or ctx
// ends.
func (r *Router) waitSends(ctx context.Context) {
	r.mu.Lock()
	if r.sends == 0 {
		r.mu.Unlock()
		return
	}
	if r.idle == nil {
		r.idle = make(chan struct{})
	}
	idle := r.idle
	r.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// waitMoved waits until no page is leaving (another replica claimed each,
// or its linger passed) or ctx ends. Pages still connected (ctx ended
// before the Hub closed them) do not count.
func (r *Router) waitMoved(ctx context.Context) {
	for {
		r.mu.Lock()
		leaving := 0
		for _, o := range r.pages {
			if o.leaving != nil {
				leaving++
			}
		}
		moved := r.moved
		r.mu.Unlock()
		if leaving == 0 {
			return
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return
		case <-r.stopped: // Close
			return
		}
	}
}

// stop ends routing once the Hub is closed (its first caller does the
// work; others wait for it). It drains the page subscriptions: NATS stops
// sending requests, and those already sent still reach r.reqs (the flush
// makes sure); the dispatcher answers each of them ("moving", as the
// Router is closed), and a second flush sends the answers before the
// caller closes the NATS connection.
func (r *Router) stop() {
	r.mu.Lock()
	first := r.pages != nil
	var subs []*nats.Subscription
	for _, o := range r.pages {
		if o.leaving != nil {
			o.leaving.Stop()
		}
		subs = append(subs, o.sub)
	}
	r.pages = nil
	r.mu.Unlock()
	if !first {
		<-r.stopped
		return
	}
	for _, sub := range subs {
		if sub.Drain() != nil {
			sub.Unsubscribe()
		}
	}
	r.claimSub.Unsubscribe()
	if r.inbox != nil {
		r.inbox.close()
	}
	r.nc.RemoveStatusListener(r.status)
	r.nc.FlushTimeout(stopWait)
	close(r.quit)
	<-r.dispatched
	r.serving.Wait() // the Hub is closed: its Sends end at once
	r.nc.FlushTimeout(stopWait)
	close(r.stopped)
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
	if o.leaving != nil { // back before another replica claimed it
		o.leaving.Stop()
		o.leaving = nil
	}
	o.conn = ci.Conn
	o.claimed = false
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

// onDisconnect marks the page leaving, unless a newer local connection
// holds the id: its subscription stays until another replica claims the
// page (see onClaim) or moveLinger passes.
func (r *Router) onDisconnect(di wsbridge.DisconnectInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.pages[di.ID]
	if o == nil || o.conn != di.Conn || o.leaving != nil || r.hub.Connected(di.ID) {
		return
	}
	if o.claimed { // replaced by another replica: NATS routes there now
		r.unsubscribe(di.ID, o)
		return
	}
	o.leaving = time.AfterFunc(moveLinger, func() { r.moveOut(di.ID, o) })
}

// moveOut ends page id's subscription if it is still o and leaving.
func (r *Router) moveOut(id string, o *owned) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pages[id] != o || o.leaving == nil {
		return
	}
	o.leaving.Stop()
	r.unsubscribe(id, o)
}

// unsubscribe ends page id's subscription o: the requests NATS has
// already handed to it are still answered ("moving"). r.mu is held.
func (r *Router) unsubscribe(id string, o *owned) {
	delete(r.pages, id)
	if o.sub.Drain() != nil {
		o.sub.Unsubscribe()
	}
	close(r.moved)
	r.moved = make(chan struct{})
}

// onClaim closes this Hub's connection for a page another replica claimed
// with a greater key, and answers a claim with a smaller key by announcing
// its own again, so that the older holder closes even if it missed the
// first announcement (claims are not stored anywhere).
func (r *Router) onClaim(m *nats.Msg) {
	// Unsubscribe does not wait for a running callback: Close waits here.
	// A Shutdown still hears claims (until stop), to end the subscriptions
	// of the pages it closed once they are claimed elsewhere.
	r.mu.Lock()
	if r.pages == nil {
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
	if o.leaving != nil {
		r.mu.Unlock()
		if cmp < 0 { // its new replica is subscribed: NATS routes there now
			r.moveOut(c.ID, o)
		}
		return
	}
	if cmp < 0 {
		o.claimed = true // see onDisconnect
	}
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
// paces each page, so a request may wait its turn for a while. Once
// stopping, it answers what is left in r.reqs.
func (r *Router) dispatch() {
	defer r.wg.Done()
	defer close(r.dispatched)
	for {
		select {
		case <-r.quit:
			for {
				select {
				case m := <-r.reqs:
					r.serve(m)
				default:
					return
				}
			}
		case m := <-r.reqs:
			r.serve(m)
		}
	}
}

// runKey identifies a request being sent, for its withdrawal.
func runKey(id, reqID string) string { return reqID + "\x00" + id }

func (r *Router) serve(raw *nats.Msg) {
	if r.isWithdrawal(raw) {
		r.withdrawn(raw)
		return
	}
	m, sealedAt, nonce, ok := r.openRequest(raw)
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
		r.respond(m, newReply(statusInvalid))
		return
	}
	now := time.Now()
	if limit := now.Add(r.opts.Timeout); deadline.After(limit) {
		deadline = limit // the owner's bound, whatever the caller asked for
	}
	if !now.Before(deadline) {
		// Never deliver late; its caller waits a little longer than this
		// deadline (replyMargin), so tell it nothing was sent.
		r.respond(m, expiredReply())
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.respond(m, movingReply())
		return
	}
	e, first := r.dd.begin(requestKey(id, reqID, m.Data), nonce, sealedAt, deadline, now)
	if e == nil || !first && r.repeats >= r.opts.MaxInFlight {
		r.mu.Unlock()
		r.respond(m, busyReply("natsroute: the page's replica is at its MaxInFlight; not sent"))
		return
	}
	if first {
		if busy := r.admit(id, len(m.Data)); busy != "" {
			r.dd.abort(e)
			r.mu.Unlock()
			r.respond(m, busyReply(busy))
			return
		}
	} else {
		r.repeats++
	}
	r.wg.Add(1)
	r.serving.Add(1)
	if !first {
		r.mu.Unlock()
		go r.answerRepeat(m, e, deadline)
		return
	}
	// The withdrawal of this request comes through r.reqs after it, so
	// its cancel is registered by then.
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	key := runKey(id, reqID)
	r.running[key] = cancel
	r.mu.Unlock()
	go r.deliver(ctx, m, id, key, e)
}

// withdrawn cancels the send of a request its caller withdrew, if this
// replica is serving it; the Hub stops it if the message has not been
// written yet, and the request's answer says which happened. A
// withdrawal that does not verify is dropped and counted (see
// openWithdrawal).
func (r *Router) withdrawn(raw *nats.Msg) {
	reqID, ok := r.openWithdrawal(raw)
	if !ok {
		return
	}
	id, ok := pageID(r.opts.Prefix, raw.Subject)
	if !ok || reqID == "" {
		return
	}
	r.mu.Lock()
	cancel := r.running[runKey(id, reqID)]
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// deliver sends one request's message through the Hub (until ctx ends:
// the owner's deadline, or a withdrawal) and answers it.
func (r *Router) deliver(ctx context.Context, m *nats.Msg, id, key string, e *entry) {
	defer r.wg.Done()
	defer r.serving.Done()
	msg, err := assistant.Decode(m.Data)
	held := len(m.Data)
	m.Data = nil // msg is all that is held from here
	if err == nil {
		err = r.hub.Sender(id).Send(ctx, msg)
	}
	reply, moving := replyTo(err)
	d := assistant.DeliveryOf(err)
	// Kept for dedupe unless certainly nothing reached the page's host: a
	// new attempt after "nothing sent" may be served again.
	sent := !moving && (d == assistant.Delivered || d == assistant.MaybeDelivered)
	now := time.Now()
	r.mu.Lock()
	if c := r.running[key]; c != nil {
		c()
		delete(r.running, key)
	}
	r.dd.finish(e, reply, sent, now)
	r.release(id, held)
	r.mu.Unlock()
	// Answered even past the deadline: the caller waits until its own,
	// replyMargin later (or longer, if Options.Timeout clamped it here).
	r.respond(m, reply)
}

// answerRepeat answers a repeated request with the first one's result,
// without sending again. It waits for that result even while stopping:
// the first one's send ends with the Hub, and stop waits for both.
func (r *Router) answerRepeat(m *nats.Msg, e *entry, deadline time.Time) {
	defer r.wg.Done()
	defer r.serving.Done()
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
	}
}

// admit counts a new request for page id with a message of n bytes
// against MaxPerPage and MaxHeldBytes, or returns why it cannot be
// served. r.mu is held.
func (r *Router) admit(id string, n int) (busy string) {
	switch {
	case r.perPage[id] >= r.opts.MaxPerPage:
		return "natsroute: the page's replica is at its MaxPerPage requests for it; not sent"
	case r.held > 0 && r.held+n > r.opts.MaxHeldBytes:
		return "natsroute: the page's replica is at its MaxHeldBytes; not sent"
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
