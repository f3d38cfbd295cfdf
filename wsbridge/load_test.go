//go:build linux

package wsbridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
)

// The load test: N simulated bridge clients (fake pages, in a child
// process so each side's memory and CPU can be measured) on loopback, each
// sent one message per second for the duration through hub.Sender (paced
// by the Hub). Defaults 200 pages for 5 s; the figures:
//
//	WSBRIDGE_LOAD_N=5000 WSBRIDGE_LOAD_DURATION=30s go test -run '^TestLoad$' -v ./wsbridge
//
// The cost of the operator's instrumentation is measured by
// BenchmarkSendObserved in otelwsbridge (its own module, with the
// OpenTelemetry SDK, which this module does not require).
//
// Bounded: N <= 10000, duration <= 5 min, and the child exits by itself at
// duration + 60 s.
const (
	envN        = "WSBRIDGE_LOAD_N"
	envDuration = "WSBRIDGE_LOAD_DURATION"
	envURL      = "WSBRIDGE_LOAD_CLIENT_URL" // set only in the child
)

type loadStats struct {
	Clients   int     `json:"clients"`  // connected
	Received  int     `json:"received"` // message frames
	Gaps      int     `json:"gaps"`     // consecutive-arrival gaps measured
	P50       float64 `json:"p50_ms"`   // gap - 1 s
	P99       float64 `json:"p99_ms"`   // gap - 1 s
	Max       float64 `json:"max_ms"`   // gap - 1 s
	Min       float64 `json:"min_ms"`   // gap - 1 s (negative: closer than 1 s)
	RSSKiB    int64   `json:"rss_kib"`  // child's VmRSS with all clients connected
	CPUSecond float64 `json:"cpu_s"`    // child's user+sys CPU over its life
	ConnectMS float64 `json:"connect_ms"`
	// The same percentiles over the gaps that end after the first 3 s of
	// sending, when all pages started at once.
	SteadyGaps int     `json:"steady_gaps"`
	SteadyP50  float64 `json:"steady_p50_ms"`
	SteadyP99  float64 `json:"steady_p99_ms"`
	// Gaps per second of the run with an error over 100 ms.
	BadBySecond []int `json:"bad_by_second"`
}

func loadParams(t *testing.T) (int, time.Duration) {
	n, d := 200, 5*time.Second
	if v := os.Getenv(envN); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 10000 {
			t.Fatalf("%s=%q: want 1..10000", envN, v)
		}
	}
	if v := os.Getenv(envDuration); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < time.Second || d > 5*time.Minute {
			t.Fatalf("%s=%q: want 1s..5m", envDuration, v)
		}
	}
	return n, d
}

// ensureFDs raises the soft open-file limit to need, or skips.
func ensureFDs(t *testing.T, need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur >= need {
		return
	}
	if lim.Max < need {
		t.Skipf("need %d open files, hard limit is %d (ulimit -n)", need, lim.Max)
	}
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("setrlimit to %d: %v", need, err)
	}
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestLoad(t *testing.T) { runLoad(t, Options{}) }

// runLoad runs the load test against a Hub with opts.
func runLoad(t *testing.T, opts Options) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	n, dur := loadParams(t)
	ensureFDs(t, uint64(n)+256)
	hub, srv := newTestHub(t, opts)
	rss0, cpu0 := rssKiB(), cpuTime()

	ctx, cancel := context.WithTimeout(context.Background(), dur+90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLoadClients$", "-test.v")
	cmd.Env = append(os.Environ(), envURL+"="+srv.URL, envN+"="+strconv.Itoa(n), envDuration+"="+dur.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var statsLine string
	ready := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		for lines.Scan() {
			l := lines.Text()
			if l == "LOADREADY" {
				close(ready)
			}
			if s, ok := strings.CutPrefix(l, "LOADSTATS "); ok {
				statsLine = s
			}
		}
	}()
	select {
	case <-ready:
	case <-scanned:
		cmd.Wait()
		t.Fatalf("client process ended before connecting: %s", stderr.String())
	case <-ctx.Done():
		t.Fatal("clients did not connect in time")
	}
	connected := hub.Stats().Pages
	rssConnected := rssKiB()

	// One goroutine per page, sending through the Hub's pacing, for dur.
	var attempted, delivered atomic.Int64
	errCount := sync.Map{}
	var peakRSS atomic.Int64
	stopSample := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSample:
				return
			case <-tick.C:
				if r := rssKiB(); r > peakRSS.Load() {
					peakRSS.Store(r)
				}
			}
		}
	})
	cpuStart := cpuTime()
	start := time.Now()
	end := start.Add(dur)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s := hub.Sender(fmt.Sprintf("page-%d", i))
			m := assistant.NewText(fmt.Sprintf("hello page %d", i))
			// Components do not send in lockstep: spread the first sends
			// over the first second, as independent pages would be.
			time.Sleep(time.Duration(i) * time.Second / time.Duration(n))
			for time.Now().Before(end) {
				attempted.Add(1)
				sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
				err := s.Send(sctx, m)
				scancel()
				if err == nil {
					delivered.Add(1)
					continue
				}
				key := err.Error()
				if i := strings.Index(key, `": `); i >= 0 {
					key = key[i+3:] // drop the page id
				}
				v, _ := errCount.LoadOrStore(key, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuSend := cpuTime() - cpuStart
	close(stopSample)
	sampler.Wait()
	stats := hub.Stats()
	hub.Close() // the clients see their connections close, report and exit
	<-scanned
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client process: %v\n%s", err, stderr.String())
	}
	var cs loadStats
	if err := json.Unmarshal([]byte(statsLine), &cs); err != nil {
		t.Fatalf("client stats %q: %v\n%s", statsLine, err, stderr.String())
	}

	att, del := attempted.Load(), delivered.Load()
	t.Logf("pages: %d connected (server saw %d) in %.0f ms; ran %v", cs.Clients, connected, cs.ConnectMS, elapsed.Round(time.Millisecond))
	t.Logf("delivered/attempted: %d/%d; clients received %d", del, att, cs.Received)
	errCount.Range(func(k, v any) bool {
		t.Logf("  error x%d: %s", v.(*atomic.Int64).Load(), k)
		return true
	})
	t.Logf("gap - 1s at the clients over %d gaps: p50 %.2f ms, p99 %.2f ms, min %.2f ms, max %.2f ms (the Hub's pacing margin included)",
		cs.Gaps, cs.P50, cs.P99, cs.Min, cs.Max)
	t.Logf("  after the first 3 s, over %d gaps: p50 %.2f ms, p99 %.2f ms; gaps off by > 100 ms per second: %v",
		cs.SteadyGaps, cs.SteadyP50, cs.SteadyP99, cs.BadBySecond)
	t.Logf("server RSS: %d KiB before, %d KiB connected, %d KiB peak sending: %.1f KiB/page connected, %.1f KiB/page peak",
		rss0, rssConnected, peakRSS.Load(), float64(rssConnected-rss0)/float64(n), float64(peakRSS.Load()-rss0)/float64(n))
	t.Logf("client process RSS: %d KiB connected (%.1f KiB/client)", cs.RSSKiB, float64(cs.RSSKiB)/float64(n))
	t.Logf("hub.Stats: sends %v; ack latency p50 %v, p90 %v, p99 %v, max %v over %d acks",
		stats.Sends, stats.AckLatency.P50, stats.AckLatency.P90, stats.AckLatency.P99, stats.AckLatency.Max, stats.AckLatency.Count)
	t.Logf("CPU: server %.2f s while sending (%.0f%% of one core), %.2f s total; clients %.2f s total",
		cpuSend.Seconds(), 100*cpuSend.Seconds()/elapsed.Seconds(), (cpuTime() - cpu0).Seconds(), cs.CPUSecond)

	if cs.Clients != n || connected != n {
		t.Errorf("%d clients connected (server: %d), want %d", cs.Clients, connected, n)
	}
	if del != att {
		t.Errorf("delivered %d of %d", del, att)
	}
	if int64(cs.Received) != del {
		t.Errorf("clients received %d messages, server counted %d delivered", cs.Received, del)
	}
	// Gaps are reported, not asserted: these clients do not pace (bridge.js
	// does), so they see the network's jitter, and a 2-core VM is shared with the clients.
}

// TestLoadClients is the client side of TestLoad; it runs only in the
// child process TestLoad starts.
func TestLoadClients(t *testing.T) {
	base := os.Getenv(envURL)
	if base == "" {
		t.Skip("client half of TestLoad")
	}
	n, dur := loadParams(t)
	ensureFDs(t, uint64(n)+256)
	ctx, cancel := context.WithTimeout(context.Background(), dur+60*time.Second)
	defer cancel()

	pages := make([]*fakePage, n)
	hosts := make([]*fakeHost, n)
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var dialErr atomic.Value
	for range 64 {
		wg.Go(func() {
			for i := range jobs {
				hosts[i] = &fakeHost{}
				p, _, err := dialPage(ctx, wsURL(base, fmt.Sprintf("page-%d", i)), hosts[i], pageOpts{})
				if err != nil {
					dialErr.CompareAndSwap(nil, err)
					continue
				}
				pages[i] = p
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		t.Fatalf("dial: %v", err)
	}
	connectMS := float64(time.Since(start).Microseconds()) / 1000
	// Let the server register the last pages before it starts sending.
	time.Sleep(200 * time.Millisecond)
	rss := rssKiB()
	fmt.Println("LOADREADY")

	for _, p := range pages {
		select {
		case <-p.done:
		case <-ctx.Done():
			t.Fatal("server never closed the connections")
		}
	}
	var errs, steady []float64
	var first time.Time
	for _, h := range hosts {
		if posts := h.snapshot(); len(posts) > 0 && (first.IsZero() || posts[0].at.Before(first)) {
			first = posts[0].at
		}
	}
	bad := make([]int, int(dur/time.Second)+5)
	received := 0
	for _, h := range hosts {
		posts := h.snapshot()
		received += len(posts)
		for i := 1; i < len(posts); i++ {
			e := float64(posts[i].at.Sub(posts[i-1].at)-time.Second) / float64(time.Millisecond)
			errs = append(errs, e)
			sec := int(posts[i].at.Sub(first) / time.Second)
			if sec >= 3 {
				steady = append(steady, e)
			}
			if (e > 100 || e < -100) && sec < len(bad) {
				bad[sec]++
			}
		}
	}
	slices.Sort(errs)
	slices.Sort(steady)
	q := func(errs []float64, f float64) float64 {
		if len(errs) == 0 {
			return 0
		}
		return errs[min(len(errs)-1, int(f*float64(len(errs))))]
	}
	st := loadStats{Clients: n, Received: received, Gaps: len(errs), P50: q(errs, 0.50), P99: q(errs, 0.99), RSSKiB: rss,
		CPUSecond: cpuTime().Seconds(), ConnectMS: connectMS,
		SteadyGaps: len(steady), SteadyP50: q(steady, 0.5), SteadyP99: q(steady, 0.99), BadBySecond: bad}
	if len(errs) > 0 {
		st.Min, st.Max = errs[0], errs[len(errs)-1]
	}
	b, _ := json.Marshal(st)
	fmt.Println("LOADSTATS " + string(b))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("ran out of time")
	}
}
