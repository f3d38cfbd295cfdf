//go:build !js

package natsroute

import (
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// The request/reply wire format. A request is a NATS message on the page's
// subject whose data is the message's exact assistant.Encode bytes, with
// two headers:
//
//	Wsbridge-Request:  <replica>.<128 random bits>  request id (see newRequestID)
//	Wsbridge-Deadline: <unix ns>                    the owner's deadline
//
// A message with a third header
//
//	Wsbridge-Withdraw: 1
//
// and no reply subject withdraws the request with that id: the owner
// cancels its send if it has not written it to the page yet (see
// Router.Sender). The owner answers a request with an empty message: see
// replyTo. With Options.Keys, all of these travel inside a seal (seal.go):
// a withdrawal is sealed as kind 'w' with the request id, and no headers.
const (
	hdrRequest  = "Wsbridge-Request"
	hdrDeadline = "Wsbridge-Deadline"
	hdrWithdraw = "Wsbridge-Withdraw"
)

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
