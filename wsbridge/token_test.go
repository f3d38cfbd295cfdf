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
