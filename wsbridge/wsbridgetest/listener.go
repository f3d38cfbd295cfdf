//go:build !js

package wsbridgetest

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// Listener is an in-memory network for one HTTP server: a net.Listener
// whose connections come from its own Dial, each one end of a net.Pipe. It
// uses no file descriptors, so a test can connect more pages than the
// open-file limit allows, and it blocks only on channels, so fake time
// advances inside a testing/synctest bubble (make the Listener there).
//
//	l := wsbridgetest.NewListener()
//	go http.Serve(l, hub)
//	page, _, err := wsbridgetest.Dial(ctx, "ws://mem/ws?id=conv-1", host, wsbridgetest.Options{Client: l.Client()})
//
// It is safe for concurrent use.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns an open Listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for a Dial and returns the server end of its connection,
// or net.ErrClosed once l is closed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and Dial return net.ErrClosed. Connections already
// handed out stay open. It always returns nil.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns an address whose network and string are "mem".
func (l *Listener) Addr() net.Addr { return addr{} }

// Dial connects to l, whatever network and address: it waits until Accept
// takes the server end, and returns the client end; it returns
// net.ErrClosed once l is closed, or ctx's error. Its signature is
// http.Transport's DialContext.
func (l *Listener) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
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

// Client returns an HTTP client with a transport of its own whose every
// connection goes to l.
func (l *Listener) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: l.Dial}}
}

type addr struct{}

func (addr) Network() string { return "mem" }
func (addr) String() string  { return "mem" }
