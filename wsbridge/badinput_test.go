//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
)

// errorLog collects Options.OnError calls.
type errorLog struct {
	mu   sync.Mutex
	errs map[string][]error
}

func (l *errorLog) add(id string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errs == nil {
		l.errs = map[string][]error{}
	}
	l.errs[id] = append(l.errs[id], err)
}

func (l *errorLog) get(id string) []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs[id]...)
}

// A page that sends garbage loses its connection, with a close code that
// says why; the Hub reports it, does not panic, and other pages go on.
func TestBadFramesFromPage(t *testing.T) {
	log := &errorLog{}
	hub, srv := newTestHub(t, Options{NoPacing: true, OnError: log.add, MaxFrameSize: 256})
	good := &fakeHost{}
	connectPage(t, hub, srv, "good", good, pageOpts{})
	goodSender := hub.Sender("good")
	ctx := ctxT(t)

	for _, tc := range []struct {
		name  string
		typ   websocket.MessageType
		frame string
		code  websocket.StatusCode
		text  string // in the reported error
	}{
		{"binary", websocket.MessageBinary, `{"op":"ping"}`, websocket.StatusUnsupportedData, "binary frame"},
		{"not JSON", websocket.MessageText, `ack 1`, websocket.StatusPolicyViolation, "malformed frame"},
		{"truncated", websocket.MessageText, `{"op":"ack","id":`, websocket.StatusPolicyViolation, "malformed frame"},
		{"array", websocket.MessageText, `[1,2]`, websocket.StatusPolicyViolation, "malformed frame"},
		{"null", websocket.MessageText, `null`, websocket.StatusPolicyViolation, "unknown op"},
		{"no id", websocket.MessageText, `{"op":"ack"}`, websocket.StatusPolicyViolation, "positive id"},
		{"negative id", websocket.MessageText, `{"op":"ack","id":-1}`, websocket.StatusPolicyViolation, "malformed frame"},
		{"fraction id", websocket.MessageText, `{"op":"ack","id":1.5}`, websocket.StatusPolicyViolation, "malformed frame"},
		{"string id", websocket.MessageText, `{"op":"ack","id":"1"}`, websocket.StatusPolicyViolation, "malformed frame"},
		{"huge id", websocket.MessageText, `{"op":"ack","id":1e30}`, websocket.StatusPolicyViolation, "malformed frame"},
		{"never sent id", websocket.MessageText, `{"op":"ack","id":9007199254740991}`, websocket.StatusPolicyViolation, "never sent"},
		{"unknown op", websocket.MessageText, `{"op":"post"}`, websocket.StatusPolicyViolation, "unknown op"},
		{"oversized", websocket.MessageText, `{"op":"ping","pad":"` + strings.Repeat("x", 300) + `"}`, websocket.StatusMessageTooBig, "read limited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "bad-" + strings.ReplaceAll(tc.name, " ", "-")
			p := connectPage(t, hub, srv, id, &fakeHost{}, pageOpts{hold: true})
			if err := p.ws.Write(ctx, tc.typ, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			if code := p.closeStatus(ctx); code != tc.code {
				t.Errorf("closed with %v, want %v", code, tc.code)
			}
			// The library closes an oversized frame's connection itself,
			// so the page may see the close before the Hub has reported it.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				if !hub.Connected(id) || time.Now().After(deadline) {
					break
				}
			}
			errs := log.get(id)
			if len(errs) != 1 || !errors.Is(errs[0], ErrProtocol) || !strings.Contains(errs[0].Error(), tc.text) || !strings.Contains(errs[0].Error(), id) {
				t.Errorf("OnError got %v, want one ErrProtocol error naming the page and containing %q", errs, tc.text)
			}
			if err := hub.Sender(id).Send(ctx, assistant.NewText("x")); !errors.Is(err, ErrNotConnected) {
				t.Errorf("Send to the dropped page = %v, want ErrNotConnected", err)
			}
			if err := goodSender.Send(ctx, assistant.NewText(tc.name)); err != nil {
				t.Errorf("the good page was affected: %v", err)
			}
		})
	}
	if n := len(good.wire()); n != 13 {
		t.Errorf("good page got %d messages, want 13", n)
	}
}

// Acking another page's message id has no effect on either page.
func TestAckOfAnotherPagesID(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	victim := connectPage(t, hub, srv, "victim", &fakeHost{}, pageOpts{hold: true})
	attacker := connectPage(t, hub, srv, "attacker", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	res := sendAsync(ctx, hub.Sender("victim"), assistant.NewText("for the victim"))
	held, err := victim.heldFrames(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := attacker.ack(held[0].ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		t.Fatalf("victim's Send completed by another page's ack: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	victim.ack(held[0].ID)
	if err := <-res; err != nil {
		t.Fatalf("victim's Send = %v", err)
	}
	// The attacker is still connected: an id that was issued is not a violation.
	if !hub.Connected("attacker") {
		t.Errorf("attacker dropped: %v", err)
	}
}

func TestRefusedUpgrades(t *testing.T) {
	log := &errorLog{}
	hub, srv := newTestHub(t, Options{
		NoPacing:       true,
		OriginPatterns: []string{"component.example"},
		Authenticate: func(r *http.Request, id string) error {
			if tok, err := RequestToken(r); err != nil || tok != "secret-"+id {
				return errors.New("bad token")
			}
			return nil
		},
		OnError: log.add,
	})
	ctx := ctxT(t)
	for _, tc := range []struct {
		name, url, origin, token string
		status                   int
	}{
		{"no id", strings.Replace(srv.URL, "http", "ws", 1) + "/ws", "http://component.example", "", http.StatusBadRequest},
		{"long id", wsURL(srv.URL, strings.Repeat("x", MaxIDLen+1)), "http://component.example", "x", http.StatusBadRequest},
		{"control id", wsURL(srv.URL, "a\nb"), "http://component.example", "", http.StatusBadRequest},
		{"bad token", wsURL(srv.URL, "conv-1"), "http://component.example", "guess", http.StatusForbidden},
		{"no token", wsURL(srv.URL, "conv-1"), "http://component.example", "", http.StatusForbidden},
		{"wrong origin", wsURL(srv.URL, "conv-1"), "http://evil.example", "secret-conv-1", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, resp, err := dialPage(ctx, tc.url, &fakeHost{}, pageOpts{origin: tc.origin, token: tc.token})
			if err == nil {
				p.close()
				t.Fatal("dial succeeded")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("dial: %v, resp %v; want status %d", err, resp, tc.status)
			}
		})
	}
	if errs := log.get("conv-1"); len(errs) != 3 {
		t.Errorf("OnError for conv-1: %v, want 3 refusals", errs)
	}
	// The right origin and token get in.
	p, _, err := dialPage(ctx, wsURL(srv.URL, "conv-1"), &fakeHost{}, pageOpts{origin: "http://component.example", token: "secret-conv-1"})
	if err != nil {
		t.Fatalf("good dial: %v", err)
	}
	defer p.close()
	waitRegistered(t, hub, "conv-1", p)
	if err := hub.Sender("conv-1").Send(ctx, assistant.NewText("hi")); err != nil {
		t.Fatal(err)
	}
}

// A page that stops reading is dropped after WriteTimeout, and does not
// hold up sends to other pages meanwhile.
func TestSlowPageDoesNotBlockOthers(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true, WriteTimeout: 300 * time.Millisecond, MaxPending: 1000})
	ctx := ctxT(t)
	// A raw client that never reads: frames pile up in the socket buffers.
	slow, _, err := websocket.Dial(ctx, wsURL(srv.URL, "slow"), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	waitRegistered(t, hub, "slow", nil)
	connectPage(t, hub, srv, "fast", &fakeHost{}, pageOpts{})

	big := assistant.NewRich("<p>" + strings.Repeat("x", MaxMessageSize-100) + "</p>")
	slowErr := make(chan error, 1)
	go func() {
		for {
			sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			err := hub.Sender("slow").Send(sctx, big)
			cancel()
			if errors.Is(err, ErrDisconnected) || errors.Is(err, ErrNotConnected) {
				slowErr <- err
				return
			}
			if ctx.Err() != nil {
				slowErr <- err
				return
			}
		}
	}()
	fast := hub.Sender("fast")
	for i := range 20 {
		start := time.Now()
		if err := fast.Send(ctx, assistant.NewText("fast")); err != nil {
			t.Fatalf("fast Send %d: %v", i, err)
		}
		if d := time.Since(start); d > time.Second { // generous: -race on a loaded 2-core VM
			t.Errorf("fast Send %d took %v while the slow page was stuck", i, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-slowErr:
		if ctx.Err() != nil {
			t.Fatalf("slow page never dropped: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("slow page never dropped")
	}
}
