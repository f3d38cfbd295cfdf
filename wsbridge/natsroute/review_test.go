//go:build !js

package natsroute

import (
	"math"
	"testing"
	"time"
)

// One claim with an absurd time (a hostile peer on the NATS account, or a
// replica with a broken clock) must not break this replica's clock for
// good: at math.MaxInt64 the next stamp overflowed to a negative time,
// which every other replica rejects (parseClaim wants t > 0), so no page
// connecting here could ever take over from an older connection elsewhere.
func TestHLCIgnoresAbsurdFuture(t *testing.T) {
	now := time.Unix(100, 0)
	c := hlc{now: func() time.Time { return now }}
	for _, ahead := range []int64{math.MaxInt64, now.Add(100 * 365 * 24 * time.Hour).UnixNano()} {
		c.observe(ahead)
		if s := c.stamp(); s <= 0 || s > now.Add(24*time.Hour).UnixNano() {
			t.Errorf("after observing %d: stamp = %d, want in (0, now+24h]", ahead, s)
		}
	}
}
