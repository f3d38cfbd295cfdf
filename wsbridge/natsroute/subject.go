//go:build !js

package natsroute

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// DefaultPrefix is the subject prefix when Options.Prefix is empty.
const DefaultPrefix = "wsbridge"

// Subjects, under the prefix P:
//
//	P.page.<token>  requests for one page; its owner queue-subscribes
//	P.claim         connect announcements, heard by every replica
//
// A page id is arbitrary UTF-8 (up to wsbridge.MaxIDLen bytes), so it is
// never put into a subject raw: the token is its unpadded base64url
// encoding, which uses only A-Z a-z 0-9 - _ (no dots, wildcards or spaces).

func pageSubject(prefix, id string) string {
	return prefix + ".page." + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// pageID returns the id encoded in a page subject under prefix.
func pageID(prefix, subject string) (string, bool) {
	tok, ok := strings.CutPrefix(subject, prefix+".page.")
	if !ok || tok == "" || strings.Contains(tok, ".") {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func claimSubject(prefix string) string { return prefix + ".claim" }

// checkPrefix accepts one or more dot-separated tokens of printable ASCII
// without wildcards.
func checkPrefix(p string) error {
	if p == "" {
		return errors.New("natsroute: empty subject prefix")
	}
	if len(p) > 128 {
		return errors.New("natsroute: subject prefix longer than 128 bytes")
	}
	for _, tok := range strings.Split(p, ".") {
		if tok == "" {
			return fmt.Errorf("natsroute: subject prefix %q has an empty token", p)
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c <= ' ' || c >= 0x7f || c == '*' || c == '>' {
				return fmt.Errorf("natsroute: subject prefix %q: only printable ASCII without spaces, '*' or '>'", p)
			}
		}
	}
	return nil
}
