//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant/cmd/assistant/internal/browsertest"
	"github.com/imworkspace/assistant/wsbridge"
)

// With --replicas 2 the demo's form sends from replica A; the bridge
// page's socket is on replica B (the Hub the component origin serves), so
// the message crosses the embedded NATS server. A Go page plays bridge.js.
func TestSimReplicas(t *testing.T) {
	s := startSim(t, simConfig{Component: "http://127.0.0.1:9/unused.html", Replicas: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	comp := "http://" + displayAddr(s.compLn.Addr())
	u := strings.Replace(comp, "http://", "ws://", 1) + "/ws?id=" + bridgePageID
	page, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader:   http.Header{"Origin": {comp}},
		Subprotocols: []string{wsbridge.Subprotocol, wsbridge.TokenProtocolPrefix + s.signer.Sign(bridgePageID, time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer page.CloseNow()
	posted := make(chan string, 1)
	go func() {
		for {
			_, frame, err := page.Read(ctx)
			if err != nil {
				return
			}
			var f struct {
				Op   string `json:"op"`
				ID   uint64 `json:"id"`
				Data string `json:"data"`
			}
			if json.Unmarshal(frame, &f) != nil || f.Op != "msg" {
				continue
			}
			posted <- f.Data
			page.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"op":"ack","id":%d}`, f.ID))
		}
	}()
	if err := s.replicas.b.Hub().WaitConnected(ctx, bridgePageID); err != nil {
		t.Fatal(err)
	}

	wire := `{"method":"sendMsg","type":"text","content":"across replicas"}`
	body, _ := json.Marshal(wsSendRequest{Wire: wire})
	req, _ := http.NewRequestWithContext(ctx, "POST", s.hostOrigin+"/api/wsbridge/send", bytes.NewReader(body))
	req.Header.Set("Origin", s.hostOrigin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got wsSendResult
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := wsSendResult{OK: true, Route: "sent by replica A through NATS; the page's socket is on replica B"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("send result (-want +got):\n%s", d)
	}
	select {
	case data := <-posted:
		if data != wire {
			t.Errorf("page got %q, want %q", data, wire)
		}
	default:
		t.Error("the page got nothing")
	}
	if s.replicas.a.Hub().Connected(bridgePageID) {
		t.Error("the page is connected to replica A too")
	}
}

// The same in Chromium: the demo's bridge page connects to replica B, the
// form sends from replica A, the workspace accepts the message and the
// form's status names both replicas.
func TestSimBrowserReplicas(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	s := startSim(t, simConfig{Component: "http://127.0.0.1:9/unused.html", Replicas: 2})
	u := s.secretURL("/?demo=wsbridge") // the printed URL's secret, as a user opens it
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(u),
		chromedp.WaitVisible(chromedp.CSS("#hub-send"))); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	p := &page{t: t, ctx: ctx}
	p.setChannel("web", "")
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.replicas.b.Hub().WaitConnected(wctx, bridgePageID); err != nil {
		t.Fatalf("the bridge page did not connect to replica B: %v", err)
	}
	eval[bool](p, `(() => { document.getElementById('hub-wire').value = `+
		jsString(`{"method":"sendMsg","type":"text","content":"from replica A"}`)+`; return true; })()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#hub-send")),
		chromedp.Poll[chromedp.Void](`!['', 'sending…'].includes(document.getElementById('hub-status').textContent)`,
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("sending: %v", err)
	}
	status := eval[string](p, `document.getElementById('hub-status').textContent`)
	want := "sent: the bridge page posted it and acknowledged (sent by replica A through NATS; the page's socket is on replica B)"
	if status != want {
		t.Errorf("status %q, want %q", status, want)
	}
	p.waitCounts(1, 0)
	if got := eval[string](p, `document.querySelector('.msg[data-type=text] .text').textContent`); got != "from replica A" {
		t.Errorf("workspace shows %q", got)
	}
}
