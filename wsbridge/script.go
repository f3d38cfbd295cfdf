//go:build !js

package wsbridge

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/imworkspace/assistant"
)

//go:embed bridge.js
var rawScript []byte

// script is bridge.js as served: its default interval filled in from
// assistant.DefaultInterval + assistant.DefaultMargin, so both transports
// pace by one definition. Read-only.
var script = bytes.Replace(rawScript, []byte(intervalPlaceholder),
	strconv.AppendInt(nil, (assistant.DefaultInterval+assistant.DefaultMargin).Milliseconds(), 10), 1)

// intervalPlaceholder is where bridge.js takes its default interval, in ms.
const intervalPlaceholder = "{{DEFAULT_INTERVAL_MS}}"

// ScriptHandler returns an http.Handler serving the bridge script
// (bridge.js, embedded in this package) to GET and HEAD requests, with an
// ETag, a short cache lifetime and nosniff. Mount it where the component
// page's <script src> points, on any origin:
//
//	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
func ScriptHandler() http.Handler {
	sum := sha256.Sum256(script)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", etag)
		http.ServeContent(w, r, "bridge.js", time.Time{}, bytes.NewReader(script))
	})
}
