//go:build !js

package wsbridge

import (
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
	// "*.example.com". Set it to the Hub's public names: against DNS
	// rebinding, a page on an attacker's name that resolves to the Hub
	// has an Origin host equal to its Host, which the origin check allows.
	AllowedHosts []string

	// Authenticate is called with the upgrade request and the page id
	// after the id, Host and origin checks, before the page is registered;
	// a non-nil error refuses it with 403 (the error text is not sent to
	// the page, OnError gets it wrapped in ErrUnauthenticated). Read the
	// token there: the bridge script sends data-token as the "token" query
	// parameter, and cookies for the Hub's site come with the request.
	// [TokenSigner.Verify] is such a function. Without Authenticate the
	// Hub refuses every page, unless InsecureSkipAuthentication is set.
	Authenticate func(r *http.Request, id string) error

	// InsecureSkipAuthentication lets pages connect without Authenticate.
	// Anyone who can reach the Hub (from an allowed origin, or any program
	// when AllowMissingOrigin is set) can then take over any page id and
	// receive, and acknowledge, that page's messages.
	InsecureSkipAuthentication bool

	// OnError, if not nil, is called when a page is refused (matching
	// ErrBadID, ErrHostNotAllowed, ErrOriginNotAllowed, ErrUnauthenticated,
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

	nextID atomic.Uint64 // message ids, unique per Hub, never reused
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool
	conns  int // ServeHTTP calls past admission, bounded by MaxConnections
	pages  map[string]*conn

	testHookKilled func() // if set, run by kill just after it marked its conn dead
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
	return &Hub{
		opts:   opts,
		accept: websocket.AcceptOptions{OriginPatterns: append([]string(nil), opts.OriginPatterns...)}, // checkOrigin agrees
		pages:  make(map[string]*conn),
	}
}

// ServeHTTP upgrades a page's request to a WebSocket and serves it until
// the connection ends. The page names itself with the "id" query parameter
// (1 to MaxIDLen bytes of UTF-8, printable characters only: letters,
// marks, numbers, punctuation, symbols and spaces). Refusals are plain
// HTTP errors, checked in this order: 400 for a bad id, 421 for a Host not
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
		if status == http.StatusBadRequest {
			id = "" // never hand an invalid id to a callback
		}
		h.report(id, err)
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
		h.report(id, pageErr(id, ErrTooManyConnections))
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
		h.report(id, pageErr(id, err))
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
// ErrTooLarge, ErrNotConnected, ErrTooManyPending, ErrDisconnected,
// ErrAckTimeout, ErrRefused (a [*RefusedError] says why), ErrClosed, or
// one wrapping ctx.Err(). The bridge script paces posts at
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
