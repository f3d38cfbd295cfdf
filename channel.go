package assistant

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
)

// Kind is the kind of a [Channel].
type Kind int

// Channel kinds. Only Web, SDK and MiniProgram carry more than normal
// (text and rich) messages.
const (
	KindOther Kind = iota
	KindWeb
	KindSDK
	KindMiniProgram
)

// String returns "other", "web", "sdk" or "miniprogram".
func (k Kind) String() string {
	switch k {
	case KindWeb:
		return "web"
	case KindSDK:
		return "sdk"
	case KindMiniProgram:
		return "miniprogram"
	case KindOther:
		return "other"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Channel is the channel through which the customer is talking: it decides
// which message types the host may send. The zero Channel is an unnamed
// other channel. Channels are immutable values, safe to share.
//
// Channels compare with ==, and so can be map keys: two channels are equal
// when they have the same kind and the same other-channel name or SDK
// version. SDK versions are kept in canonical form, so SDK("v5.1") ==
// SDK("5.1.0"); build metadata ("5.1.0+b7") is part of the version.
type Channel struct {
	kind    Kind
	name    string // KindOther only
	version string // KindSDK only: canonical semver, such as "5.1.0"
}

// Web returns the Web channel (the vendor's web chat).
func Web() Channel { return Channel{kind: KindWeb} }

// MiniProgram returns the Mini Program channel.
func MiniProgram() Channel { return Channel{kind: KindMiniProgram} }

// SDK returns the channel of the vendor's app SDK at the given version,
// such as "5.1", "5.1.1" or "v5.2.0". Versions compare by semver rules, so
// a pre-release such as "5.1.0-beta.1" is below 5.1. A version semver
// cannot read is an error matching [ErrInvalidChannel].
func SDK(version string) (Channel, error) {
	v, err := semver.NewVersion(version)
	if err != nil {
		return Channel{}, fmt.Errorf("%w: SDK version %q: %w", ErrInvalidChannel, version, err)
	}
	return Channel{kind: KindSDK, version: v.String()}, nil
}

// OtherChannel returns a channel that carries normal messages only, such
// as WeChat official accounts, WeCom, Weibo or email. name is a label for
// errors and logs; it does not make the channel Web, SDK or Mini Program.
func OtherChannel(name string) Channel { return Channel{kind: KindOther, name: name} }

// ParseChannel parses the form String returns: "web", "miniprogram",
// "sdk@VERSION", or any other name for an other channel. The three kind
// names are matched without regard to case ("Web", "SDK@5.1"), so a
// capitalized name never quietly becomes an other channel that refuses
// product cards; an other channel named like a kind ("Web") therefore
// does not parse back to itself. "", "sdk" and a bad version are errors
// matching [ErrInvalidChannel].
func ParseChannel(s string) (Channel, error) {
	if v, ok := cutPrefixFold(s, "sdk@"); ok {
		return SDK(v)
	}
	switch {
	case strings.EqualFold(s, "web"):
		return Web(), nil
	case strings.EqualFold(s, "miniprogram"):
		return MiniProgram(), nil
	case s == "" || strings.EqualFold(s, "sdk"):
		return Channel{}, fmt.Errorf(`%w: %q: want "web", "miniprogram", "sdk@VERSION" or a name`, ErrInvalidChannel, s)
	}
	return OtherChannel(s), nil
}

// Kind returns the channel's kind.
func (c Channel) Kind() Kind { return c.kind }

// Version returns the SDK version of an SDK channel, or nil. Each call
// returns a new *semver.Version.
func (c Channel) Version() *semver.Version {
	if c.kind != KindSDK {
		return nil
	}
	v, err := semver.NewVersion(c.version)
	if err != nil {
		return nil // unreachable: SDK stored a version semver wrote
	}
	return v
}

// String returns "web", "miniprogram", "sdk@VERSION" (the canonical
// version: "sdk@v5.1" gives "sdk@5.1.0") or the other channel's name
// ("other" when unnamed).
func (c Channel) String() string {
	switch c.kind {
	case KindWeb:
		return "web"
	case KindMiniProgram:
		return "miniprogram"
	case KindSDK:
		return "sdk@" + c.version
	}
	if c.name == "" {
		return "other"
	}
	return c.name
}

// Check reports whether the channel may carry m under [DefaultRules].
func (c Channel) Check(m Message) error { return defaultRules().Check(c, m) }

var (
	defaultRulesOnce sync.Once
	defaultRulesVal  Rules
)

// defaultRules returns the rules built once, on first use, and never handed
// out, so no caller can change them; DefaultRules gives callers a copy.
// Building them lazily saves a program that never checks channels the
// work, not the code: semver is linked into every program that imports
// this package (its init compiles regexps), a WASM page included;
// dev/wasmsize reports what that costs.
func defaultRules() Rules {
	defaultRulesOnce.Do(func() { defaultRulesVal = DefaultRules() })
	return defaultRulesVal
}

// Allow says which channels may carry one message type.
type Allow struct {
	Web, MiniProgram, Other bool
	// SDK is the range of SDK versions that may carry the type; nil means
	// none. Constraints compare pre-releases by semver rules only when
	// IncludePrerelease is set, as in DefaultRules.
	SDK *semver.Constraints
}

// String describes the rule, such as "web, sdk >=5.1".
func (a Allow) String() string {
	var parts []string
	if a.Web && a.MiniProgram && a.Other && a.SDK != nil && a.SDK.String() == "*" {
		return "all channels"
	}
	if a.Web {
		parts = append(parts, "web")
	}
	if a.SDK != nil {
		parts = append(parts, "sdk "+a.SDK.String())
	}
	if a.MiniProgram {
		parts = append(parts, "miniprogram")
	}
	if a.Other {
		parts = append(parts, "other channels")
	}
	if len(parts) == 0 {
		return "no channel"
	}
	return strings.Join(parts, ", ")
}

func (a Allow) allows(c Channel) bool {
	switch c.kind {
	case KindWeb:
		return a.Web
	case KindMiniProgram:
		return a.MiniProgram
	case KindSDK:
		if a.SDK == nil {
			return false
		}
		v := c.Version()
		return v != nil && a.SDK.Check(v)
	}
	return a.Other
}

// Rules maps message types to the channels that may carry them. It is plain
// data: copy [DefaultRules], change an entry and use its Check or
// ForChannel when a host changes its rules. A type with no entry is refused
// everywhere. Rules is safe for concurrent reads; ForChannel copies it.
type Rules map[string]Allow

// DefaultRules returns a fresh copy of the vendor's rules: text and rich on
// every channel; product on Web and on SDK >= 5.1 (pre-releases of 5.1 are
// below it); miniprogrampage on Mini Program only.
func DefaultRules() Rules {
	any, _ := semver.NewConstraint("*")
	any.IncludePrerelease = true
	v51, _ := semver.NewConstraint(">=5.1")
	v51.IncludePrerelease = true
	all := Allow{Web: true, MiniProgram: true, Other: true, SDK: any}
	return Rules{
		TypeText:            all,
		TypeRich:            all,
		TypeProduct:         {Web: true, SDK: v51},
		TypeMiniProgramPage: {MiniProgram: true},
	}
}

// Check reports whether channel c may carry m: nil, a *NotAllowedError, or
// ErrInvalid for a nil message. It does not validate m.
func (r Rules) Check(c Channel, m Message) error {
	m, err := concrete(m)
	if err != nil {
		return err
	}
	typ := m.Type()
	a, ok := r[typ]
	if !ok {
		return &NotAllowedError{Type: typ, Channel: c, Rule: "no rule for " + typ}
	}
	if !a.allows(c) {
		return &NotAllowedError{Type: typ, Channel: c, Rule: typ + " goes to " + a.String()}
	}
	return nil
}
