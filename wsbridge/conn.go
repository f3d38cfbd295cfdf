//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
)

// conn is one page connection.
type conn struct {
	hub *Hub
	id  string
	num uint64 // connection number
	ws  *websocket.Conn
	lim assistant.Sender // paces Sends (RateLimited over turnSender); nil with Options.NoPacing

	life context.Context // canceled by kill: ends waits for a turn
	stop context.CancelFunc

	connected    chan struct{} // closed once the Connect hooks returned
	disconnected chan struct{} // closed once the Disconnect hooks returned

	mu      sync.Mutex
	dead    error                 // why the conn is unusable; nil while it is usable
	pending map[uint64]chan error // unacknowledged sends; each chan has room for one result
}

func (h *Hub) newConn(id string, ws *websocket.Conn) *conn {
	c := &conn{
		hub:          h,
		id:           id,
		num:          h.nextConn.Add(1),
		ws:           ws,
		connected:    make(chan struct{}),
		disconnected: make(chan struct{}),
		pending:      make(map[uint64]chan error),
	}
	c.life, c.stop = context.WithCancel(context.Background())
	if !h.opts.NoPacing {
		c.lim = assistant.RateLimited(turnSender{c}, h.opts.Pacing...)
	}
	return c
}

// serve reads the page's frames until the connection ends, then fails
// what is still pending and unregisters the page.
func (c *conn) serve() {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.IdleTimeout)
		typ, data, err := c.ws.Read(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if err != nil {
			if timedOut {
				err = fmt.Errorf("nothing received for %v: %w", c.hub.opts.IdleTimeout, err)
			} else if errors.Is(err, websocket.ErrMessageTooBig) {
				err = fmt.Errorf("%w: %w", ErrProtocol, err)
				c.hub.violation(c.id, pageErr(c.id, err), "wsbridge: protocol violation")
			}
			c.kill(websocket.StatusNormalClosure, "", err)
			return
		}
		if code, err := c.handle(typ, data); err != nil {
			err = fmt.Errorf("%w: %w", ErrProtocol, err)
			c.hub.violation(c.id, pageErr(c.id, err), "wsbridge: protocol violation")
			c.kill(code, err.Error(), err)
			return
		}
	}
}

// handle acts on one frame from the page. A non-nil error is a protocol
// violation, to be answered by closing with the returned code.
func (c *conn) handle(typ websocket.MessageType, data []byte) (websocket.StatusCode, error) {
	if typ != websocket.MessageText {
		return websocket.StatusUnsupportedData, errors.New("binary frame")
	}
	f, err := decodePageFrame(data)
	if err != nil {
		return websocket.StatusPolicyViolation, err
	}
	switch f.Op {
	case "ack", "refuse":
		var res error // nil: posted
		if f.Op == "refuse" {
			res = &RefusedError{Reason: *f.Reason}
		}
		id := *f.ID
		c.mu.Lock()
		done, ok := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ok {
			done <- res
		} else if id > c.hub.nextID.Load() {
			return websocket.StatusPolicyViolation, fmt.Errorf("%s for message %d, which was never sent", f.Op, id)
		}
		// Otherwise a late answer (the Send already gave up) or a repeat: ignore.
		return 0, nil
	default: // "ping"
		ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.WriteTimeout)
		defer cancel()
		if err := c.ws.Write(ctx, websocket.MessageText, []byte(`{"op":"pong"}`)); err != nil {
			c.kill(websocket.StatusNormalClosure, "", err)
		}
		return 0, nil
	}
}

// send writes one message frame and waits for its ack.
func (c *conn) send(ctx context.Context, data []byte) error {
	id := c.hub.nextID.Add(1)
	done := make(chan error, 1)
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return c.deadError() // nothing was written to this conn
	}
	if len(c.pending) >= c.hub.opts.MaxPending {
		c.mu.Unlock()
		return notSent(c.errorf(ErrTooManyPending))
	}
	c.pending[id] = done
	c.mu.Unlock()

	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, c.hub.opts.WriteTimeout)
	err := c.ws.Write(wctx, websocket.MessageText, appendMsgFrame(make([]byte, 0, len(data)+48), id, data))
	cancel()
	if err != nil {
		// NotDelivered, whoever ended the conn: coder/websocket's Write
		// (v1.8, one frame per message) fails only before the whole frame
		// was flushed, and a page acts only on whole frames (a cut one is
		// discarded with its connection), so the page never saw it.
		c.forget(id)
		if ctx.Err() != nil {
			// Interrupted while waiting to write or mid-frame; in the
			// latter case the library closed the conn and the read loop
			// cleans up.
			return notSent(pageErr(c.id, fmt.Errorf("interrupted while writing: %w", ctx.Err())))
		}
		c.kill(websocket.StatusInternalError, "write failed", fmt.Errorf("writing: %w", err))
		return c.deadError(fmt.Errorf("writing: %w", err))
	}

	t := time.NewTimer(c.hub.opts.AckTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			c.hub.acks.record(time.Since(start))
		}
		return c.result(err)
	case <-ctx.Done():
		if c.forget(id) {
			return maySent(pageErr(c.id, fmt.Errorf("waiting for ack: %w", ctx.Err())))
		}
	case <-t.C:
		if c.forget(id) {
			return maySent(c.errorf(ErrAckTimeout))
		}
	}
	// The ack (or the disconnect) won the race; its result is on its way.
	err = <-done
	if err == nil {
		c.hub.acks.record(time.Since(start))
	}
	return c.result(err)
}

// result turns what the read loop sent for a pending message into Send's
// error: nil (acked), a *RefusedError (its class is the reason's), or why
// the conn died after the message was written (MaybeDelivered).
func (c *conn) result(err error) error {
	if err == nil {
		return nil
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		return pageErr(c.id, err)
	}
	if errors.Is(err, ErrClosed) {
		err = errHubClosed // ErrClosed would say nothing was sent
	}
	return maySent(pageErr(c.id, ErrDisconnected, err))
}

func (c *conn) errorf(err error) error { return pageErr(c.id, err) }

// forget removes a pending send and reports whether it was still pending
// (false means an ack or a disconnect took it and sent its result).
func (c *conn) forget(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pending[id]
	delete(c.pending, id)
	return ok
}

// kill makes the conn unusable for the given cause, fails its pending
// sends with it, unregisters it, calls the Disconnect hooks and closes the
// WebSocket with code and reason. Only the first call has an effect; it
// reports whether this call was it.
func (c *conn) kill(code websocket.StatusCode, reason string, cause error) bool {
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return false
	}
	c.dead = cause
	// Count the closing goroutine now, under the lock that marks the conn
	// dead: serve kills before it returns, so whichever kill comes first
	// runs while serve still holds its count, and Hub.Close's Wait cannot
	// have returned yet. (An Add after this Unlock could come after serve
	// returned and after Wait saw zero.)
	c.hub.wg.Add(1)
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	if h := c.hub.testHookKilled; h != nil {
		h()
	}
	for _, done := range pending {
		done <- cause
	}
	c.hub.unregister(c)
	c.stop()
	// The hooks wait for the Connect hooks, and the closing handshake
	// waits for the page's reply: not on the caller.
	go func() {
		defer c.hub.wg.Done()
		<-c.connected
		info := DisconnectInfo{ID: c.id, Conn: c.num, Cause: cause}
		c.hub.logDisconnect(info)
		c.hub.hookDisconnect(info)
		close(c.disconnected)
		c.hub.disconnected(c)
		if len(reason) > 120 { // a close reason must fit in a control frame, as UTF-8
			reason = strings.ToValidUTF8(reason[:120], "")
		}
		c.ws.Close(code, reason)
	}()
	return true
}
