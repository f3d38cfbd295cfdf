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
</style>
<h3 id="bridge-title">wsbridge demo component</h3>
<p>No code of its own: <code>bridge.js</code> keeps a WebSocket to the sim's Go <code>wsbridge.Hub</code>
and posts what it sends to the workspace. {{if .Replicas}}The Hub is replica B's; the form below calls replica A's
<code>router.Sender("{{.ID}}").Send</code>, which reaches it through NATS (<code>wsbridge/natsroute</code>).{{else}}The form below calls
<code>RateLimited(hub.Sender("{{.ID}}")).Send</code>.{{end}}</p>
<script src="/bridge.js" data-url="/ws" data-id="{{.ID}}" data-target-origin="{{.Origin}}" data-token="{{.Token}}"></script>
</html>
`))

// bridgeTokenTTL is how long a bridge page's token opens the Hub: the
// bridge reconnects with it after every cut.
const bridgeTokenTTL = 24 * time.Hour

// serveBridgePage serves the demo component. It posts to the workspace
// page that frames it, whose origin follows from the Host it was requested
// on (see workspaceOriginFor), never from the query, and carries a fresh
// token for its page id.
func (s *sim) serveBridgePage(w http.ResponseWriter, r *http.Request) {
	origin := s.workspaceOriginFor(r.Host)
	if origin == "" {
		http.Error(w, "assistant sim: open the wsbridge demo from the workspace page (/?demo=wsbridge)", http.StatusNotFound)
		return
	}
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
