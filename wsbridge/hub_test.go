//go:build !js

package wsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
)

// newTestHub serves a Hub at /ws and the script at /bridge.js. Without
// opts.Authenticate it sets InsecureSkipAuthentication: most tests are
// about delivery; auth_test.go covers admission.
func newTestHub(t testing.TB, opts Options) (*Hub, *httptest.Server) {
	t.Helper()
	if opts.Authenticate == nil {
		opts.InsecureSkipAuthentication = true
	}
	hub := NewHub(opts)
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.Handle("/bridge.js", ScriptHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return hub, srv
}

// connectPage dials a fake page and waits until the Hub has registered it.
func connectPage(t testing.TB, hub *Hub, srv *httptest.Server, id string, host *fakeHost, o pageOpts) *fakePage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, _, err := dialPage(ctx, wsURL(srv.URL, id), host, o)
	if err != nil {
		t.Fatalf("dial page %q: %v", id, err)
	}
	t.Cleanup(p.close)
	waitRegistered(t, hub, id, p)
	return p
}

// waitRegistered waits until id maps to a live connection.
func waitRegistered(t testing.TB, hub *Hub, id string, _ *fakePage) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hub.WaitConnected(ctx, id); err != nil {
		t.Fatalf("page %q never registered: %v", id, err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConformance(t *testing.T) {
	assistanttest.TestSender(t, func(t *testing.T) assistanttest.Transport {
		hub, srv := newTestHub(t, Options{NoPacing: true})
		host := &fakeHost{}
		p := connectPage(t, hub, srv, "conv-1", host, pageOpts{})
		return assistanttest.Transport{
			Sender:    hub.Sender("conv-1"),
			Delivered: host.wire,
			Break: func() {
				p.close()
				for {
					if !hub.Connected("conv-1") {
						return
					}
					time.Sleep(time.Millisecond)
				}
			},
		}
	})
}

// sendAsync starts a Send and returns the channel its result arrives on.
func sendAsync(ctx context.Context, s assistant.Sender, m assistant.Message) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Send(ctx, m) }()
	return ch
}

func TestSendReturnsOnlyAfterAck(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	m := assistant.NewText(`say "hi" </script>`)
	res := sendAsync(ctx, hub.Sender("conv-1"), m)
	held, err := p.heldFrames(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := assistant.Encode(m)
	if held[0].Data != string(want) {
		t.Errorf("frame data = %s, want %s", held[0].Data, want)
	}
	select {
	case err := <-res:
		t.Fatalf("Send returned %v before the ack", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := p.ack(held[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatalf("Send after ack = %v, want nil", err)
	}
}

func TestNotConnected(t *testing.T) {
	hub, _ := newTestHub(t, Options{NoPacing: true})
	err := hub.Sender("nobody").Send(ctxT(t), assistant.NewText("hi"))
	if !errors.Is(err, ErrNotConnected) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Fatalf("Send to an unknown page = %v, want ErrNotConnected naming the page", err)
	}
	// Invalid messages are refused before the lookup.
	if err := hub.Sender("nobody").Send(ctxT(t), assistant.Text{}); !errors.Is(err, assistant.ErrInvalid) {
		t.Fatalf("Send(invalid) = %v, want assistant.ErrInvalid", err)
	}
}

func TestAckTimeoutThenLateAckIgnored(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true, AckTimeout: 50 * time.Millisecond})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	s := hub.Sender("conv-1")
	if err := s.Send(ctx, assistant.NewText("one")); !errors.Is(err, ErrAckTimeout) {
		t.Fatalf("Send without ack = %v, want ErrAckTimeout", err)
	}
	held, _ := p.heldFrames(ctx, 1)
	if err := p.ack(held[0].ID); err != nil { // late ack: ignored, not a violation
		t.Fatal(err)
	}
	res := sendAsync(ctx, s, assistant.NewText("two"))
	held, err := p.heldFrames(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	p.ack(held[1].ID)
	if err := <-res; err != nil {
		t.Fatalf("Send after a late ack = %v, want nil (the connection must survive)", err)
	}
}

func TestContextDoneWhileWaitingForAck(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(30*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			err := hub.Sender("conv-1").Send(ctx, assistant.NewText(tc.name))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Send = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := p.heldFrames(ctxT(t), 2); err != nil {
		t.Fatalf("frames not written: %v", err)
	}
}

func TestDisconnectedBeforeAck(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	res := sendAsync(ctx, hub.Sender("conv-1"), assistant.NewText("lost"))
	if _, err := p.heldFrames(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p.close()
	if err := <-res; !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Send = %v, want ErrDisconnected", err)
	}
}

// A reconnect with the same id takes over; the old connection's pending
// sends fail (they are not moved) and the old page is told not to return.
func TestReconnectReplaces(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	old := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	res := sendAsync(ctx, hub.Sender("conv-1"), assistant.NewText("pending"))
	if _, err := old.heldFrames(ctx, 1); err != nil {
		t.Fatal(err)
	}
	host := &fakeHost{}
	p, _, err := dialPage(ctx, wsURL(srv.URL, "conv-1"), host, pageOpts{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	err = <-res
	if !errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrReplaced) {
		t.Fatalf("pending Send = %v, want ErrDisconnected wrapping ErrReplaced", err)
	}
	if code := old.closeStatus(ctx); code != StatusReplaced {
		t.Errorf("old page closed with %v, want StatusReplaced (%d)", code, StatusReplaced)
	}
	if err := hub.Sender("conv-1").Send(ctx, assistant.NewText("new")); err != nil {
		t.Fatalf("Send to the new connection = %v", err)
	}
	want, _ := assistant.Encode(assistant.NewText("new"))
	if diff := cmp.Diff([][]byte{want}, host.wire()); diff != "" {
		t.Errorf("new page got (-want +got):\n%s", diff)
	}
}

func TestTooManyPending(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true, MaxPending: 2})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	s := hub.Sender("conv-1")
	r1 := sendAsync(ctx, s, assistant.NewText("1"))
	r2 := sendAsync(ctx, s, assistant.NewText("2"))
	held, err := p.heldFrames(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, assistant.NewText("3")); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("third Send = %v, want ErrTooManyPending", err)
	}
	for _, f := range held {
		p.ack(f.ID)
	}
	if err1, err2 := <-r1, <-r2; err1 != nil || err2 != nil {
		t.Fatalf("acked Sends = %v, %v", err1, err2)
	}
}

func TestHubClose(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	res := sendAsync(ctx, hub.Sender("conv-1"), assistant.NewText("pending"))
	if _, err := p.heldFrames(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := hub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, ErrDisconnected) || errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "hub closed") {
		t.Errorf("pending Send = %v, want ErrDisconnected saying the hub closed, not matching ErrClosed", err)
	}
	if code := p.closeStatus(ctx); code != websocket.StatusGoingAway {
		t.Errorf("page closed with %v, want StatusGoingAway", code)
	}
	if err := hub.Sender("conv-1").Send(ctx, assistant.NewText("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	_, resp, err := dialPage(ctx, wsURL(srv.URL, "conv-2"), &fakeHost{}, pageOpts{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: err %v, resp %v; want 503", err, resp)
	}
	if err := hub.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// The Hub paces nothing itself, but the page does: messages sent in a
// burst reach the (fake) host interval apart, and in order.
func TestPagePacingWithBurst(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	const interval = 40 * time.Millisecond
	host := &fakeHost{}
	connectPage(t, hub, srv, "conv-1", host, pageOpts{interval: interval})
	ctx := ctxT(t)
	s := hub.Sender("conv-1")
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if err := s.Send(ctx, assistant.NewText(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	posts := host.snapshot()
	if len(posts) != 5 {
		t.Fatalf("%d posts, want 5", len(posts))
	}
	for i := 1; i < len(posts); i++ {
		if gap := posts[i].at.Sub(posts[i-1].at); gap < interval {
			t.Errorf("gap %d = %v, want >= %v", i, gap, interval)
		}
	}
}

func TestScriptHandler(t *testing.T) {
	_, srv := newTestHub(t, Options{NoPacing: true})
	resp, err := http.Get(srv.URL + "/bridge.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(script) {
		t.Fatalf("GET /bridge.js: %d, %d bytes; want 200 and the embedded script", resp.StatusCode, len(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing nosniff")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/bridge.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", resp2.StatusCode)
	}
	resp3, err := http.Post(srv.URL+"/bridge.js", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	if resp3.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", resp3.StatusCode)
	}
}

// The frame encoder must round-trip every wire string through JSON.
func FuzzAppendMsgFrame(f *testing.F) {
	for _, m := range assistanttest.Messages() {
		w, _ := assistant.Encode(m)
		f.Add(uint64(1), string(w))
	}
	var all []byte
	for b := range 0x80 {
		all = append(all, byte(b))
	}
	f.Add(uint64(1<<53), string(all)+"\u2028\u2029😀")
	f.Fuzz(func(t *testing.T, id uint64, data string) {
		if !utf8.ValidString(data) {
			t.Skip()
		}
		type frame struct {
			Op   string `json:"op"`
			ID   uint64 `json:"id"`
			Data string `json:"data"`
		}
		var got frame
		if err := json.Unmarshal(appendMsgFrame(nil, id, []byte(data)), &got); err != nil {
			t.Fatalf("frame does not parse: %v", err)
		}
		if diff := cmp.Diff(frame{Op: "msg", ID: id, Data: data}, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}
