//go:build !js

package wsbridgetest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/imworkspace/assistant"
)

// Host records what pages post to it, as the workspace window would see
// them. It is safe for concurrent use.
type Host struct {
	mu    sync.Mutex
	posts []Post
}

// Post is one message a Host received: the wire string and when.
type Post struct {
	Data string
	At   time.Time
}

// post records data and returns the time the host saw it.
func (h *Host) post(data string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	at := time.Now()
	h.posts = append(h.posts, Post{data, at})
	return at
}

// Posts returns a copy of what the Host received, in order.
func (h *Host) Posts() []Post {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Post(nil), h.posts...)
}

// Frame is a message frame the Hub sent a page: the message id it must be
// acknowledged with, and the wire string.
type Frame struct {
	ID   uint64
	Data string
}

// Options configure a Page. The zero value is a fresh page served from the
// Hub's own origin that posts and acknowledges every message at once.
type Options struct {
	// Origin is the Origin header; "" sends the Hub's own origin (a page
	// served by the service itself) unless NoOrigin is set.
	Origin   string
	NoOrigin bool
	// HostHeader overrides the Host header; "" uses the URL's.
	HostHeader string
	// Token, if not "", is offered as bridge.js offers data-token: in the
	// Sec-WebSocket-Protocol header, as "wsbridge.token." followed by the
	// token, after the "wsbridge" protocol the Hub selects
	// (wsbridge.TokenProtocolPrefix and wsbridge.Subprotocol).
	Token string
	// Header holds further request headers. A Sec-WebSocket-Protocol
	// header here is replaced when Token is set.
	Header http.Header
	// Interval is the least time between two posts, counted from when the
	// Host saw the previous one; 0 posts at once.
	Interval time.Duration
	// Hold keeps message frames instead of posting them: no post, no ack.
	// Read them with Held and acknowledge with Ack.
	Hold bool
	// Client, if not nil, dials the Hub (a Listener's Client, say).
	Client *http.Client
	// Posted holds the ids a previous socket of the same page load posted
	// (a reconnect without reload: see Page.PostedIDs); nil for a fresh
	// page. The Page records into it.
	Posted map[uint64]bool
	// BeforePost and AfterPost, if set, run on the page's read goroutine
	// around the post of each message. BeforePost returning true drops the
	// frame unposted and unacknowledged, as bridge.js does when its socket
	// is closing.
	BeforePost func(data string) bool
	AfterPost  func(data string)
}

// Page is a Go stand-in for wsbridge's bridge.js, for tests that need many
// pages, or faults, without a browser: it posts each message frame's data
// to its Host at most once per message id (remembering ids across
// reconnects, as bridge.js does within one page load) and acknowledges it.
// It does not check the message or refuse anything; a Page is not a
// conformance test of bridge.js. Its methods are safe for concurrent use.
type Page struct {
	ws   *websocket.Conn
	host *Host
	o    Options

	mu       sync.Mutex
	held     []Frame
	posted   map[uint64]bool
	lastPost time.Time

	done     chan struct{}
	closeErr error // why the read loop ended; valid after done
}

// URL turns a server's http:// (or https://) base URL into the WebSocket
// URL of a Hub mounted at /ws, for page id.
func URL(base, id string) string {
	base = strings.Replace(base, "https://", "wss://", 1)
	base = strings.Replace(base, "http://", "ws://", 1)
	return base + "/ws?id=" + url.QueryEscape(id)
}

// Dial connects a page to the Hub at u (see URL) and starts its read
// loop; Close stops it. On a refused handshake it returns the server's
// response with the error, as websocket.Dial does.
func Dial(ctx context.Context, u string, host *Host, o Options) (*Page, *http.Response, error) {
	if host == nil {
		return nil, nil, errors.New("wsbridgetest: Dial with a nil Host")
	}
	h := http.Header{}
	for k, v := range o.Header {
		h[k] = v
	}
	switch {
	case o.NoOrigin:
	case o.Origin != "":
		h.Set("Origin", o.Origin)
	default:
		pu, err := url.Parse(u)
		if err != nil {
			return nil, nil, err
		}
		scheme := "http://"
		if pu.Scheme == "wss" {
			scheme = "https://"
		}
		h.Set("Origin", scheme+pu.Host)
	}
	dopts := &websocket.DialOptions{HTTPHeader: h, HTTPClient: o.Client, Host: o.HostHeader}
	if o.Token != "" {
		dopts.Subprotocols = []string{"wsbridge", "wsbridge.token." + o.Token}
	}
	ws, resp, err := websocket.Dial(ctx, u, dopts)
	if err != nil {
		return nil, resp, err
	}
	// A frame carries the largest message JSON-escaped once more.
	ws.SetReadLimit(8 * assistant.MaxMessageSize)
	if o.Posted == nil {
		o.Posted = map[uint64]bool{}
	}
	p := &Page{ws: ws, host: host, o: o, posted: o.Posted, done: make(chan struct{})}
	go p.run()
	return p, resp, nil
}

type msgFrame struct {
	Op   string `json:"op"`
	ID   uint64 `json:"id"`
	Data string `json:"data"`
}

func (p *Page) run() {
	defer close(p.done)
	for {
		_, data, err := p.ws.Read(context.Background())
		if err != nil {
			p.closeErr = err
			return
		}
		var f msgFrame
		if err := json.Unmarshal(data, &f); err != nil || f.Op != "msg" {
			continue
		}
		if p.o.Hold {
			p.mu.Lock()
			p.held = append(p.held, Frame{ID: f.ID, Data: f.Data})
			p.mu.Unlock()
			continue
		}
		p.deliver(f)
	}
}

// deliver posts f (unless its id was posted before) and acknowledges it.
func (p *Page) deliver(f msgFrame) {
	if p.o.BeforePost != nil && p.o.BeforePost(f.Data) {
		return
	}
	p.mu.Lock()
	dup := p.posted[f.ID]
	if !dup {
		if wait := time.Until(p.lastPost.Add(p.o.Interval)); wait > 0 {
			time.Sleep(wait)
		}
		p.lastPost = p.host.post(f.Data)
		p.posted[f.ID] = true
	}
	p.mu.Unlock()
	if !dup && p.o.AfterPost != nil {
		p.o.AfterPost(f.Data)
	}
	p.Ack(f.ID) // a failed ack is the Hub's to notice
}

// Ack acknowledges message id, as bridge.js does after posting it.
func (p *Page) Ack(id uint64) error {
	return p.write(`{"op":"ack","id":` + strconv.FormatUint(id, 10) + `}`)
}

func (p *Page) write(s string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.ws.Write(ctx, websocket.MessageText, []byte(s))
}

// Held waits until n message frames are held (Options.Hold) and returns
// them all, or what it has with ctx's error, or an error once the page's
// connection has ended.
func (p *Page) Held(ctx context.Context, n int) ([]Frame, error) {
	for {
		p.mu.Lock()
		h := append([]Frame(nil), p.held...)
		p.mu.Unlock()
		if len(h) >= n {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return h, ctx.Err()
		case <-p.done:
			return h, errors.New("wsbridgetest: page closed")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Conn returns the page's socket, for tests that write frames of their
// own (hostile ones, say) or close it abruptly.
func (p *Page) Conn() *websocket.Conn { return p.ws }

// Done is closed when the page's connection has ended.
func (p *Page) Done() <-chan struct{} { return p.done }

// CloseStatus waits for the page's connection to end and returns the close
// code the Hub sent: -1 if none, -2 if ctx ended first.
func (p *Page) CloseStatus(ctx context.Context) websocket.StatusCode {
	select {
	case <-p.done:
		return websocket.CloseStatus(p.closeErr)
	case <-ctx.Done():
		return -2
	}
}

// PostedIDs returns the ids this page load has posted, to pass as
// Options.Posted when it reconnects without a reload; call it after Done is
// closed.
func (p *Page) PostedIDs() map[uint64]bool { return p.posted }

// Close closes the page's socket at once and waits for its read loop.
func (p *Page) Close() {
	p.ws.CloseNow()
	<-p.done
}
