//go:build !js

package wsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// fakeHost records what fake pages post to it, like a workspace window.
type fakeHost struct {
	mu    sync.Mutex
	posts []post
}

type post struct {
	data string
	at   time.Time
}

// post records data and returns the time the host saw it.
func (h *fakeHost) post(data string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	at := time.Now()
	h.posts = append(h.posts, post{data, at})
	return at
}

func (h *fakeHost) wire() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([][]byte, len(h.posts))
	for i, p := range h.posts {
		out[i] = []byte(p.data)
	}
	return out
}

func (h *fakeHost) snapshot() []post {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]post(nil), h.posts...)
}

// fakePage is a Go stand-in for bridge.js: it dials the Hub, posts each
// message frame's data to its host at most once per id, at least interval
// apart, and acks it. With hold set it records message frames in held
// instead (no post, no ack), so tests control acks themselves.
type fakePage struct {
	ws       *websocket.Conn
	host     *fakeHost
	interval time.Duration
	hold     bool
	o        pageOpts

	mu       sync.Mutex
	held     []msgFrame
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

type pageOpts struct {
	origin   string // Origin header; "" for the Hub's own (a page on the Hub's host)
	noOrigin bool   // send no Origin header
	host     string // Host header; "" for the URL's
	header   http.Header
	interval time.Duration
	hold     bool
	client   *http.Client
	posted   map[uint64]bool // ids posted by this page's previous socket (a reconnect without reload); nil for a fresh page
	// beforePost and afterPost, if set, run in the page's read goroutine
	// around the post of each message. beforePost returning true drops the
	// frame unposted and unacked, as bridge.js does when its socket closes.
	beforePost func(data string) bool
	afterPost  func(data string)
}

// wsURL turns an httptest URL into the Hub's WebSocket URL for id.
func wsURL(base, id string) string {
	return strings.Replace(base, "http://", "ws://", 1) + "/ws?id=" + url.QueryEscape(id)
}

func dialPage(ctx context.Context, u string, host *fakeHost, o pageOpts) (*fakePage, *http.Response, error) {
	h := http.Header{}
	for k, v := range o.header {
		h[k] = v
	}
	switch {
	case o.noOrigin:
	case o.origin != "":
		h.Set("Origin", o.origin)
	default:
		h.Set("Origin", strings.Replace(strings.SplitN(u, "/ws", 2)[0], "ws://", "http://", 1))
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, HTTPClient: o.client, Host: o.host})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(8 * MaxMessageSize) // frames of the largest message, JSON-escaped
	if o.posted == nil {
		o.posted = map[uint64]bool{}
	}
	p := &fakePage{ws: ws, host: host, interval: o.interval, hold: o.hold, o: o, posted: o.posted, done: make(chan struct{})}
	go p.run()
	return p, resp, nil
}

func (p *fakePage) run() {
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
		if p.hold {
			p.mu.Lock()
			p.held = append(p.held, f)
			p.mu.Unlock()
			continue
		}
		p.deliver(f)
	}
}

// deliver posts f (unless its id was posted before) and acks it.
func (p *fakePage) deliver(f msgFrame) {
	if p.o.beforePost != nil && p.o.beforePost(f.Data) {
		return
	}
	p.mu.Lock()
	dup := p.posted[f.ID]
	if !dup {
		if wait := time.Until(p.lastPost.Add(p.interval)); wait > 0 {
			time.Sleep(wait)
		}
		// Space from the time the host saw the previous post, the
		// time the tests measure gaps with.
		p.lastPost = p.host.post(f.Data)
		p.posted[f.ID] = true
	}
	p.mu.Unlock()
	if !dup && p.o.afterPost != nil {
		p.o.afterPost(f.Data)
	}
	p.ack(f.ID)
}

func (p *fakePage) ack(id uint64) error {
	return p.write(fmt.Sprintf(`{"op":"ack","id":%d}`, id))
}

func (p *fakePage) write(s string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.ws.Write(ctx, websocket.MessageText, []byte(s))
}

// heldFrames waits until n message frames are held and returns them.
func (p *fakePage) heldFrames(ctx context.Context, n int) ([]msgFrame, error) {
	for {
		p.mu.Lock()
		h := append([]msgFrame(nil), p.held...)
		p.mu.Unlock()
		if len(h) >= n {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return h, ctx.Err()
		case <-p.done:
			return h, errors.New("page closed")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// closeStatus waits for the page's connection to end and returns the close
// code the Hub sent (-1 if none).
func (p *fakePage) closeStatus(ctx context.Context) websocket.StatusCode {
	select {
	case <-p.done:
		return websocket.CloseStatus(p.closeErr)
	case <-ctx.Done():
		return -2
	}
}

func (p *fakePage) close() {
	p.ws.CloseNow()
	<-p.done
}
