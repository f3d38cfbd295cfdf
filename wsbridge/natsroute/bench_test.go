//go:build !js

package natsroute

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/internal/fakepage"
	"github.com/imworkspace/assistant/wsbridge"
)

// unpaced is the Hub configuration of the benchmarks: no pacing, so they
// measure routing, not the 1 s interval.
func unpaced() wsbridge.Options { return wsbridge.Options{NoPacing: true} }

// BenchmarkSendLatency: one page on replica B (NATS server 1), sends one
// at a time from B itself (local: no NATS) or from A (NATS server 0, a
// request over the route and back). Reports p50 and p99 per Send.
//
//	go test -run '^$' -bench SendLatency -benchtime 2000x ./wsbridge/natsroute
func BenchmarkSendLatency(b *testing.B) {
	c := startCluster(b, 2)
	ra := startReplica(b, c, 0, "a", unpaced(), Options{})
	rb := startReplica(b, c, 1, "b", unpaced(), Options{})
	rb.dial(b, "p", &fakepage.Host{}, fakepage.Options{})
	c.waitInterest(0, "p")
	for _, bc := range []struct {
		name string
		from *replica
	}{{"local", rb}, {"cross", ra}} {
		b.Run(bc.name, func(b *testing.B) {
			s := bc.from.r.Sender("p")
			m := assistant.NewText("benchmark")
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
		reps[i%3].dial(b, pageName(i), &fakepage.Host{}, fakepage.Options{})
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
