// Package hostpage is the workspace host page of the wsbridge and natsroute
// browser tests, and the component page that loads bridge.js in it, in the
// cross-site layout production has: the host on http://127.0.0.1:A frames
// the component on http://localhost:B (another site, so its own renderer
// process), whose bridge connects to a Hub on http://127.0.0.1:C. The host
// records every message event from the component's origin with its
// performance.now(): gaps are measured where the host receives messages.
package hostpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/imworkspace/assistant/dev/internal/browser"
)

// Host is the host page (text/template: the values are the test's own
// URLs, and html/template would rewrite the ws: URL). Data: CompOrigin,
// CompURL. reloadComponent() reloads the frame.
const Host = `<!doctype html><title>host</title>
<script>
window.got = [];
window.addEventListener("message", function (e) {
  if (e.origin !== "{{.CompOrigin}}") return;
  window.got.push({data: e.data, t: performance.now(), str: typeof e.data === "string"});
});
function reloadComponent() {
  var f = document.getElementById("c");
  f.src = "{{.CompURL}}?reload=" + Date.now();
}
</script>
<iframe id="c" src="{{.CompURL}}"></iframe>`

// Component is a component page that loads bridge.js. Data: HubURL, WSURL,
// ID, HostOrigin (its data-target-origin), Token (optional).
const Component = `<!doctype html><title>component</title>
<script src="{{.HubURL}}/bridge.js" data-url="{{.WSURL}}" data-id="{{.ID}}" data-target-origin="{{.HostOrigin}}"{{with .Token}} data-token="{{.}}"{{end}}></script>`

// LongTasks, formatted with a maximum L in ms, makes a page busy as a heavy
// single-page app is: a long task of a random 0-L ms every 150-400 ms.
const LongTasks = `(() => {
  const L = %d;
  function longTask() {
    const end = performance.now() + Math.random() * L;
    while (performance.now() < end) {}
    setTimeout(longTask, 150 + Math.random() * 250);
  }
  setTimeout(longTask, 150 + Math.random() * 250);
})()`

// Servers are the host's and the component's servers, not yet serving
// (set Config.Handler); CompOrigin names the component's server as
// localhost, the host's origin is Host.URL.
type Servers struct {
	Host, Comp *httptest.Server
	CompOrigin string
}

// NewServers starts the two servers; they close when t ends.
func NewServers(t testing.TB) *Servers {
	host, comp := httptest.NewServer(nil), httptest.NewServer(nil)
	t.Cleanup(host.Close)
	t.Cleanup(comp.Close)
	return &Servers{Host: host, Comp: comp, CompOrigin: strings.Replace(comp.URL, "127.0.0.1", "localhost", 1)}
}

// Serve returns a handler executing the template page with data, as
// text/html, with the given extra headers.
func Serve(t testing.TB, page string, data any, header http.Header) http.Handler {
	tmpl := template.Must(template.New("").Parse(page))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := tmpl.Execute(w, data); err != nil {
			t.Error(err)
		}
	})
}

// Record is one message event at the host.
type Record struct {
	Data string  `json:"data"`
	T    float64 `json:"t"` // performance.now() in the host page, ms
	Str  bool    `json:"str"`
}

// Records returns what the host page in tab has recorded so far.
func Records(t testing.TB, tab *browser.Tab) []Record {
	t.Helper()
	var recs []Record
	if err := tab.Eval("window.got", &recs); err != nil {
		t.Fatalf("reading the host's records: %v", err)
	}
	return recs
}

// Wait returns the host's records once there are at least n, or whatever
// there is after timeout.
func Wait(t testing.TB, tab *browser.Tab, n int, timeout time.Duration) []Record {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		if recs := Records(t, tab); len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
	}
}

// CheckGaps fails the test for two host-observed messages less than
// 1000 ms apart, and returns the smallest gap (-1 for fewer than two).
func CheckGaps(t testing.TB, recs []Record) (minGap float64) {
	t.Helper()
	minGap = -1
	for i := 1; i < len(recs); i++ {
		gap := recs[i].T - recs[i-1].T
		if gap < 1000 {
			t.Errorf("host saw messages %d and %d %.1f ms apart, want >= 1000", i-1, i, gap)
		}
		if minGap < 0 || gap < minGap {
			minGap = gap
		}
	}
	return minGap
}

// WSURL turns an http:// server URL into its ws:// /ws endpoint.
func WSURL(serverURL string) string {
	return strings.Replace(serverURL, "http://", "ws://", 1) + "/ws"
}

// Note logs a hint when t failed: browser timing tests are noisy when other
// work shares the machine.
func Note(t testing.TB) {
	if t.Failed() {
		t.Log("note: other tests running beside this one delay the browser's timers and deliveries; " +
			"run browser test packages one at a time (go test -p 1)")
	}
}
