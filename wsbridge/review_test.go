//go:build !js

package wsbridge

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A page that reconnects while its previous connection's Disconnect hooks
// still run (that connection ended by itself, so nothing replaced it) must
// not get its Connect hooks before they return: Hooks promises, per id, an
// older connection's Disconnect before a newer one's Connect. A hook
// keeping "page online" state by id would otherwise end with the page
// marked offline while it is connected.
func TestHookOrderReconnectDuringDisconnect(t *testing.T) {
	var mu sync.Mutex
	var order []string
	record := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	inDisconnect, release, connected2 := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free()    // before the Hub's cleanup, which waits for the hooks
	const first = 1 // a new Hub's first connection number
	hub, srv := newTestHub(t, Options{NoPacing: true, Hooks: []Hooks{{
		Connect: func(i ConnectInfo) {
			record(fmt.Sprintf("connect %d", i.Conn-first))
			if i.Conn != first {
				close(connected2)
			}
		},
		Disconnect: func(i DisconnectInfo) {
			if i.Conn == first {
				close(inDisconnect)
				<-release
			}
			record(fmt.Sprintf("disconnect %d", i.Conn-first))
		},
	}}})
	p1 := connectPage(t, hub, srv, "a", &fakeHost{}, pageOpts{})
	p1.close() // the page goes by itself: nothing replaces the connection
	<-inDisconnect
	connectPage(t, hub, srv, "a", &fakeHost{}, pageOpts{})
	select {
	case <-connected2:
		t.Error("Connect of the new connection called while the old one's Disconnect was running")
	case <-time.After(200 * time.Millisecond):
	}
	free()
	<-connected2
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"connect 0", "disconnect 0", "connect 1"}, order); diff != "" {
		t.Errorf("hook order (-want +got):\n%s", diff)
	}
}

// AllowedHosts entries are names or IP addresses, with "*" as the only
// wildcard: the brackets of an IPv6 address are not a character class.
// "[::1]:8080" refused the Hub's own Host "[::1]:8080", and "[::1]"
// accepted the Host "1".
func TestAllowedHostsIPv6Literal(t *testing.T) {
	h := NewHub(Options{AllowedHosts: []string{"[::1]:8080", "[fe80::2]"}})
	for host, want := range map[string]bool{
		"[::1]:8080":     true,
		"[::1]:9000":     false,
		"1:8080":         false,
		"::8080":         false,
		"[fe80::2]:1234": true,
		"[fe80::2]":      true,
		"2":              false,
		"f":              false,
	} {
		if got := h.hostAllowed(host); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}
