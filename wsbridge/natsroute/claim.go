//go:build !js

package natsroute

import (
	"cmp"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/imworkspace/assistant/wsbridge"
)

// A claim announces on P.claim that a replica now holds a page. Every
// replica hears it; one holding an older connection for that id closes it
// with wsbridge.StatusReplaced (Hub.Replace), the cluster-wide form of a
// local reconnect taking over.
//
// "Older" is by claimKey: a hybrid logical clock time, then the replica
// name, then the Hub's connection number. The clock is the wall clock,
// except that it never runs behind a claim this replica has heard: a page
// that moves to another replica after its claim was heard there always
// gets the greater key, whatever the clocks' skew. Two connects that no
// replica saw in order (two tabs connecting to two replicas at once) are
// ordered the same way everywhere, so exactly one of them survives.
type claim struct {
	ID      string `json:"id"`
	Replica string `json:"replica"`
	T       int64  `json:"t"` // hybrid logical clock, Unix ns
	Conn    uint64 `json:"conn"`
}

type claimKey struct {
	t       int64
	replica string
	conn    uint64
}

func (a claimKey) compare(b claimKey) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	if c := cmp.Compare(a.replica, b.replica); c != 0 {
		return c
	}
	return cmp.Compare(a.conn, b.conn)
}

func (c claim) key() claimKey { return claimKey{c.T, c.Replica, c.Conn} }

// maxClaimSize bounds a claim's JSON: encoding/json may write each byte of
// the id and the replica name as a 6-byte escape ("\u003c" for '<').
const maxClaimSize = 6*(wsbridge.MaxIDLen+maxReplicaLen) + 128

func parseClaim(data []byte) (claim, error) {
	var c claim
	if len(data) > maxClaimSize {
		return c, errors.New("claim too large")
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, err
	}
	if c.ID == "" || len(c.ID) > wsbridge.MaxIDLen || c.Replica == "" || len(c.Replica) > maxReplicaLen || c.T <= 0 {
		return c, errors.New("claim with a bad field")
	}
	return c, nil
}

// hlc is a hybrid logical clock: wall-clock nanoseconds that never go back
// and never fall behind an observed time. Safe for concurrent use.
type hlc struct {
	mu   sync.Mutex
	last int64
	now  func() time.Time
}

// stamp returns a time greater than every time stamped or observed before.
func (c *hlc) stamp() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now().UnixNano()
	if t <= c.last {
		t = c.last + 1
	}
	c.last = t
	return t
}

// maxClaimSkew is how far ahead of this replica's wall clock an observed
// time may be. A time further ahead (a broken clock, a hostile peer) is
// not observed: at math.MaxInt64 the next stamp would overflow, and any
// such time would hold every later stamp ahead of the wall clock, so that
// a replica started later would lose every takeover. A few seconds, as
// for sealed messages (maxAhead): keep the replicas' clocks in sync.
const maxClaimSkew = maxAhead

// observe moves the clock up to t, and reports false (doing nothing) if t
// is more than maxClaimSkew ahead of the wall clock.
func (c *hlc) observe(t int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t > c.now().Add(maxClaimSkew).UnixNano() {
		return false
	}
	c.last = max(c.last, t)
	return true
}
