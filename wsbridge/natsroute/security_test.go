//go:build !js

package natsroute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// testKey is the replicas' shared key in tests.
var testKey = []byte("natsroute test key: 32+ bytes, never in production")

// sealed seals data as a key holder named replica would, now.
func sealed(t testing.TB, key []byte, kind byte, subject, reply, replica, reqID string, h nats.Header, data []byte) *nats.Msg {
	t.Helper()
	k, err := newKeyring([][]byte{key})
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.seal(kind, subject, reply, envelope{replica: replica, sent: time.Now(), reqID: reqID, header: h, data: data})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewKeys(t *testing.T) {
	s := startServer(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	long := bytes.Repeat([]byte{1}, MinKeySize)
	for _, tc := range []struct {
		name string
		o    Options
		want error
	}{
		{"no key", Options{}, ErrNoKey},
		{"short key", Options{Keys: [][]byte{long[:MinKeySize-1]}}, ErrBadKey},
		{"short second key", Options{Keys: [][]byte{long, long[:8]}}, ErrBadKey},
		{"five keys", Options{Keys: [][]byte{long, long, long, long, long}}, ErrBadKey},
		{"empty key", Options{Keys: [][]byte{{}}}, ErrBadKey},
	} {
		if r, err := New(nc, wsbridge.Options{}, tc.o); !errors.Is(err, tc.want) {
			if r != nil {
				r.Close()
			}
			t.Errorf("%s: New = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, o := range []Options{{Keys: [][]byte{long}}, {Keys: [][]byte{long, testKey}}, {InsecureNoKey: true}} {
		r, err := New(nc, wsbridge.Options{}, o)
		if err != nil {
			t.Errorf("New(%d keys, insecure %v) = %v", len(o.Keys), o.InsecureNoKey, err)
			continue
		}
		r.Close()
	}
}

// waitDropped waits until rp has dropped at least n messages.
func waitDropped(t *testing.T, rp *replica, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); rp.r.Dropped() < n; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s dropped %d messages in 10 s, want %d", rp.name, rp.r.Dropped(), n)
		}
	}
}

// stillOpen fails if p closes within a moment.
func stillOpen(t *testing.T, p *wsbridgetest.Page, what string) {
	t.Helper()
	select {
	case <-p.Done():
		t.Errorf("%s: the page's socket was closed (%v)", what, p.CloseStatus(context.Background()))
	case <-time.After(200 * time.Millisecond):
	}
}

// Finding 1: any client of the NATS account could publish a claim with a
// time half an hour ahead: the page's socket was closed with 4000 (and
// bridge.js never reconnects after 4000), and every replica's clock was
// pushed half an hour ahead. Now an unsealed claim is dropped and counted,
// and a sealed one (a replica with a broken clock) more than a few
// seconds ahead is ignored without moving the clock.
func TestForgedClaimIgnored(t *testing.T) {
	c := startCluster(t, 1)
	a := startReplica(t, c, 0, "a", wsbridge.Options{}, Options{})
	p := a.dial(t, "conv-1", &wsbridgetest.Host{}, wsbridgetest.Options{})
	evil := c.connect(0, "evil")
	forged := fmt.Appendf(nil, `{"id":"conv-1","replica":"evil","t":%d,"conn":1}`, time.Now().Add(30*time.Minute).UnixNano())
	if err := evil.Publish(claimSubject(DefaultPrefix), forged); err != nil {
		t.Fatal(err)
	}
	waitDropped(t, a, 1)
	stillOpen(t, p, "unsealed claim")

	// Sealed under the key, but stamped 30 min ahead: ignored, counted.
	ahead := time.Now().Add(30 * time.Minute).UnixNano()
	data, _ := json.Marshal(claim{ID: "conv-1", Replica: "z", T: ahead, Conn: 1})
	if err := evil.PublishMsg(sealed(t, testKey, kindClaim, claimSubject(DefaultPrefix), "", "z", "", nil, data)); err != nil {
		t.Fatal(err)
	}
	waitDropped(t, a, 2)
	stillOpen(t, p, "claim 30 min ahead")
	if s := a.r.clock.stamp(); s >= ahead-time.Minute.Nanoseconds() {
		t.Errorf("the clock moved to the forged claim's time (%v ahead)", time.Duration(s-time.Now().UnixNano()))
	}

	// The same claim within the skew bound, from a key holder, takes over:
	// the checks above could fail.
	data, _ = json.Marshal(claim{ID: "conv-1", Replica: "z", T: time.Now().Add(time.Second).UnixNano(), Conn: 1})
	if err := evil.PublishMsg(sealed(t, testKey, kindClaim, claimSubject(DefaultPrefix), "", "z", "", nil, data)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a valid claim did not take the page over")
	}
	// A sealed claim for another replica's name is refused: the key
	// holder that sealed it is named in the seal.
	p = a.dial(t, "conv-2", &wsbridgetest.Host{}, wsbridgetest.Options{})
	data, _ = json.Marshal(claim{ID: "conv-2", Replica: "z", T: time.Now().Add(time.Second).UnixNano(), Conn: 1})
	if err := evil.PublishMsg(sealed(t, testKey, kindClaim, claimSubject(DefaultPrefix), "", "y", "", nil, data)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	stillOpen(t, p, "claim sealed by another replica")
}

// Finding 2: the owner's dedupe was keyed by request id only, so a
// request to page B reusing an id already used for page A (or for another
// message) was answered "ok" and B posted nothing.
func TestReusedRequestIDIsNotARepeat(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{})
	hostA, hostB := &wsbridgetest.Host{}, &wsbridgetest.Host{}
	b.dial(t, "pa", hostA, wsbridgetest.Options{})
	b.dial(t, "pb", hostB, wsbridgetest.Options{})
	c.waitInterest(0, "pa")
	c.waitInterest(0, "pb")
	deadline := time.Now().Add(10 * time.Second)
	for _, req := range []struct{ page, text string }{{"pa", "one"}, {"pb", "one"}, {"pb", "two"}} {
		r, err := rawRequest(a.r, req.page, "a.same", deadline, req.text, 10*time.Second)
		if err != nil || r.Header.Get(hdrStatus) != statusOK {
			t.Errorf("request to %s (%s): %v, %v; want ok", req.page, req.text, r, err)
		}
	}
	if n, m := len(hostA.Posts()), len(hostB.Posts()); n != 1 || m != 2 {
		t.Errorf("posts: %d to pa, %d to pb; want 1, 2", n, m)
	}
}

// Finding 2: request ids were the replica's name, a per-process nonce and
// a counter, and travelled in clear: anyone who saw one request could
// send the next id first, and the real Send then returned nil with
// nothing of it posted. Now a client without the key can neither read an
// id nor have a request served.
func TestPredictedRequestID(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(0, "p")
	evil := c.connect(0, "evil")
	seen := make(chan *nats.Msg, 16)
	if _, err := evil.ChanSubscribe(DefaultPrefix+".page.>", seen); err != nil {
		t.Fatal(err)
	}
	evil.Flush()
	c.waitInterest(0, "p")
	ctx := ctxT(t, 10*time.Second)
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("first")); err != nil {
		t.Fatal(err)
	}
	var m *nats.Msg
	select {
	case m = <-seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the intruder saw no request")
	}
	// What an intruder makes of it: the next id, as the old format had it.
	id := m.Header.Get(hdrRequest)
	if id != "" {
		t.Errorf("the request id travels in clear: %q", id)
	}
	next := "a.0.2"
	if i := strings.LastIndexByte(id, '.'); i > 0 {
		n, _ := strconv.Atoi(id[i+1:])
		next = id[:i+1] + strconv.Itoa(n+1)
	}
	w, _ := assistant.Encode(assistant.NewText("evil"))
	_, err := evil.RequestMsg(newRequest(pageSubject(DefaultPrefix, "p"), next, time.Now().Add(5*time.Second), w), 300*time.Millisecond)
	if err == nil {
		t.Error("the intruder's request was answered")
	}
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("second")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range host.Posts() {
		got = append(got, p.Data)
	}
	want := []string{wireOf("first"), wireOf("second")}
	if !slices.Equal(got, want) {
		t.Errorf("posted %q, want %q", got, want)
	}
	waitDropped(t, b, 1)
	// Two ids from one replica share nothing but its name.
	x, y := a.r.newRequestID(), a.r.newRequestID()
	if x == y || len(x) != len("a.")+22 || x[:len(x)-4] == y[:len(y)-4] {
		t.Errorf("request ids %q, %q: want 128 random bits each", x, y)
	}
}

// Finding 3: the owner kept a request until the deadline it carried. 4
// requests to a page that never acks, with a deadline in the year 2200,
// held MaxInFlight (4) for good: every routed Send to every page of that
// replica failed with ErrTooManyPending. Now a deadline is clamped to the
// owner's Timeout, and the replica serves again soon after.
func TestFarDeadlineClamped(t *testing.T) {
	const timeout = 500 * time.Millisecond
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{Timeout: timeout, MaxInFlight: 4})
	b.dial(t, "silent", &wsbridgetest.Host{}, wsbridgetest.Options{Hold: true})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(0, "silent")
	c.waitInterest(0, "p")
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			// The owner gives up on the page after its Timeout and answers.
			t0 := time.Now()
			r, err := rawRequest(a.r, "silent", "a.far"+strconv.Itoa(i), far, "x", 10*time.Second)
			if err != nil || r.Header.Get(hdrStatus) == statusOK {
				t.Errorf("request to a silent page with a far deadline: %v, %v; want an answer, not ok", r, err)
			}
			// Generous: the owner's Timeout plus scheduling on a busy 2-core VM.
			if d := time.Since(t0); d > timeout+5*time.Second {
				t.Errorf("answered after %v, want about the owner's Timeout (%v)", d, timeout)
			}
		})
	}
	wg.Wait()
	// The answered requests stay remembered (MaxInFlight counts them) for
	// maxAge after they were sealed; then the replica serves again.
	ctx := ctxT(t, 20*time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := a.r.Sender("p").Send(sctx, assistant.NewText("after"))
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, wsbridge.ErrTooManyPending) || ctx.Err() != nil {
			t.Fatalf("Send after the far-deadline requests = %v; want nil once they are forgotten", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(host.Posts()); n != 1 {
		t.Errorf("host got %d posts, want 1", n)
	}
}

// Finding 3: each waiting request kept its payload, and there was no
// bound per page: 100 requests of 3.3 MiB held 328 MiB. Now a page has at
// most MaxPerPage requests waiting at its replica, the replica holds at
// most MaxHeldBytes of messages, and beyond either a Send fails with
// wsbridge.ErrTooManyPending, NotDelivered: nothing was sent.
func TestOwnerBounds(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{MaxPerPage: 2, MaxHeldBytes: 3000})
	b.dial(t, "silent", &wsbridgetest.Host{}, wsbridgetest.Options{Hold: true})
	b.dial(t, "silent2", &wsbridgetest.Host{}, wsbridgetest.Options{Hold: true})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	for _, id := range []string{"silent", "silent2", "p"} {
		c.waitInterest(0, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	waiting := func(id string, size int) {
		wg.Go(func() { a.r.Sender(id).Send(ctx, assistant.NewText(strings.Repeat("w", size))) })
	}
	waitHeld := func(n int) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			b.r.mu.Lock()
			held := b.r.held
			b.r.mu.Unlock()
			if held >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("owner holds %d bytes, want %d", held, n)
			}
		}
	}
	refused := func(what, id string, size int) {
		t.Helper()
		err := a.r.Sender(id).Send(ctxT(t, 10*time.Second), assistant.NewText(strings.Repeat("r", size)))
		if !errors.Is(err, wsbridge.ErrTooManyPending) || assistant.DeliveryOf(err) != assistant.NotDelivered {
			t.Errorf("%s: Send = %v (%v), want ErrTooManyPending, NotDelivered", what, err, assistant.DeliveryOf(err))
		}
	}
	w1, _ := assistant.Encode(assistant.NewText(strings.Repeat("w", 100)))
	waiting("silent", 100)
	waiting("silent", 100)
	waitHeld(2 * len(w1))
	refused("a third request for one page", "silent", 100)
	// Another page is not affected...
	if err := a.r.Sender("p").Send(ctxT(t, 10*time.Second), assistant.NewText("ok")); err != nil {
		t.Errorf("Send to another page = %v", err)
	}
	// ...until the replica holds MaxHeldBytes.
	waiting("silent2", 2000)
	waitHeld(2*len(w1) + 2000)
	refused("over MaxHeldBytes", "p", 1000)
	if n := len(host.Posts()); n != 1 {
		t.Errorf("host got %d posts, want 1", n)
	}
}

// Finding 4: a client that joins the owners' queue group read every
// message and answered in the owner's place: its "ok" made Sends return
// nil with nothing posted. Now it reads nothing, and its answers (forged,
// or real replies it captured for other requests) are dropped and
// counted by the caller, which keeps waiting: a request it swallows ends
// in ErrTimeout (MaybeDelivered), never in nil. Keeping it out of the
// queue group is the NATS account's permissions' job (see the package doc).
func TestQueueGroupIntruder(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{})
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	c.waitInterest(0, "p")
	evil := c.connect(0, "evil")
	var mu sync.Mutex
	var read [][]byte
	var captured []*nats.Msg // real replies, seen on _INBOX.>
	if _, err := evil.Subscribe("_INBOX.>", func(m *nats.Msg) {
		mu.Lock()
		captured = append(captured, m)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := evil.QueueSubscribe(pageSubject(DefaultPrefix, "p"), "owner", func(m *nats.Msg) {
		mu.Lock()
		read = append(read, append(m.Data, []byte(fmt.Sprint(m.Header))...))
		var replay *nats.Msg
		if len(captured) > 0 {
			replay = captured[len(captured)-1]
		}
		mu.Unlock()
		ok := nats.NewMsg(m.Reply) // the old reply format: status ok
		ok.Header.Set(hdrStatus, statusOK)
		evil.PublishMsg(ok)
		if replay != nil { // a real, sealed reply to another request
			evil.PublishMsg(&nats.Msg{Subject: m.Reply, Header: replay.Header, Data: replay.Data})
		}
	}); err != nil {
		t.Fatal(err)
	}
	evil.Flush()
	time.Sleep(50 * time.Millisecond) // the intruder's interest reaches the other server
	var delivered, timedOut int
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := a.r.Sender("p").Send(ctx, assistant.NewText("secret-"+strconv.Itoa(i)))
		cancel()
		switch {
		case err == nil:
			delivered++
		case errors.Is(err, ErrTimeout) && assistant.DeliveryOf(err) == assistant.MaybeDelivered:
			timedOut++
		default:
			t.Errorf("Send %d = %v", i, err)
		}
	}
	if n := len(host.Posts()); n != delivered {
		t.Errorf("%d Sends returned nil, the host got %d posts", delivered, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(read) == 0 || timedOut == 0 {
		t.Fatalf("the intruder got %d requests, %d Sends timed out: the test did not exercise it", len(read), timedOut)
	}
	for _, d := range read {
		if bytes.Contains(d, []byte("secret")) || bytes.Contains(d, []byte("sendMsg")) || bytes.Contains(d, []byte(hdrRequest)) {
			t.Errorf("the intruder read %q", d)
		}
	}
	if a.r.Dropped() < uint64(timedOut) {
		t.Errorf("the caller dropped %d replies, want at least %d (one forged per swallowed request)", a.r.Dropped(), timedOut)
	}
}

// Key rotation: replicas with [old, new] and [new, old] reach each other
// both ways (the middle of a rotation); after it, a replica with [new]
// drops what is sealed under old, and a Send from a replica still on old
// gets no answer.
func TestKeyRotation(t *testing.T) {
	old := bytes.Repeat([]byte("o"), MinKeySize)
	neu := bytes.Repeat([]byte("n"), MinKeySize)
	c := startCluster(t, 2)
	a := startReplica(t, c, 0, "a", wsbridge.Options{}, Options{Keys: [][]byte{old, neu}})
	b := startReplica(t, c, 1, "b", wsbridge.Options{}, Options{Keys: [][]byte{neu, old}})
	c.waitClaimsMeshed([]*replica{a, b})
	a.dial(t, "pa", &wsbridgetest.Host{}, wsbridgetest.Options{})
	b.dial(t, "pb", &wsbridgetest.Host{}, wsbridgetest.Options{})
	c.waitInterest(0, "pb")
	c.waitInterest(1, "pa")
	ctx := ctxT(t, 10*time.Second)
	if err := a.r.Sender("pb").Send(ctx, assistant.NewText("a to b")); err != nil {
		t.Errorf("a [old, new] to b [new, old]: %v", err)
	}
	if err := b.r.Sender("pa").Send(ctx, assistant.NewText("b to a")); err != nil {
		t.Errorf("b [new, old] to a [old, new]: %v", err)
	}

	// After the rotation: d has only the new key, e is still on the old.
	d := startReplica(t, c, 0, "d", wsbridge.Options{}, Options{Keys: [][]byte{neu}})
	e := startReplica(t, c, 1, "e", wsbridge.Options{}, Options{Keys: [][]byte{old}})
	pd := d.dial(t, "pd", &wsbridgetest.Host{}, wsbridgetest.Options{})
	c.waitInterest(1, "pd")
	dropped := d.r.Dropped()
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := e.r.Sender("pd").Send(sctx, assistant.NewText("old key")); !errors.Is(err, ErrTimeout) {
		t.Errorf("Send sealed with the old key = %v, want ErrTimeout (dropped unanswered)", err)
	}
	data, _ := json.Marshal(claim{ID: "pd", Replica: "z", T: time.Now().Add(time.Second).UnixNano(), Conn: 1})
	if err := c.connect(1, "z").PublishMsg(sealed(t, old, kindClaim, claimSubject(DefaultPrefix), "", "z", "", nil, data)); err != nil {
		t.Fatal(err)
	}
	waitDropped(t, d, dropped+2)
	stillOpen(t, pd, "claim sealed with the old key")
}

// Tampered bytes, a request moved to another page's subject, and a
// captured request replayed: none is delivered; the first two are
// dropped and counted, the replay is answered from the dedupe cache
// within maxAge and dropped as stale after it.
func TestTamperedAndReplayedDropped(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{})
	host, other := &wsbridgetest.Host{}, &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{})
	b.dial(t, "q", other, wsbridgetest.Options{})
	c.waitInterest(0, "p")
	c.waitInterest(0, "q")
	spy := c.connect(0, "spy")
	seen := make(chan *nats.Msg, 16)
	if _, err := spy.ChanSubscribe(pageSubject(DefaultPrefix, "p"), seen); err != nil {
		t.Fatal(err)
	}
	spy.Flush()
	time.Sleep(50 * time.Millisecond)
	ctx := ctxT(t, 20*time.Second)
	if err := a.r.Sender("p").Send(ctx, assistant.NewText("once")); err != nil {
		t.Fatal(err)
	}
	var m *nats.Msg
	select {
	case m = <-seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the spy saw no request")
	}
	inbox := nats.NewInbox()
	replies, _ := spy.SubscribeSync(inbox)
	spy.Flush()
	send := func(subject string, data []byte) {
		t.Helper()
		if err := spy.PublishMsg(&nats.Msg{Subject: subject, Reply: inbox, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	dropped := b.r.Dropped()
	for _, i := range []int{len(m.Data) - 1, len(m.Data) / 2, 3} {
		tampered := bytes.Clone(m.Data)
		tampered[i] ^= 1
		send(m.Subject, tampered)
	}
	send(pageSubject(DefaultPrefix, "q"), m.Data) // sealed for p's subject
	send(m.Subject, m.Data)                       // its answer redirected to the spy
	waitDropped(t, b, dropped+5)

	// The replay, as captured (its reply subject is the caller's, now
	// gone): answered from the dedupe cache, not posted.
	replay := func() {
		t.Helper()
		if err := spy.PublishMsg(&nats.Msg{Subject: m.Subject, Reply: m.Reply, Data: m.Data}); err != nil {
			t.Fatal(err)
		}
	}
	replay()
	spy.Flush()
	time.Sleep(200 * time.Millisecond)
	if d := b.r.Dropped(); d != dropped+5 {
		t.Errorf("a replay within maxAge was dropped (%d): want it answered from the cache", d-dropped-5)
	}
	// After maxAge: dropped as stale.
	time.Sleep(maxAge)
	replay()
	waitDropped(t, b, dropped+6)
	if n, o := len(host.Posts()), len(other.Posts()); n != 1 || o != 0 {
		t.Errorf("posts: %d to p, %d to q; want 1, 0", n, o)
	}
	if r, err := replies.NextMsg(100 * time.Millisecond); err == nil {
		t.Errorf("the spy got an answer: %v", r)
	}
}

// The envelope: what is sealed comes back; anything else about the
// message (kind, subject, reply subject, key, a byte, its time) makes it
// fail.
func TestSealOpen(t *testing.T) {
	old, neu := bytes.Repeat([]byte("o"), MinKeySize), bytes.Repeat([]byte("n"), MinKeySize)
	k1, _ := newKeyring([][]byte{old})
	k2, _ := newKeyring([][]byte{neu, old})
	now := time.Now()
	h := nats.Header{hdrRequest: {"a.x"}, hdrDeadline: {"123"}, "Multi": {"1", "2"}}
	in := envelope{replica: "a", sent: now, reqID: "a.x", header: h, data: []byte("payload")}
	m, err := k1.seal(kindRequest, "s.page.cA", "_INBOX.a.b", in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(m.Data, []byte("payload")) || bytes.Contains(m.Data, []byte("a.x")) || m.Header != nil {
		t.Errorf("sealed message shows its content: %q", m.Data)
	}
	for name, k := range map[string]*keyring{"same key": k1, "rotating": k2} {
		e, err := k.open(kindRequest, "s.page.cA", "_INBOX.a.b", m, now)
		if err != nil {
			t.Fatalf("%s: open = %v", name, err)
		}
		got := []any{e.replica, e.sent.UnixNano(), e.reqID, e.header, string(e.data)}
		want := []any{in.replica, in.sent.UnixNano(), in.reqID, in.header, string(in.data)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: open (-want +got):\n%s", name, diff)
		}
	}
	fails := map[string]func() error{
		"as a reply":    func() error { _, err := k1.open(kindReply, "s.page.cA", "_INBOX.a.b", m, now); return err },
		"other subject": func() error { _, err := k1.open(kindRequest, "s.page.cB", "_INBOX.a.b", m, now); return err },
		"other reply":   func() error { _, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.c", m, now); return err },
		"new key only": func() error {
			k, _ := newKeyring([][]byte{neu})
			_, err := k.open(kindRequest, "s.page.cA", "_INBOX.a.b", m, now)
			return err
		},
		"too old": func() error {
			_, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.b", m, now.Add(maxAge+time.Second))
			return err
		},
		"too far ahead": func() error {
			_, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.b", m, now.Add(-maxAhead-time.Second))
			return err
		},
		"with headers": func() error {
			_, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.b", &nats.Msg{Data: m.Data, Header: nats.Header{"X": {"1"}}}, now)
			return err
		},
		"truncated": func() error {
			_, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.b", &nats.Msg{Data: m.Data[:20]}, now)
			return err
		},
		"empty": func() error { _, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.b", &nats.Msg{}, now); return err },
	}
	for i := range m.Data {
		fails["byte "+strconv.Itoa(i)] = func() error {
			d := bytes.Clone(m.Data)
			d[i] ^= 0x80
			_, err := k1.open(kindRequest, "s.page.cA", "_INBOX.a.b", &nats.Msg{Data: d}, now)
			return err
		}
	}
	for name, f := range fails {
		if f() == nil {
			t.Errorf("%s: open = nil error", name)
		}
	}
}

// The replies to a Router's Sends come to its own inbox subscription: a
// Send in flight when the Router closes still hears its answer (Close
// leaves the subscription until the last waiting Send ends), instead of
// ending in the ambiguous ErrTimeout.
func TestSendInFlightAcrossClose(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	p := b.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{Hold: true})
	c.waitInterest(0, "p")
	ctx := ctxT(t, 20*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- a.r.Sender("p").Send(ctx, assistant.NewText("x")) }()
	frames, err := p.Held(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	a.r.Close()
	if err := p.Ack(frames[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Send in flight across Close = %v, want nil", err)
	}
	waitSubs(t, a.nc, 0)
}

// A caller's cancel withdraws its request (issue 16), and the withdrawal
// is sealed like everything else: a withdrawal in clear, one sealed under
// another key, or a captured request re-sent as a withdrawal is dropped
// and counted, and a genuine withdrawal replayed names a Send that has
// ended. None of them cancels a real Send that waits for its turn; a
// withdrawal sealed under the key does (the control: the window is real).
// The withdrawal used to travel in clear, unauthenticated: any client of
// the account that knew (or guessed) a request id could cancel it.
func TestWithdrawalAuthenticated(t *testing.T) {
	c, a, b := twoReplicas(t, wsbridge.Options{}, Options{})
	spy := c.connect(0, "spy")
	seen := make(chan *nats.Msg, 64)
	if _, err := spy.ChanSubscribe(pageSubject(DefaultPrefix, "p"), seen); err != nil {
		t.Fatal(err)
	}
	spy.Flush()
	var mu sync.Mutex
	droppedAtPost := map[string]uint64{}
	host := &wsbridgetest.Host{}
	b.dial(t, "p", host, wsbridgetest.Options{BeforePost: func(data string) bool {
		mu.Lock()
		droppedAtPost[data] = b.r.Dropped()
		mu.Unlock()
		return false
	}})
	c.waitInterest(0, "p")
	time.Sleep(50 * time.Millisecond) // the spy's interest, too
	ctx := ctxT(t, 30*time.Second)
	s := a.r.Sender("p")
	k, _ := newKeyring([][]byte{testKey})
	// next returns the next request (with its request id) or withdrawal
	// the spy sees.
	next := func(withdrawal bool) (*nats.Msg, string) {
		t.Helper()
		for {
			select {
			case m := <-seen:
				if (m.Reply == "") != withdrawal {
					continue
				}
				kind := byte(kindRequest)
				if withdrawal {
					kind = kindWithdraw
				}
				e, err := k.open(kind, m.Subject, m.Reply, m, time.Now())
				if err != nil {
					t.Fatalf("the spy could not open what it saw: %v", err)
				}
				return m, e.reqID
			case <-time.After(10 * time.Second):
				t.Fatalf("the spy saw no request (withdrawal %v)", withdrawal)
			}
		}
	}
	publish := func(m *nats.Msg) {
		t.Helper()
		if err := spy.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.Send(ctx, assistant.NewText("first")); err != nil {
		t.Fatal(err)
	}
	next(false)
	// A genuine withdrawal, captured: the next slot is about a second
	// away, so the cancel comes first.
	wctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, cancel)
	if err := s.Send(wctx, assistant.NewText("withdrawn")); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) || assistant.DeliveryOf(err) != assistant.NotDelivered {
		t.Fatalf("canceled Send = %v (%v), want the owner's context.Canceled, NotDelivered", err, assistant.DeliveryOf(err))
	}
	_, oldID := next(false)
	captured, wid := next(true)
	if wid != oldID {
		t.Fatalf("the withdrawal names %q, its request %q", wid, oldID)
	}

	// A real Send waits for its turn while the forgeries arrive.
	dropped := b.r.Dropped()
	realErr := make(chan error, 1)
	go func() { realErr <- s.Send(ctx, assistant.NewText("real")) }()
	req, reqID := next(false)
	publish(&nats.Msg{Subject: captured.Subject, Data: captured.Data}) // replayed: names the ended Send
	inClear := nats.NewMsg(req.Subject)                                // as the withdrawal used to travel
	inClear.Header.Set(hdrRequest, reqID)
	inClear.Header.Set(hdrWithdraw, "1")
	publish(inClear)
	publish(sealed(t, bytes.Repeat([]byte("k"), MinKeySize), kindWithdraw, req.Subject, "", "a", reqID, nil, nil))
	publish(&nats.Msg{Subject: req.Subject, Data: req.Data}) // the request itself, without its reply subject
	spy.Flush()
	if err := <-realErr; err != nil {
		t.Fatalf("real Send = %v, want nil: a forged or replayed withdrawal canceled it", err)
	}
	mu.Lock()
	atPost, ok := droppedAtPost[wireOf("real")]
	mu.Unlock()
	if !ok || atPost != dropped+3 {
		t.Errorf("dropped %d messages before the real message was posted, want 3 (the forgeries came too late to test anything)", atPost-dropped)
	}

	// The control: a withdrawal sealed under the key cancels.
	ctlErr := make(chan error, 1)
	go func() { ctlErr <- s.Send(ctx, assistant.NewText("control")) }()
	req, reqID = next(false)
	publish(sealed(t, testKey, kindWithdraw, req.Subject, "", "a", reqID, nil, nil))
	if err := <-ctlErr; !errors.Is(err, context.Canceled) || assistant.DeliveryOf(err) != assistant.NotDelivered {
		t.Errorf("Send withdrawn by a key holder = %v (%v), want the owner's context.Canceled, NotDelivered", err, assistant.DeliveryOf(err))
	}
	var posts []string
	for _, p := range host.Posts() {
		posts = append(posts, p.Data)
	}
	if want := []string{wireOf("first"), wireOf("real")}; !cmp.Equal(posts, want) {
		t.Errorf("posts %q, want %q", posts, want)
	}
	if d := b.r.Dropped(); d != dropped+3 {
		t.Errorf("dropped %d in all, want 3", d-dropped)
	}
}
