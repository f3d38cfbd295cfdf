//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/nats-io/nats.go"
)

// The request/reply wire format. A request is a NATS message on the page's
// subject whose data is the message's exact assistant.Encode bytes, with
// two headers:
//
//	Wsbridge-Request:  <replica>.<nonce>.<n>  unique request id (dedupe key)
//	Wsbridge-Deadline: <unix ns>              absolute deadline of the caller
//
// The owner replies with an empty message carrying
//
//	Wsbridge-Status: ok | not_connected | closed | disconnected |
//	                 ack_timeout | too_many_pending | busy | timeout |
//	                 refused | too_large | invalid | error
//	Wsbridge-Reason: the bridge's reason, with refused
//	Wsbridge-Error:  the owner's error text (never message content), optional
//
// and does not reply at all to a request whose deadline has passed.
const (
	hdrRequest  = "Wsbridge-Request"
	hdrDeadline = "Wsbridge-Deadline"
	hdrStatus   = "Wsbridge-Status"
	hdrReason   = "Wsbridge-Reason"
	hdrError    = "Wsbridge-Error"
)

// Reply statuses.
const (
	statusOK             = "ok"
	statusNotConnected   = "not_connected"    // nothing sent: no such page at the owner
	statusClosed         = "closed"           // nothing sent: the owner's Hub is closing
	statusDisconnected   = "disconnected"     // written, connection ended before the ack
	statusAckTimeout     = "ack_timeout"      // written, no ack within the Hub's AckTimeout
	statusTooManyPending = "too_many_pending" // nothing sent: the page's MaxPending is reached
	statusBusy           = "busy"             // nothing sent: the owner's MaxInFlight is reached
	statusTimeout        = "timeout"          // the deadline passed during the send: ambiguous
	statusRefused        = "refused"          // the bridge refused to post it
	statusTooLarge       = "too_large"        // nothing sent: over wsbridge.MaxMessageSize
	statusInvalid        = "invalid"          // nothing sent: malformed request
	statusError          = "error"            // anything else: ambiguous
)

const maxErrorText = 256

// newRequest builds the request for page subject subj.
func newRequest(subj, reqID string, deadline time.Time, data []byte) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Header.Set(hdrRequest, reqID)
	m.Header.Set(hdrDeadline, strconv.FormatInt(deadline.UnixNano(), 10))
	m.Data = data
	return m
}

// parseRequest reads the request id and deadline of a request.
func parseRequest(m *nats.Msg) (reqID string, deadline time.Time, err error) {
	reqID = m.Header.Get(hdrRequest)
	if reqID == "" || len(reqID) > 2*maxReplicaLen {
		return "", time.Time{}, errors.New("missing or oversized request id")
	}
	ns, err := strconv.ParseInt(m.Header.Get(hdrDeadline), 10, 64)
	if err != nil || ns <= 0 {
		return "", time.Time{}, errors.New("missing or malformed deadline")
	}
	return reqID, time.Unix(0, ns), nil
}

// newReply builds the answer to a request.
func newReply(status, text string) *nats.Msg {
	m := &nats.Msg{Header: nats.Header{}}
	m.Header.Set(hdrStatus, status)
	return withText(m, text)
}

// replyTo builds the answer carrying the owner's Send result.
func replyTo(err error) *nats.Msg {
	if err == nil {
		return newReply(statusOK, "")
	}
	m := newReply(statusOf(err), err.Error())
	var refused *wsbridge.RefusedError
	if errors.As(err, &refused) && len(refused.Reason) <= 64 {
		m.Header.Set(hdrReason, refused.Reason)
	}
	return m
}

func withText(m *nats.Msg, text string) *nats.Msg {
	if text != "" {
		if len(text) > maxErrorText {
			text = strings.ToValidUTF8(text[:maxErrorText], "")
		}
		m.Header.Set(hdrError, text)
	}
	return m
}

// statusOf classifies the owner-side result of hub.Sender(id).Send.
func statusOf(err error) string {
	switch {
	case err == nil:
		return statusOK
	case errors.Is(err, wsbridge.ErrNotConnected):
		return statusNotConnected
	case errors.Is(err, wsbridge.ErrDisconnected):
		return statusDisconnected // before ErrClosed: a close mid-send wraps both
	case errors.Is(err, wsbridge.ErrClosed):
		return statusClosed
	case errors.Is(err, wsbridge.ErrAckTimeout):
		return statusAckTimeout
	case errors.Is(err, wsbridge.ErrTooManyPending):
		return statusTooManyPending
	case errors.Is(err, wsbridge.ErrRefused):
		return statusRefused
	case errors.Is(err, wsbridge.ErrTooLarge):
		return statusTooLarge
	case errors.Is(err, context.DeadlineExceeded):
		return statusTimeout
	case errors.Is(err, assistant.ErrInvalid):
		return statusInvalid
	default:
		return statusError
	}
}

// replyError turns a reply into the Send's result. retry reports that
// nothing was sent because the page was not (or no longer) at that
// replica, so one more attempt may find it elsewhere.
func replyError(id string, m *nats.Msg) (err error, retry bool) {
	status, text := m.Header.Get(hdrStatus), m.Header.Get(hdrError)
	wrap := func(e error) error {
		if text == "" {
			return fmt.Errorf("natsroute: page %q: %w", id, e)
		}
		return fmt.Errorf("natsroute: page %q: %w (at its replica: %s)", id, e, text)
	}
	switch status {
	case statusOK:
		return nil, false
	case statusNotConnected, statusClosed:
		return wrap(wsbridge.ErrNotConnected), true
	case statusDisconnected:
		return wrap(wsbridge.ErrDisconnected), false
	case statusAckTimeout:
		return wrap(wsbridge.ErrAckTimeout), false
	case statusTooManyPending, statusBusy:
		return assistant.WithDelivery(wrap(wsbridge.ErrTooManyPending), assistant.NotDelivered), false
	case statusTimeout:
		return wrap(ErrTimeout), false
	case statusRefused:
		return wrap(&wsbridge.RefusedError{Reason: m.Header.Get(hdrReason)}), false
	case statusTooLarge:
		return wrap(wsbridge.ErrTooLarge), false
	case statusInvalid:
		return wrap(assistant.ErrInvalid), false
	default:
		return wrap(fmt.Errorf("%w: status %.32q", ErrRemote, status)), false
	}
}
