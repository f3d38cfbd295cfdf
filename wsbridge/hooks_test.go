//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/imworkspace/assistant"
)

// event is one hook call, with what the hook saw of the Hub from inside.
type event struct {
	Kind    string
	ID      string
	Conn    uint64
	Outcome Outcome
	Bytes   int
	Err     error // Cause or Err
	Live    bool  // Connect: hub.Connected(id); Disconnect: hub.Replace(id, conn) (must be false)
}

type recorder struct {
	mu     sync.Mutex
	events []event
	added  chan struct{} // signalled on every event
}

func newRecorder() *recorder { return &recorder{added: make(chan struct{}, 1)} }

func (r *recorder) add(e event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
}

// wait returns the events once there are n of them.
func (r *recorder) wait(t *testing.T, n int) []event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ev := append([]event(nil), r.events...)
		r.mu.Unlock()
		if len(ev) >= n {
			return ev
		}
		select {
		case <-r.added:
		case <-timeout:
			t.Fatalf("%d hook events, want %d: %+v", len(ev), n, ev)
		}
	}
}

// hooks records every event. Each hook calls back into the Hub: a hook
// called with a Hub lock held would deadlock here.
func (r *recorder) hooks(hub **Hub) Hooks {
	return Hooks{
		Connect: func(i ConnectInfo) {
			if i.RemoteAddr == "" || i.Time.IsZero() {
				r.add(event{Kind: "bad connect info"})
			}
			r.add(event{Kind: "connect", ID: i.ID, Conn: i.Conn, Live: (*hub).Connected(i.ID)})
		},
		Disconnect: func(i DisconnectInfo) {
			r.add(event{Kind: "disconnect", ID: i.ID, Conn: i.Conn, Err: i.Cause, Live: (*hub).Replace(i.ID, i.Conn)})
		},
		Send: func(i SendInfo) {
			_ = (*hub).Stats()
			if i.Duration <= 0 {
				r.add(event{Kind: "bad send duration"})
			}
			r.add(event{Kind: "send", ID: i.ID, Outcome: i.Outcome, Bytes: i.Bytes})
		},
		Violation: func(i ViolationInfo) {
			_ = (*hub).Stats()
			r.add(event{Kind: "violation", ID: i.ID, Err: i.Err})
		},
	}
}

func TestHooks(t *testing.T) {
	rec, second := newRecorder(), newRecorder()
	var hub *Hub
	hub, srv := newTestHub(t, Options{NoPacing: true, AckTimeout: 50 * time.Millisecond, Hooks: []Hooks{
		rec.hooks(&hub),
		{}, // nil funcs are skipped
		{Send: func(i SendInfo) { second.add(event{Kind: "send", ID: i.ID, Outcome: i.Outcome, Bytes: i.Bytes}) }},
	}})
	ctx := ctxT(t)
	msg := assistant.NewText("hello")
	wire, _ := assistant.Encode(msg)

	first := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{})
	rec.wait(t, 1)
	if err := hub.Sender("conv-1").Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	hub.Sender("nobody").Send(ctx, msg)
	hub.Sender("conv-1").Send(ctx, assistant.Text{})
	// A reconnect with the same id: the old Disconnect comes first.
	connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	rec.wait(t, 6)
	if code := first.closeStatus(ctx); code != StatusReplaced {
		t.Errorf("first page closed with %v", code)
	}
	hub.Sender("conv-1").Send(ctx, msg) // held: no ack
	// A protocol violation.
	bad := connectPage(t, hub, srv, "bad", &fakeHost{}, pageOpts{hold: true})
	rec.wait(t, 8)
	bad.write(`{"op":"nope"}`)
	rec.wait(t, 10)
	// A refused request.
	if _, _, err := dialPage(ctx, wsURL(srv.URL, ""), &fakeHost{}, pageOpts{}); err == nil {
		t.Fatal("dial with an empty id succeeded")
	}
	rec.wait(t, 11)
	hub.Close()

	got := rec.wait(t, 12)
	want := []event{
		{Kind: "connect", ID: "conv-1", Conn: 1, Live: true},
		{Kind: "send", ID: "conv-1", Outcome: OutcomeAcked, Bytes: len(wire)},
		{Kind: "send", ID: "nobody", Outcome: OutcomeNotConnected, Bytes: len(wire)},
		{Kind: "send", ID: "conv-1", Outcome: OutcomeInvalid},
		{Kind: "disconnect", ID: "conv-1", Conn: 1, Err: ErrReplaced},
		{Kind: "connect", ID: "conv-1", Conn: 2, Live: true},
		{Kind: "send", ID: "conv-1", Outcome: OutcomeTimeout, Bytes: len(wire)},
		{Kind: "connect", ID: "bad", Conn: 3, Live: true},
		{Kind: "violation", ID: "bad", Err: ErrProtocol},
		{Kind: "disconnect", ID: "bad", Conn: 3, Err: ErrProtocol},
		{Kind: "violation", ID: "", Err: errAny},
		{Kind: "disconnect", ID: "conv-1", Conn: 2, Err: ErrClosed},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("hook events (-want +got):\n%s", diff)
	}
	var wantSends []event
	for _, e := range want {
		if e.Kind == "send" {
			wantSends = append(wantSends, e)
		}
	}
	if diff := cmp.Diff(wantSends, second.wait(t, 4)); diff != "" {
		t.Errorf("second Hooks entry's sends (-want +got):\n%s", diff)
	}
}

// errAny matches any non-nil error under cmpopts.EquateErrors.
var errAny = anyError{}

type anyError struct{}

func (anyError) Error() string { return "any error" }
func (anyError) Is(error) bool { return true }

// A slow Connect hook delays only its own page: another page's Sends go on.
func TestSlowHookBlocksOnlyItsPage(t *testing.T) {
	release := make(chan struct{})
	hub, srv := newTestHub(t, Options{NoPacing: true, Hooks: []Hooks{{
		Connect: func(i ConnectInfo) {
			if i.ID == "slow" {
				<-release
			}
		},
	}}})
	defer close(release)
	ctx := ctxT(t)
	if _, _, err := dialPage(ctx, wsURL(srv.URL, "slow"), &fakeHost{}, pageOpts{}); err != nil {
		t.Fatal(err)
	}
	connectPage(t, hub, srv, "fast", &fakeHost{}, pageOpts{})
	if err := hub.Sender("fast").Send(ctx, assistant.NewText("hi")); err != nil {
		t.Fatalf("Send to the other page = %v", err)
	}
}

func TestWaitConnected(t *testing.T) {
	hub, srv := newTestHub(t, Options{NoPacing: true})
	ctx := ctxT(t)
	if hub.Connected("conv-1") {
		t.Fatal("Connected before any page")
	}
	res := make(chan error, 2)
	for range 2 {
		go func() { res <- hub.WaitConnected(ctx, "conv-1") }()
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := hub.WaitConnected(short, "conv-2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitConnected for a page that never comes = %v", err)
	}
	if err := hub.WaitConnected(ctx, strings.Repeat("x", MaxIDLen+1)); err == nil {
		t.Fatal("WaitConnected for an impossible id = nil")
	}
	p, _, err := dialPage(ctx, wsURL(srv.URL, "conv-1"), &fakeHost{}, pageOpts{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for range 2 {
		if err := <-res; err != nil {
			t.Fatalf("WaitConnected = %v", err)
		}
	}
	if !hub.Connected("conv-1") {
		t.Fatal("not Connected after WaitConnected")
	}
	if err := hub.Sender("conv-1").Send(ctx, assistant.NewText("hi")); err != nil {
		t.Fatalf("Send after WaitConnected = %v", err)
	}
	hub.mu.RLock()
	n := len(hub.waiting)
	hub.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d ids still waited for, want 0", n)
	}
	go func() { res <- hub.WaitConnected(ctx, "conv-3") }()
	hub.Close()
	if err := <-res; !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitConnected across Close = %v, want ErrClosed", err)
	}
	if hub.Connected("conv-1") {
		t.Fatal("Connected after Close")
	}
}

func TestReplace(t *testing.T) {
	var conns []uint64
	var mu sync.Mutex
	hub, srv := newTestHub(t, Options{NoPacing: true, Hooks: []Hooks{{Connect: func(i ConnectInfo) {
		mu.Lock()
		conns = append(conns, i.Conn)
		mu.Unlock()
	}}}})
	ctx := ctxT(t)
	p := connectPage(t, hub, srv, "conv-1", &fakeHost{}, pageOpts{hold: true})
	res := sendAsync(ctx, hub.Sender("conv-1"), assistant.NewText("pending"))
	if _, err := p.heldFrames(ctx, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	conn := conns[0]
	mu.Unlock()
	if hub.Replace("conv-1", conn+1) || hub.Replace("other", conn) {
		t.Fatal("Replace of a connection that does not exist = true")
	}
	if !hub.Replace("conv-1", conn) {
		t.Fatal("Replace of the live connection = false")
	}
	if err := <-res; !errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrReplaced) {
		t.Fatalf("pending Send = %v, want ErrDisconnected wrapping ErrReplaced", err)
	}
	if code := p.closeStatus(ctx); code != StatusReplaced {
		t.Errorf("page closed with %v, want %v", code, StatusReplaced)
	}
	if hub.Connected("conv-1") || hub.Replace("conv-1", conn) {
		t.Error("connection still registered after Replace")
	}
}
