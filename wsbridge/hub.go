//go:build !js

package wsbridge

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
)

// Errors returned by Send, wrapped with the page id; match them with
// errors.Is. A Send that returns any error other than an invalid message,
// ErrNotConnected, ErrTooManyPending or ErrClosed may still have reached
// the host (the frame was written, the acknowledgement never came): do
// not resend blindly if a duplicate would hurt.
var (
	// ErrNotConnected: no page with that id is connected. Nothing was sent.
	ErrNotConnected = errors.New("page not connected")
	// ErrDisconnected: the page's connection closed (cut, replaced by a
	// reconnect, dropped for a protocol violation, hub closed) after the
	// message was written and before the page acknowledged it. The error
	// also wraps the cause.
	ErrDisconnected = errors.New("page disconnected before acknowledging")
	// ErrAckTimeout: the page did not acknowledge within Options.AckTimeout.
	ErrAckTimeout = errors.New("page did not acknowledge in time")
	// ErrTooManyPending: the page already has Options.MaxPending
	// unacknowledged messages. Nothing was sent.
	ErrTooManyPending = errors.New("too many unacknowledged messages for the page")
	// ErrClosed: the Hub is closed.
	ErrClosed = errors.New("hub closed")
	// ErrReplaced is the cause (wrapped by an ErrDisconnected error) when a
	// newer connection with the same page id took over.
	ErrReplaced = errors.New("replaced by a newer connection with the same page id")
	// ErrProtocol is matched by the errors passed to Options.OnError when a
	// page sends a frame the bridge protocol does not allow, and by the
	// cause of the sends that failed because of it.
	ErrProtocol = errors.New("page broke the bridge protocol")
)

// Defaults for the zero fields of Options.
const (
	DefaultAckTimeout   = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
	DefaultMaxPending   = 16
	DefaultMaxFrameSize = 1024
)

// StatusReplaced is the WebSocket close code a page receives when a newer
// connection presented the same id. The bridge script does not reconnect
// after it, so two pages with one id do not take turns.
const StatusReplaced websocket.StatusCode = 4000

// MaxIDLen is the longest page id a Hub accepts, in bytes.
const MaxIDLen = 256

// Options configure a Hub. The zero value is usable: same-host pages only,
// no authentication, the Default* limits.
type Options struct {
	// OriginPatterns lists the origins of component pages allowed to open
	// the WebSocket (the page's origin, not the workspace's), as in
	// websocket.AcceptOptions.OriginPatterns: host patterns such as
	// "component.example.com" or "*.example.com", or "https://host:port"
	// to match the scheme too. A request from the Hub's own host is always
	// allowed; any other origin gets 403.
	OriginPatterns []string

	// Authenticate, if not nil, is called with the upgrade request and the
	// page id before the page is registered; a non-nil error refuses it
	// with 403 (the error text is not sent to the page). Read the token
	// there: the bridge script sends data-token as the "token" query
	// parameter, and cookies for the Hub's site come with the request.
	Authenticate func(r *http.Request, id string) error

	// OnError, if not nil, is called with the page id when a page is
	// refused (bad id, authentication, origin) or dropped because it broke
	// the protocol (errors matching ErrProtocol). It is called from the
	// connection's goroutine and must not block. The Hub never logs.
	OnError func(id string, err error)

	AckTimeout   time.Duration // how long Send waits for the page's ack after writing; default DefaultAckTimeout
	WriteTimeout time.Duration // bound on writing one frame to a page; a page that does not read is dropped; default DefaultWriteTimeout
	IdleTimeout  time.Duration // a page that sends nothing (the bridge pings every 20 s) for this long is dropped; default DefaultIdleTimeout
	MaxPending   int           // unacknowledged messages per page; default DefaultMaxPending
	MaxFrameSize int64         // largest frame accepted from a page, in bytes; default DefaultMaxFrameSize
}

// Hub is the WebSocket endpoint that bridge pages connect to, and the
// registry of connected pages by id. It is an http.Handler; mount it at the
// URL the pages' data-url attribute names.
//
// A Hub is safe for concurrent use. Each connection is served by the
// goroutine net/http runs the request in (plus, while a connection is
// closing, one goroutine for the closing handshake); [Hub.Close] ends them
// all and waits for them.
type Hub struct {
	opts   Options
	accept websocket.AcceptOptions

	nextID atomic.Uint64 // message ids, unique per Hub, never reused; see firstMessageID
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool
	pages  map[string]*conn
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
	h := &Hub{
		opts:   opts,
		accept: websocket.AcceptOptions{OriginPatterns: append([]string(nil), opts.OriginPatterns...)},
		pages:  make(map[string]*conn),
	}
	h.nextID.Store(firstMessageID())
	return h
}

// ServeHTTP upgrades a page's request to a WebSocket and serves it until
// the connection ends. The page names itself with the "id" query parameter
// (1 to MaxIDLen bytes of UTF-8 without control characters). Refusals are
// plain HTTP errors: 400 for a bad id, 403 for a foreign origin or a failed
// Authenticate, 426 for a request that is not a WebSocket upgrade, 503 once
// the Hub is closed.
//
// A page that connects with the id of a connected page takes over: the
// older connection is closed with StatusReplaced and its unacknowledged
// sends fail with ErrDisconnected (wrapping ErrReplaced).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if err := checkID(id); err != nil {
		h.report(id, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if h.opts.Authenticate != nil {
		if err := h.opts.Authenticate(r, id); err != nil {
			h.report(id, fmt.Errorf("wsbridge: page %q: authentication failed: %w", id, err))
			http.Error(w, "wsbridge: authentication failed", http.StatusForbidden)
			return
		}
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "wsbridge: hub closed", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	ws, err := websocket.Accept(w, r, &h.accept) // writes its own error response
	if err != nil {
		h.report(id, fmt.Errorf("wsbridge: page %q: %w", id, err))
		return
	}
	ws.SetReadLimit(h.opts.MaxFrameSize)
	c := &conn{hub: h, id: id, ws: ws, pending: make(map[uint64]chan error)}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "hub closed")
		return
	}
	old := h.pages[id]
	h.pages[id] = c
	h.mu.Unlock()
	if old != nil {
		old.kill(StatusReplaced, "replaced", ErrReplaced)
	}
	c.serve()
}

// Sender returns the Sender for the page with the given id. The page need
// not be connected yet: each Send looks the id up, so a Sender outlives
// reconnects (a Send finding no page returns ErrNotConnected at once).
//
// Send encodes m with assistant.Encode, writes it to the page and returns
// nil only after the page has posted it to the host window and
// acknowledged it. Otherwise it returns an error: m's validation error,
// ErrNotConnected, ErrTooManyPending, ErrDisconnected, ErrAckTimeout,
// ErrClosed, or one wrapping ctx.Err(). The bridge script paces posts at
// least 1 s apart itself; wrap the Sender in assistant.RateLimited anyway,
// so callers wait their turn instead of piling up behind the page's queue:
//
//	s := assistant.RateLimited(hub.Sender("conv-1"))
func (h *Hub) Sender(id string) assistant.Sender { return &pageSender{hub: h, id: id} }

// Close closes every page connection (close code 1001, "going away"),
// fails their unacknowledged sends with ErrDisconnected (wrapping
// ErrClosed), refuses new connections and later sends with ErrClosed, and
// waits until every connection goroutine has returned (bounded by the
// websocket library's closing handshake timeouts, about 10 s for a dead
// peer). Close the Hub before the http.Server that serves it: the server
// does not track hijacked connections. Close is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	pages := make([]*conn, 0, len(h.pages))
	for _, c := range h.pages {
		pages = append(pages, c)
	}
	h.mu.Unlock()
	for _, c := range pages {
		c.kill(websocket.StatusGoingAway, "hub closed", ErrClosed)
	}
	h.wg.Wait()
	return nil
}

func (h *Hub) lookup(id string) (*conn, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return nil, ErrClosed
	}
	c := h.pages[id]
	if c == nil {
		return nil, ErrNotConnected
	}
	return c, nil
}

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	if h.pages[c.id] == c {
		delete(h.pages, c.id)
	}
	h.mu.Unlock()
}

func (h *Hub) report(id string, err error) {
	if h.opts.OnError != nil {
		h.opts.OnError(id, err)
	}
}

func checkID(id string) error {
	switch {
	case id == "":
		return errors.New(`wsbridge: missing page id (query parameter "id")`)
	case len(id) > MaxIDLen:
		return fmt.Errorf("wsbridge: page id longer than %d bytes", MaxIDLen)
	case !utf8.ValidString(id):
		return errors.New("wsbridge: page id is not valid UTF-8")
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return errors.New("wsbridge: page id contains a control character")
		}
	}
	return nil
}
