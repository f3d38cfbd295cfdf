//go:build !js

package natsroute

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// A page load that reconnects to another replica keeps the message ids
// it posted (bridge.js acks a repeated id without posting it again), so
// two Hubs must never hand out the same ids: here replica A has sent 3
// messages, replica B none, when the page moves from A to B.
func TestMovedPageGetsEveryMessage(t *testing.T) {
	c := startCluster(t, 2)
	a := startReplica(t, c, 0, "a", wsbridge.Options{}, Options{})
	b := startReplica(t, c, 1, "b", wsbridge.Options{}, Options{})
	host := &wsbridgetest.Host{}
	p := a.dial(t, "mover", host, wsbridgetest.Options{})
	ctx := ctxT(t, 20*time.Second)
	send := func(rp *replica, text string) {
		t.Helper()
		if err := rp.r.Sender("mover").Send(ctx, assistant.NewText(text)); err != nil {
			t.Fatalf("Send(%s) via %s = %v", text, rp.name, err)
		}
	}
	for _, s := range []string{"a1", "a2", "a3"} {
		send(a, s)
	}
	p.Close()
	b.dial(t, "mover", host, wsbridgetest.Options{Posted: p.PostedIDs()})
	waitGone(t, a.r.Hub(), "mover")
	for _, s := range []string{"b1", "b2", "b3"} {
		send(a, s)
	}
	var got []string
	for _, p := range host.Posts() {
		got = append(got, p.Data)
	}
	want := []string{wireOf("a1"), wireOf("a2"), wireOf("a3"), wireOf("b1"), wireOf("b2"), wireOf("b3")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("host (-want +got):\n%s", d)
	}
}

func waitGone(t *testing.T, h *wsbridge.Hub, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for h.Connected(id) {
		select {
		case <-ctx.Done():
			t.Fatalf("%s still connected", id)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
