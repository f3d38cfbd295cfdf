//go:build !js

package wsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
)

// The bridge protocol, one JSON object per WebSocket text frame:
//
//	server → page  {"op":"msg","id":7,"data":"<wire string>"}  post data, then ack 7
//	               {"op":"pong"}                               answer to a ping
//	page → server  {"op":"ack","id":7}                         data of 7 was posted
//	               {"op":"ping"}                               heartbeat, every 20 s
//
// Ids are positive integers, unique per Hub and never reused, so a page
// can drop a repeated id. Anything else from a page closes its connection
// with 1008 (policy violation), 1003 (binary frame) or 1009 (frame larger
// than Options.MaxFrameSize).

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
				c.hub.violation(c.id, fmt.Errorf("wsbridge: page %q: %w", c.id, err), "wsbridge: protocol violation")
			}
			c.kill(websocket.StatusNormalClosure, "", err)
			return
		}
		if code, err := c.handle(typ, data); err != nil {
			err = fmt.Errorf("%w: %w", ErrProtocol, err)
			c.hub.violation(c.id, fmt.Errorf("wsbridge: page %q: %w", c.id, err), "wsbridge: protocol violation")
			c.kill(code, err.Error(), err)
			return
		}
	}
}

type pageFrame struct {
	Op string `json:"op"`
	ID uint64 `json:"id"`
}

// handle acts on one frame from the page. A non-nil error is a protocol
// violation, to be answered by closing with the returned code.
func (c *conn) handle(typ websocket.MessageType, data []byte) (websocket.StatusCode, error) {
	if typ != websocket.MessageText {
		return websocket.StatusUnsupportedData, errors.New("binary frame")
	}
	var f pageFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return websocket.StatusPolicyViolation, fmt.Errorf("malformed frame: %v", err)
	}
	switch f.Op {
	case "ack":
		if f.ID == 0 {
			return websocket.StatusPolicyViolation, errors.New("ack without a positive id")
		}
		c.mu.Lock()
		done, ok := c.pending[f.ID]
		delete(c.pending, f.ID)
		c.mu.Unlock()
		if ok {
			done <- nil
		} else if f.ID > c.hub.nextID.Load() {
			return websocket.StatusPolicyViolation, fmt.Errorf("ack for message %d, which was never sent", f.ID)
		}
		// Otherwise a late ack (the Send already gave up) or a repeat: ignore.
		return 0, nil
	case "ping":
		ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.WriteTimeout)
		defer cancel()
		if err := c.ws.Write(ctx, websocket.MessageText, []byte(`{"op":"pong"}`)); err != nil {
			c.kill(websocket.StatusNormalClosure, "", err)
		}
		return 0, nil
	default:
		return websocket.StatusPolicyViolation, fmt.Errorf("unknown op %.32q", f.Op)
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
		return c.errorf(ErrTooManyPending)
	}
	c.pending[id] = done
	c.mu.Unlock()

	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, c.hub.opts.WriteTimeout)
	err := c.ws.Write(wctx, websocket.MessageText, appendMsgFrame(make([]byte, 0, len(data)+48), id, data))
	cancel()
	if err != nil {
		if ctx.Err() != nil && c.forget(id) {
			// Interrupted while waiting to write or mid-frame; in the
			// latter case the library closed the conn and the read loop
			// cleans up.
			return fmt.Errorf("wsbridge: page %q: %w", c.id, ctx.Err())
		}
		c.kill(websocket.StatusInternalError, "write failed", fmt.Errorf("writing: %w", err))
		return c.result(<-done)
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
			return fmt.Errorf("wsbridge: page %q: waiting for ack: %w", c.id, ctx.Err())
		}
	case <-t.C:
		if c.forget(id) {
			return c.errorf(ErrAckTimeout)
		}
	}
	// The ack (or the disconnect) won the race; its result is on its way.
	err = <-done
	if err == nil {
		c.hub.acks.record(time.Since(start))
	}
	return c.result(err)
}

func (c *conn) result(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("wsbridge: page %q: %w: %w", c.id, ErrDisconnected, err)
}

func (c *conn) errorf(err error) error { return fmt.Errorf("wsbridge: page %q: %w", c.id, err) }

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
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, done := range pending {
		done <- cause
	}
	c.hub.unregister(c)
	c.stop()
	// The hooks wait for the Connect hooks, and the closing handshake
	// waits for the page's reply: not on the caller. Every kill happens
	// while serve runs (serve kills before it returns), so the WaitGroup
	// count is positive here and Add is allowed.
	c.hub.wg.Add(1)
	go func() {
		defer c.hub.wg.Done()
		<-c.connected
		info := DisconnectInfo{ID: c.id, Conn: c.num, Cause: cause}
		c.hub.logDisconnect(info)
		c.hub.hookDisconnect(info)
		close(c.disconnected)
		if len(reason) > 120 { // a close reason must fit in a control frame
			reason = reason[:120]
		}
		c.ws.Close(code, reason)
	}()
	return true
}

// appendMsgFrame appends {"op":"msg","id":id,"data":"…"} with data as a
// JSON string. data is valid UTF-8 (assistant.Encode guarantees it).
func appendMsgFrame(dst []byte, id uint64, data []byte) []byte {
	dst = append(dst, `{"op":"msg","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"data":"`...)
	const hex = "0123456789abcdef"
	for _, b := range data {
		switch {
		case b == '"' || b == '\\':
			dst = append(dst, '\\', b)
		case b < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, `"}`...)
}
