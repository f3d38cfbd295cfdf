//go:build !js

package wsbridge

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func verify(s *TokenSigner, token, id string) error {
	r := httptest.NewRequest("GET", "/ws?id="+url.QueryEscape(id)+"&token="+url.QueryEscape(token), nil)
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
		tok := s.Sign("conv-1", time.Hour)
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
			{"id prefix", s.Sign("conv-1", time.Hour), "conv-", ErrTokenInvalid},
			{"another key", other.Sign("conv-1", time.Hour), "conv-1", ErrTokenInvalid},
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
		time.Sleep(time.Hour - time.Second)
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
		if err := verify(s, tok, "conv-1"); err != nil {
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
			if err := verify(s, bad, "conv-1"); !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("%s (%q): Verify = %v, want ErrTokenInvalid", name, bad, err)
			}
		}
	})
}
