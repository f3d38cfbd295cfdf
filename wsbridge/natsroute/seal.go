//go:build !js

package natsroute

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/chacha20poly1305"
)

// Everything a Router puts on NATS (requests, replies, claims) is sealed
// with XChaCha20-Poly1305 under a key the replicas share (Options.Keys):
// NATS and other clients of the account see subjects and sizes, never a
// message, a page id's claim, a request id or an error text, and a message
// that was not sealed under one of the keys is dropped unread.
//
// Why XChaCha20-Poly1305 (golang.org/x/crypto) rather than AES-GCM (the
// standard library): its 192-bit nonces can be drawn at random with no
// practical limit on the messages per key. With AES-GCM's random 96-bit
// nonces, all the replicas together must stay under 2^32 messages per
// key (NIST SP 800-38D), which a busy service with a long-lived key
// reaches (10,000 messages/s for 5 days). golang.org/x/crypto is already
// in the module graph of every natsroute user (nats.go requires nkeys,
// which requires it). The cost is measured in BenchmarkSendLatency.
//
// A sealed message's data is
//
//	'n' 1 <24-byte nonce> AEAD(plaintext, ad)
//	ad        = "natsroute/1" kind 0 subject 0 reply
//	plaintext = sent(8, Unix ns, big endian) len replica len reqID
//	            nheaders { len key, len(2) value } data
//
// with kind 'q' (request), 'r' (reply), 'c' (claim) or 'w' (withdrawal),
// subject and reply the NATS subjects it travels on (a reply's subject is
// the requester's inbox for that one request; a withdrawal goes on its
// request's page subject, with no reply), sent the sealing replica's
// clock, reqID the request id (a reply or a withdrawal carries its
// request's: it is bound to that one request), and the headers and data of
// the message inside (a withdrawal has none).

// MinKeySize is the minimum length of each of Options.Keys.
const MinKeySize = 32

// maxKeys bounds Options.Keys: every key is tried on each message.
const maxKeys = 4

const (
	// maxAhead is how far ahead of this replica's clock a sealed message
	// or a claim's time may be: further is a clock that is wrong, or a
	// peer that lies.
	maxAhead = 5 * time.Second
	// maxAge is how old (by this replica's clock) a sealed message may be
	// when it arrives: an older one is a replay, or was held back by a
	// reconnect buffer, and is dropped. A request id is remembered until
	// its message is that old, so a replay is never delivered again.
	maxAge = 5 * time.Second
)

const (
	kindRequest  = 'q'
	kindReply    = 'r'
	kindClaim    = 'c'
	kindWithdraw = 'w'
)

const sealPrefix = "n\x01"

// keyring seals with its first key and opens with any. nil means
// Options.InsecureNoKey: messages go in clear.
type keyring struct {
	aeads []cipher.AEAD
}

func newKeyring(keys [][]byte) (*keyring, error) {
	if len(keys) > maxKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrBadKey, len(keys), maxKeys)
	}
	k := &keyring{}
	for i, key := range keys {
		if len(key) < MinKeySize {
			return nil, fmt.Errorf("%w: key %d has %d bytes, want at least %d", ErrBadKey, i, len(key), MinKeySize)
		}
		sub, err := hkdf.Key(sha256.New, key, nil, "natsroute v1 seal", chacha20poly1305.KeySize)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
		a, err := chacha20poly1305.NewX(sub)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
		k.aeads = append(k.aeads, a)
	}
	return k, nil
}

// envelope is what a sealed message carries besides its subjects.
type envelope struct {
	replica string
	sent    time.Time
	reqID   string
	header  nats.Header
	data    []byte
	nonce   string // the seal's nonce: unique per sealing
}

func additional(kind byte, subject, reply string) []byte {
	ad := make([]byte, 0, 16+len(subject)+len(reply))
	ad = append(ad, "natsroute/1"...)
	ad = append(ad, kind)
	ad = append(ad, subject...)
	ad = append(ad, 0)
	return append(ad, reply...)
}

// seal returns the message to publish on subject (with reply) carrying e.
func (k *keyring) seal(kind byte, subject, reply string, e envelope) (*nats.Msg, error) {
	if len(e.replica) > 255 || len(e.reqID) > 255 || len(e.header) > 255 {
		return nil, errors.New("natsroute: envelope field too long")
	}
	// The plaintext is written after the prefix and the nonce, and sealed
	// in place: one buffer per message.
	a := k.aeads[0]
	hdr := len(sealPrefix) + a.NonceSize()
	size := 8 + 3 + len(e.replica) + len(e.reqID) + len(e.data) + a.Overhead()
	for key, vs := range e.header {
		size += len(vs) * (3 + len(key))
		for _, v := range vs {
			size += len(v)
		}
	}
	buf := make([]byte, hdr, hdr+size)
	copy(buf, sealPrefix)
	nonce := buf[len(sealPrefix):hdr]
	rand.Read(nonce)
	p := buf[hdr:]
	p = binary.BigEndian.AppendUint64(p, uint64(e.sent.UnixNano()))
	p = append(p, byte(len(e.replica)))
	p = append(p, e.replica...)
	p = append(p, byte(len(e.reqID)))
	p = append(p, e.reqID...)
	var n int
	for _, vs := range e.header {
		n += len(vs)
	}
	if n > 255 {
		return nil, errors.New("natsroute: too many headers")
	}
	p = append(p, byte(n))
	for _, key := range slices.Sorted(mapKeys(e.header)) {
		for _, v := range e.header[key] {
			if len(key) > 255 || len(v) > 0xffff {
				return nil, errors.New("natsroute: header too long")
			}
			p = append(p, byte(len(key)))
			p = append(p, key...)
			p = binary.BigEndian.AppendUint16(p, uint16(len(v)))
			p = append(p, v...)
		}
	}
	p = append(p, e.data...)
	ct := a.Seal(p[:0], nonce, p, additional(kind, subject, reply))
	return &nats.Msg{Subject: subject, Reply: reply, Data: buf[:hdr+len(ct)]}, nil
}

func mapKeys(h nats.Header) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}
}

var errUnsealed = errors.New("does not verify")

// open verifies and decodes m, sealed as kind for subject and reply, and
// checks its time against now.
func (k *keyring) open(kind byte, subject, reply string, m *nats.Msg, now time.Time) (envelope, error) {
	var e envelope
	data := m.Data
	ns := chacha20poly1305.NonceSizeX
	if len(m.Header) != 0 || !strings.HasPrefix(string(data[:min(len(data), len(sealPrefix))]), sealPrefix) ||
		len(data) < len(sealPrefix)+ns+chacha20poly1305.Overhead {
		return e, errUnsealed
	}
	nonce, ct := data[len(sealPrefix):len(sealPrefix)+ns], data[len(sealPrefix)+ns:]
	ad := additional(kind, subject, reply)
	var p []byte
	var err error = errUnsealed
	for _, a := range k.aeads {
		if p, err = a.Open(nil, nonce, ct, ad); err == nil {
			break
		}
	}
	if err != nil {
		return e, errUnsealed
	}
	e.nonce = string(nonce)
	// The plaintext was written by a key holder; parse it carefully all
	// the same.
	bad := errors.New("malformed envelope")
	if len(p) < 8 {
		return e, bad
	}
	e.sent = time.Unix(0, int64(binary.BigEndian.Uint64(p)))
	p = p[8:]
	str := func() (string, bool) {
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return "", false
		}
		s := string(p[1 : 1+int(p[0])])
		p = p[1+int(p[0]):]
		return s, true
	}
	var ok1, ok2 bool
	e.replica, ok1 = str()
	e.reqID, ok2 = str()
	if !ok1 || !ok2 || len(p) < 1 {
		return e, bad
	}
	n := int(p[0])
	p = p[1:]
	for range n {
		key, ok := str()
		if !ok || len(p) < 2 || len(p) < 2+int(binary.BigEndian.Uint16(p)) {
			return e, bad
		}
		l := int(binary.BigEndian.Uint16(p))
		if e.header == nil {
			e.header = nats.Header{}
		}
		e.header[key] = append(e.header[key], string(p[2:2+l]))
		p = p[2+l:]
	}
	e.data = p
	if e.sent.After(now.Add(maxAhead)) || e.sent.Before(now.Add(-maxAge)) {
		return e, errors.New("sealed too far from this replica's clock (a replay, or clocks out of sync)")
	}
	return e, nil
}

// newRequestID returns a request id no one can predict: the replica's
// name (for logs) and 128 random bits.
func (r *Router) newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return r.opts.Replica + "." + base64.RawURLEncoding.EncodeToString(b[:])
}

// dropped counts a message from NATS that did not verify, and drops it.
func (r *Router) drop(what string, err error) {
	r.dropped.Add(1)
	r.log.Debug("natsroute: dropped a message that does not verify", "kind", what, "err", err)
}

// Dropped returns how many messages from NATS this Router has dropped
// unread because they did not verify: not sealed under one of
// Options.Keys (forged, tampered with, or sealed with a key it does not
// hold), bound to another request, or sealed more than a few seconds from
// its clock (a replay, or clocks out of sync), and claims stamped more
// than a few seconds ahead of its clock. A growing count means a client on the NATS account that
// should not be there, or replicas with different keys or clocks.
func (r *Router) Dropped() uint64 { return r.dropped.Load() }

// publish sends a claim.
func (r *Router) publish(subject string, data []byte) error {
	if r.keys == nil {
		return r.nc.Publish(subject, data)
	}
	m, err := r.keys.seal(kindClaim, subject, "", envelope{replica: r.opts.Replica, sent: time.Now(), data: data})
	if err != nil {
		return err
	}
	return r.nc.PublishMsg(m)
}

// openClaim returns a claim's data, and the replica that sealed it.
func (r *Router) openClaim(m *nats.Msg) (data []byte, replica string, ok bool) {
	if r.keys == nil {
		return m.Data, "", true
	}
	e, err := r.keys.open(kindClaim, m.Subject, "", m, time.Now())
	if err != nil {
		r.drop("claim", err)
		return nil, "", false
	}
	return e.data, e.replica, true
}

// openRequest returns the request inside m (its Subject and Reply set,
// not bound to a subscription: answer it with respond), and its seal's
// time and nonce (zero with InsecureNoKey).
func (r *Router) openRequest(m *nats.Msg) (req *nats.Msg, sent time.Time, nonce string, ok bool) {
	if r.keys == nil {
		return m, time.Time{}, "", true
	}
	e, err := r.keys.open(kindRequest, m.Subject, m.Reply, m, time.Now())
	if err == nil && (e.reqID == "" || e.header.Get(hdrRequest) != e.reqID) {
		err = errors.New("request id mismatch")
	}
	if err != nil {
		r.drop("request", err)
		return nil, time.Time{}, "", false
	}
	return &nats.Msg{Subject: m.Subject, Reply: m.Reply, Header: e.header, Data: e.data}, e.sent, e.nonce, true
}

// respond answers req (from openRequest) with reply, sealed and bound to
// req's id and inbox.
func (r *Router) respond(req, reply *nats.Msg) {
	if req.Reply == "" {
		return
	}
	if r.keys == nil {
		req.RespondMsg(reply)
		return
	}
	m, err := r.keys.seal(kindReply, req.Reply, "", envelope{
		replica: r.opts.Replica, sent: time.Now(), reqID: req.Header.Get(hdrRequest),
		header: reply.Header, data: reply.Data,
	})
	if err != nil {
		r.log.Warn("natsroute: could not seal a reply", "err", err)
		return
	}
	r.nc.PublishMsg(m)
}

// withdraw asks the page's replica to drop request req (its caller's ctx
// was canceled). It goes on the request's subject, after it, so the
// replica that got the request gets this next (while one queue subscriber
// holds the page). Sealed, it names the request id inside the seal: no
// one without a key can withdraw a Send, and a copy replayed later names
// a request whose Send has ended (request ids are never reused), or is
// older than maxAge and dropped.
func (r *Router) withdraw(req *nats.Msg) {
	reqID := req.Header.Get(hdrRequest)
	if r.keys == nil {
		m := nats.NewMsg(req.Subject)
		m.Header.Set(hdrRequest, reqID)
		m.Header.Set(hdrWithdraw, "1")
		r.nc.PublishMsg(m)
		return
	}
	m, err := r.keys.seal(kindWithdraw, req.Subject, "", envelope{replica: r.opts.Replica, sent: time.Now(), reqID: reqID})
	if err != nil {
		r.log.Warn("natsroute: could not seal a withdrawal", "err", err)
		return
	}
	r.nc.PublishMsg(m)
}

// isWithdrawal reports whether m, from a page subscription, is to be
// read as a withdrawal: sealed, one without a reply subject (a request
// always has one, inside its seal); in clear, one with the header.
func (r *Router) isWithdrawal(m *nats.Msg) bool {
	if r.keys == nil {
		return m.Header.Get(hdrWithdraw) != ""
	}
	return m.Reply == ""
}

// openWithdrawal returns the request id a withdrawal names, if it
// verifies (sealed as a withdrawal for its subject, within maxAge);
// otherwise it is dropped and counted.
func (r *Router) openWithdrawal(m *nats.Msg) (reqID string, ok bool) {
	if r.keys == nil {
		return m.Header.Get(hdrRequest), true
	}
	e, err := r.keys.open(kindWithdraw, m.Subject, "", m, time.Now())
	if err == nil && (e.reqID == "" || len(e.header) != 0 || len(e.data) != 0) {
		err = errors.New("malformed withdrawal")
	}
	if err != nil {
		r.drop("withdrawal", err)
		return "", false
	}
	return e.reqID, true
}
