//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// fleet is a set of replicas some of which may be killed.
type fleet struct {
	mu   sync.Mutex
	reps []*replica
	dead []bool
}

func (f *fleet) kill(i int) {
	f.mu.Lock()
	f.dead[i] = true
	f.mu.Unlock()
	f.reps[i].kill()
}

// alive returns the live replicas, the one at index from first.
func (f *fleet) alive(from int) []*replica {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*replica
	for k := range f.reps {
		i := (from + k) % len(f.reps)
		if !f.dead[i] {
			out = append(out, f.reps[i])
		}
	}
	return out
}

// roamingPage plays a browser tab running bridge.js: it keeps a fake page
// connected, to its home replica or, when that is gone, the next live one,
// redialling 20 ms after each close and keeping the ids it posted (one page
// load). Like bridge.js it stops for good when replaced (code 4000).
type roamingPage struct {
	t     *testing.T
	id    string
	home  int
	host  *wsbridgetest.Host
	fleet *fleet

	mu       sync.Mutex
	cur      *wsbridgetest.Page
	stop     bool
	conns    int
	replaced bool
	done     chan struct{}
}

func (r *roamingPage) run() {
	defer close(r.done)
	var posted map[uint64]bool
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		stop := r.stop
		r.mu.Unlock()
		if stop {
			return
		}
		alive := r.fleet.alive(r.home)
		rp := alive[attempt%len(alive)]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, _, err := wsbridgetest.Dial(ctx, wsbridgetest.URL(rp.srv.URL, r.id), r.host, wsbridgetest.Options{Posted: posted, Interval: 500 * time.Millisecond})
		cancel()
		if err != nil {
			time.Sleep(20 * time.Millisecond) // a replica going down
			continue
		}
		r.mu.Lock()
		r.cur = p
		r.conns++
		stop = r.stop
		r.mu.Unlock()
		if stop { // close ran while dialling
			p.Close()
			return
		}
		<-p.Done()
		posted = p.PostedIDs()
		if p.CloseStatus(context.Background()) == wsbridge.StatusReplaced {
			r.mu.Lock()
			r.replaced = true
			r.mu.Unlock()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *roamingPage) close() {
	r.mu.Lock()
	r.stop = true
	p := r.cur
	r.mu.Unlock()
	if p != nil {
		p.Close()
	}
	<-r.done
}

// typedSendError reports whether err is one of the errors a Send through
// a Router promises.
func typedSendError(err error) bool {
	for _, e := range []error{
		wsbridge.ErrNotConnected, wsbridge.ErrDisconnected, wsbridge.ErrAckTimeout, wsbridge.ErrTooManyPending,
		wsbridge.ErrClosed, ErrTimeout, ErrUnavailable, ErrClosed,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// faultRun sends perPage messages to each of pages roaming pages, each
// through a random live replica, runs fault after faultAfter, then waits
// until every page is connected again and sends each one more message,
// which must succeed. It checks the invariants: no message reached a host
// twice, every nil Send reached its host exactly once, every other Send
// returned a typed error.
func faultRun(t *testing.T, f *fleet, pages, perPage int, faultAfter time.Duration, fault func()) (moved int) {
	hosts := make([]*wsbridgetest.Host, pages)
	var rps []*roamingPage
	for i := range pages {
		hosts[i] = &wsbridgetest.Host{}
		rp := &roamingPage{t: t, id: pageName(i), home: i % len(f.reps), host: hosts[i], fleet: f, done: make(chan struct{})}
		go rp.run()
		rps = append(rps, rp)
	}
	defer func() {
		for _, rp := range rps {
			rp.close()
		}
	}()
	waitAllConnected(t, f, pages)

	total := perPage + 1
	errs := make([][]error, pages)
	for i := range errs {
		errs[i] = make([]error, total)
	}
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 2))
			for k := range perPage {
				alive := f.alive(rng.IntN(len(f.reps)))
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
				errs[i][k] = alive[0].r.Sender(pageName(i)).Send(ctx, assistant.NewText(msgText(i, k)))
				cancel()
			}
		})
	}
	time.Sleep(faultAfter)
	fault()
	wg.Wait()

	// After the fault: every page is reachable again from every replica.
	waitAllConnected(t, f, pages)
	for i := range pages {
		wg.Go(func() {
			alive := f.alive(i + 1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			errs[i][perPage] = alive[0].r.Sender(pageName(i)).Send(ctx, assistant.NewText(msgText(i, perPage)))
		})
	}
	wg.Wait()

	var ok, failed int
	kinds := map[string]int{}
	for i := range pages {
		count := map[string]int{}
		for _, p := range hosts[i].Posts() {
			count[p.Data]++
		}
		for k, err := range errs[i] {
			n := count[wireOf(msgText(i, k))]
			switch {
			case n > 1:
				t.Errorf("%s reached the host %d times", msgText(i, k), n)
			case err == nil && n != 1:
				t.Errorf("Send(%s) = nil but the host got it %d times", msgText(i, k), n)
			case err != nil && !typedSendError(err):
				t.Errorf("Send(%s) = %v, not a typed error", msgText(i, k), err)
			case err != nil && k == perPage:
				t.Errorf("Send(%s) after the fault = %v, want nil", msgText(i, k), err)
			}
			if err == nil {
				ok++
			} else {
				failed++
				kinds[errKind(err)]++
			}
		}
		rps[i].mu.Lock()
		if rps[i].conns > 1 {
			moved++
		}
		if rps[i].replaced {
			t.Errorf("%s was replaced", pageName(i))
		}
		rps[i].mu.Unlock()
	}
	t.Logf("%d sends: %d nil, %d errors %v; %d pages reconnected", pages*total, ok, failed, kinds, moved)
	return moved
}

func errKind(err error) string {
	for _, e := range []error{
		ErrTimeout, ErrUnavailable, ErrClosed, wsbridge.ErrNotConnected, wsbridge.ErrDisconnected,
		wsbridge.ErrAckTimeout, wsbridge.ErrTooManyPending, wsbridge.ErrClosed,
	} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "other"
}

// waitAllConnected waits until each page is connected to some live
// replica's Hub.
func waitAllConnected(t *testing.T, f *fleet, pages int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i := range pages {
		for {
			found := false
			for _, rp := range f.alive(0) {
				if rp.r.Hub().Connected(pageName(i)) {
					found = true
				}
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not connected anywhere after 20 s", pageName(i))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func startFleet(t *testing.T, c *cluster, n int) *fleet {
	f := &fleet{dead: make([]bool, n)}
	for i := range n {
		f.reps = append(f.reps, startReplica(t, c, i%len(c.servers), fmt.Sprintf("r%d", i), wsbridge.Options{AckTimeout: 3 * time.Second}, Options{}))
	}
	c.waitClaimsMeshed(f.reps)
	return f
}

// Replica 2 dies mid-run (Router, Hub, HTTP server and NATS connection):
// its pages reconnect to the other two, keeping the message ids they
// posted, as bridge.js does within one page load.
func TestFaultKillReplica(t *testing.T) {
	c := startCluster(t, 3)
	f := startFleet(t, c, 3)
	if moved := faultRun(t, f, 12, 5, 1500*time.Millisecond, func() { f.kill(2) }); moved < 4 {
		t.Errorf("%d pages reconnected, want at least replica 2's 4", moved)
	}
}

// NATS server 2 (replica 2's) restarts mid-run: replica 2's connection
// fails over to another server, its pages stay where they are.
func TestFaultRestartNATSServer(t *testing.T) {
	c := startCluster(t, 3)
	f := startFleet(t, c, 3)
	faultRun(t, f, 12, 5, 1500*time.Millisecond, func() { c.restart(2, 300*time.Millisecond) })
	if n := f.reps[2].nc.Stats().Reconnects; n < 1 {
		t.Errorf("replica 2's NATS connection reconnected %d times, want at least 1", n)
	}
}

// Two pages with one id connect at once to two replicas, many times over:
// exactly one of each pair survives (the other is closed with
// StatusReplaced), both replicas agree which, and a Send from the third
// replica reaches the survivor once.
func TestFaultSameIDTwoReplicas(t *testing.T) {
	c := startCluster(t, 3)
	f := startFleet(t, c, 3)
	a, b, third := f.reps[0], f.reps[1], f.reps[2]
	const trials = 10
	for n := range trials {
		id := fmt.Sprintf("twin-%d", n)
		hostA, hostB := &wsbridgetest.Host{}, &wsbridgetest.Host{}
		var pa, pb *wsbridgetest.Page
		var wg sync.WaitGroup
		dial := func(rp *replica, host *wsbridgetest.Host, p **wsbridgetest.Page) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var err error
			if *p, _, err = wsbridgetest.Dial(ctx, wsbridgetest.URL(rp.srv.URL, id), host, wsbridgetest.Options{}); err != nil {
				t.Errorf("dial: %v", err)
			}
		}
		wg.Go(func() { dial(a, hostA, &pa) })
		wg.Go(func() { dial(b, hostB, &pb) })
		wg.Wait()
		if pa == nil || pb == nil {
			t.FailNow()
		}
		var closed, kept *wsbridgetest.Page
		var keptHost, closedHost *wsbridgetest.Host
		select {
		case <-pa.Done():
			closed, kept, closedHost, keptHost = pa, pb, hostA, hostB
		case <-pb.Done():
			closed, kept, closedHost, keptHost = pb, pa, hostB, hostA
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: both connections still open after 10 s", id)
		}
		if code := closed.CloseStatus(context.Background()); code != wsbridge.StatusReplaced {
			t.Errorf("%s: loser closed with %v, want StatusReplaced", id, code)
		}
		select {
		case <-kept.Done():
			t.Fatalf("%s: both connections closed (%v)", id, kept.CloseStatus(context.Background()))
		case <-time.After(100 * time.Millisecond):
		}
		ctx := ctxT(t, 10*time.Second)
		if err := third.r.Sender(id).Send(ctx, assistant.NewText("to the survivor")); err != nil {
			t.Errorf("%s: Send = %v", id, err)
		}
		if n := len(keptHost.Posts()); n != 1 {
			t.Errorf("%s: survivor's host got %d posts, want 1", id, n)
		}
		if n := len(closedHost.Posts()); n != 0 {
			t.Errorf("%s: replaced page's host got %d posts, want 0", id, n)
		}
		kept.Close()
		closed.Close()
	}
}
