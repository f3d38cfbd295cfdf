//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
)

// The wsbridge demo: the framed component is a page that only loads the
// bridge script, which keeps a WebSocket to a wsbridge.Hub in the sim (on
// the component origin, as a vendor's service would be); a form in the
// workspace page sends through hub.Sender, so the message takes the Go
// service path and then reaches the host like any other.

// bridgePageID is the page id of the demo's bridge page.
const bridgePageID = "sim"

// wsSendTimeout bounds one send through the Hub: the rate limiter, the
// bridge's own pacing and the page's acknowledgement.
const wsSendTimeout = 15 * time.Second

var bridgePage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wsbridge demo component</title>
<style>
body { font: 13px/1.45 system-ui, sans-serif; margin: 12px; color: #1d2129; }
h3 { margin: 0 0 6px; font-size: 14px; }
code { font: 12px ui-monospace, Menlo, monospace; background: #f3f5f8; padding: 0 3px; border-radius: 3px; }
p { margin: 0 0 6px; }
table { border-collapse: collapse; font-size: 12px; }
th { text-align: left; font-weight: normal; color: #5b6370; padding: 0 10px 0 0; }
td { font-variant-numeric: tabular-nums; padding: 0; }
</style>
<h3 id="bridge-title">wsbridge demo component</h3>
<p><code>bridge.js</code> keeps a WebSocket to the sim's Go <code>wsbridge.Hub</code> and posts what it sends;
{{if .Replicas}}that Hub is replica B's, and the form calls replica A's <code>router.Sender("{{.ID}}").Send</code>,
which reaches it through NATS (<code>wsbridge/natsroute</code>) and is paced by B's Hub.{{else}}the form calls
<code>hub.Sender("{{.ID}}").Send</code>, paced per page by the Hub.{{end}}</p>
<table id="hub-stats"><tbody>
<tr><th>Hub: pages</th><td><span id="stat-pages">…</span> · in flight <span id="stat-inflight">…</span></td></tr>
<tr><th>sends</th><td id="stat-sends">…</td></tr>
<tr><th>ack p50/p90/p99</th><td id="stat-latency">…</td></tr>
</tbody></table>
<script src="/bridge.js" data-url="/ws" data-id="{{.ID}}" data-target-origin="{{.Origin}}" data-token="{{.Token}}"></script>
<script>
(function () {
  // Live numbers from hub.Stats(), polled from the sim (same origin).
  function set(id, text) { document.getElementById(id).textContent = text; }
  function ms(v) { return v.toFixed(1) + " ms"; }
  function poll() {
    fetch("/bridge/stats", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      set("stat-pages", String(s.pages));
      set("stat-inflight", String(s.inFlight));
      var parts = Object.keys(s.sends).sort().map(function (k) { return k + " " + s.sends[k]; });
      set("stat-sends", parts.length ? parts.join(", ") : "none yet");
      var l = s.ackLatency;
      set("stat-latency", l.count ? ms(l.p50Ms) + " / " + ms(l.p90Ms) + " / " + ms(l.p99Ms) + " (" + l.count + " acks)" : "no acks yet");
    }).catch(function () { set("stat-pages", "sim unreachable"); });
  }
  poll();
  setInterval(poll, 1000);
})();
</script>
</html>
`))

// bridgeTokenTTL is how long a bridge page's token opens the Hub: the
// bridge reconnects with it after a cut, so a page whose socket drops
// later (a laptop asleep past the Hub's IdleTimeout) stays disconnected
// until the workspace page is reloaded. The demo has no data-token-url:
// the sim's secret cookie is the workspace's, and never reaches the
// component's site.
const bridgeTokenTTL = wsbridge.MaxTokenTTL

// serveBridgePage serves the demo component, once per ticket (see
// tickets): without a live one, 403, and no token. It posts to the
// workspace page that frames it, whose origin follows from the Host it was
// requested on (see workspaceOriginFor), never from the query, and carries
// a fresh token for its page id.
func (s *sim) serveBridgePage(w http.ResponseWriter, r *http.Request) {
	origin := s.workspaceOriginFor(r.Host)
	if origin == "" {
		http.Error(w, "assistant sim: open the wsbridge demo from the workspace page (/?demo=wsbridge)", http.StatusNotFound)
		return
	}
	if !s.tickets.redeem(r.URL.Query().Get("ticket")) {
		http.Error(w, "assistant sim: open the wsbridge demo from the workspace page (/?demo=wsbridge): "+
			"this page needs a one-time ticket from it; reload the workspace page for a new one", http.StatusForbidden)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the spent ticket stays out of Referer headers
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	bridgePage.Execute(w, map[string]any{"ID": bridgePageID, "Origin": origin, "Token": s.signer.Sign(bridgePageID, bridgeTokenTTL),
		"Replicas": s.replicas != nil})
}

// wsSendRequest is the workspace form's request: one wire string.
type wsSendRequest struct {
	Wire string `json:"wire"`
}

// wsSendResult answers it: OK once the bridge page has posted the message
// to the workspace and acknowledged it.
type wsSendResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// NotConnected reports that no bridge page is connected (yet).
	NotConnected bool `json:"notConnected,omitempty"`
	// Route, with --replicas 2, says which replica sent and which one
	// holds the page.
	Route string `json:"route,omitempty"`
}

func (s *sim) serveWSSend(w http.ResponseWriter, r *http.Request) {
	var req wsSendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxArrival))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "assistant sim: bad send request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var res wsSendResult
	m, err := assistant.Decode([]byte(req.Wire))
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), wsSendTimeout)
		err = s.wsSender.Send(ctx, m)
		cancel()
	}
	if err != nil {
		res.Error = err.Error()
		res.NotConnected = errors.Is(err, wsbridge.ErrNotConnected)
	} else {
		res.OK = true
	}
	if s.replicas != nil {
		res.Route = s.replicas.route(bridgePageID)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(res)
}

// wsStats is the wsbridge demo's view of hub.Stats(), for its page.
type wsStats struct {
	Pages      int               `json:"pages"`
	InFlight   int               `json:"inFlight"`
	Sends      map[string]uint64 `json:"sends"` // by wsbridge.Outcome name
	AckLatency struct {
		Count uint64  `json:"count"`
		P50   float64 `json:"p50Ms"`
		P90   float64 `json:"p90Ms"`
		P99   float64 `json:"p99Ms"`
	} `json:"ackLatency"`
}

func newWSStats(st wsbridge.Stats) wsStats {
	out := wsStats{Pages: st.Pages, InFlight: st.InFlight, Sends: map[string]uint64{}}
	for o, n := range st.Sends {
		out.Sends[o.String()] = n
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	l := st.AckLatency
	out.AckLatency.Count = l.Count
	out.AckLatency.P50, out.AckLatency.P90, out.AckLatency.P99 = ms(l.P50), ms(l.P90), ms(l.P99)
	return out
}

// serveWSStats answers the demo page's poll with the Hub's live stats.
func (s *sim) serveWSStats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(newWSStats(s.hub.Stats()))
}
