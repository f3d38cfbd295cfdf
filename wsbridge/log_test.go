//go:build !js

package wsbridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// logRecorder is a slog.Handler that keeps every record at or above level.
type logRecorder struct {
	level slog.Level
	mu    sync.Mutex
	recs  []logLine
}

type logLine struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (r *logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	line := logLine{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
	rec.Attrs(func(a slog.Attr) bool {
		line.Attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, line)
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { panic("not used by the Hub") }
func (r *logRecorder) WithGroup(string) slog.Handler      { panic("not used by the Hub") }

func (r *logRecorder) lines() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logLine(nil), r.recs...)
}

func TestLogger(t *testing.T) {
	const secret = "reset code 424242"
	run := func(t *testing.T, level slog.Level) []logLine {
		rec := &logRecorder{level: level}
		synctest.Test(t, func(t *testing.T) {
			m := newMemHub(t, Options{Logger: slog.New(rec), MaxFrameSize: 64})
			p := m.connect(`conv "1"`, &fakeHost{}, pageOpts{})
			if err := m.hub.Sender(`conv "1"`).Send(context.Background(), assistant.NewText(secret)); err != nil {
				t.Fatal(err)
			}
			m.hub.Sender("nobody").Send(context.Background(), assistant.NewText(secret))
			p.write(`{"op":"` + strings.Repeat("x", 100) + `"}`) // too large: a violation
			synctest.Wait()
			// A refused request with an id that would break a log line.
			dialPage(context.Background(), "ws://mem/ws?id=a%0Ab", &fakeHost{}, pageOpts{client: m.client})
			m.hub.Close()
		})
		lines := rec.lines()
		for _, l := range lines {
			for k, v := range l.Attrs {
				if strings.Contains(v, "424242") {
					t.Errorf("%s: attribute %s holds the message content: %s", l.Msg, k, v)
				}
			}
			delete(l.Attrs, "remote")
			delete(l.Attrs, "duration")
			if err, ok := l.Attrs["err"]; ok && strings.Contains(err, "\n") {
				t.Errorf("%s: err attribute holds a newline: %q", l.Msg, err)
			}
			delete(l.Attrs, "err")
			delete(l.Attrs, "cause")
		}
		return lines
	}
	wire, _ := assistant.Encode(assistant.NewText(secret))
	page := `"conv \"1\""`
	connect := logLine{slog.LevelInfo, "wsbridge: page connected", map[string]string{"page": page, "conn": "1"}}
	sendOK := logLine{slog.LevelDebug, "wsbridge: send", map[string]string{"page": page, "outcome": "acked", "delivery": "delivered", "bytes": fmt.Sprint(len(wire))}}
	sendNC := logLine{slog.LevelDebug, "wsbridge: send", map[string]string{"page": `"nobody"`, "outcome": "not_connected", "delivery": "not_delivered", "bytes": fmt.Sprint(len(wire))}}
	violation := logLine{slog.LevelWarn, "wsbridge: protocol violation", map[string]string{"page": page}}
	disconnect := logLine{slog.LevelInfo, "wsbridge: page disconnected", map[string]string{"page": page, "conn": "1"}}
	refused := logLine{slog.LevelWarn, "wsbridge: connection refused", map[string]string{"page": `""`}} // an invalid id is never passed on
	closing := logLine{slog.LevelInfo, "wsbridge: closing", map[string]string{}}

	t.Run("debug", func(t *testing.T) {
		want := []logLine{connect, sendOK, sendNC, violation, disconnect, refused, closing}
		if diff := cmp.Diff(want, run(t, slog.LevelDebug)); diff != "" {
			t.Errorf("log (-want +got):\n%s", diff)
		}
	})
	t.Run("info", func(t *testing.T) {
		want := []logLine{connect, violation, disconnect, refused, closing}
		if diff := cmp.Diff(want, run(t, slog.LevelInfo)); diff != "" {
			t.Errorf("log (-want +got):\n%s", diff)
		}
	})
}
