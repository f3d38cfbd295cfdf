//go:build !js

package wsbridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MinKeySize is the shortest key NewTokenSigner accepts, in bytes.
const MinKeySize = 32

// MaxTokenTTL is the longest lifetime Sign gives a token. A token only
// opens the WebSocket (a connected page stays connected); pages that may
// reconnect later fetch a fresh one from data-token-url.
const MaxTokenTTL = 15 * time.Minute

// maxTokenLen bounds what Verify reads: a token Sign makes is about 54
// bytes.
const maxTokenLen = 128

// Subprotocol is the WebSocket subprotocol the bridge script offers and a
// Hub selects. The script offers the page token as a second entry,
// TokenProtocolPrefix followed by the token, which the Hub never selects,
// so the token is not echoed in the response.
const Subprotocol = "wsbridge"

// TokenProtocolPrefix starts the Sec-WebSocket-Protocol entry that carries
// a page token: "wsbridge.token.<token>". A browser can set no other
// header on a WebSocket, and unlike the URL this one stays out of access
// logs, proxies' logs and the Referer.
const TokenProtocolPrefix = "wsbridge.token."

// RequestToken returns the page token of upgrade request r: the entry of
// its Sec-WebSocket-Protocol header that starts with TokenProtocolPrefix,
// without the prefix. It returns ErrTokenMissing if there is none and
// ErrTokenInvalid if there are several. The URL is never read: a Hub
// refuses a token there (see ErrTokenInURL). Use it in an
// Options.Authenticate of your own.
func RequestToken(r *http.Request) (string, error) {
	var tok string
	found := false
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for e := range strings.SplitSeq(v, ",") {
			t, ok := strings.CutPrefix(strings.TrimSpace(e), TokenProtocolPrefix)
			if !ok {
				continue
			}
			if found {
				return "", fmt.Errorf("%w: more than one token", ErrTokenInvalid)
			}
			tok, found = t, true
		}
	}
	if !found || tok == "" {
		return "", ErrTokenMissing
	}
	return tok, nil
}

// TokenSigner makes and checks page tokens: an expiry time and an
// HMAC-SHA256 over it and the page id, so a token opens only the page id
// it was made for, only until it expires. Sign one per page when serving
// the component page (data-token), or from the page's data-token-url; the
// bridge script offers it in the Sec-WebSocket-Protocol header of its
// WebSocket (see TokenProtocolPrefix), and Verify, used as
// Options.Authenticate, checks it:
//
//	signer, err := wsbridge.NewTokenSigner(key) // key: MinKeySize or more random bytes, kept secret
//	hub := wsbridge.NewHub(wsbridge.Options{Authenticate: signer.Verify})
//	token := signer.Sign("conv-1", 5*time.Minute)
//
// A token can be replayed until it expires, by whoever holds it, to take
// the page's id over; it is not bound to a connection. Keep that window
// short (at most MaxTokenTTL): a token only opens the socket, and a
// connected page stays connected. A page whose token expired gets 403 on
// its next reconnect, unless the bridge fetches a fresh one from its
// data-token-url. A TokenSigner is safe for concurrent use.
type TokenSigner struct {
	key []byte
}

// NewTokenSigner returns a TokenSigner with a copy of key, which must be
// at least MinKeySize bytes (ErrKeyTooShort otherwise) and secret: anyone
// with it can open any page id.
func NewTokenSigner(key []byte) (*TokenSigner, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrKeyTooShort, len(key), MinKeySize)
	}
	return &TokenSigner{key: append([]byte(nil), key...)}, nil
}

// Sign returns a token for page id that expires ttl from now, or
// MaxTokenTTL from now if ttl is longer: the expiry in Unix seconds, a
// dot and the MAC in unpadded base64url, safe in an HTML attribute and in
// a Sec-WebSocket-Protocol entry.
func (s *TokenSigner) Sign(id string, ttl time.Duration) string {
	exp := time.Now().Add(min(ttl, MaxTokenTTL)).Unix()
	return strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(s.mac(id, exp))
}

// Verify checks the token of upgrade request r (see RequestToken) for
// page id. It returns nil if a token Sign made with this key for exactly
// this id has not expired, else an error matching ErrTokenMissing,
// ErrTokenInvalid (also for a token of another id, or with any byte
// outside its alphabet) or ErrTokenExpired (only for a token that was
// otherwise valid). The MAC is compared in constant time. Its signature is
// that of Options.Authenticate.
func (s *TokenSigner) Verify(r *http.Request, id string) error {
	tok, err := RequestToken(r)
	if err != nil {
		return err
	}
	return s.check(tok, id)
}

// check is Verify for the token tok.
func (s *TokenSigner) check(tok, id string) error {
	if len(tok) > maxTokenLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrTokenInvalid, maxTokenLen)
	}
	if i := strings.IndexFunc(tok, notTokenChar); i >= 0 {
		return fmt.Errorf("%w: byte %#02x at %d is outside the token alphabet", ErrTokenInvalid, tok[i], i)
	}
	expStr, macStr, ok := strings.Cut(tok, ".")
	if !ok || len(macStr) != macLen {
		return fmt.Errorf("%w: malformed", ErrTokenInvalid)
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != expStr {
		return fmt.Errorf("%w: malformed expiry", ErrTokenInvalid)
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(macStr)
	if err != nil {
		return fmt.Errorf("%w: malformed MAC", ErrTokenInvalid)
	}
	if !hmac.Equal(mac, s.mac(id, exp)) {
		return fmt.Errorf("%w: wrong MAC (another key or page id)", ErrTokenInvalid)
	}
	if !time.Now().Before(time.Unix(exp, 0)) {
		return fmt.Errorf("%w: at %s", ErrTokenExpired, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// macLen is the length of a token's MAC in unpadded base64url.
var macLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// notTokenChar reports whether r is outside the alphabet of a token Sign
// makes: digits, the dot and unpadded base64url. Checked before decoding,
// because the base64 decoder skips CR and LF (even in strict mode): a
// token with a newline in its MAC would verify, and a deny-list keyed by
// the token string would miss it.
func notTokenChar(r rune) bool {
	return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '-' || r == '_' || r == '.')
}

// mac is HMAC-SHA256 over a version label, the id (length-prefixed, so no
// id and expiry pair reads as another) and the expiry.
func (s *TokenSigner) mac(id string, exp int64) []byte {
	m := hmac.New(sha256.New, s.key)
	var b [8]byte
	m.Write([]byte("wsbridge token v1\x00"))
	binary.BigEndian.PutUint64(b[:], uint64(len(id)))
	m.Write(b[:])
	m.Write([]byte(id))
	binary.BigEndian.PutUint64(b[:], uint64(exp))
	m.Write(b[:])
	return m.Sum(nil)
}
