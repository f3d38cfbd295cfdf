//go:build js && wasm

package postmessage

import (
	"errors"
	"fmt"
	"syscall/js"
)

// ErrUnknownOrigin is matched (errors.Is) by the error ParentOrigin returns
// when the browser does not say which origin frames the page.
var ErrUnknownOrigin = errors.New("postmessage: parent origin unknown")

// ParentOrigin returns the origin of the page that frames this one, where
// the browser exposes it, so a component can pin its Sender to the page it
// was embedded from:
//
//   - location.ancestorOrigins[0] (Chromium, Safari, Firefox ESR 153): the parent's
//     current origin, as the browser knows it. A parent that frames the
//     component with referrerpolicy="no-referrer", or a sandboxed parent,
//     shows as "null", which is an error here.
//   - otherwise the origin of document.referrer (older Firefox): the page that
//     navigated this frame. It is empty when the host's Referrer-Policy is
//     "no-referrer" (an error here), and it is this page's own origin after
//     the component navigated itself, so load the component directly from
//     the host when relying on it.
//
// The result says who frames the component, not whether to trust them: any
// site can frame a public page. Check it against the hosts you serve before
// you send anything confidential, or configure the host's origin instead.
// ParentOrigin returns an error matching [ErrNoHost] when the page is not
// in a frame and one matching [ErrUnknownOrigin] when the browser does not
// tell.
func ParentOrigin() (string, error) {
	g := js.Global()
	if err := checkTarget(prop(g, "parent")); err != nil {
		return "", err
	}
	loc := prop(g, "location")
	if ao := prop(loc, "ancestorOrigins"); prop(ao, "length").Type() == js.TypeNumber && ao.Length() > 0 {
		o := ao.Index(0)
		if o.Type() != js.TypeString {
			return "", fmt.Errorf("%w: location.ancestorOrigins[0] is not a string", ErrUnknownOrigin)
		}
		if err := checkOrigin(o.String()); err != nil {
			return "", fmt.Errorf("%w: location.ancestorOrigins[0]: %w", ErrUnknownOrigin, err)
		}
		return o.String(), nil
	}
	ref := prop(prop(g, "document"), "referrer")
	if ref.Type() != js.TypeString || ref.String() == "" {
		return "", fmt.Errorf("%w: no location.ancestorOrigins and no document.referrer", ErrUnknownOrigin)
	}
	u, ok := parseURL(ref.String())
	if !ok {
		return "", fmt.Errorf("%w: document.referrer is not a URL", ErrUnknownOrigin)
	}
	o := u.Get("origin").String()
	if err := checkOrigin(o); err != nil {
		return "", fmt.Errorf("%w: document.referrer: %w", ErrUnknownOrigin, err)
	}
	return o, nil
}
