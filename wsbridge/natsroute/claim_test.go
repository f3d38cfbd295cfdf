//go:build !js

package natsroute

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestClaimKeyOrder(t *testing.T) {
	keys := []claimKey{
		{1, "a", 9},
		{1, "b", 1},
		{1, "b", 2},
		{2, "a", 1},
	}
	for i := range keys {
		for j := range keys {
			got := keys[i].compare(keys[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("%v.compare(%v) = %d, want %d", keys[i], keys[j], got, want)
			}
		}
	}
}

func TestHLC(t *testing.T) {
	now := time.Unix(100, 0)
	c := hlc{now: func() time.Time { return now }}
	a := c.stamp()
	if b := c.stamp(); b <= a {
		t.Errorf("second stamp %d not after %d (clock did not move)", b, a)
	}
	c.observe(now.Add(3 * time.Second).UnixNano()) // a replica whose clock is ahead
	if b := c.stamp(); b <= now.Add(3*time.Second).UnixNano() {
		t.Errorf("stamp %d not after an observed time", b)
	}
	now = now.Add(-time.Minute) // the wall clock steps back
	last := c.stamp()
	if b := c.stamp(); b <= last {
		t.Errorf("stamp went back: %d after %d", b, last)
	}
}

func TestParseClaim(t *testing.T) {
	good := claim{ID: "p", Replica: "r", T: 5, Conn: 1}
	data, _ := json.Marshal(good)
	if c, err := parseClaim(data); err != nil || c != good {
		t.Errorf("parseClaim(%s) = %+v, %v", data, c, err)
	}
	for _, s := range []string{
		`{}`, `null`, `{"id":"p","replica":"r","t":0}`, `{"id":"","replica":"r","t":1}`,
		`{"id":"p","replica":"","t":1}`, `{"id":"p","replica":"r","t":"1"}`,
		`{"id":"` + strings.Repeat("x", 257) + `","replica":"r","t":1}`,
		`{"id":"p","replica":"` + strings.Repeat("x", 65) + `","t":1}`,
		strings.Repeat(" ", maxClaimSize) + `{"id":"p","replica":"r","t":1}`,
	} {
		if c, err := parseClaim([]byte(s)); err == nil {
			t.Errorf("parseClaim(%.60s) = %+v, nil error", s, c)
		}
	}
}
