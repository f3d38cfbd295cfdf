// Package natsroute_test runs natsroute end to end in real browsers: a
// page's bridge connected to one replica, messages sent from another, over
// an embedded two-server NATS cluster, through exported APIs only.
package natsroute_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/dev/internal/hostpage"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/natsroute"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startCluster starts two routed NATS servers on loopback; they shut down
// when t ends.
func startCluster(t testing.TB) []*server.Server {
	t.Helper()
	var servers []*server.Server
	for i := range 2 {
		o := &server.Options{
			ServerName: fmt.Sprintf("s%d", i),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			NoLog:      true,
			NoSigs:     true,
			Cluster:    server.ClusterOpts{Name: "c", Host: "127.0.0.1", Port: -1},
		}
		if i > 0 {
			o.Routes = server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", servers[0].ClusterAddr().Port))
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatalf("nats server: %v", err)
		}
		go s.Start()
		t.Cleanup(s.Shutdown)
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats server not ready in 10 s")
		}
		servers = append(servers, s)
	}
	return servers
}

// routeKey is the replicas' shared secret: what they exchange on NATS is
// sealed with it.
var routeKey = bytes.Repeat([]byte("r"), natsroute.MinKeySize)

// replica is one service replica: a Router on its own NATS connection to
// server s, its Hub and bridge.js behind an HTTP server.
type replica struct {
	r   *natsroute.Router
	srv *httptest.Server
}

func startReplica(t testing.TB, s *server.Server, name string, hubOpts wsbridge.Options) *replica {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.Name(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	hubOpts.InsecureSkipAuthentication = true // test pages; wsbridge's e2e tests use tokens
	r, err := natsroute.New(nc, hubOpts, natsroute.Options{Replica: name, Keys: [][]byte{routeKey}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", r.Hub())
	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		r.Close()
		srv.Close()
	})
	return &replica{r: r, srv: srv}
}

// waitClaimsMeshed waits until every server of the cluster sees both
// replicas' interest in the claim subject (natsroute's subject layout:
// <prefix>.claim), so that a Send from one replica finds a page claimed on
// the other.
func waitClaimsMeshed(t testing.TB, servers []*server.Server, replicas int) {
	t.Helper()
	subject := natsroute.DefaultPrefix + ".claim"
	deadline := time.Now().Add(10 * time.Second)
	for i, s := range servers {
		for s.GlobalAccount().Interest(subject) < replicas {
			if time.Now().After(deadline) {
				t.Fatalf("server %d: claims not meshed after 10 s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// Eight messages of all four types, sent from replica A to a page whose
// socket is on replica B (each on its own NATS server of a cluster), reach
// the host page in each browser with their exact bytes, in order, at least
// 1000 ms apart as the host measures.
func TestBrowserCrossReplica(t *testing.T) {
	browser.Each(t, func(t *testing.T, e browser.Engine) {
		tab := browser.New(t, e, 90*time.Second)
		servers := startCluster(t)
		srv := hostpage.NewServers(t)
		hubOpts := wsbridge.Options{
			OriginPatterns: []string{strings.TrimPrefix(srv.CompOrigin, "http://")},
			OnError:        func(id string, err error) { t.Logf("hub: page %q: %v", id, err) },
		}
		a := startReplica(t, servers[0], "a", hubOpts)
		b := startReplica(t, servers[1], "b", hubOpts)
		waitClaimsMeshed(t, servers, 2)

		data := map[string]string{
			"CompOrigin": srv.CompOrigin,
			"CompURL":    srv.CompOrigin + "/component.html",
			"HubURL":     b.srv.URL,
			"WSURL":      hostpage.WSURL(b.srv.URL),
			"ID":         "conv-1",
			"HostOrigin": srv.Host.URL,
		}
		srv.Host.Config.Handler = hostpage.Serve(t, hostpage.Host, data, nil)
		srv.Comp.Config.Handler = hostpage.Serve(t, hostpage.Component, data, nil)
		if err := tab.Navigate(srv.Host.URL + "/host.html"); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := b.r.Hub().WaitConnected(wctx, "conv-1"); err != nil {
			t.Fatalf("the page did not connect to replica B: %v", err)
		}
		if a.r.Hub().Connected("conv-1") {
			t.Fatal("the page is connected to replica A too")
		}

		msgs := assistanttest.Messages()
		var want []string
		for _, m := range msgs {
			w, err := assistant.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(w))
		}
		sctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		s := a.r.Sender("conv-1")
		for i, m := range msgs {
			if err := s.Send(sctx, m); err != nil {
				t.Fatalf("Send %d (%s) from replica A: %v", i, m.Type(), err)
			}
		}
		recs := hostpage.Wait(t, tab, len(want), 5*time.Second)
		if len(recs) != len(want) {
			t.Fatalf("host received %d messages, want %d", len(recs), len(want))
		}
		for i := range want {
			if !recs[i].Str || recs[i].Data != want[i] {
				t.Errorf("message %d at the host:\n got %q (string: %v)\nwant %q", i, recs[i].Data, recs[i].Str, want[i])
			}
		}
		minGap := hostpage.CheckGaps(t, recs)
		t.Logf("%s: %d messages from replica A via replica B; smallest host-observed gap %.1f ms", e.Name, len(recs), minGap)
		hostpage.Note(t)
	})
}
