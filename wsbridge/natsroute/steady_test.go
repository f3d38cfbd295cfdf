//go:build !js

package natsroute

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/internal/fakepage"
	"github.com/imworkspace/assistant/wsbridge"
)

// A 3-server NATS cluster, 3 replicas each on its own server, 60 fake
// pages spread over them (posting at once: only the owning Hub paces).
// Each page gets 4 messages, each sent through a random replica, one after
// the other. Every Send returns nil, and each page's host gets exactly its
// 4 messages, in order, at least the Hub's interval plus margin apart.
func TestSteadyState(t *testing.T) {
	const pages, perPage = 60, 4
	c := startCluster(t, 3)
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(t, c, i, fmt.Sprintf("r%d", i), wsbridge.Options{}, Options{}))
	}
	hosts := make([]*fakepage.Host, pages)
	for i := range pages {
		hosts[i] = &fakepage.Host{}
		reps[i%3].dial(t, pageName(i), hosts[i], fakepage.Options{})
	}
	ctx := ctxT(t, 60*time.Second)
	var wg sync.WaitGroup
	errs := make([][]error, pages)
	cross := make([]int, pages)
	start := time.Now()
	for i := range pages {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for k := range perPage {
				from := rng.IntN(3)
				if from != i%3 {
					cross[i]++
				}
				errs[i] = append(errs[i], reps[from].r.Sender(pageName(i)).Send(ctx, assistant.NewText(msgText(i, k))))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	nCross := 0
	for i := range pages {
		nCross += cross[i]
		for k, err := range errs[i] {
			if err != nil {
				t.Errorf("Send(%s) = %v", msgText(i, k), err)
			}
		}
		var want, got []string
		for k := range perPage {
			w, _ := assistant.Encode(assistant.NewText(msgText(i, k)))
			want = append(want, string(w))
		}
		posts := hosts[i].Posts()
		for _, p := range posts {
			got = append(got, p.Data)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("page %d host (-want +got):\n%s", i, d)
		}
		checkGaps(t, pageName(i), posts)
	}
	t.Logf("%d sends (%d cross-replica) to %d pages in %v", pages*perPage, nCross, pages, elapsed.Round(time.Millisecond))
}

func pageName(i int) string   { return fmt.Sprintf("page-%02d", i) }
func msgText(i, k int) string { return fmt.Sprintf("p%02d-m%d", i, k) }
func minGap() time.Duration   { return assistant.DefaultInterval + assistant.DefaultMargin }
func wireOf(s string) string  { w, _ := assistant.Encode(assistant.NewText(s)); return string(w) }

// checkGaps checks that consecutive posts at one host are at least the
// Hub's pacing interval plus margin apart. The chain is causal (the Hub
// starts the next send that long after the previous one's ack, which the
// page sent after posting), so no scheduling noise can shrink a gap.
func checkGaps(t *testing.T, page string, posts []fakepage.Post) {
	t.Helper()
	for k := 1; k < len(posts); k++ {
		if gap := posts[k].At.Sub(posts[k-1].At); gap < minGap() {
			t.Errorf("%s: posts %d and %d %v apart, want >= %v", page, k-1, k, gap, minGap())
		}
	}
}
