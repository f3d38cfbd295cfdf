//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// twoReplicas starts a 2-server cluster with replica a on server 0 and b
// on server 1.
func twoReplicas(t *testing.T, hubOpts wsbridge.Options, opts Options) (*cluster, *replica, *replica) {
	c := startCluster(t, 2)
	a, b := startReplica(t, c, 0, "a", hubOpts, opts), startReplica(t, c, 1, "b", hubOpts, opts)
	c.waitClaimsMeshed([]*replica{a, b})
	return c, a, b
}

func TestSendErrors(t *testing.T) {
	_, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	ctx := ctxT(t, 10*time.Second)

	if err := a.r.Sender("nobody").Send(ctx, assistant.NewText("x")); !errors.Is(err, wsbridge.ErrNotConnected) {
		t.Errorf("Send to an unknown page = %v, want ErrNotConnected", err)
	}
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("")); !errors.Is(err, assistant.ErrInvalid) {
		t.Errorf("Send(invalid) = %v, want ErrInvalid", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.r.Sender("p").Send(done, assistant.NewText("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send(done ctx) = %v, want context.Canceled", err)
	}
	if n := len(host.Posts()); n != 0 {
		t.Errorf("host got %d posts, want 0", n)
	}
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("ok")); err != nil {
		t.Errorf("Send = %v", err)
	}
}

// silentPage connects a page that reads frames and never acks them.
func silentPage(t *testing.T, rp *replica, id string) {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	ws, _, err := websocket.Dial(ctx, wsbridgetest.URL(rp.srv.URL, id), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {rp.srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	go func() {
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	if err := rp.r.Hub().WaitConnected(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// rawRequest sends a request as r would (sealed), with a chosen request
// id and deadline.
func rawRequest(r *Router, id, reqID string, deadline time.Time, text string, wait time.Duration) (*nats.Msg, error) {
	w, _ := assistant.Encode(assistant.NewText(text))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return r.request(ctx, newRequest(pageSubject(DefaultPrefix, id), reqID, deadline, w))
}

// The same request id twice (a redelivery) is posted once; both get the
// first one's answer.
func TestRepeatedRequestPostedOnce(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(0, "p")
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	replies := make([]*nats.Msg, 3)
	errs := make([]error, 3)
	for i := range replies {
		wg.Go(func() { replies[i], errs[i] = rawRequest(a.r, "p", "a.42", deadline, "once", 10*time.Second) })
	}
	wg.Wait()
	for i := range replies {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if st := replies[i].Header.Get(hdrStatus); st != statusOK {
			t.Errorf("request %d: status %q, want ok", i, st)
		}
	}
	// Later, after the first has finished, too.
	if r, err := rawRequest(a.r, "p", "a.42", deadline, "once", 10*time.Second); err != nil || r.Header.Get(hdrStatus) != statusOK {
		t.Errorf("late repeat: %v, %v", r, err)
	}
	if n := len(host.Posts()); n != 1 {
		t.Errorf("host got %d posts, want 1", n)
	}
	// A different request id is a different message.
	if r, err := rawRequest(a.r, "p", "a.43", deadline, "twice", 10*time.Second); err != nil || r.Header.Get(hdrStatus) != statusOK {
		t.Errorf("new request: %v, %v", r, err)
	}
	if n := len(host.Posts()); n != 2 {
		t.Errorf("host got %d posts, want 2", n)
	}
}

// A request whose deadline has passed when it reaches the page's replica
// (buffered during a reconnect, say) is never delivered late; it is
// answered "not sent" (its caller waits replyMargin longer than that
// deadline), so the caller need not wait for its own deadline.
func TestExpiredRequestAnswered(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(0, "p")
	r, err := rawRequest(a.r, "p", "a.1", time.Now().Add(-time.Millisecond), "stale", 5*time.Second)
	if err != nil {
		t.Fatalf("expired request: %v, want an answer", err)
	}
	if err, _ := replyError("p", r); !errors.Is(err, context.DeadlineExceeded) || assistant.DeliveryOf(err) != assistant.NotDelivered {
		t.Errorf("expired request: %v, want DeadlineExceeded, NotDelivered", err)
	}
	// Malformed requests are answered "invalid" and not delivered.
	req := nats.NewMsg(pageSubject(DefaultPrefix, "p"))
	req.Header.Set(hdrRequest, "a.2")
	req.Data = []byte(wireOf("x"))
	r, err = a.r.request(ctxT(t, 5*time.Second), req)
	if err != nil || r.Header.Get(hdrStatus) != statusInvalid {
		t.Errorf("request without a deadline: %v, %v; want status invalid", r, err)
	}
	if n := len(host.Posts()); n != 0 {
		t.Errorf("host got %d posts, want 0", n)
	}
}

// With NATS gone, pages on this replica are still reached through the
// same Sender; others fail at once with ErrUnavailable.
func TestNATSDownLocalPagesWork(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	local, remote := &wsbridgetest.Host{}, &wsbridgetest.Host{}
	a.dial(t, "local", local, wsbridgetest.Options{})
	b.dial(t, "remote", remote, wsbridgetest.Options{})
	c.mu.Lock()
	for _, s := range c.servers {
		s.Shutdown()
	}
	c.mu.Unlock()
	ctx := ctxT(t, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); a.nc.Status() == nats.CONNECTED; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still connected to NATS 10 s after every server stopped")
		}
	}
	if err := a.r.Sender("local").Send(ctx, assistant.NewText("still")); err != nil {
		t.Errorf("Send to a local page without NATS = %v, want nil", err)
	}
	if err := a.r.Sender("remote").Send(ctx, assistant.NewText("x")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Send to a remote page without NATS = %v, want ErrUnavailable", err)
	}
	if n := len(local.Posts()); n != 1 {
		t.Errorf("local host got %d posts, want 1", n)
	}
}

func TestTooLarge(t *testing.T) {
	s := startServer(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true, MaxPayload: 512})
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r, err := New(nc, wsbridge.Options{}, Options{Keys: [][]byte{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Sender("p").Send(ctxT(t, 5*time.Second), assistant.NewText(strings.Repeat("x", 600)))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Send = %v, want ErrTooLarge", err)
	}
}

// A page that connects to B while an older connection with its id is
// open on A takes over: A closes its connection with StatusReplaced. B's
// clock runs 3 s behind A's (within maxClaimSkew), which must not matter:
// B has heard A's claim, so its own claim is later.
func TestMoveReplacesOlderConnection(t *testing.T) {
	_, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	b.r.clock.mu.Lock()
	b.r.clock.now = func() time.Time { return time.Now().Add(-3 * time.Second) }
	b.r.clock.mu.Unlock()
	oldHost, newHost := &wsbridgetest.Host{}, &wsbridgetest.Host{}
	old := a.dial(t, "p", oldHost, wsbridgetest.Options{})
	waitClaimHeard(t, b, "p", a)
	b.dial(t, "p", newHost, wsbridgetest.Options{})
	select {
	case <-old.Done():
		if code := old.CloseStatus(context.Background()); code != wsbridge.StatusReplaced {
			t.Errorf("old connection closed with %v, want StatusReplaced", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("old connection still open after 10 s")
	}
	waitGone(t, a.r.Hub(), "p")
	// A heard B's claim before its connection ended: its subscription
	// ends with the connection, not moveLinger later. It used to linger,
	// answering "moving" to the requests NATS still handed it (A's own
	// among them), and a Send could give up after maxMoves of those.
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		a.r.mu.Lock()
		o := a.r.pages["p"]
		a.r.mu.Unlock()
		if o == nil {
			break
		}
		if time.Since(start) > moveLinger/3 {
			t.Fatalf("A still subscribed for p %v after its connection was replaced", time.Since(start))
		}
	}
	if err := a.r.Sender("p").Send(ctxT(t, 10*time.Second), assistant.NewText("x")); err != nil {
		t.Errorf("Send = %v", err)
	}
	if n, m := len(newHost.Posts()), len(oldHost.Posts()); n != 1 || m != 0 {
		t.Errorf("new page got %d posts, old %d; want 1, 0", n, m)
	}
}

// waitClaimHeard waits until rp's clock has observed owner's claim for id.
func waitClaimHeard(t *testing.T, rp *replica, id string, owner *replica) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	// The page is registered in the Hub before the Router's Connect hook
	// has recorded it: wait for the hook, and never hold the lock past a
	// failure (a panic under it would hang the cleanup's Close).
	var want int64
	for {
		owner.r.mu.Lock()
		pg, ok := owner.r.pages[id]
		if ok {
			want = pg.key.t
		}
		owner.r.mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("owner never recorded the page")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		rp.r.clock.mu.Lock()
		heard := rp.r.clock.last >= want
		rp.r.clock.mu.Unlock()
		if heard {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("claim not heard in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// One NATS subscription per connected page (plus the claims one and the
// connection's reply inbox), gone when the page goes; none after Close.
func TestSubscriptionsFollowPages(t *testing.T) {
	_, a, _ := twoReplicas(t, wsbridge.Options{}, Options{})
	base := a.nc.NumSubscriptions()
	var pages []*wsbridgetest.Page
	for i := range 5 {
		pages = append(pages, a.dial(t, "p"+strconv.Itoa(i), &wsbridgetest.Host{}, wsbridgetest.Options{}))
	}
	waitSubs(t, a.nc, base+5)
	pages[0].Close()
	waitGone(t, a.r.Hub(), "p0")
	waitSubs(t, a.nc, base+4)
	a.r.Close()
	waitSubs(t, a.nc, 0)
	if err := a.r.Sender("p1").Send(ctxT(t, time.Second), assistant.NewText("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
}

func waitSubs(t *testing.T, nc *nats.Conn, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for nc.NumSubscriptions() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions, want %d", nc.NumSubscriptions(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewRejects(t *testing.T) {
	s := startServer(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for name, o := range map[string]Options{
		"wildcard prefix": {Prefix: "a.*"},
		"dotted replica":  {Replica: "a.b"},
		"spaced replica":  {Replica: "a b"},
		"long replica":    {Replica: strings.Repeat("r", 65)},
	} {
		o.Keys = [][]byte{testKey}
		if r, err := New(nc, wsbridge.Options{}, o); err == nil {
			r.Close()
			t.Errorf("%s: New = nil error", name)
		}
	}
	if _, err := New(nil, wsbridge.Options{}, Options{}); err == nil {
		t.Error("New(nil conn) = nil error")
	}
}

// A page that has just connected to b is reached from a at once: the
// subscription takes a moment to reach a's NATS server, which the one
// retry after "no responders" covers.
func TestSendRightAfterConnect(t *testing.T) {
	_, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	ctx := ctxT(t, 20*time.Second)
	for i := range 20 {
		id := "fresh-" + strconv.Itoa(i)
		b.dial(t, id, &wsbridgetest.Host{}, wsbridgetest.Options{})
		if err := a.r.Sender(id).Send(ctx, assistant.NewText("hello")); err != nil {
			t.Errorf("Send to %s right after it connected = %v", id, err)
		}
	}
}

// Shutdown lets the Sends a replica is serving finish (one of them waits
// for the page's turn), then closes the page with 1001 so that it
// reconnects elsewhere; after it, Sends through it fail with ErrClosed.
func TestShutdownDrains(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	host := &wsbridgetest.Host{}
	p := a.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(1, "p")
	ctx := ctxT(t, 20*time.Second)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = b.r.Sender("p").Send(ctx, assistant.NewText("drain-"+strconv.Itoa(i))) })
	}
	for deadline := time.Now().Add(10 * time.Second); len(host.Posts()) == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) { // the first is posted, the second waits for its turn
			t.Fatal("nothing posted in 10 s")
		}
	}
	if err := a.r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	wg.Wait()
	// The Send posted first was in progress: it finishes. The other may still
	// have been waiting for the owner to take it when Shutdown began
	// (more often under -race); it is then answered "moving", finds the
	// page nowhere and fails as NotDelivered, never ambiguously. Every nil
	// is a post, and no post is without its nil.
	nils := 0
	for i, err := range errs {
		switch d := assistant.DeliveryOf(err); d {
		case assistant.Delivered:
			nils++
		case assistant.NotDelivered:
		default:
			t.Errorf("Send %d = %v (%v), want nil or NotDelivered", i, err, d)
		}
	}
	if nils == 0 {
		t.Errorf("no Send returned nil; the one posted before Shutdown must (errors: %v)", errs)
	}
	<-p.Done()
	if code := p.CloseStatus(context.Background()); code != websocket.StatusGoingAway {
		t.Errorf("page closed with %v, want StatusGoingAway", code)
	}
	if n := len(host.Posts()); n != nils {
		t.Errorf("host got %d posts for %d nil Sends", n, nils)
	}
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Shutdown = %v, want ErrClosed", err)
	}
}

// A replica restarted under the same name (a pod name, say) numbers its
// requests from 1 again; the page's replica must not take them for the
// ones it answered before the restart.
func TestRestartedReplicaRequestsAreNew(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(0, "p")
	ctx := ctxT(t, 10*time.Second)
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("before")); err != nil {
		t.Fatal(err)
	}
	a.kill()
	a2 := startReplica(t, c, 0, "a", wsbridge.Options{}, Options{})
	if err := a2.r.Sender("p").Send(ctx, assistant.NewText("after")); err != nil {
		t.Fatal(err)
	}
	if n := len(host.Posts()); n != 2 {
		t.Errorf("host got %d posts, want 2", n)
	}
}

// B's NATS server is down while a second page with p's id connects to A:
// B misses A's claim. Once B is back it announces its pages again, A
// answers that its connection is newer, and B closes the older one.
func TestClaimMissedDuringOutage(t *testing.T) {
	c := startCluster(t, 2)
	a := startReplica(t, c, 0, "a", wsbridge.Options{}, Options{})
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", c.ports[1][0]), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond), nats.ReconnectBufSize(-1), nats.IgnoreDiscoveredServers()) // server 1 only
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	rb, err := New(nc, wsbridge.Options{InsecureSkipAuthentication: true}, Options{Replica: "b", Keys: [][]byte{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", rb.Hub())
	b := &replica{name: "b", r: rb, nc: nc, srv: httptest.NewServer(mux)}
	t.Cleanup(b.kill)
	c.waitClaimsMeshed([]*replica{a, b})

	old := b.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{})
	waitClaimHeard(t, a, "p", b)
	c.mu.Lock()
	s1 := c.servers[1]
	c.mu.Unlock()
	s1.Shutdown()
	for deadline := time.Now().Add(10 * time.Second); nc.Status() == nats.CONNECTED; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B still connected to NATS 10 s after its server stopped")
		}
	}
	newer := a.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{})
	time.Sleep(50 * time.Millisecond) // A's claim goes nowhere
	c.restart(1, 0)
	select {
	case <-old.Done():
		if code := old.CloseStatus(context.Background()); code != wsbridge.StatusReplaced {
			t.Errorf("older connection closed with %v, want StatusReplaced", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("older connection still open 10 s after NATS came back")
	}
	select {
	case <-newer.Done():
		t.Errorf("newer connection closed (%v)", newer.CloseStatus(context.Background()))
	case <-time.After(100 * time.Millisecond):
	}
}
