package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// firefoxPrefs are written to the fresh profile's user.js. Firefox under
// WebDriver BiDi already applies its "recommended" automation prefs
// (remote.prefs.recommended: no updates, no first-run pages, no telemetry
// upload); these add what the tests rely on.
var firefoxPrefs = []struct {
	name  string
	value any
	why   string
}{
	// Pacing is measured: a timer must fire when it is due.
	{"dom.min_background_timeout_value", 4, "background tabs' timers are clamped to >= 1000 ms by default: no clamp beyond the usual 4 ms"},
	{"dom.min_background_timeout_value_without_budget_throttling", 4, "the same clamp when budget throttling is off"},
	{"dom.timeout.enable_budget_timer_throttling", false, "no budget-based throttling of timers in background pages and frames"},
	{"dom.ipc.processPriorityManager.enabled", false, "the component's frame process keeps normal priority while the host tab has focus"},
	// A cross-site frame runs in a process of its own, as in production:
	// a busy host must not stall the component (and hide the host's delays).
	{"fission.autostart", true, "site isolation on (the default since Firefox 95; set so a changed default cannot hide it)"},
	// No network side traffic: the test machine has loopback only, and
	// requests that time out slow the browser down.
	{"network.connectivity-service.enabled", false, "no connectivity checks"},
	{"network.captive-portal-service.enabled", false, "no captive-portal probe"},
	{"browser.safebrowsing.malware.enabled", false, "no Safe Browsing list downloads"},
	{"browser.safebrowsing.phishing.enabled", false, "no Safe Browsing list downloads"},
	{"browser.safebrowsing.downloads.enabled", false, "no Safe Browsing list downloads"},
	{"extensions.update.enabled", false, "no extension update checks"},
	{"app.update.disabledForTesting", true, "no update checks"},
	{"app.normandy.enabled", false, "no experiments fetched"},
	{"messaging-system.rsexperimentloader.enabled", false, "no Nimbus experiments fetched (they log errors offline)"},
	{"datareporting.policy.dataSubmissionEnabled", false, "no telemetry upload"},
	{"browser.shell.checkDefaultBrowser", false, "no default-browser check"},
}

// userJS renders firefoxPrefs, then extra, as a user.js file.
func userJS(extra map[string]any) []byte {
	var b strings.Builder
	for _, p := range firefoxPrefs {
		v, _ := json.Marshal(p.value)
		fmt.Fprintf(&b, "// %s\nuser_pref(%q, %s);\n", p.why, p.name, v)
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		v, _ := json.Marshal(extra[name])
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", name, v)
	}
	return []byte(b.String())
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// startFirefox starts Firefox headless with a fresh profile in dir and
// WebDriver BiDi on a port it picks (--remote-debugging-port=0; it prints
// the address on stderr), opens a session, and returns its first tab.
func startFirefox(ctx context.Context, t testing.TB, path, dir string, prefs map[string]any) (target, func(), error) {
	if err := os.WriteFile(filepath.Join(dir, "user.js"), userJS(prefs), 0o644); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(path, "--headless", "--no-remote", "--remote-debugging-port=0", "--profile", dir, "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "MOZ_CRASHREPORTER_DISABLE=1")
	// Its own process group: stop kills the content processes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	var tailMu sync.Mutex
	var tail []string // Firefox's last stderr lines, for errors
	go func() {       // owned by the process: ends at EOF, when Firefox exits
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := bidiListening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			tailMu.Lock()
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
			tailMu.Unlock()
		}
		cmd.Wait()
		close(exited)
	}()
	kill := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	fail := func(err error) (target, func(), error) {
		kill()
		tailMu.Lock()
		defer tailMu.Unlock()
		return nil, nil, fmt.Errorf("%w; stderr: %s", err, strings.Join(tail, "\n"))
	}

	var url string
	select {
	case url = <-addr:
	case <-exited:
		return fail(errors.New("firefox exited before WebDriver BiDi listened"))
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(60 * time.Second):
		return fail(errors.New("no WebDriver BiDi address on stderr within 60 s"))
	}
	c, err := dialBiDi(ctx, url+"/session")
	if err != nil {
		return fail(err)
	}
	stop := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.call(cctx, "browser.close", struct{}{}, nil) // ends the session and quits
		c.close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		kill()
	}
	if err := c.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		stop()
		return nil, nil, fmt.Errorf("session.new: %w", err)
	}
	var tree bidiTree
	if err := c.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil {
		stop()
		return nil, nil, fmt.Errorf("browsingContext.getTree: %w", err)
	}
	if len(tree.Contexts) == 0 {
		stop()
		return nil, nil, errors.New("firefox has no tab")
	}
	return &firefoxTarget{c: c, id: tree.Contexts[0].Context}, stop, nil
}

type bidiContext struct {
	Context  string        `json:"context"`
	URL      string        `json:"url"`
	Children []bidiContext `json:"children"`
}

type bidiTree struct {
	Contexts []bidiContext `json:"contexts"`
}

// firefoxTarget is a browsing context: a tab, or a frame's child context.
type firefoxTarget struct {
	c       *bidiConn
	id      string
	isFrame bool
}

func (f *firefoxTarget) navigate(ctx context.Context, url string) error {
	if f.isFrame {
		return errNoFrameNavigate
	}
	return f.c.call(ctx, "browsingContext.navigate", map[string]any{"context": f.id, "url": url, "wait": "complete"}, nil)
}

func (f *firefoxTarget) eval(ctx context.Context, expr string) (string, error) {
	var r struct {
		Type   string `json:"type"` // "success" or "exception"
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := f.c.call(ctx, "script.evaluate", map[string]any{
		"expression":      expr,
		"target":          map[string]any{"context": f.id},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &r)
	if err != nil {
		return "", err
	}
	if r.Type == "exception" {
		return "", fmt.Errorf("exception: %s", r.ExceptionDetails.Text)
	}
	var s string
	if r.Result.Type != "string" || json.Unmarshal(r.Result.Value, &s) != nil {
		return "", fmt.Errorf("result of type %s, want string", r.Result.Type)
	}
	return s, nil
}

func (f *firefoxTarget) frame(ctx context.Context, prefix string) (target, bool, []string, error) {
	var tree bidiTree
	if err := f.c.call(ctx, "browsingContext.getTree", map[string]any{"root": f.id}, &tree); err != nil {
		return nil, false, nil, err
	}
	var seen []string
	var walk func([]bidiContext) *bidiContext
	walk = func(cs []bidiContext) *bidiContext {
		for i := range cs {
			if strings.HasPrefix(cs[i].URL, prefix) {
				return &cs[i]
			}
			seen = append(seen, cs[i].URL)
			if m := walk(cs[i].Children); m != nil {
				return m
			}
		}
		return nil
	}
	for _, root := range tree.Contexts {
		if m := walk(root.Children); m != nil {
			return &firefoxTarget{c: f.c, id: m.Context, isFrame: true}, true, nil, nil
		}
	}
	return nil, false, seen, nil
}

func (f *firefoxTarget) screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := f.c.call(ctx, "browsingContext.captureScreenshot", map[string]any{"context": f.id}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// bidiConn is a WebDriver BiDi client: commands with ids over one
// WebSocket, each answered by a message with its id. The tests subscribe to
// no events, so every other message is ignored.
type bidiConn struct {
	ws *websocket.Conn

	mu      sync.Mutex
	next    int
	pending map[int]chan bidiReply
	done    chan struct{} // closed when the reader stops; err says why
	err     error
}

type bidiReply struct {
	ID      *int            `json:"id"`
	Type    string          `json:"type"` // "success", "error" or "event"
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

func dialBiDi(ctx context.Context, url string) (*bidiConn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dialling WebDriver BiDi at %s: %w", url, err)
	}
	ws.SetReadLimit(64 << 20) // screenshots
	c := &bidiConn{ws: ws, pending: map[int]chan bidiReply{}, done: make(chan struct{})}
	go c.read() // owned by c: ends when close closes the socket
	return c, nil
}

func (c *bidiConn) read() {
	var err error
	for {
		var data []byte
		if _, data, err = c.ws.Read(context.Background()); err != nil {
			break
		}
		var r bidiReply
		if json.Unmarshal(data, &r) != nil || r.ID == nil {
			continue
		}
		c.mu.Lock()
		ch := c.pending[*r.ID]
		delete(c.pending, *r.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- r // buffered
		}
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
}

func (c *bidiConn) close() {
	c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.done
}

// call sends a command and decodes its result into result (nil discards
// it). An error reply is an error with its code and message.
func (c *bidiConn) call(ctx context.Context, method string, params, result any) error {
	ch := make(chan bidiReply, 1)
	c.mu.Lock()
	c.next++
	id := c.next
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, r.Error, r.Message)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%s: connection closed: %v", method, c.err)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}
