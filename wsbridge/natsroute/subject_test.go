//go:build !js

package natsroute

import (
	"strings"
	"testing"
)

func TestPageSubject(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"conv-1", "wsbridge.page.Y29udi0x"},
		{"a.b", "wsbridge.page.YS5i"},     // a dot would add a token
		{"*", "wsbridge.page.Kg"},         // wildcards
		{">", "wsbridge.page.Pg"},         //
		{"a b", "wsbridge.page.YSBi"},     // spaces end a subject
		{"ü?", "wsbridge.page.w7w_"},      // base64url, not base64 ('/' -> '_')
		{"\xff\xfe", "wsbridge.page.__4"}, // not even UTF-8 ('+' -> '-', '/' -> '_')
	} {
		got := pageSubject(DefaultPrefix, tc.id)
		if got != tc.want {
			t.Errorf("pageSubject(%q) = %q, want %q", tc.id, got, tc.want)
		}
		if id, ok := pageID(DefaultPrefix, got); !ok || id != tc.id {
			t.Errorf("pageID(%q) = %q, %v; want %q", got, id, ok, tc.id)
		}
	}
	long := strings.Repeat("\U0010FFFF", 64) // 256 bytes, the longest id
	if s := pageSubject("a.b", long); strings.ContainsAny(s[len("a.b.page."):], ".*> \t") {
		t.Errorf("unsafe subject %q", s)
	}
}

func TestPageIDRejects(t *testing.T) {
	for _, s := range []string{
		"wsbridge.page.", "wsbridge.page.a.b", "wsbridge.page.a=", "wsbridge.page.+",
		"other.page.YS5i", "wsbridge.claim", "wsbridge.pageYS5i",
	} {
		if id, ok := pageID(DefaultPrefix, s); ok {
			t.Errorf("pageID(%q) = %q, true; want false", s, id)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"wsbridge", "svc.orders.ws", "a-b_c"} {
		if err := checkPrefix(p); err != nil {
			t.Errorf("checkPrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", ".a", "a.", "a..b", "a.*", "a.>", "a b", "a\tb", "ü", strings.Repeat("a", 129)} {
		if err := checkPrefix(p); err == nil {
			t.Errorf("checkPrefix(%q) = nil, want an error", p)
		}
	}
}
