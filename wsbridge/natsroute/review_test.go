//go:build !js

package natsroute

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// One claim with an absurd time (a hostile peer on the NATS account, or a
// replica with a broken clock) must not break this replica's clock for
// good: at math.MaxInt64 the next stamp overflowed to a negative time,
// which every other replica rejects (parseClaim wants t > 0), so no page
// connecting here could ever take over from an older connection elsewhere.
func TestHLCIgnoresAbsurdFuture(t *testing.T) {
	now := time.Unix(100, 0)
	c := hlc{now: func() time.Time { return now }}
	for _, ahead := range []int64{math.MaxInt64, now.Add(100 * 365 * 24 * time.Hour).UnixNano()} {
		c.observe(ahead)
		if s := c.stamp(); s <= 0 || s > now.Add(24*time.Hour).UnixNano() {
			t.Errorf("after observing %d: stamp = %d, want in (0, now+24h]", ahead, s)
		}
	}
}

// blockOn is a slog handler that blocks the goroutine logging msg until
// release is closed.
type blockOn struct {
	msg      string
	entered  chan struct{}
	release  chan struct{}
	enterOne sync.Once
}

func (h *blockOn) Enabled(context.Context, slog.Level) bool { return true }
func (h *blockOn) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *blockOn) WithGroup(string) slog.Handler            { return h }
func (h *blockOn) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.enterOne.Do(func() { close(h.entered) })
		<-h.release
	}
	return nil
}

// The Router documents that Close stops the NATS callback goroutine of its
// claim subscription; Unsubscribe does not wait for a callback already
// running, which then went on using the Hub and the NATS connection
// (announcing a claim) after Close returned.
func TestCloseWaitsForClaimCallback(t *testing.T) {
	c := startCluster(t, 1)
	h := &blockOn{msg: "natsroute: page taken over by another replica", entered: make(chan struct{}), release: make(chan struct{})}
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(h.release) }) }
	defer free()
	rp := startReplica(t, c, 0, "a", wsbridge.Options{}, Options{Logger: slog.New(h)})
	rp.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{})

	// Another replica claims p with a greater key: the callback replaces
	// the local connection, then logs (and blocks there).
	data, _ := json.Marshal(claim{ID: "p", Replica: "z", T: time.Now().Add(time.Second).UnixNano(), Conn: 1})
	if err := c.connect(0, "peer").PublishMsg(sealed(t, testKey, kindClaim, claimSubject(DefaultPrefix), "", "z", "", nil, data)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the claim callback never ran")
	}
	closed := make(chan struct{})
	go func() {
		rp.r.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Error("Close returned while a claim callback was still running")
	case <-time.After(200 * time.Millisecond):
	}
	free()
	<-closed
}

// An id no page can have (empty, or longer than wsbridge.MaxIDLen) is not
// connected anywhere: Send says so at once, as a Hub does, and puts nothing
// on NATS. A long id made a subject past the server's max control line,
// and the server closed the replica's NATS connection: every
// cross-replica Send failed until it reconnected.
func TestSendImpossibleID(t *testing.T) {
	_, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	b.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{})
	ctx := ctxT(t, 10*time.Second)
	for _, id := range []string{"", strings.Repeat("x", wsbridge.MaxIDLen+1), strings.Repeat("y", 8000)} {
		if err := a.r.Sender(id).Send(ctx, assistant.NewText("x")); !errors.Is(err, wsbridge.ErrNotConnected) {
			t.Errorf("Send to a %d-byte id = %v, want ErrNotConnected", len(id), err)
		}
		if err := a.r.Sender("p").Send(ctx, assistant.NewText("ok")); err != nil {
			t.Errorf("after a Send to a %d-byte id: Send to a connected page = %v", len(id), err)
		}
	}
}

// Every claim a Router announces must parse: encoding/json writes '<', '>'
// and '&' as 6-byte escapes, so a valid id of 256 of them made a claim
// over parseClaim's 1024-byte bound, and the page's takeover was dropped
// as malformed by every replica.
func TestParseClaimLargestValid(t *testing.T) {
	for _, id := range []string{strings.Repeat("<", wsbridge.MaxIDLen), strings.Repeat("&", wsbridge.MaxIDLen)} {
		want := claim{ID: id, Replica: strings.Repeat(">", maxReplicaLen), T: math.MaxInt64, Conn: math.MaxUint64}
		data, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := parseClaim(data); err != nil || got != want {
			t.Errorf("parseClaim of a %d-byte claim = %v, want it back", len(data), err)
		}
	}
}
