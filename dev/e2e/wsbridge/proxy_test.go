package wsbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// proxy stands between the bridge and the Hub, as a load balancer does,
// passing frames through (the protocol is in wsbridge's frame.go and
// bridge.js), so that a test can cut the connection the way a network or a
// server does (1001, going away) and can replace what the Hub sends with
// frames the Hub itself would never write.
type proxy struct {
	t        testing.TB
	upstream string
	srv      *httptest.Server

	mu       sync.Mutex
	live     []*proxied
	rewrites []string // data for the next msg frames, in order
	cutNext  bool     // cut 20 ms after the next msg frame
	dropNext bool     // swallow the next msg frame and cut at once
	cuts     int
	wg       sync.WaitGroup
}

type proxied struct{ down, up *websocket.Conn }

func newProxy(t testing.TB, upstream string) *proxy {
	p := &proxy{t: t, upstream: upstream}
	p.srv = httptest.NewServer(p)
	t.Cleanup(func() {
		p.mu.Lock()
		for _, c := range p.live {
			c.close(websocket.StatusGoingAway)
		}
		p.mu.Unlock()
		p.srv.Close()
		p.wg.Wait()
	})
	return p
}

func (c *proxied) close(code websocket.StatusCode) {
	c.down.Close(code, "cut")
	c.up.Close(code, "cut")
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.wg.Add(1)
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	// The page's token travels as a subprotocol entry: pass the offer on.
	var offered []string
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			offered = append(offered, strings.TrimSpace(p))
		}
	}
	up, resp, err := websocket.Dial(ctx, p.upstream+"?"+r.URL.RawQuery, &websocket.DialOptions{
		HTTPHeader:   http.Header{"Origin": r.Header["Origin"]},
		Subprotocols: offered,
	})
	cancel()
	if err != nil {
		code := http.StatusBadGateway
		if resp != nil {
			code = resp.StatusCode
		}
		http.Error(w, err.Error(), code)
		return
	}
	// The Hub checked the Origin; the proxy passes it on.
	down, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, Subprotocols: []string{up.Subprotocol()}})
	if err != nil {
		up.CloseNow()
		return
	}
	up.SetReadLimit(64 << 20)
	down.SetReadLimit(64 << 20)
	c := &proxied{down: down, up: up}
	p.mu.Lock()
	p.live = append(p.live, c)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		for i, l := range p.live {
			if l == c {
				p.live = append(p.live[:i], p.live[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
	}()

	done := make(chan struct{})
	go func() { // page → Hub; ends when either side closes
		defer close(done)
		pipe(c.down, c.up, nil)
		c.close(websocket.StatusGoingAway)
	}()
	pipe(c.up, c.down, func(frame []byte) []byte { return p.rewrite(c, frame) }) // Hub → page; nil: not passed on
	c.close(websocket.StatusGoingAway)
	<-done
}

func pipe(from, to *websocket.Conn, edit func([]byte) []byte) {
	for {
		typ, data, err := from.Read(context.Background())
		if err != nil {
			return
		}
		if edit != nil {
			if data = edit(data); data == nil {
				continue
			}
		}
		ctx, cancel := contextTimeout(10 * time.Second)
		err = to.Write(ctx, typ, data)
		cancel()
		if err != nil {
			return
		}
	}
}

// rewrite replaces the data of a msg frame with the next of p.rewrites,
// keeping its id, and arms a pending cut.
func (p *proxy) rewrite(c *proxied, frame []byte) []byte {
	var f struct {
		Op string `json:"op"`
		ID uint64 `json:"id"`
	}
	if json.Unmarshal(frame, &f) != nil || f.Op != "msg" {
		return frame
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropNext {
		p.dropNext = false
		p.cuts++
		go c.close(websocket.StatusGoingAway)
		return nil
	}
	if p.cutNext {
		p.cutNext = false
		time.AfterFunc(20*time.Millisecond, func() {
			c.close(websocket.StatusGoingAway)
		})
		p.cuts++
	}
	if len(p.rewrites) == 0 {
		return frame
	}
	data := p.rewrites[0]
	p.rewrites = p.rewrites[1:]
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(data)
	return []byte(`{"op":"msg","id":` + strconv.FormatUint(f.ID, 10) + `,"data":` + string(bytes.TrimSpace(b.Bytes())) + `}`)
}

// cut closes the live connections with 1001, as a server going away does,
// and says whether there was one.
func (p *proxy) cut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := p.live
	p.live = nil // cut once; ServeHTTP's clean-up finds them gone
	for _, c := range live {
		c.close(websocket.StatusGoingAway)
	}
	if len(live) > 0 {
		p.cuts++
	}
	return len(live) > 0
}

// cutAfterNext cuts the connection 20 ms after the next msg frame is
// passed on: the page holds that message, unposted or just posted.
func (p *proxy) cutAfterNext() {
	p.mu.Lock()
	p.cutNext = true
	p.mu.Unlock()
}

// dropAndCutNext swallows the next msg frame and cuts the connection: the
// page never sees that message.
func (p *proxy) dropAndCutNext() {
	p.mu.Lock()
	p.dropNext = true
	p.mu.Unlock()
}

// replace makes the next len(data) msg frames carry data instead.
func (p *proxy) replace(data ...string) {
	p.mu.Lock()
	p.rewrites = append(p.rewrites, data...)
	p.mu.Unlock()
}

func (p *proxy) cutCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}
