//go:build !js

package main

import (
	"crypto/rand"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The sim's secret, as Jupyter's token: the Host guard stops web pages
// (DNS rebinding) but not other programs on the machine, which send any
// Host and Origin they like. So the sim prints its workspace URL with a
// random secret (http://127.0.0.1:8800/?token=…); the first visit trades
// it for an HttpOnly, SameSite=Strict cookie and redirects to the clean
// URL, and the workspace page and its APIs need that cookie. The wsbridge
// demo's bridge page, which carries a page token that opens the Hub, is
// on the component's origin, where that cookie never goes (another site,
// in a frame): the workspace page hands its frame a one-time ticket
// instead (see tickets).

// secretParam is the query parameter of the printed URL.
const secretParam = "token"

// newSecret returns a fresh secret: 128 random bits, in base32.
func newSecret() string { return rand.Text() }

// startURL is the URL the sim prints: the workspace page with the secret.
func (s *sim) startURL() string { return s.secretURL("/") }

// secretURL returns the workspace URL of path (which may have a query)
// with the secret, for the sim's tests and its printed URL.
func (s *sim) secretURL(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return s.hostOrigin + path + sep + secretParam + "=" + s.secret
}

// secretCookie names the cookie after the workspace port: cookies are per
// host, not per port, and two sims on one host must not log each other
// out.
func (s *sim) secretCookie() string {
	_, port, _ := net.SplitHostPort(s.hostLn.Addr().String())
	return "assistant_sim_" + port
}

// secretOK compares v with the secret in constant time.
func (s *sim) secretOK(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(s.secret)) == 1
}

// requireSecret guards the workspace server: /static/ is public (no
// secret there); GET / with the secret in its query sets the cookie and
// redirects to the URL without it; everything else needs the cookie, and
// gets 403 without it.
func (s *sim) requireSecret(next http.Handler) http.Handler {
	name := s.secretCookie()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if q.Has(secretParam) && r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			if !s.secretOK(q.Get(secretParam)) {
				http.Error(w, "assistant sim: wrong token: open the URL assistant sim printed", http.StatusForbidden)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: name, Value: s.secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q.Del(secretParam)
			clean := "/"
			if len(q) > 0 {
				clean += "?" + q.Encode()
			}
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, clean, http.StatusSeeOther)
			return
		}
		if c, err := r.Cookie(name); err != nil || !s.secretOK(c.Value) {
			http.Error(w, "assistant sim: open the URL assistant sim printed (it ends in ?token=…); the sim needs it so that no other program on this machine can use it", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Tickets are one-time passes to the wsbridge demo's bridge page: the
// workspace page (which needs the cookie) puts one in its frame's URL,
// and the bridge page spends it. A ticket lives ticketTTL; at most
// maxTickets are outstanding (the oldest unused ones are dropped). Unlike
// a page token it opens nothing after its first use, so a copy in a log
// is worthless.
const (
	ticketTTL  = time.Minute
	maxTickets = 64
)

// tickets is the set of unspent tickets. The zero value is empty and
// ready; it is safe for concurrent use.
type tickets struct {
	mu sync.Mutex
	m  map[string]time.Time // ticket → expiry
}

// issue returns a fresh ticket.
func (t *tickets) issue() string {
	now := time.Now()
	tk := rand.Text()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]time.Time)
	}
	for k, exp := range t.m {
		if !now.Before(exp) {
			delete(t.m, k)
		}
	}
	for len(t.m) >= maxTickets {
		oldest, first := "", time.Time{}
		for k, exp := range t.m {
			if oldest == "" || exp.Before(first) {
				oldest, first = k, exp
			}
		}
		delete(t.m, oldest)
	}
	t.m[tk] = now.Add(ticketTTL)
	return tk
}

// redeem spends tk and reports whether it was a live ticket.
func (t *tickets) redeem(tk string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.m[tk]
	if !ok {
		return false
	}
	delete(t.m, tk)
	return time.Now().Before(exp)
}

// withTicket returns u (a URL without a query) with a fresh ticket.
func (s *sim) withTicket(u string) string {
	return u + "?ticket=" + url.QueryEscape(s.tickets.issue())
}
