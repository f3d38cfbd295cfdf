//go:build !js

package wsbridge

import (
	"errors"
	"fmt"
	"strconv"

	json "github.com/go-json-experiment/json"
)

// The bridge protocol, one JSON object per WebSocket text frame:
//
//	server → page  {"op":"msg","id":7,"data":"<wire string>"}  post data, then ack 7
//	               {"op":"pong"}                               answer to a ping
//	page → server  {"op":"ack","id":7}                         data of 7 was posted
//	               {"op":"refuse","id":7,"reason":"too_large"} 7 was not posted, and will not be
//	               {"op":"ping"}                               heartbeat, every 20 s
//
// Ids are positive integers, unique per Hub and never reused, so a page
// can drop a repeated id. Page frames are decoded strictly: exact
// lowercase member names, no unknown or duplicate members, valid UTF-8,
// an id only where the op has one, a reason from the Reason* constants.
// Anything else from a page closes its connection with 1008 (policy
// violation), 1003 (binary frame) or 1009 (frame larger than
// Options.MaxFrameSize).

// pageFrame is a decoded frame from a page.
type pageFrame struct {
	Op     string  `json:"op"`
	ID     *uint64 `json:"id,omitzero"`
	Reason *string `json:"reason,omitzero"`
}

// decodePageFrame decodes and checks one frame from a page.
func decodePageFrame(data []byte) (pageFrame, error) {
	var f pageFrame
	// go-json-experiment/json by default matches names case-sensitively,
	// rejects duplicate names and invalid UTF-8; unknown names are
	// rejected here. encoding/json (v1) does none of these.
	if err := json.Unmarshal(data, &f, json.RejectUnknownMembers(true)); err != nil {
		return f, fmt.Errorf("malformed frame: %v", err)
	}
	switch f.Op {
	case "ping":
		if f.ID != nil || f.Reason != nil {
			return f, errors.New("malformed frame: ping with an id or reason")
		}
	case "ack", "refuse":
		if f.ID == nil || *f.ID == 0 {
			return f, fmt.Errorf("%s without a positive id", f.Op)
		}
		if f.Op == "ack" && f.Reason != nil {
			return f, errors.New("malformed frame: ack with a reason")
		}
		if f.Op == "refuse" && f.Reason == nil {
			return f, errors.New("malformed frame: refuse without a reason")
		}
		if f.Reason != nil {
			switch *f.Reason {
			case ReasonTooLarge, ReasonInvalid, ReasonWrongParent:
			default:
				return f, fmt.Errorf("refusal with unknown reason %.32q", *f.Reason)
			}
		}
	default:
		return f, fmt.Errorf("unknown op %.32q", f.Op)
	}
	return f, nil
}

// appendMsgFrame appends {"op":"msg","id":id,"data":"…"} with data as a
// JSON string. data is valid UTF-8 (assistant.Encode guarantees it).
func appendMsgFrame(dst []byte, id uint64, data []byte) []byte {
	dst = append(dst, `{"op":"msg","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"data":"`...)
	const hex = "0123456789abcdef"
	for _, b := range data {
		switch {
		case b == '"' || b == '\\':
			dst = append(dst, '\\', b)
		case b < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, `"}`...)
}
