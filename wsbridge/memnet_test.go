//go:build !js

package wsbridge

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// memListener is an in-memory network for testing/synctest bubbles: the
// Hub's http.Server accepts the server ends of net.Pipe connections whose
// client ends the pages' http.Client dials. Everything blocks on channels
// made in the bubble, so fake time advances.
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// memHub serves a Hub over a memListener, inside the caller's synctest
// bubble, and connects fake pages to it.
type memHub struct {
	t      *testing.T
	hub    *Hub
	client *http.Client
}

func newMemHub(t *testing.T, opts Options) *memHub {
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = time.Hour // fake pages do not ping
	}
	if opts.Authenticate == nil {
		opts.InsecureSkipAuthentication = true // as newTestHub
	}
	hub := NewHub(opts)
	l := &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: hub}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(l)
	}()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
		<-served
		tr.CloseIdleConnections()
	})
	return &memHub{t: t, hub: hub, client: &http.Client{Transport: tr}}
}

// connect dials a fake page with id and waits until the Hub has it.
func (m *memHub) connect(id string, host *fakeHost, o pageOpts) *fakePage {
	m.t.Helper()
	o.client = m.client
	ctx := context.Background()
	p, _, err := dialPage(ctx, "ws://mem/ws?id="+url.QueryEscape(id), host, o)
	if err != nil {
		m.t.Fatalf("dial page %q: %v", id, err)
	}
	m.t.Cleanup(p.close)
	if err := m.hub.WaitConnected(ctx, id); err != nil {
		m.t.Fatal(err)
	}
	return p
}
