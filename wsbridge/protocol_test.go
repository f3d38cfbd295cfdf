//go:build !js

package wsbridge

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// Finding 6: page frames decode strictly. Each frame here was accepted by
// encoding/json v1 (the first four acked the held message, so its Send
// returned nil); now each closes the page's connection with 1008 and the
// Send fails with ErrDisconnected.
func TestStrictPageFrames(t *testing.T) {
	log := &errorLog{}
	hub, srv := newTestHub(t, Options{OnError: log.add})
	for i, frame := range []string{
		`{"OP":"ack","ID":%d}`,
		`{"op":"ack","id":99999999,"id":%d}`,
		`{"op":"ack","id":%d,"extra":true}`,
		`{"Op":"ack","id":%d}`,
		`{"op":"ping","id":%d}`,
		`{"op":"ping","op":"ack","id":%d}`,
		`{"op":"ack","id":%d,"reason":"invalid"}`,
		`{"op":"refuse","id":%d}`,
		`{"op":"refuse","id":%d,"reason":"because"}`,
		"{\"op\":\"ack\xff\",\"id\":%d}",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			id := fmt.Sprint("strict-", i)
			p := connectPage(t, hub, srv, id, &fakeHost{}, pageOpts{hold: true})
			ctx := ctxT(t)
			res := sendAsync(ctx, hub.Sender(id), assistant.NewText("x"))
			held, err := p.heldFrames(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.write(fmt.Sprintf(frame, held[0].ID)); err != nil {
				t.Fatal(err)
			}
			if code := p.closeStatus(ctx); code != websocket.StatusPolicyViolation {
				t.Errorf("%s: closed with %v, want 1008", frame, code)
			}
			if err := <-res; !errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrProtocol) {
				t.Errorf("%s: Send = %v, want ErrDisconnected wrapping ErrProtocol", frame, err)
			}
			if errs := log.get(id); len(errs) != 1 || !errors.Is(errs[0], ErrProtocol) {
				t.Errorf("%s: OnError got %v", frame, errs)
			}
		})
	}
}

func TestDecodePageFrame(t *testing.T) {
	u := func(n uint64) *uint64 { return &n }
	s := func(v string) *string { return &v }
	for frame, want := range map[string]pageFrame{
		`{"op":"ping"}`:                                  {Op: "ping"},
		`{"op":"ack","id":7}`:                            {Op: "ack", ID: u(7)},
		` {"id":7,"op":"ack"} `:                          {Op: "ack", ID: u(7)},
		`{"op":"refuse","id":7,"reason":"too_large"}`:    {Op: "refuse", ID: u(7), Reason: s(ReasonTooLarge)},
		`{"op":"refuse","id":8,"reason":"invalid"}`:      {Op: "refuse", ID: u(8), Reason: s(ReasonInvalid)},
		`{"op":"refuse","id":9,"reason":"wrong_parent"}`: {Op: "refuse", ID: u(9), Reason: s(ReasonWrongParent)},
	} {
		got, err := decodePageFrame([]byte(frame))
		if err != nil {
			t.Errorf("%s: %v", frame, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", frame, diff)
		}
	}
}

// Finding 4: Send refuses a message longer than MaxMessageSize at once,
// before writing anything; one of exactly MaxMessageSize bytes goes out.
func TestSendTooLarge(t *testing.T) {
	hub, srv := newTestHub(t, Options{})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	overhead := len(`{"method":"sendMsg","type":"text","content":""}`)
	big := assistant.NewText(strings.Repeat("x", MaxMessageSize-overhead+1))
	start := time.Now()
	err := hub.Sender("conv-1").Send(ctx, big)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send = %v, want ErrTooLarge", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: want at once", d)
	}
	res := sendAsync(ctx, hub.Sender("conv-1"), assistant.NewText(strings.Repeat("x", MaxMessageSize-overhead)))
	held, err := p.heldFrames(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || len(held[0].Data) != MaxMessageSize {
		t.Fatalf("page got %d frames, the first with %d bytes; want one of exactly MaxMessageSize", len(held), len(held[0].Data))
	}
	p.ack(held[0].ID)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
}

// Finding 4: a refusal from the page ends its Send at once with
// ErrRefused and the reason; the connection stays up.
func TestRefusalFrame(t *testing.T) {
	hub, srv := newTestHub(t, Options{})
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	ctx := ctxT(t)
	for i, reason := range []string{ReasonTooLarge, ReasonInvalid, ReasonWrongParent} {
		res := sendAsync(ctx, hub.Sender("conv-1"), assistant.NewText(reason))
		held, err := p.heldFrames(ctx, i+1)
		if err != nil {
			t.Fatal(err)
		}
		p.write(fmt.Sprintf(`{"op":"refuse","id":%d,"reason":%q}`, held[i].ID, reason))
		err = <-res
		var refused *RefusedError
		if !errors.Is(err, ErrRefused) || !errors.As(err, &refused) || refused.Reason != reason || errors.Is(err, ErrDisconnected) {
			t.Errorf("Send = %v, want ErrRefused with reason %s", err, reason)
		}
		if want := `wsbridge: page "conv-1": page refused the message: ` + reason; err.Error() != want {
			t.Errorf("error text %q, want %q", err, want)
		}
	}
	if _, err := hub.lookup("conv-1"); err != nil {
		t.Errorf("page dropped after refusals: %v", err)
	}
}

// Finding 7: kill (from a failed write, here called directly) racing
// Hub.Close. The kill marks the conn dead, then (testHookKilled) is held
// up while the page's socket closes, so serve returns; Close must still
// wait for the closing goroutine kill starts, not return before it.
func TestKillDuringClose(t *testing.T) {
	for i := range 3 {
		hub, srv := newTestHub(t, Options{})
		p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
		c, err := hub.lookup("conv-1")
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		killed := make(chan struct{})
		var closedFirst bool
		hub.testHookKilled = func() {
			close(killed)
			select {
			case <-closed:
				closedFirst = true
			case <-time.After(300 * time.Millisecond):
			}
		}
		done := make(chan struct{})
		go func() {
			c.kill(websocket.StatusInternalError, "write failed", errors.New("writing: test"))
			close(done)
		}()
		<-killed
		p.ws.CloseNow() // serve's read fails, serve returns
		go func() {
			hub.Close()
			close(closed)
		}()
		<-done
		<-closed
		if closedFirst {
			t.Fatalf("iteration %d: Hub.Close returned while a kill had yet to start its closing goroutine", i)
		}
	}
}

// Finding 7, without hooks: many kills racing Close under -race.
func TestKillCloseRace(t *testing.T) {
	for range 100 {
		hub, srv := newTestHub(t, Options{})
		p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
		c, err := hub.lookup("conv-1")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { c.kill(websocket.StatusInternalError, "write failed", errors.New("test")) })
		wg.Go(func() { p.ws.CloseNow() })
		wg.Go(func() { hub.Close() })
		wg.Wait()
		hub.Close()
		srv.Close()
	}
}

// decodePageFrame never panics, and what it accepts is one of the three
// shapes with the fields its op needs.
func FuzzDecodePageFrame(f *testing.F) {
	for _, s := range []string{
		`{"op":"ping"}`, `{"op":"ack","id":7}`, `{"op":"refuse","id":7,"reason":"too_large"}`,
		`{"op":"ack","id":99,"id":7}`, `{"OP":"ack","ID":7}`, `{"op":"ack","id":7,"x":1}`, `null`, `[]`, `{"op":"ack","id":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodePageFrame(data)
		if err != nil {
			return
		}
		switch fr.Op {
		case "ping":
			if fr.ID != nil || fr.Reason != nil {
				t.Errorf("%q accepted as %+v", data, fr)
			}
		case "ack", "refuse":
			if fr.ID == nil || *fr.ID == 0 || (fr.Op == "ack") != (fr.Reason == nil) {
				t.Errorf("%q accepted as %+v", data, fr)
			}
		default:
			t.Errorf("%q accepted with op %q", data, fr.Op)
		}
	})
}
