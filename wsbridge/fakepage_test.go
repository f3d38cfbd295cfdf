//go:build !js

package wsbridge

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// The fake page is wsbridgetest.Page, the one Go stand-in for bridge.js
// (natsroute's tests and users' tests use it too); these are the short
// names this package's tests use for it.

// fakeHost records what fake pages post to it, like a workspace window.
type fakeHost struct{ wsbridgetest.Host }

type post struct {
	data string
	at   time.Time
}

func (h *fakeHost) wire() [][]byte {
	ps := h.Posts()
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = []byte(p.Data)
	}
	return out
}

func (h *fakeHost) snapshot() []post {
	ps := h.Posts()
	out := make([]post, len(ps))
	for i, p := range ps {
		out[i] = post{p.Data, p.At}
	}
	return out
}

type msgFrame = wsbridgetest.Frame

type fakePage struct {
	*wsbridgetest.Page
	ws     *websocket.Conn
	done   <-chan struct{}
	posted map[uint64]bool
}

type pageOpts struct {
	origin     string // Origin header; "" for the Hub's own (a page on the Hub's host)
	noOrigin   bool   // send no Origin header
	host       string // Host header; "" for the URL's
	header     http.Header
	token      string // offered as bridge.js offers data-token
	interval   time.Duration
	hold       bool
	client     *http.Client
	posted     map[uint64]bool // ids posted by this page's previous socket; nil for a fresh page
	beforePost func(data string) bool
	afterPost  func(data string)
}

// wsURL turns an httptest URL into the Hub's WebSocket URL for id.
func wsURL(base, id string) string { return wsbridgetest.URL(base, id) }

func dialPage(ctx context.Context, u string, host *fakeHost, o pageOpts) (*fakePage, *http.Response, error) {
	if o.posted == nil {
		o.posted = map[uint64]bool{}
	}
	p, resp, err := wsbridgetest.Dial(ctx, u, &host.Host, wsbridgetest.Options{
		Origin: o.origin, NoOrigin: o.noOrigin, HostHeader: o.host, Header: o.header, Token: o.token,
		Interval: o.interval, Hold: o.hold, Client: o.client, Posted: o.posted,
		BeforePost: o.beforePost, AfterPost: o.afterPost,
	})
	if err != nil {
		return nil, resp, err
	}
	return &fakePage{Page: p, ws: p.Conn(), done: p.Done(), posted: o.posted}, resp, nil
}

func (p *fakePage) ack(id uint64) error { return p.Ack(id) }

func (p *fakePage) write(s string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.ws.Write(ctx, websocket.MessageText, []byte(s))
}

// heldFrames waits until n message frames are held and returns them.
func (p *fakePage) heldFrames(ctx context.Context, n int) ([]msgFrame, error) { return p.Held(ctx, n) }

// closeStatus waits for the page's connection to end and returns the close
// code the Hub sent (-1 if none).
func (p *fakePage) closeStatus(ctx context.Context) websocket.StatusCode { return p.CloseStatus(ctx) }

func (p *fakePage) close() { p.Close() }
