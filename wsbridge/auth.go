//go:build !js

package wsbridge

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// admit decides whether the upgrade request r of page id may connect, in
// this order: the id, no token in the URL, the Host, the Origin, then
// Authenticate (so that a cross-site request never reaches the caller's
// code). It returns the HTTP status and error of a refusal; the error
// never holds the raw id.
func (h *Hub) admit(r *http.Request, id string) (int, error) {
	if err := checkID(id); err != nil {
		return http.StatusBadRequest, err
	}
	if r.URL.Query().Has("token") {
		return http.StatusBadRequest, pageErr(id, ErrTokenInURL)
	}
	if !h.hostAllowed(r.Host) {
		return http.StatusMisdirectedRequest, pageErr(id, fmt.Errorf("%w: %.64q", ErrHostNotAllowed, r.Host))
	}
	if err := h.checkOrigin(r); err != nil {
		return http.StatusForbidden, pageErr(id, err)
	}
	switch {
	case h.opts.Authenticate != nil:
		if err := h.opts.Authenticate(r, id); err != nil {
			return http.StatusForbidden, pageErr(id, ErrUnauthenticated, err)
		}
	case !h.opts.InsecureSkipAuthentication:
		return http.StatusForbidden, pageErr(id, ErrUnauthenticated,
			errors.New("the Hub has no Options.Authenticate (set it, or InsecureSkipAuthentication to accept any page)"))
	}
	return 0, nil
}

// checkID validates a page id before anything else sees it. Its errors
// quote at most the id's first 32 characters, escaped.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf(`%w: missing (query parameter "id")`, ErrBadID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: longer than %d bytes: %.32q…", ErrBadID, MaxIDLen, id)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8: %.32q", ErrBadID, id)
	}
	for _, r := range id {
		if !unicode.IsGraphic(r) {
			return fmt.Errorf("%w: contains %U: %.32q", ErrBadID, r, id)
		}
	}
	return nil
}

// hostAllowed reports whether host (a request's Host) matches
// Options.AllowedHosts; any host does when the list is empty.
func (h *Hub) hostAllowed(host string) bool {
	if len(h.opts.AllowedHosts) == 0 {
		return true
	}
	host = strings.ToLower(host)
	name := unbracket(host)
	if n, _, err := net.SplitHostPort(host); err == nil {
		name = n
	}
	for _, p := range h.opts.AllowedHosts {
		p = strings.ToLower(p)
		if ok, _ := path.Match(globLiteral(p), host); ok {
			return true
		}
		if ok, _ := path.Match(globLiteral(unbracket(p)), name); ok {
			return true
		}
	}
	return false
}

func unbracket(s string) string { return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]") }

// globMeta escapes path.Match's metacharacters other than "*": the
// brackets of an IPv6 address are not a character class.
var globMeta = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "?", `\?`)

func globLiteral(p string) string { return globMeta.Replace(p) }

// checkOrigin is websocket.Accept's origin check, done before
// Authenticate, and without its exception for a request with no Origin
// (which no browser sends on a WebSocket upgrade) unless
// Options.AllowMissingOrigin says so. Accept then checks again.
func (h *Hub) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if h.opts.AllowMissingOrigin {
			return nil
		}
		return fmt.Errorf("%w: no Origin header", ErrOriginNotAllowed)
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %.64q", ErrOriginNotAllowed, origin)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range h.opts.OriginPatterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return nil
		}
	}
	return fmt.Errorf("%w: %.64q", ErrOriginNotAllowed, origin)
}
