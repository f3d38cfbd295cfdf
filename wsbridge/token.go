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

// maxTokenLen bounds what Verify reads: a token Sign makes is about 60
// bytes.
const maxTokenLen = 128

// TokenSigner makes and checks page tokens: an expiry time and an
// HMAC-SHA256 over it and the page id, so a token opens only the page id
// it was made for, only until it expires. Sign one per page when serving
// the component page (data-token); the bridge script presents it as the
// "token" query parameter on every (re)connect, and Verify, used as
// Options.Authenticate, checks it:
//
//	signer, err := wsbridge.NewTokenSigner(key) // key: MinKeySize or more random bytes, kept secret
//	hub := wsbridge.NewHub(wsbridge.Options{Authenticate: signer.Verify})
//	token := signer.Sign("conv-1", 12*time.Hour)
//
// The bridge reconnects with the token it was loaded with, so make ttl
// cover how long a page stays open; a page whose token expired gets 403
// until it is reloaded with a fresh one. A TokenSigner is safe for
// concurrent use.
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

// Sign returns a token for page id that expires ttl from now: the expiry
// in Unix seconds, a dot and the MAC in unpadded base64url, safe in a URL
// and an HTML attribute.
func (s *TokenSigner) Sign(id string, ttl time.Duration) string {
	exp := time.Now().Add(ttl).Unix()
	return strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(s.mac(id, exp))
}

// Verify checks the "token" query parameter of r for page id. It returns
// nil if a token Sign made with this key for exactly this id has not
// expired, else an error matching ErrTokenMissing, ErrTokenInvalid (also
// for a token of another id) or ErrTokenExpired (only for a token that
// was otherwise valid). The MAC is compared in constant time. Its
// signature is that of Options.Authenticate.
func (s *TokenSigner) Verify(r *http.Request, id string) error {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		return ErrTokenMissing
	}
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
