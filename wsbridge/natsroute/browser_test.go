//go:build !js

package natsroute

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
	"github.com/imworkspace/assistant/internal/browsertest"
	"github.com/imworkspace/assistant/wsbridge"
)

// A host page on http://127.0.0.1:H frames a component on
// http://localhost:C (another site, so its own renderer process) whose
// bridge script connects to replica B; replica A, on another NATS server
// of the cluster, sends. (text/template: the values are the test's own
// URLs, and html/template would rewrite the ws: URL.)
const hostPage = `<!doctype html><title>host</title>
<script>
window.got = [];
window.addEventListener("message", function (e) {
  if (e.origin !== "{{.CompOrigin}}") return;
  window.got.push({data: e.data, t: performance.now(), str: typeof e.data === "string"});
});
</script>
<iframe src="{{.CompOrigin}}/component.html"></iframe>`

const componentPage = `<!doctype html><title>component</title>
<script src="{{.HubURL}}/bridge.js" data-url="{{.WSURL}}" data-id="conv-1" data-target-origin="{{.HostOrigin}}"></script>`

type hostRecord struct {
	Data string  `json:"data"`
	T    float64 `json:"t"` // performance.now() in the host page, ms
	Str  bool    `json:"str"`
}

// Eight messages of all four types, sent from replica A to a page whose
// socket is on replica B, reach the host page in Chromium with their exact
// bytes, in order, at least 1000 ms apart as the host measures.
func TestBrowserCrossReplica(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	c := startCluster(t, 2)
	hostSrv := httptest.NewServer(nil)
	defer hostSrv.Close()
	compSrv := httptest.NewServer(nil)
	defer compSrv.Close()
	compOrigin := strings.Replace(compSrv.URL, "127.0.0.1", "localhost", 1)
	hubOpts := wsbridge.Options{OriginPatterns: []string{strings.TrimPrefix(compOrigin, "http://")}}
	a := startReplica(t, c, 0, "a", hubOpts, Options{})
	b := startReplica(t, c, 1, "b", hubOpts, Options{})
	c.waitClaimsMeshed([]*replica{a, b})
	b.srv.Config.Handler.(*http.ServeMux).Handle("/bridge.js", wsbridge.ScriptHandler())

	data := map[string]string{
		"CompOrigin": compOrigin,
		"HubURL":     b.srv.URL,
		"WSURL":      strings.Replace(b.srv.URL, "http://", "ws://", 1) + "/ws",
		"HostOrigin": hostSrv.URL,
	}
	serve := func(page string) http.Handler {
		tmpl := template.Must(template.New("").Parse(page))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			tmpl.Execute(w, data)
		})
	}
	hostSrv.Config.Handler = serve(hostPage)
	compSrv.Config.Handler = serve(componentPage)
	if err := chromedp.Do(ctx, chromedp.Navigate(hostSrv.URL+"/host.html")); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.r.Hub().WaitConnected(wctx, "conv-1"); err != nil {
		t.Fatalf("the page did not connect to replica B: %v", err)
	}
	if a.r.Hub().Connected("conv-1") {
		t.Fatal("the page is connected to replica A too")
	}

	msgs := assistanttest.Messages()
	var want []string
	for _, m := range msgs {
		w, err := assistant.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, string(w))
	}
	sctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	s := a.r.Sender("conv-1")
	for i, m := range msgs {
		if err := s.Send(sctx, m); err != nil {
			t.Fatalf("Send %d (%s) from replica A: %v", i, m.Type(), err)
		}
	}
	var recs []hostRecord
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		js, err := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify(window.got)"))
		if err != nil {
			t.Fatalf("reading the host's records: %v", err)
		}
		if err := json.Unmarshal([]byte(js), &recs); err != nil {
			t.Fatal(err)
		}
		if len(recs) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if len(recs) != len(want) {
		t.Fatalf("host received %d messages, want %d", len(recs), len(want))
	}
	minGap := -1.0
	for i := range want {
		if !recs[i].Str || recs[i].Data != want[i] {
			t.Errorf("message %d at the host:\n got %q (string: %v)\nwant %q", i, recs[i].Data, recs[i].Str, want[i])
		}
		if i > 0 {
			gap := recs[i].T - recs[i-1].T
			if gap < 1000 {
				t.Errorf("host saw messages %d and %d %.1f ms apart, want >= 1000", i-1, i, gap)
			}
			if minGap < 0 || gap < minGap {
				minGap = gap
			}
		}
	}
	t.Logf("%d messages from replica A via replica B; smallest host-observed gap %.1f ms", len(recs), minGap)
}
