//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
)

// Defaults for the zero fields of Options.
const (
	DefaultAckTimeout   = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
	DefaultMaxPending   = 16
	DefaultMaxFrameSize = 1024
	// DefaultMaxConnections bounds the pages connected at once (each costs
	// about 25 KiB, see the package doc's Limits).
	DefaultMaxConnections = 10000
)

// MaxMessageSize is the largest encoded message (assistant.Encode's
// bytes) a Hub sends; Send refuses a larger one with ErrTooLarge before
// writing anything. The bridge script refuses larger ones too. It is
// assistant.MaxMessageSize, the limit of Encode and Decode.
const MaxMessageSize = assistant.MaxMessageSize

// StatusReplaced is the WebSocket close code a page receives when a newer
// connection presented the same id. The bridge script does not reconnect
// after it, so two pages with one id do not take turns.
const StatusReplaced websocket.StatusCode = 4000

// MaxIDLen is the longest page id a Hub accepts, in bytes.
const MaxIDLen = 256

// Options configure a Hub. The zero value is the safe setup, and refuses
// every page: set Authenticate (a [TokenSigner]'s Verify method does).
// Then a page connects only from its Hub's own host or OriginPatterns,
// with an Origin header (as every browser sends), and the Default* limits
// apply.
type Options struct {
	// OriginPatterns lists the origins of component pages allowed to open
	// the WebSocket (the page's origin, not the workspace's), as in
	// websocket.AcceptOptions.OriginPatterns: host patterns such as
	// "component.example.com" or "*.example.com", or "https://host:port"
	// to match the scheme too. A request from the Hub's own host (Origin
	// host equal to Host) is always allowed; any other origin gets 403.
	OriginPatterns []string

	// AllowMissingOrigin accepts upgrade requests without an Origin
	// header. Browsers always send one, so only programs omit it; they
	// still need Authenticate's approval.
	AllowMissingOrigin bool

	// AllowedHosts, if not empty, lists the Host header values the Hub
	// answers (others get 421): names or IP addresses, with or without
	// ":port" (without, any port matches), or patterns such as
	// "*.example.com" ("*" is the only wildcard). Set it to the Hub's public names: against DNS
	// rebinding, a page on an attacker's name that resolves to the Hub
	// has an Origin host equal to its Host, which the origin check allows.
	AllowedHosts []string

	// Authenticate is called with the upgrade request and the page id
	// after the id, Host and origin checks, before the page is registered;
	// a non-nil error refuses it with 403 (the error text is not sent to
	// the page, OnError gets it wrapped in ErrUnauthenticated). Read the
	// token there with [RequestToken]: the bridge script offers its token
	// in the Sec-WebSocket-Protocol header, never in the URL (a request
	// with a "token" query parameter is refused before Authenticate, see
	// ErrTokenInURL); cookies for the Hub's site come with the request.
	// [TokenSigner.Verify] is such a function. Without Authenticate the
	// Hub refuses every page, unless InsecureSkipAuthentication is set.
	Authenticate func(r *http.Request, id string) error

	// InsecureSkipAuthentication lets pages connect without Authenticate.
	// Anyone who can reach the Hub (from an allowed origin, or any program
	// when AllowMissingOrigin is set) can then take over any page id and
	// receive, and acknowledge, that page's messages.
	InsecureSkipAuthentication bool

	// OnError, if not nil, is called when a page is refused (matching
	// ErrBadID, ErrTokenInURL, ErrHostNotAllowed, ErrOriginNotAllowed, ErrUnauthenticated,
	// ErrTooManyConnections, or the websocket library's handshake errors)
	// or dropped because it broke the protocol (matching ErrProtocol),
	// with the page id, or "" when the id itself was refused: ids are
	// validated before any callback, and errors quote them. It is called
	// from the connection's goroutine and must not block. The Hub never
	// logs.
	OnError func(id string, err error)

	// MaxConnections bounds the pages connected at once (counting
	// upgrades in progress); past it, upgrades get 503 and connected
	// pages are unaffected. Default DefaultMaxConnections.
	MaxConnections int

	AckTimeout   time.Duration // how long Send waits for the page's ack after writing; default DefaultAckTimeout
	WriteTimeout time.Duration // bound on writing one frame to a page; a page that does not read is dropped; default DefaultWriteTimeout
	IdleTimeout  time.Duration // a page that sends nothing (the bridge pings every 20 s) for this long is dropped; default DefaultIdleTimeout
	MaxPending   int           // unacknowledged messages per page; default DefaultMaxPending
	MaxFrameSize int64         // largest frame accepted from a page, in bytes; default DefaultMaxFrameSize

	// Hooks are called for connections, Sends and violations, each entry
	// in order; see [Hooks] for when and on which goroutine.
	Hooks []Hooks

	// Logger, if not nil, receives the Hub's logs: connections at Info,
	// Sends at Debug, refusals and protocol violations at Warn. Page ids
	// are logged quoted; message content never is. Nil discards.
	Logger *slog.Logger

	// Pacing configures the assistant.RateLimited Sender the Hub keeps for
	// each connected page (see Hub.Sender). The default is
	// assistant.RateLimited's: one message per assistant.DefaultInterval
	// plus assistant.DefaultMargin. Set assistant.WithInterval to match a
	// stricter host (and the bridge's data-interval-ms).
	Pacing []assistant.LimitOption

	// NoPacing turns the Hub's pacing off: concurrent Sends to one page
	// are all written at once and queue in the page (which still posts
	// them at least 1 s apart) against AckTimeout and MaxPending. For
	// tests and benchmarks of the Hub itself.
	NoPacing bool
}

// Hub is the WebSocket endpoint that bridge pages connect to, and the
// registry of connected pages by id. It is an http.Handler; mount it at the
// URL the pages' data-url attribute names.
//
// A Hub is safe for concurrent use. Each connection is served by the
// goroutine net/http runs the request in (plus, while a connection is
// closing, one goroutine for its Disconnect hooks and the closing
// handshake); [Hub.Close] ends them all and waits for them.
type Hub struct {
	opts   Options
	accept websocket.AcceptOptions
	log    *slog.Logger

	nextID    atomic.Uint64 // message ids, unique per Hub, never reused; see firstMessageID
	nextConn  atomic.Uint64 // connection numbers, likewise
	wg        sync.WaitGroup
	active    atomic.Int64  // Sends past the lookup; incremented only under mu while !closed
	drained   chan struct{} // closed once closed is set and active is 0
	drainOnce sync.Once

	inflight atomic.Int64
	outcomes [numOutcomes]atomic.Uint64
	classes  [numClasses]atomic.Uint64 // Sends by assistant.DeliveryOf
	acks     latencies

	mu      sync.RWMutex
	closed  bool                     // Close or Shutdown began: no new connections or Sends
	done    chan struct{}            // closed when closed is set
	conns   int                      // ServeHTTP calls past admission, bounded by MaxConnections
	pages   map[string]*conn         // registered connections by page id
	leaving map[string]*conn         // by page id: the last unregistered connection, until its Disconnect hooks returned
	waiting map[string]*connectWaits // WaitConnected calls by page id

	testHookKilled func() // if set, run by kill just after it marked its conn dead
}

// connectWaits is closed when a page with its id registers.
type connectWaits struct {
	ch chan struct{}
	n  int // WaitConnected calls waiting on ch
}

// NewHub returns a Hub configured by opts.
func NewHub(opts Options) *Hub {
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.MaxFrameSize <= 0 {
		opts.MaxFrameSize = DefaultMaxFrameSize
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	opts.Hooks = append([]Hooks(nil), opts.Hooks...)
	opts.Pacing = append([]assistant.LimitOption(nil), opts.Pacing...)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		opts:    opts,
		accept:  websocket.AcceptOptions{OriginPatterns: append([]string(nil), opts.OriginPatterns...), Subprotocols: []string{Subprotocol}}, // checkOrigin agrees; the token entry is never selected, so never echoed
		log:     log,
		done:    make(chan struct{}),
		drained: make(chan struct{}),
		pages:   make(map[string]*conn),
		leaving: make(map[string]*conn),
		waiting: make(map[string]*connectWaits),
	}
	h.nextID.Store(firstMessageID())
	return h
}

// ServeHTTP upgrades a page's request to a WebSocket and serves it until
// the connection ends. The page names itself with the "id" query parameter
// (1 to MaxIDLen bytes of UTF-8, printable characters only: letters,
// marks, numbers, punctuation, symbols and spaces). Refusals are plain
// HTTP errors, checked in this order: 400 for a bad id or a "token" query
// parameter (ErrTokenInURL), 421 for a Host not
// in Options.AllowedHosts, 403 for a missing or foreign Origin, 403 when
// Authenticate refuses (or is not set), 503 once the Hub is closed or has
// Options.MaxConnections connections, 426 for a request that is not a
// WebSocket upgrade.
//
// A page that connects with the id of a connected page takes over: the
// older connection is closed with StatusReplaced and its unacknowledged
// sends fail with ErrDisconnected (wrapping ErrReplaced).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if status, err := h.admit(r, id); err != nil {
		if errors.Is(err, ErrBadID) {
			id = "" // never hand an invalid id to a callback
		}
		h.refuse(id, err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "wsbridge: hub closed", http.StatusServiceUnavailable)
		return
	}
	if h.conns >= h.opts.MaxConnections {
		h.mu.Unlock()
		h.refuse(id, pageErr(id, ErrTooManyConnections))
		http.Error(w, "wsbridge: too many connections", http.StatusServiceUnavailable)
		return
	}
	h.conns++
	h.wg.Add(1)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.conns--
		h.mu.Unlock()
		h.wg.Done()
	}()

	ws, err := websocket.Accept(w, r, &h.accept) // writes its own error response
	if err != nil {
		h.refuse(id, pageErr(id, err))
		return
	}
	ws.SetReadLimit(h.opts.MaxFrameSize)
	c := h.newConn(id, ws)

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		c.stop()
		ws.Close(websocket.StatusGoingAway, "hub closed")
		return
	}
	old := h.pages[id]
	if old == nil {
		old = h.leaving[id] // ended by itself; its Disconnect hooks may still run
	}
	h.pages[id] = c
	if w := h.waiting[id]; w != nil {
		close(w.ch)
		delete(h.waiting, id)
	}
	h.mu.Unlock()
	if old != nil {
		// No effect if old is already dead; either way, keep the hook
		// order per id: old Disconnect, then new Connect.
		old.kill(StatusReplaced, "replaced", ErrReplaced)
		<-old.disconnected
	}
	info := ConnectInfo{ID: id, Conn: c.num, RemoteAddr: r.RemoteAddr, Time: time.Now()}
	h.logConnect(info)
	h.hookConnect(info)
	close(c.connected)
	c.serve()
}

// Sender returns the Sender for the page with the given id. The page need
// not be connected yet: each Send looks the id up, so a Sender outlives
// reconnects (a Send finding no page returns ErrNotConnected at once; so
// does one whose id no page could have, matching ErrBadID too, and its hooks
// and logs see "" instead of that id).
//
// Send encodes m with assistant.Encode, waits for the page's turn, writes
// it to the page and returns nil only after the page has posted it to the
// host window and acknowledged it. Otherwise it returns an error: m's
// validation error, ErrTooLarge, ErrNotConnected, ErrTooManyPending,
// ErrDisconnected, ErrAckTimeout, ErrRefused (a [*RefusedError] says why),
// ErrClosed, or one wrapping ctx.Err() (or context.DeadlineExceeded, at
// once, when ctx's deadline falls before the page's turn).
//
// assistant.DeliveryOf tells what an error means for the message; use it
// rather than the sentinels to decide whether to send again. A ctx that
// ends before the message is written whole (checked first, waiting for
// the turn, a turn past the deadline, interrupted while writing) is
// NotDelivered; one that ends while waiting for the ack is MaybeDelivered,
// as are ErrDisconnected and ErrAckTimeout. ErrClosed, ErrNotConnected
// and ErrTooManyPending are NotDelivered; invalid messages, ErrTooLarge,
// refusals and an id no page can have are Rejected.
//
// Sends are paced per page, in the Hub: while a page is connected the Hub
// keeps one assistant.RateLimited Sender for it (see Options.Pacing), so
// Sends to one page from any number of goroutines and Sender values take
// turns in arrival order, each starting at least the interval plus the
// margin after the previous one returned. A reconnect starts a new turn
// order; Sends still waiting for the old connection's turn fail with
// ErrNotConnected. There is no need to wrap the Sender in
// assistant.RateLimited; doing it anyway does not double the spacing (both
// count from the same return), it only adds a second queue in front.
func (h *Hub) Sender(id string) assistant.Sender { return &pageSender{hub: h, id: id} }

// Connected reports whether a page with the given id is connected now.
func (h *Hub) Connected(id string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.pages[id] != nil
}

// WaitConnected returns nil as soon as a page with the given id is
// connected (at once if it is), ctx.Err() if ctx ends first, ErrClosed if
// the Hub closes or shuts down first, or the id's validation error for an
// id no page can have.
func (h *Hub) WaitConnected(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	h.mu.Lock()
	if h.pages[id] != nil {
		h.mu.Unlock()
		return nil
	}
	if h.closed {
		h.mu.Unlock()
		return pageErr(id, ErrClosed)
	}
	w := h.waiting[id]
	if w == nil {
		w = &connectWaits{ch: make(chan struct{})}
		h.waiting[id] = w
	}
	w.n++
	h.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-h.done:
		return pageErr(id, ErrClosed)
	case <-ctx.Done():
		h.mu.Lock()
		if w.n--; w.n == 0 && h.waiting[id] == w {
			delete(h.waiting, id)
		}
		h.mu.Unlock()
		return ctx.Err()
	}
}

// Replace closes page id's connection number conn (see ConnectInfo.Conn)
// the way a newer connection with the same id would: close code
// StatusReplaced (the bridge does not reconnect), its pending Sends fail
// with ErrDisconnected wrapping ErrReplaced. It reports whether that
// connection was still registered. A different connection for id is not
// touched. It is for routers that learn of a newer connection for the id
// elsewhere (another replica).
func (h *Hub) Replace(id string, conn uint64) bool {
	h.mu.RLock()
	c := h.pages[id]
	h.mu.RUnlock()
	if c == nil || c.num != conn {
		return false
	}
	return c.kill(StatusReplaced, "replaced", ErrReplaced)
}

// Close closes every page connection at once (close code 1001, "going
// away"), fails their unacknowledged sends with ErrDisconnected (wrapping
// ErrClosed), refuses new connections and later sends with ErrClosed, and
// waits until every connection goroutine has returned (bounded by the
// websocket library's closing handshake timeouts, about 10 s for a dead
// peer). Close the Hub before the http.Server that serves it: the server
// does not track hijacked connections. Close is idempotent; after a
// Shutdown it waits for what Shutdown left running.
func (h *Hub) Close() error {
	if h.setClosed() {
		h.log.Info("wsbridge: closing")
	}
	for _, c := range h.registered() {
		c.kill(websocket.StatusGoingAway, "hub closed", ErrClosed)
	}
	h.wg.Wait()
	return nil
}

// Shutdown drains the Hub for a deploy: it refuses new connections (503)
// and new Sends (ErrClosed) at once, lets the Sends in progress finish
// (including those waiting for their page's turn), then closes every page
// with 1001 (going away; the bridge reconnects, possibly to another
// replica) and waits for the connections to end. It returns nil when all
// that is done.
//
// If ctx ends first, Shutdown closes what is left as Close does (pending
// Sends fail with ErrDisconnected wrapping ErrClosed, Sends waiting for a
// turn with ErrClosed) and returns ctx.Err() without waiting for the
// closing handshakes; call Close to wait for them.
func (h *Hub) Shutdown(ctx context.Context) error {
	if h.setClosed() {
		h.log.Info("wsbridge: shutting down", "pages", h.Stats().Pages, "in_flight", h.inflight.Load())
	}
	if h.active.Load() == 0 {
		h.drainOnce.Do(func() { close(h.drained) })
	}
	select {
	case <-h.drained:
	case <-ctx.Done():
	}
	for _, c := range h.registered() {
		c.kill(websocket.StatusGoingAway, "going away", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ended := make(chan struct{})
	go func() { h.wg.Wait(); close(ended) }() // ends with the connections, which Close bounds
	select {
	case <-ended:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setClosed marks the Hub closed and reports whether this call did it.
func (h *Hub) setClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.closed = true
	close(h.done)
	return true
}

func (h *Hub) registered() []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	pages := make([]*conn, 0, len(h.pages))
	for _, c := range h.pages {
		pages = append(pages, c)
	}
	return pages
}

func (h *Hub) lookup(id string) (*conn, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.lookupLocked(id)
}

// lookupLocked is lookup for a caller holding h.mu.
func (h *Hub) lookupLocked(id string) (*conn, error) {
	if h.closed {
		return nil, ErrClosed
	}
	c := h.pages[id]
	if c == nil {
		return nil, ErrNotConnected
	}
	return c, nil
}

// startSend looks id up for a Send; on success the caller must call
// endSend when the Send ends.
func (h *Hub) startSend(id string) (*conn, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	c, err := h.lookupLocked(id)
	if err != nil {
		return nil, err
	}
	h.active.Add(1)
	return c, nil
}

func (h *Hub) endSend() {
	if h.active.Add(-1) != 0 {
		return
	}
	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		h.drainOnce.Do(func() { close(h.drained) })
	}
}

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	if h.pages[c.id] == c {
		delete(h.pages, c.id)
		h.leaving[c.id] = c // a newer connection's Connect waits for c's Disconnect
	}
	h.mu.Unlock()
}

// disconnected forgets c once its Disconnect hooks returned.
func (h *Hub) disconnected(c *conn) {
	h.mu.Lock()
	if h.leaving[c.id] == c {
		delete(h.leaving, c.id)
	}
	h.mu.Unlock()
}

// refuse reports a refused connection request.
func (h *Hub) refuse(id string, err error) {
	h.violation(id, err, "wsbridge: connection refused")
}

// violation reports a refusal or a protocol violation to OnError, the
// hooks and the log.
func (h *Hub) violation(id string, err error, msg string) {
	if h.opts.OnError != nil {
		h.opts.OnError(id, err)
	}
	h.hookViolation(ViolationInfo{ID: id, Err: err})
	h.log.Warn(msg, "page", quoteID(id), "err", err)
}
