//go:build !js

package wsbridge

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// memHub serves a Hub over a memnet.Listener, inside the caller's synctest
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
	l := wsbridgetest.NewListener()
	srv := &http.Server{Handler: hub}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(l)
	}()
	client := l.Client()
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
		<-served
		client.CloseIdleConnections()
	})
	return &memHub{t: t, hub: hub, client: client}
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
