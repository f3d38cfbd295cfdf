//go:build !js

package wsbridge

import (
	"crypto/rand"
	"encoding/binary"
)

// firstMessageID returns where a new Hub starts numbering messages: a
// random point below 2^52, so ids stay exact JavaScript numbers (below
// 2^53) for billions of messages. Not 1: a page that reconnects within one
// page load, to a restarted service or to another replica, remembers the
// ids it posted and acks a repeated one without posting it, so a new Hub
// counting from 1 would have its first messages acknowledged but never
// delivered. Two Hubs' ranges meet only if their starts are closer than
// the number of messages they send: about one chance in 2^52 per message.
func firstMessageID() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return binary.LittleEndian.Uint64(b[:]) >> 12
}
