//go:build !js

package wsbridge

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// The service restarts (a new Hub) while the page stays loaded: the page
// reconnects remembering the message ids it posted, and the new Hub's
// messages must not be taken for those (acked but never posted).
func TestRestartedHubMessagesArePosted(t *testing.T) {
	host := &fakeHost{}
	hub1, srv1 := newTestHub(t, Options{})
	p := connectPage(t, hub1, srv1, "conv-1", host, pageOpts{})
	ctx := ctxT(t)
	for _, s := range []string{"before-1", "before-2"} {
		if err := hub1.Sender("conv-1").Send(ctx, assistant.NewText(s)); err != nil {
			t.Fatalf("Send(%s) = %v", s, err)
		}
	}
	hub1.Close()
	<-p.done
	hub2, srv2 := newTestHub(t, Options{})
	connectPage(t, hub2, srv2, "conv-1", host, pageOpts{posted: p.posted})
	for _, s := range []string{"after-1", "after-2"} {
		if err := hub2.Sender("conv-1").Send(ctx, assistant.NewText(s)); err != nil {
			t.Fatalf("Send(%s) = %v", s, err)
		}
	}
	var want [][]byte
	for _, s := range []string{"before-1", "before-2", "after-1", "after-2"} {
		w, _ := assistant.Encode(assistant.NewText(s))
		want = append(want, w)
	}
	if d := cmp.Diff(want, host.wire()); d != "" {
		t.Errorf("host (-want +got):\n%s", d)
	}
}
