//go:build !js

package natsroute

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// cluster is an embedded NATS cluster: server 0 is the seed the others
// route to; a restarted server keeps its ports.
type cluster struct {
	t       testing.TB
	mu      sync.Mutex
	servers []*server.Server
	ports   [][2]int // client, cluster
}

func serverOpts(i, port, clusterPort, seed int) *server.Options {
	o := &server.Options{
		ServerName: fmt.Sprintf("s%d", i),
		Host:       "127.0.0.1",
		Port:       port,
		NoLog:      true,
		NoSigs:     true,
		Cluster:    server.ClusterOpts{Name: "c", Host: "127.0.0.1", Port: clusterPort},
	}
	if i > 0 {
		o.Routes = server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", seed))
	}
	return o
}

func startServer(t testing.TB, o *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready in 10 s")
	}
	return s
}

// startCluster starts n routed servers and waits until each sees every
// other's subscriptions.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{t: t}
	for i := range n {
		seed := 0
		if i > 0 {
			seed = c.ports[0][1]
		}
		s := startServer(t, serverOpts(i, server.RANDOM_PORT, -1, seed))
		c.servers = append(c.servers, s)
		c.ports = append(c.ports, [2]int{s.Addr().(*net.TCPAddr).Port, s.ClusterAddr().Port})
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, s := range c.servers {
			s.Shutdown()
		}
	})
	c.waitMeshed()
	return c
}

// waitMeshed waits until a subscription on each server answers requests
// made on every other.
func (c *cluster) waitMeshed() {
	c.t.Helper()
	var conns []*nats.Conn
	for i := range c.servers {
		nc, err := nats.Connect(c.url(i), nats.DontRandomize())
		if err != nil {
			c.t.Fatal(err)
		}
		defer nc.Close()
		nc.Subscribe(fmt.Sprintf("ready.%d", i), func(m *nats.Msg) { m.Respond(nil) })
		nc.Flush()
		conns = append(conns, nc)
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := range conns {
		for j := range conns {
			for {
				_, err := conns[i].Request(fmt.Sprintf("ready.%d", j), nil, 100*time.Millisecond)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					c.t.Fatalf("cluster not meshed after 20 s: %d -> %d: %v", i, j, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// url lists every server, server i first.
func (c *cluster) url(i int) string {
	var u []string
	for k := range c.ports {
		j := (i + k) % len(c.ports)
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", c.ports[j][0]))
	}
	return strings.Join(u, ",")
}

// restart shuts server i down, waits down, and starts it again on its ports.
func (c *cluster) restart(i int, down time.Duration) {
	c.t.Helper()
	c.mu.Lock()
	s := c.servers[i]
	c.mu.Unlock()
	s.Shutdown()
	s.WaitForShutdown()
	time.Sleep(down)
	s = startServer(c.t, serverOpts(i, c.ports[i][0], c.ports[i][1], c.ports[0][1]))
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
}

// connect opens a client connection that prefers server i and fails over
// to the others.
func (c *cluster) connect(i int, name string) *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.url(i), nats.Name(name), nats.DontRandomize(),
		nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(0, 0),
		nats.ReconnectBufSize(-1))
	if err != nil {
		c.t.Fatalf("connect %s: %v", name, err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// replica is one service replica: a Router, its Hub behind an HTTP
// server, its own NATS connection.
type replica struct {
	name string
	r    *Router
	nc   *nats.Conn
	srv  *httptest.Server
	once sync.Once
}

func startReplica(t testing.TB, c *cluster, server int, name string, hubOpts wsbridge.Options, opts Options) *replica {
	t.Helper()
	nc := c.connect(server, name)
	opts.Replica = name
	if opts.Keys == nil && !opts.InsecureNoKey {
		opts.Keys = [][]byte{testKey}
	}
	if hubOpts.Authenticate == nil {
		hubOpts.InsecureSkipAuthentication = true // test pages; the Example shows tokens
	}
	r, err := New(nc, hubOpts, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", r.Hub())
	rp := &replica{name: name, r: r, nc: nc, srv: httptest.NewServer(mux)}
	t.Cleanup(rp.kill)
	return rp
}

// kill stops the replica: Router (and Hub), HTTP server, NATS connection.
func (rp *replica) kill() {
	rp.once.Do(func() {
		rp.r.Close()
		rp.srv.Close()
		rp.nc.Close()
	})
}

// dial connects a fake page to the replica and waits until its Hub has
// registered it.
func (rp *replica) dial(t testing.TB, id string, host *wsbridgetest.Host, o wsbridgetest.Options) *wsbridgetest.Page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, _, err := wsbridgetest.Dial(ctx, wsbridgetest.URL(rp.srv.URL, id), host, o)
	if err != nil {
		t.Fatalf("dial %q to %s: %v", id, rp.name, err)
	}
	t.Cleanup(p.Close)
	if err := rp.r.Hub().WaitConnected(ctx, id); err != nil {
		t.Fatalf("page %q not registered at %s: %v", id, rp.name, err)
	}
	// The Hub registers the page before its Connect hooks run: wait for
	// the Router's too (its subscription, its claim).
	for {
		rp.r.mu.Lock()
		o := rp.r.pages[id]
		ok := o != nil && o.leaving == nil
		rp.r.mu.Unlock()
		if ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("page %q not routed by %s", id, rp.name)
		}
		time.Sleep(time.Millisecond)
	}
	return p
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitInterest waits until server i knows where page id's requests go.
func (c *cluster) waitInterest(i int, id string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		s := c.servers[i]
		c.mu.Unlock()
		if s.GlobalAccount().SubscriptionInterest(pageSubject(DefaultPrefix, id)) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("server %d: no interest in page %q after 10 s", i, id)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitClaimsMeshed waits until every server forwards claims to every
// replica: each has interest from its own replicas and from each other
// server that has one (one route subscription per server).
func (c *cluster) waitClaimsMeshed(reps []*replica) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := range c.servers {
		for {
			c.mu.Lock()
			s := c.servers[i]
			c.mu.Unlock()
			if s.GlobalAccount().Interest(claimSubject(DefaultPrefix)) >= min(len(reps), len(c.servers)) {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("server %d: claims not meshed after 10 s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}
