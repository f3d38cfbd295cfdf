//go:build !js

package natsroute

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// A 3-server NATS cluster, 3 replicas each on its own server, 60 fake
// pages spread over them (posting at once: only the owning Hub paces).
// Each page has two senders, each on random replicas, each sending 2
// messages one after the other, at the same time as the other sender.
// Every Send returns nil, and each page's host gets exactly its 4
// messages, each sender's in order, at least the Hub's interval plus
// margin apart: the two senders share the page's one turn order, wherever
// they run.
func TestSteadyState(t *testing.T) {
	const pages, senders, perSender = 60, 2, 2
	c := startCluster(t, 3)
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(t, c, i, fmt.Sprintf("r%d", i), wsbridge.Options{}, Options{}))
	}
	hosts := make([]*wsbridgetest.Host, pages)
	for i := range pages {
		hosts[i] = &wsbridgetest.Host{}
		reps[i%3].dial(t, pageName(i), hosts[i], wsbridgetest.Options{})
	}
	ctx := ctxT(t, 60*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	cross := 0
	start := time.Now()
	for i := range pages {
		for sd := range senders {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(sd)))
				for k := range perSender {
					from := rng.IntN(3)
					err := reps[from].r.Sender(pageName(i)).Send(ctx, assistant.NewText(msgText(i, sd*perSender+k)))
					mu.Lock()
					if from != i%3 {
						cross++
					}
					if err != nil {
						errs = append(errs, fmt.Errorf("Send(%s) = %w", msgText(i, sd*perSender+k), err))
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		t.Error(err)
	}
	for i := range pages {
		posts := hosts[i].Posts()
		at := map[string]int{} // wire -> index at the host
		for n, p := range posts {
			if _, dup := at[p.Data]; dup {
				t.Errorf("page %d: %s posted twice", i, p.Data)
			}
			at[p.Data] = n
		}
		for sd := range senders {
			prev := -1
			for k := range perSender {
				n, ok := at[wireOf(msgText(i, sd*perSender+k))]
				if !ok {
					t.Errorf("page %d: %s never posted", i, msgText(i, sd*perSender+k))
					continue
				}
				if n < prev {
					t.Errorf("page %d: %s posted before the same sender's previous message", i, msgText(i, sd*perSender+k))
				}
				prev = n
			}
		}
		if len(posts) != senders*perSender {
			t.Errorf("page %d: %d posts, want %d", i, len(posts), senders*perSender)
		}
		checkGaps(t, pageName(i), posts)
	}
	t.Logf("%d sends (%d cross-replica) to %d pages in %v", pages*senders*perSender, cross, pages, elapsed.Round(time.Millisecond))
}

func pageName(i int) string   { return fmt.Sprintf("page-%02d", i) }
func msgText(i, k int) string { return fmt.Sprintf("p%02d-m%d", i, k) }
func minGap() time.Duration   { return assistant.DefaultInterval + assistant.DefaultMargin }
func wireOf(s string) string  { w, _ := assistant.Encode(assistant.NewText(s)); return string(w) }

// checkGaps checks that consecutive posts at one host are at least the
// Hub's pacing interval plus margin apart. The chain is causal (the Hub
// starts the next send that long after the previous one's ack, which the
// page sent after posting), so no scheduling noise can shrink a gap.
func checkGaps(t *testing.T, page string, posts []wsbridgetest.Post) {
	t.Helper()
	for k := 1; k < len(posts); k++ {
		if gap := posts[k].At.Sub(posts[k-1].At); gap < minGap() {
			t.Errorf("%s: posts %d and %d %v apart, want >= %v", page, k-1, k, gap, minGap())
		}
	}
}
