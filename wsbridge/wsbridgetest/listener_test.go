//go:build !js

package wsbridgetest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestClientReachesServer(t *testing.T) {
	l := NewListener()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c := l.Client()
	resp, err := c.Get("http://anywhere/x")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "hello /x" {
		t.Fatalf("body %q, want %q", body, "hello /x")
	}
	c.CloseIdleConnections()
	srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v, want http.ErrServerClosed", err)
	}
}

func TestClosed(t *testing.T) {
	l := NewListener()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept: %v, want net.ErrClosed", err)
	}
	if _, err := l.Dial(context.Background(), "tcp", "x"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Dial: %v, want net.ErrClosed", err)
	}
	if a := l.Addr(); a.Network() != "mem" || a.String() != "mem" {
		t.Fatalf("Addr: %q %q, want mem mem", a.Network(), a.String())
	}
}

func TestDialCancelled(t *testing.T) {
	l := NewListener()
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	// Nobody accepts, so only ctx ends the Dial.
	if _, err := l.Dial(ctx, "tcp", "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v, want context.DeadlineExceeded", err)
	}
}
