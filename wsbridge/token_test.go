//go:build !js

package wsbridge

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// verify runs s.Verify on an upgrade request that offers token as the
// bridge script does, if token is not "".
func verify(s *TokenSigner, token, id string) error {
	r := httptest.NewRequest("GET", "/ws?id="+url.QueryEscape(id), nil)
	if token != "" {
		r.Header.Set("Sec-WebSocket-Protocol", Subprotocol+", "+TokenProtocolPrefix+token)
	}
	return s.Verify(r, id)
}

func TestTokenSigner(t *testing.T) {
	if _, err := NewTokenSigner(make([]byte, MinKeySize-1)); !errors.Is(err, ErrKeyTooShort) {
		t.Errorf("short key: %v, want ErrKeyTooShort", err)
	}
	key := []byte(strings.Repeat("k", MinKeySize))
	s, err := NewTokenSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	key[0] = 'x' // the signer keeps its own copy
	other, _ := NewTokenSigner([]byte(strings.Repeat("o", MinKeySize)))

	synctest.Test(t, func(t *testing.T) {
		tok := s.Sign("conv-1", 10*time.Minute)
		if len(tok) > 64 || strings.ContainsAny(tok, "+/=&<>\"' ") {
			t.Errorf("token %q: want short, URL- and attribute-safe", tok)
		}
		for _, tc := range []struct {
			name, token, id string
			want            error
		}{
			{"good", tok, "conv-1", nil},
			{"missing", "", "conv-1", ErrTokenMissing},
			{"another id", tok, "conv-2", ErrTokenInvalid},
			{"id prefix", s.Sign("conv-1", 10*time.Minute), "conv-", ErrTokenInvalid},
			{"another key", other.Sign("conv-1", 10*time.Minute), "conv-1", ErrTokenInvalid},
			{"no dot", strings.Replace(tok, ".", "", 1), "conv-1", ErrTokenInvalid},
			{"later expiry", "9" + tok, "conv-1", ErrTokenInvalid},
			{"padded expiry", "0" + tok, "conv-1", ErrTokenInvalid},
			{"flipped MAC", tok[:len(tok)-1] + string(tok[len(tok)-1]^1), "conv-1", ErrTokenInvalid},
			{"too long", tok + strings.Repeat("A", 200), "conv-1", ErrTokenInvalid},
		} {
			if err := verify(s, tc.token, tc.id); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
			}
		}
		time.Sleep(10*time.Minute - time.Second)
		if err := verify(s, tok, "conv-1"); err != nil {
			t.Errorf("a second before expiry: %v", err)
		}
		time.Sleep(time.Second)
		if err := verify(s, tok, "conv-1"); !errors.Is(err, ErrTokenExpired) {
			t.Errorf("at expiry: %v, want ErrTokenExpired", err)
		}
		// An expired token of another id is invalid, not expired: expiry
		// is only reported for tokens that are otherwise good.
		if err := verify(s, tok, "conv-2"); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("expired, another id: %v, want ErrTokenInvalid", err)
		}
	})
}

// Issue 17 finding 5: Go's base64 decoder skips CR and LF even in strict
// mode, so a token with a newline inserted in its MAC used to verify, and
// a deny-list keyed by the token string could be bypassed. Any byte
// outside the token's alphabet is refused now, as is anything but the
// one canonical spelling of a token.
func TestTokenAlphabet(t *testing.T) {
	s, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		tok := s.Sign("conv-1", time.Minute)
		if err := s.check(tok, "conv-1"); err != nil {
			t.Fatalf("good token: %v", err)
		}
		dot := strings.IndexByte(tok, '.')
		mid := dot + 10 // inside the MAC
		for name, bad := range map[string]string{
			"CR LF in the MAC":    tok[:mid] + "\r\n" + tok[mid:],
			"LF in the MAC":       tok[:mid] + "\n" + tok[mid:],
			"CR at the end":       tok + "\r",
			"LF after the dot":    tok[:dot+1] + "\n" + tok[dot+1:],
			"space in the MAC":    tok[:mid] + " " + tok[mid:],
			"trailing space":      tok + " ",
			"leading space":       " " + tok,
			"tab":                 tok[:mid] + "\t" + tok[mid:],
			"padding":             tok + "=",
			"std alphabet":        strings.NewReplacer("-", "+", "_", "/").Replace(tok[:dot+1]) + strings.NewReplacer("-", "+", "_", "/").Replace(tok[dot+1:]) + "+/",
			"second token":        tok + tok,
			"second token, comma": tok + "," + tok,
			"second token, space": tok + " " + tok,
			"NUL":                 tok + "\x00",
			"non-ASCII":           tok[:mid] + "é" + tok[mid:],
			"MAC one char short":  tok[:len(tok)-1],
			"MAC one char long":   tok + "A",
			"non-zero spare bits": tok[:len(tok)-1] + string(tok[len(tok)-1]+1),
			"sign on the expiry":  "+" + tok,
			"two dots":            tok[:dot] + ".." + tok[dot+1:],
		} {
			if err := s.check(bad, "conv-1"); !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("%s (%q): check = %v, want ErrTokenInvalid", name, bad, err)
			}
		}
	})
}

// The token travels in the Sec-WebSocket-Protocol header, never in the
// URL: Verify ignores a token in the query (the Hub refuses the request,
// see TestTokenInURLRefused), finds the token among other entries, and
// refuses a header that offers two.
func TestVerifyReadsTheHeader(t *testing.T) {
	s, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		tok, other := s.Sign("conv-1", time.Minute), s.Sign("conv-2", time.Minute)
		for _, tc := range []struct {
			name   string
			query  string
			header []string // Sec-WebSocket-Protocol lines
			want   error
		}{
			{"header", "", []string{"wsbridge, wsbridge.token." + tok}, nil},
			{"token first, no spaces", "", []string{"wsbridge.token." + tok + ",wsbridge"}, nil},
			{"two header lines", "", []string{"wsbridge", "wsbridge.token." + tok}, nil},
			{"query only", "&token=" + url.QueryEscape(tok), nil, ErrTokenMissing},
			{"query and an empty entry", "&token=" + url.QueryEscape(tok), []string{"wsbridge, wsbridge.token."}, ErrTokenMissing},
			{"no header", "", nil, ErrTokenMissing},
			{"only the protocol", "", []string{"wsbridge"}, ErrTokenMissing},
			{"prefix in capitals", "", []string{"WSBRIDGE.TOKEN." + tok}, ErrTokenMissing},
			{"two tokens", "", []string{"wsbridge, wsbridge.token." + tok + ", wsbridge.token." + tok}, ErrTokenInvalid},
			{"two tokens, two lines", "", []string{"wsbridge.token." + other, "wsbridge.token." + tok}, ErrTokenInvalid},
			{"CR LF in the header's token", "", []string{"wsbridge.token." + tok[:20] + "\r\n" + tok[20:]}, ErrTokenInvalid},
			{"space in the header's token", "", []string{"wsbridge.token." + tok[:20] + " " + tok[20:]}, ErrTokenInvalid},
		} {
			r := httptest.NewRequest("GET", "/ws?id=conv-1"+tc.query, nil)
			for _, v := range tc.header {
				r.Header.Add("Sec-WebSocket-Protocol", v)
			}
			if err := s.Verify(r, "conv-1"); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
			}
		}
	})
}

// Sign caps a token's life at MaxTokenTTL: the examples used 12 to 24
// hours, during which a captured token could be replayed.
func TestSignCapsTTL(t *testing.T) {
	s, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		tok := s.Sign("conv-1", 24*time.Hour)
		time.Sleep(MaxTokenTTL - time.Second)
		if err := verify(s, tok, "conv-1"); err != nil {
			t.Errorf("a second before MaxTokenTTL: %v", err)
		}
		time.Sleep(time.Second)
		if err := verify(s, tok, "conv-1"); !errors.Is(err, ErrTokenExpired) {
			t.Errorf("at MaxTokenTTL: %v, want ErrTokenExpired", err)
		}
	})
}

// bridge.js offers the token as the Hub expects it.
func TestBridgeScriptProtocols(t *testing.T) {
	for name, want := range map[string]string{"PROTOCOL": Subprotocol, "TOKEN_PREFIX": TokenProtocolPrefix} {
		m := regexp.MustCompile(name + ` = "([^"]*)"`).FindSubmatch(rawScript)
		if m == nil || string(m[1]) != want {
			t.Errorf("bridge.js %s = %q, want %q", name, m, want)
		}
	}
	if bytes.Contains(rawScript, []byte(`searchParams.set("token"`)) {
		t.Error("bridge.js puts the token in the URL")
	}
}
