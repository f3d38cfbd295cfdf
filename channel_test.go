package assistant

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

var (
	aText    = NewText("t")
	aRich    = NewRich("<b>r</b>")
	aProduct = NewProduct("n", "", "https://img/x.jpg")
	aCard    = NewMiniProgramPage("t", "pages/a", "https://img/x.jpg")
)

func mustSDK(t *testing.T, v string) Channel {
	t.Helper()
	ch, err := SDK(v)
	if err != nil {
		t.Fatalf("SDK(%q): %v", v, err)
	}
	return ch
}

func TestChannelCheck(t *testing.T) {
	tests := []struct {
		ch                          Channel
		text, rich, product, mpcard bool
	}{
		{Web(), true, true, true, false},
		{MiniProgram(), true, true, false, true},
		{OtherChannel("wechat"), true, true, false, false},
		{OtherChannel("web"), true, true, false, false}, // a name is a label, not a kind
		{Channel{}, true, true, false, false},
		{mustSDK(t, "5.0.9"), true, true, false, false},
		{mustSDK(t, "5.1"), true, true, true, false},
		{mustSDK(t, "5.1.0"), true, true, true, false},
		{mustSDK(t, "5.1.0-beta.1"), true, true, false, false},
		{mustSDK(t, "5.1.1"), true, true, true, false},
		{mustSDK(t, "v5.2.0"), true, true, true, false},
		{mustSDK(t, "5.2.0-rc.1"), true, true, true, false}, // a pre-release of 5.2 is above 5.1
		{mustSDK(t, "v6"), true, true, true, false},
		{mustSDK(t, "4.9.9"), true, true, false, false},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			m    Message
			want bool
		}{{aText, tt.text}, {aRich, tt.rich}, {aProduct, tt.product}, {aCard, tt.mpcard}} {
			err := tt.ch.Check(c.m)
			if c.want {
				if err != nil {
					t.Errorf("%s.Check(%s) = %v, want nil", tt.ch, c.m.Type(), err)
				}
				continue
			}
			var na *NotAllowedError
			if !errors.As(err, &na) || !errors.Is(err, ErrNotAllowed) {
				t.Errorf("%s.Check(%s) = %v, want *NotAllowedError", tt.ch, c.m.Type(), err)
				continue
			}
			if na.Type != c.m.Type() || na.Channel.String() != tt.ch.String() || na.Rule == "" {
				t.Errorf("%s.Check(%s) = %#v: wrong type, channel or empty rule", tt.ch, c.m.Type(), na)
			}
			if s := err.Error(); !strings.Contains(s, c.m.Type()) || !strings.Contains(s, tt.ch.String()) {
				t.Errorf("error %q does not name type and channel", s)
			}
		}
	}
}

func TestNotAllowedErrorText(t *testing.T) {
	err := mustSDK(t, "5.0.9").Check(aProduct)
	want := "assistant: product not allowed on channel sdk@5.0.9 (rule: product goes to web, sdk >=5.1)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestSDKBadVersion(t *testing.T) {
	for _, v := range []string{"", "garbage", "5.x.1", "five", "5.1.1.1", "-1"} {
		if ch, err := SDK(v); err == nil {
			t.Errorf("SDK(%q) = %v, want an error", v, ch)
		} else if !strings.Contains(err.Error(), "SDK version") {
			t.Errorf("SDK(%q) error %q does not say what was wrong", v, err)
		}
	}
}

func TestParseChannel(t *testing.T) {
	for _, s := range []string{"web", "miniprogram", "sdk@5.1.1", "sdk@5.2.0-rc.1", "wechat", "email"} {
		ch, err := ParseChannel(s)
		if err != nil {
			t.Errorf("ParseChannel(%q): %v", s, err)
			continue
		}
		if ch.String() != s {
			t.Errorf("ParseChannel(%q).String() = %q", s, ch.String())
		}
	}
	for _, s := range []string{"", "sdk", "sdk@", "sdk@junk"} {
		if _, err := ParseChannel(s); err == nil {
			t.Errorf("ParseChannel(%q) succeeded, want an error", s)
		}
	}
	if ch, _ := ParseChannel("sdk@5.1"); ch.Kind() != KindSDK || ch.Version().String() != "5.1.0" {
		t.Errorf("ParseChannel(sdk@5.1) = kind %v version %v", ch.Kind(), ch.Version())
	}
}

func TestCustomRules(t *testing.T) {
	r := DefaultRules()
	raised, err := semver.NewConstraint(">=6.0")
	if err != nil {
		t.Fatal(err)
	}
	p := r[TypeProduct]
	p.SDK = raised
	r[TypeProduct] = p
	delete(r, TypeRich)

	if err := r.Check(mustSDK(t, "5.5"), aProduct); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("raised rule: sdk 5.5 product = %v, want ErrNotAllowed", err)
	}
	if err := r.Check(mustSDK(t, "6.0.1"), aProduct); err != nil {
		t.Errorf("raised rule: sdk 6.0.1 product = %v", err)
	}
	var na *NotAllowedError
	if err := r.Check(Web(), aRich); !errors.As(err, &na) || !strings.Contains(na.Rule, "no rule") {
		t.Errorf("type without a rule = %v, want a refusal saying so", err)
	}
	// Changing a copy leaves the defaults alone.
	if err := mustSDK(t, "5.5").Check(aProduct); err != nil {
		t.Errorf("DefaultRules changed by a caller's copy: %v", err)
	}
	if err := r.Check(Web(), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Check(nil) = %v, want ErrInvalid", err)
	}
}

func TestAllowString(t *testing.T) {
	r := DefaultRules()
	for typ, want := range map[string]string{
		TypeText: "all channels", TypeProduct: "web, sdk >=5.1", TypeMiniProgramPage: "miniprogram",
	} {
		if got := r[typ].String(); got != want {
			t.Errorf("%s rule = %q, want %q", typ, got, want)
		}
	}
	if got := (Allow{}).String(); got != "no channel" {
		t.Errorf("empty Allow = %q", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindOther: "other", KindWeb: "web", KindSDK: "sdk", KindMiniProgram: "miniprogram", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

// TestChannelComparable: equal channels are ==, and work as map keys.
func TestChannelComparable(t *testing.T) {
	if mustSDK(t, "5.1.1") != mustSDK(t, "5.1.1") {
		t.Error(`SDK("5.1.1") != SDK("5.1.1")`)
	}
	if mustSDK(t, "v5.1") != mustSDK(t, "5.1.0") {
		t.Error(`SDK("v5.1") != SDK("5.1.0"): the same version`)
	}
	web, _ := ParseChannel("web")
	if web != Web() || MiniProgram() != MiniProgram() || OtherChannel("wechat") != OtherChannel("wechat") {
		t.Error("equal kinds or names compare unequal")
	}
	for _, pair := range [][2]Channel{
		{mustSDK(t, "5.1.1"), mustSDK(t, "5.1.2")},
		{mustSDK(t, "5.1.0"), mustSDK(t, "5.1.0-beta.1")},
		{OtherChannel("wechat"), OtherChannel("email")},
		{OtherChannel("web"), Web()},
		{Channel{}, OtherChannel("x")},
	} {
		if pair[0] == pair[1] {
			t.Errorf("%v == %v", pair[0], pair[1])
		}
	}
	seen := map[Channel]int{}
	for _, v := range []string{"5.1.1", "v5.1.1", "5.1.1", "5.2"} {
		seen[mustSDK(t, v)]++
	}
	seen[Web()]++
	seen[Web()]++
	want := map[Channel]int{mustSDK(t, "5.1.1"): 3, mustSDK(t, "5.2.0"): 1, Web(): 2}
	if len(seen) != len(want) {
		t.Fatalf("map has %d keys %v, want %v", len(seen), seen, want)
	}
	for k, n := range want {
		if seen[k] != n {
			t.Errorf("seen[%v] = %d, want %d", k, seen[k], n)
		}
	}
	if v := mustSDK(t, "v5.1").Version(); v == nil || v.String() != "5.1.0" {
		t.Errorf("Version() = %v, want 5.1.0", v)
	}
	if Web().Version() != nil {
		t.Error("Web().Version() != nil")
	}
}

// TestParseChannelFolds: kind names in any case give the kind, never an
// other channel that quietly refuses product cards.
func TestParseChannelFolds(t *testing.T) {
	for s, want := range map[string]Channel{
		"Web": Web(), "WEB": Web(), "MiniProgram": MiniProgram(), "MINIPROGRAM": MiniProgram(),
		"SDK@5.1": mustSDK(t, "5.1"), "Sdk@v5.2.0": mustSDK(t, "5.2.0"), "WeChat": OtherChannel("WeChat"),
	} {
		if got, err := ParseChannel(s); err != nil || got != want {
			t.Errorf("ParseChannel(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "sdk", "SDK", "Sdk@", "SDK@five"} {
		if ch, err := ParseChannel(s); !errors.Is(err, ErrInvalidChannel) {
			t.Errorf("ParseChannel(%q) = %v, %v; want ErrInvalidChannel", s, ch, err)
		}
	}
	if _, err := SDK("five"); !errors.Is(err, ErrInvalidChannel) {
		t.Errorf("SDK(five) = %v; want ErrInvalidChannel", err)
	}
}
