//go:build !js

package natsroute

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"

	"github.com/imworkspace/assistant/wsbridge"
)

// unpaced is the Hub configuration of the benchmarks: no pacing, so they
// measure routing, not the 1 s interval.
func unpaced() wsbridge.Options { return wsbridge.Options{NoPacing: true} }

// BenchmarkSendLatency: one page on replica B (NATS server 1), sends one
// at a time from B itself (local: no NATS) or from A (NATS server 0, a
// request over the route and back), sealed (Options.Keys, the default)
// or in clear (InsecureNoKey), with a short text and a 64 KiB one.
// Reports p50 and p99 per Send.
//
//	go test -run '^$' -bench SendLatency -benchtime 2000x ./wsbridge/natsroute
func BenchmarkSendLatency(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts Options
	}{{"sealed", Options{}}, {"insecure", Options{InsecureNoKey: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			c := startCluster(b, 2)
			ra := startReplica(b, c, 0, "a", unpaced(), mode.opts)
			rb := startReplica(b, c, 1, "b", unpaced(), mode.opts)
			rb.dial(b, "p", &wsbridgetest.Host{}, wsbridgetest.Options{})
			c.waitInterest(0, "p")
			for _, bc := range []struct {
				name string
				from *replica
				size int
			}{{"local", rb, 9}, {"cross", ra, 9}, {"cross-64KiB", ra, 64 << 10}} {
				b.Run(bc.name, func(b *testing.B) {
					s := bc.from.r.Sender("p")
					m := assistant.NewText(strings.Repeat("b", bc.size))
					ctx := context.Background()
					lat := make([]time.Duration, 0, b.N)
					for b.Loop() {
						t0 := time.Now()
						if err := s.Send(ctx, m); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t0))
					}
					reportPercentiles(b, lat)
				})
			}
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkThroughput: 3 NATS servers, 3 replicas, 30 pages (10 per
// replica); each page has one sender goroutine sending through a random
// replica (two in three cross-replica). Reports messages per second.
//
//	go test -run '^$' -bench Throughput -benchtime 20000x ./wsbridge/natsroute
func BenchmarkThroughput(b *testing.B) {
	const pages = 30
	c := startCluster(b, 3)
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(b, c, i, "r"+strconv.Itoa(i), unpaced(), Options{}))
	}
	for i := range pages {
		reps[i%3].dial(b, pageName(i), &wsbridgetest.Host{}, wsbridgetest.Options{})
		for s := range 3 {
			c.waitInterest(s, pageName(i))
		}
	}
	m := assistant.NewText("benchmark")
	var next atomic.Int64
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			for next.Add(1) <= int64(b.N) {
				if err := reps[rng.IntN(3)].r.Sender(pageName(i)).Send(context.Background(), m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "msgs/s")
}

// TestCostPerPage measures what routing adds per connected page: the
// Router's bookkeeping and one NATS subscription, whose interest every
// server of the cluster keeps. It drives the Routers' connect hooks
// directly (no sockets: the Hub's own cost per connected page is measured
// by wsbridge's TestLoad). By default 300 pages, checking the
// subscription counts; the figure:
//
//	NATSROUTE_COST_PAGES=20000 go test -run '^TestCostPerPage$' -v ./wsbridge/natsroute
func TestCostPerPage(t *testing.T) {
	n := 300
	if v := os.Getenv("NATSROUTE_COST_PAGES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 3 || n > 200_000 {
			t.Fatalf("NATSROUTE_COST_PAGES=%q: want 3..200000", v)
		}
	}
	c := startCluster(t, 3)
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(t, c, i, "r"+strconv.Itoa(i), wsbridge.Options{}, Options{}))
	}
	subs := func() (total uint32) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, s := range c.servers {
			total += s.NumSubscriptions()
		}
		return total
	}
	waitTotal := func(want uint32) {
		deadline := time.Now().Add(60 * time.Second)
		for subs() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d subscriptions in the cluster, want %d", subs(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Let the claim subscriptions settle across the routes first.
	subs0 := subs()
	for stable := time.Now(); time.Since(stable) < 200*time.Millisecond; time.Sleep(10 * time.Millisecond) {
		if s := subs(); s != subs0 {
			subs0, stable = s, time.Now()
		}
	}
	heap0, g0 := heapInUse(), runtime.NumGoroutine()
	for i := range n {
		reps[i%3].r.onConnect(wsbridge.ConnectInfo{ID: fmt.Sprintf("cost-%06d", i), Conn: uint64(i + 1), Time: time.Now()})
	}
	for _, rp := range reps {
		rp.nc.Flush()
	}
	// Each server counts its clients' subscriptions and those it learned
	// over routes: 3 per page.
	waitTotal(subs0 + 3*uint32(n))
	heap1, g1 := heapInUse(), runtime.NumGoroutine()
	t.Logf("%d pages over 3 replicas and 3 NATS servers: +%d subscriptions (cluster-wide), +%.0f bytes of heap per page (Routers, NATS clients and the 3 servers), %+d goroutines",
		n, subs()-subs0, float64(heap1-heap0)/float64(n), g1-g0)
	if g1-g0 > 10 {
		t.Errorf("%d more goroutines with %d pages: want none per page", g1-g0, n)
	}
	for i := range n {
		reps[i%3].r.onDisconnect(wsbridge.DisconnectInfo{ID: fmt.Sprintf("cost-%06d", i), Conn: uint64(i + 1)})
	}
	waitTotal(subs0)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestCostPerConnectedPage connects real pages: Go fake pages over an
// in-memory network (net.Pipe, no file descriptors) to 3 replicas on 3
// NATS servers, then sends one message to each page from a random replica.
// It reports the heap and goroutines per connected page, for plain Hubs
// and for routed ones: the difference is the routing. Both include the
// fake pages' side of each connection. By default 150 pages; the issue's
// figure:
//
//	NATSROUTE_COST_CONNECTED=20000 go test -run '^TestCostPerConnectedPage$' -v ./wsbridge/natsroute
func TestCostPerConnectedPage(t *testing.T) {
	n := 150
	if v := os.Getenv("NATSROUTE_COST_CONNECTED"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 3 || n > 30_000 {
			t.Fatalf("NATSROUTE_COST_CONNECTED=%q: want 3..30000", v)
		}
	}
	c := startCluster(t, 3)
	for _, routed := range []bool{false, true} {
		heap0, g0 := heapInUse(), runtime.NumGoroutine()
		var hubs []*wsbridge.Hub
		var senders []func(id string) assistant.Sender
		var lns []*wsbridgetest.Listener
		var stops []func()
		for i := range 3 {
			hubOpts := wsbridge.Options{InsecureSkipAuthentication: true, NoPacing: true, MaxConnections: n}
			var hub *wsbridge.Hub
			if routed {
				rp := startReplica(t, c, i, "r"+strconv.Itoa(i), hubOpts, Options{})
				hub = rp.r.Hub()
				senders = append(senders, rp.r.Sender)
				stops = append(stops, rp.kill)
			} else {
				hub = wsbridge.NewHub(hubOpts)
				senders = append(senders, hub.Sender)
				stops = append(stops, func() { hub.Close() })
			}
			ln := wsbridgetest.NewListener()
			mux := http.NewServeMux()
			mux.Handle("/ws", hub)
			srv := &http.Server{Handler: mux}
			go srv.Serve(ln)
			stops = append(stops, func() { srv.Close() })
			hubs, lns = append(hubs, hub), append(lns, ln)
		}
		pages := make([]*wsbridgetest.Page, n)
		hosts := make([]*wsbridgetest.Host, n)
		var wg sync.WaitGroup
		var next atomic.Int64
		ctx := ctxT(t, 5*time.Minute)
		for range 32 {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					hosts[i] = &wsbridgetest.Host{}
					u := wsbridgetest.URL("http://replica"+strconv.Itoa(i%3), fmt.Sprintf("cost-%06d", i))
					p, _, err := wsbridgetest.Dial(ctx, u, hosts[i], wsbridgetest.Options{Client: lns[i%3].Client()})
					if err != nil {
						t.Errorf("dial page %d: %v", i, err)
						return
					}
					pages[i] = p
					if err := hubs[i%3].WaitConnected(ctx, fmt.Sprintf("cost-%06d", i)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if routed {
			for i := range n {
				for s := range 3 {
					c.waitInterest(s, fmt.Sprintf("cost-%06d", i))
				}
			}
		}
		heap1, g1 := heapInUse(), runtime.NumGoroutine()
		kind := map[bool]string{false: "plain Hubs", true: "routed Hubs"}[routed]
		t.Logf("%d pages connected to 3 %s: %.1f KiB of heap and %.1f goroutines per page (Hub and fake page sides)",
			n, kind, float64(heap1-heap0)/float64(n)/1024, float64(g1-g0)/float64(n))

		// Every page is reachable from every replica.
		next.Store(0)
		for range 32 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(next.Load()), 4))
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					from := rng.IntN(3)
					if err := senders[from](fmt.Sprintf("cost-%06d", i)).Send(ctx, assistant.NewText("x")); err != nil && (routed || from == i%3) {
						t.Errorf("Send to page %d from replica %d: %v", i, from, err)
					}
				}
			})
		}
		wg.Wait()
		for _, p := range pages {
			p.Close()
		}
		for _, stop := range stops {
			stop()
		}
	}
}

// BenchmarkSealOpen: the cost of the envelope alone, per request: seal
// on the caller, open on the owner (XChaCha20-Poly1305 and the
// envelope's encoding), for a short text and a 64 KiB one.
//
//	go test -run '^$' -bench SealOpen ./wsbridge/natsroute
func BenchmarkSealOpen(b *testing.B) {
	k, err := newKeyring([][]byte{testKey})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{9, 64 << 10} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			data, _ := assistant.Encode(assistant.NewText(strings.Repeat("b", size)))
			req := newRequest(pageSubject(DefaultPrefix, "p"), "a.0123456789abcdefghijkl", time.Now().Add(time.Minute), data)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m, err := k.seal(kindRequest, req.Subject, "_INBOX.x.y", envelope{replica: "a", sent: time.Now(), reqID: "a.0123456789abcdefghijkl", header: req.Header, data: req.Data})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := k.open(kindRequest, req.Subject, "_INBOX.x.y", m, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
