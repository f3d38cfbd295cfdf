//go:build !js

// Package fakepage is a test helper: a Go stand-in for wsbridge's
// bridge.js, for tests that need many pages without a browser. A Page dials
// a Hub, posts each message frame's data to its Host at most once per
// message id (remembering ids across reconnects, as bridge.js does within
// one page load), at least Interval apart, and acks it.
package fakepage

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Host records what pages post to it, like a workspace window. It is safe
// for concurrent use.
type Host struct {
	mu    sync.Mutex
	posts []Post
}

// Post is one message a Host received.
type Post struct {
	Data string
	At   time.Time
}

func (h *Host) post(data string) {
	h.mu.Lock()
	h.posts = append(h.posts, Post{data, time.Now()})
	h.mu.Unlock()
}

// Posts returns a copy of what the Host received, in order.
func (h *Host) Posts() []Post {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Post(nil), h.posts...)
}

// URL turns an http:// base URL into the WebSocket URL of the Hub mounted
// at /ws for page id.
func URL(base, id string) string {
	return strings.Replace(base, "http://", "ws://", 1) + "/ws?id=" + url.QueryEscape(id)
}

// Options configure a Page.
type Options struct {
	Interval time.Duration // least time between two posts; 0 posts at once
	// Posted holds the message ids a previous socket of the same page load
	// posted (a reconnect without reload); nil for a fresh page.
	Posted map[uint64]bool
	// Client, if not nil, dials the Hub (an in-memory network, say).
	Client *http.Client
}

// Page is one connected fake page.
type Page struct {
	ws   *websocket.Conn
	host *Host
	o    Options

	mu       sync.Mutex
	posted   map[uint64]bool
	lastPost time.Time

	done     chan struct{}
	closeErr error // why the read loop ended; valid after done
}

type msgFrame struct {
	Op   string `json:"op"`
	ID   uint64 `json:"id"`
	Data string `json:"data"`
}

// Dial connects a page to the Hub at u (see URL). The page's Origin is
// the Hub's own (a page served by the service itself).
func Dial(ctx context.Context, u string, host *Host, o Options) (*Page, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	origin := "http://" + pu.Host
	if pu.Scheme == "wss" {
		origin = "https://" + pu.Host
	}
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}, HTTPClient: o.Client})
	if err != nil {
		return nil, err
	}
	if o.Posted == nil {
		o.Posted = map[uint64]bool{}
	}
	p := &Page{ws: ws, host: host, o: o, posted: o.Posted, done: make(chan struct{})}
	go p.run()
	return p, nil
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
		p.deliver(f)
	}
}

// deliver posts f (unless its id was posted before) and acks it.
func (p *Page) deliver(f msgFrame) {
	p.mu.Lock()
	if !p.posted[f.ID] {
		if wait := time.Until(p.lastPost.Add(p.o.Interval)); wait > 0 {
			time.Sleep(wait)
		}
		p.lastPost = time.Now()
		p.host.post(f.Data)
		p.posted[f.ID] = true
	}
	p.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"op": "ack", "id": f.ID})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.ws.Write(ctx, websocket.MessageText, b) // a failed ack is the Hub's to notice
}

// Done is closed when the page's connection has ended.
func (p *Page) Done() <-chan struct{} { return p.done }

// CloseStatus returns the close code the Hub sent, -1 if none; call it
// after Done is closed.
func (p *Page) CloseStatus() websocket.StatusCode { return websocket.CloseStatus(p.closeErr) }

// PostedIDs returns the ids this page load has posted, for a reconnect
// without reload; call it after Done is closed.
func (p *Page) PostedIDs() map[uint64]bool { return p.posted }

// Close closes the page's socket at once and waits for its read loop.
func (p *Page) Close() {
	p.ws.CloseNow()
	<-p.done
}
