//go:build !js

package wsbridge

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/imworkspace/assistant"
)

// quoteID returns id as a Go string literal, so that no id can forge or
// break a log line.
func quoteID(id string) string { return strconv.Quote(id) }

func (h *Hub) logConnect(i ConnectInfo) {
	h.log.Info("wsbridge: page connected", "page", quoteID(i.ID), "conn", i.Conn, "remote", i.RemoteAddr)
}

func (h *Hub) logDisconnect(i DisconnectInfo) {
	h.log.Info("wsbridge: page disconnected", "page", quoteID(i.ID), "conn", i.Conn, "cause", i.Cause)
}

func (h *Hub) logSend(id string, o Outcome, err error, d time.Duration, n int) {
	if !h.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	h.log.Debug("wsbridge: send", "page", quoteID(id), "outcome", o.String(),
		"delivery", assistant.DeliveryOf(err).String(), "duration", d, "bytes", n)
}
