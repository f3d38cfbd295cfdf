//go:build !js

package wsbridge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/imworkspace/assistant"
)

// Errors returned by Send, wrapped with the page id; match them with
// errors.Is. Whether the message may have reached the host is read with
// assistant.DeliveryOf, which every Send error answers (the class of each
// is given below; the README's "What an error means" has the whole
// table): [assistant.NotDelivered] errors are safe to send again,
// [assistant.MaybeDelivered] ones (the frame was written, the
// acknowledgement never came) may show the message twice if sent again.
var (
	// ErrNotConnected: no page with that id is connected, or its
	// connection ended before the message was written. Nothing was sent:
	// NotDelivered (the page may connect again). With ErrBadID too, the id
	// is one no page can have: Rejected.
	ErrNotConnected = errors.New("wsbridge: page not connected")
	// ErrDisconnected: the page's connection closed (cut, replaced by a
	// reconnect, dropped for a protocol violation, hub closed) after the
	// message was written and before the page acknowledged it:
	// MaybeDelivered. The error also wraps the cause, but never ErrClosed:
	// when the Hub closed, the text says "hub closed" and errors.Is(err,
	// ErrClosed) is false, so that ErrClosed always means nothing was sent.
	ErrDisconnected = errors.New("wsbridge: page disconnected before acknowledging")
	// ErrAckTimeout: the page did not acknowledge within
	// Options.AckTimeout: MaybeDelivered.
	ErrAckTimeout = errors.New("wsbridge: page did not acknowledge in time")
	// ErrTooManyPending: the page already has Options.MaxPending
	// unacknowledged messages. Nothing was sent: NotDelivered.
	ErrTooManyPending = errors.New("wsbridge: too many unacknowledged messages for the page")
	// ErrTooLarge: the encoded message is longer than MaxMessageSize
	// bytes. Nothing was sent: Rejected. The error also matches
	// assistant.ErrTooLarge.
	ErrTooLarge = errors.New("wsbridge: message too large")
	// ErrRefused: the bridge received the message and refused to post it
	// (see [RefusedError] for why). It did not reach the host: Rejected.
	ErrRefused = errors.New("wsbridge: page refused the message")
	// ErrClosed: the Hub is closed, or shutting down (see Hub.Shutdown).
	// Nothing was sent: NotDelivered; send it again through another
	// replica's Hub. (A Send whose message was written before the Hub
	// closed fails with ErrDisconnected instead, which does not match
	// ErrClosed.)
	ErrClosed = errors.New("wsbridge: hub closed")
	// ErrReplaced is the cause (wrapped by an ErrDisconnected error) when a
	// newer connection with the same page id took over.
	ErrReplaced = errors.New("wsbridge: replaced by a newer connection with the same page id")
	// ErrProtocol is matched by the errors passed to Options.OnError when a
	// page sends a frame the bridge protocol does not allow, and by the
	// cause of the sends that failed because of it.
	ErrProtocol = errors.New("wsbridge: page broke the bridge protocol")
)

// Errors passed to Options.OnError when the Hub refuses a connection;
// match them with errors.Is. The page gets only the HTTP status.
var (
	// ErrBadID: the "id" query parameter is missing or not a valid page
	// id (see ServeHTTP). Answered with 400.
	ErrBadID = errors.New("wsbridge: invalid page id")
	// ErrTokenInURL: the request's URL has a "token" query parameter.
	// Answered with 400, whether the token is good or not, so that a
	// client still putting tokens in URLs (which access logs, proxies and
	// the Referer keep) fails at once; send it in the Sec-WebSocket-Protocol
	// header (see RequestToken). A token that was in a URL may be in logs.
	ErrTokenInURL = errors.New("wsbridge: token in the URL")
	// ErrHostNotAllowed: the request's Host is not in
	// Options.AllowedHosts. Answered with 421.
	ErrHostNotAllowed = errors.New("wsbridge: host not allowed")
	// ErrOriginNotAllowed: the request's Origin is missing (and
	// Options.AllowMissingOrigin is false) or matches neither the Hub's
	// host nor Options.OriginPatterns. Answered with 403.
	ErrOriginNotAllowed = errors.New("wsbridge: origin not allowed")
	// ErrUnauthenticated: Options.Authenticate refused the page (the error
	// wraps its error), or there is no Authenticate and
	// Options.InsecureSkipAuthentication is false. Answered with 403.
	ErrUnauthenticated = errors.New("wsbridge: page not authenticated")
	// ErrTooManyConnections: Options.MaxConnections pages are connected.
	// Answered with 503.
	ErrTooManyConnections = errors.New("wsbridge: too many connections")
)

// Errors of [TokenSigner].
var (
	// ErrKeyTooShort: NewTokenSigner's key is shorter than MinKeySize.
	ErrKeyTooShort = errors.New("wsbridge: token key too short")
	// ErrTokenMissing: the request offers no token (see RequestToken).
	ErrTokenMissing = errors.New("wsbridge: token missing")
	// ErrTokenInvalid: the token is malformed, was not made with this key,
	// or was made for another page id.
	ErrTokenInvalid = errors.New("wsbridge: token invalid")
	// ErrTokenExpired: the token was valid until its expiry, which has passed.
	ErrTokenExpired = errors.New("wsbridge: token expired")
)

// Refusal reasons, sent by the bridge script in its refusal frame.
const (
	// ReasonTooLarge: the message is longer than MaxMessageSize bytes.
	ReasonTooLarge = "too_large"
	// ReasonInvalid: the message is not a well-formed sendMsg message (its
	// method, type, content or keys).
	ReasonInvalid = "invalid"
	// ReasonWrongParent: the page is framed by another origin than its
	// data-target-origin, so a post would not reach the host.
	ReasonWrongParent = "wrong_parent"
)

// RefusedError is the error of a Send whose message the bridge refused
// to post; it matches ErrRefused. Reason is one of the Reason* constants.
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return ErrRefused.Error() + ": " + e.Reason }

// Is reports whether target is ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Delivery is [assistant.Rejected] for every Reason* constant: the page
// refuses the same message again, and a wrong parent stays wrong until
// the page is framed by the target origin. None of them is transient
// (the bridge paces by queueing, never by refusing). A reason the package
// does not know, which the Hub never passes on (it drops a page that
// sends one), is [assistant.NotDelivered]: still not posted.
func (e *RefusedError) Delivery() assistant.Delivery {
	switch e.Reason {
	case ReasonTooLarge, ReasonInvalid, ReasonWrongParent:
		return assistant.Rejected
	}
	return assistant.NotDelivered
}

// errHubClosed is the cause in the ErrDisconnected error of a Send whose
// message was written before the Hub closed: it reads as ErrClosed but
// does not match it, which would say that nothing was sent.
var errHubClosed = errors.New(ErrClosed.Error())

// Marks for Send errors, for assistant.DeliveryOf.
func notSent(err error) error  { return assistant.WithDelivery(err, assistant.NotDelivered) }
func rejected(err error) error { return assistant.WithDelivery(err, assistant.Rejected) }
func maySent(err error) error  { return assistant.WithDelivery(err, assistant.MaybeDelivered) }

// pageError is an error about one page: "wsbridge: page "id": " followed
// by its errors' texts, each without its own "wsbridge: " prefix, joined
// by ": ". It unwraps to all of them.
type pageError struct {
	id   string
	errs []error
}

func pageErr(id string, errs ...error) error { return &pageError{id: id, errs: errs} }

func (e *pageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wsbridge: page %q", e.id)
	for _, err := range e.errs {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(err.Error(), "wsbridge: "))
	}
	return b.String()
}

func (e *pageError) Unwrap() []error { return e.errs }
