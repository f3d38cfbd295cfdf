//go:build !js

package natsroute

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// roamer plays a browser tab running bridge.js through a rolling deploy:
// its page stays connected, and when its socket closes (1001, a replica
// shutting down) it reconnects 20 ms later to the next live replica,
// keeping the ids it posted (one page load). Replaced (4000), it stops.
type roamer struct {
	id   string
	home int
	host *wsbridgetest.Host
	f    *fleet

	mu       sync.Mutex
	cur      *wsbridgetest.Page
	stop     bool
	conns    int
	replaced bool
	done     chan struct{}
}

func (r *roamer) run() {
	defer close(r.done)
	var posted map[uint64]bool
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		stop := r.stop
		r.mu.Unlock()
		if stop {
			return
		}
		rp := r.f.alive(r.home + attempt)[0]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, _, err := wsbridgetest.Dial(ctx, wsbridgetest.URL(rp.srv.URL, r.id), r.host, wsbridgetest.Options{Posted: posted})
		cancel()
		if err != nil { // that replica is going (503) or gone
			time.Sleep(20 * time.Millisecond)
			continue
		}
		r.mu.Lock()
		r.cur, r.conns = p, r.conns+1
		stop = r.stop
		r.mu.Unlock()
		if stop {
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

func (r *roamer) close() {
	r.mu.Lock()
	r.stop = true
	p := r.cur
	r.mu.Unlock()
	if p != nil {
		p.Close()
	}
	<-r.done
}

// senderFor picks a live replica that does not hold page id, if any.
func (f *fleet) senderFor(id string, rng *rand.Rand) *replica {
	alive := f.alive(rng.IntN(len(f.reps)))
	for _, rp := range alive {
		if !rp.r.Hub().Connected(id) {
			return rp
		}
	}
	return alive[0]
}

// replace puts a fresh replica in slot i (a restarted pod).
func (f *fleet) replace(i int, rp *replica) {
	f.mu.Lock()
	f.reps[i], f.dead[i] = rp, false
	f.mu.Unlock()
}

func (f *fleet) markDead(i int) *replica {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead[i] = true
	return f.reps[i]
}

// rollingFigures are one run's numbers.
type rollingFigures struct {
	messages, sends, retries int
	moving                   int64          // "moving" answers, retried inside Send
	notDelivered             map[string]int // the errors retried, by kind
	shutdowns                []time.Duration
	total                    time.Duration
	maxSend                  time.Duration
}

// TestRollingDeploy restarts every replica in turn with Router.Shutdown
// while senders on the other replicas send to every page and retry each
// NotDelivered error: every message is posted exactly once, and no Send
// ends MaybeDelivered (issue 16's "done when"). Three replicas, each on
// its own NATS server of one cluster; the pages are fake bridge pages
// that reconnect to the next replica when their socket closes.
//
// Each page's sender sends one message after the other until the
// restarts are over. The CI run is short: 6 pages paced at 100 ms + 20
// ms, one round of restarts 500 ms apart. NATSROUTE_ROLLING=long runs 12
// pages at the default pacing (1 s + 250 ms) through two rounds.
func TestRollingDeploy(t *testing.T) {
	pages, rounds := 6, 1
	pacing := []assistant.LimitOption{assistant.WithInterval(100 * time.Millisecond), assistant.WithMargin(20 * time.Millisecond)}
	if os.Getenv("NATSROUTE_ROLLING") == "long" {
		pages, rounds, pacing = 12, 2, nil
	}
	fig := rollingRun(t, pages, rounds, pacing)
	t.Logf("%d messages to %d pages, %d Sends (%d retried after NotDelivered: %v; %d 'moving' answers retried inside Send); %d restarts, Shutdown took %v; run %v, slowest Send %v",
		fig.messages, pages, fig.sends, fig.retries, fig.notDelivered, fig.moving, len(fig.shutdowns), fig.shutdowns, fig.total.Round(time.Millisecond), fig.maxSend.Round(time.Millisecond))
}

func rollingRun(t *testing.T, pages, rounds int, pacing []assistant.LimitOption) rollingFigures {
	c := startCluster(t, 3)
	hubOpts := wsbridge.Options{Pacing: pacing, AckTimeout: 5 * time.Second}
	f := &fleet{dead: make([]bool, 3)}
	for i := range 3 {
		f.reps = append(f.reps, startReplica(t, c, i, fmt.Sprintf("r%d", i), hubOpts, Options{}))
	}
	c.waitClaimsMeshed(f.reps)

	hosts := make([]*wsbridgetest.Host, pages)
	var roamers []*roamer
	for i := range pages {
		hosts[i] = &wsbridgetest.Host{}
		r := &roamer{id: pageName(i), home: i % 3, host: hosts[i], f: f, done: make(chan struct{})}
		go r.run()
		roamers = append(roamers, r)
	}
	defer func() {
		for _, r := range roamers {
			r.close()
		}
	}()
	waitAllConnected(t, f, pages)

	fig := rollingFigures{notDelivered: map[string]int{}}
	sent := make([]int, pages) // messages sent to each page
	restarted := make(chan struct{})
	var mu sync.Mutex
	var failed atomic.Bool
	start := time.Now()
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for k := 0; ; k++ {
				select {
				case <-restarted:
					return
				default:
				}
				sent[i]++
				for try := 0; ; try++ {
					rp := f.senderFor(pageName(i), rng)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					t0 := time.Now()
					err := rp.r.Sender(pageName(i)).Send(ctx, assistant.NewText(msgText(i, k)))
					d := time.Since(t0)
					cancel()
					mu.Lock()
					fig.sends++
					fig.maxSend = max(fig.maxSend, d)
					if err != nil && assistant.DeliveryOf(err) == assistant.NotDelivered {
						fig.retries++
						fig.notDelivered[errKind(err)]++
					}
					mu.Unlock()
					if err == nil {
						break
					}
					if dl := assistant.DeliveryOf(err); dl != assistant.NotDelivered {
						t.Errorf("Send(%s) via %s = %v: %v after %v", msgText(i, k), rp.name, err, dl, d)
						failed.Store(true)
						break
					}
					if try == 200 {
						t.Errorf("Send(%s): still NotDelivered after %d tries: %v", msgText(i, k), try, err)
						failed.Store(true)
						break
					}
					time.Sleep(time.Duration(20+rng.IntN(30)) * time.Millisecond)
				}
			}
		})
	}

	// Restart every replica in turn, the next one once the pages have
	// settled.
	gen := 0
	for range rounds {
		for i := range 3 {
			time.Sleep(500 * time.Millisecond)
			gen++
			old := f.markDead(i)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			t0 := time.Now()
			if err := old.r.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown of %s = %v", old.name, err)
			}
			fig.shutdowns = append(fig.shutdowns, time.Since(t0).Round(time.Millisecond))
			cancel()
			old.kill()
			fig.moving += old.r.moves.Load()
			rp := startReplica(t, c, i, fmt.Sprintf("r%d-%d", i, gen), hubOpts, Options{})
			c.waitClaimsMeshed(append(f.alive(0), rp))
			f.replace(i, rp)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(restarted)
	wg.Wait()
	fig.total = time.Since(start)
	for _, rp := range f.alive(0) {
		fig.moving += rp.r.moves.Load()
	}

	for i := range pages {
		count := map[string]int{}
		for _, p := range hosts[i].Posts() {
			count[p.Data]++
		}
		fig.messages += sent[i]
		for k := range sent[i] {
			if n := count[wireOf(msgText(i, k))]; n != 1 && !failed.Load() {
				t.Errorf("%s reached the host %d times, want once", msgText(i, k), n)
			} else if n > 1 {
				t.Errorf("%s reached the host %d times", msgText(i, k), n)
			}
		}
		roamers[i].mu.Lock()
		if roamers[i].replaced {
			t.Errorf("%s was replaced", pageName(i))
		}
		roamers[i].mu.Unlock()
	}
	return fig
}
