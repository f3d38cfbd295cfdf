//go:build !js

// Command pacing is the pacing lab: it measures, in real Chromium, how far
// apart a workspace host page sees the messages of a component page when
// the host is busy with long tasks, for both transports (postmessage with a
// Go WASM component, wsbridge with bridge.js), and writes docs/pacing.md and
// docs/pacing.png from the results.
//
// The component is served from another site than the host (localhost
// framed by 127.0.0.1), so Chromium runs it in a renderer process of its
// own, as in production; every run checks that the frame is an "iframe"
// target. The host page is busy for a random 0-L ms every 150-400 ms.
//
// One run per transport and long-task level L measures every margin at
// once: it sends with margin 0, and the host gap a margin M would give is
// the measured gap plus M (the margin only shifts the send; when a message
// reaches the busy host is independent of it). -confirm M then checks a
// margin with real runs at L = 200 ms.
//
// It takes long (about 1 s per message): run it outside CI.
//
//	go run ./dev/pacing                  # sweep, then render the docs
//	go run ./dev/pacing -confirm 250     # add real runs at L = 200 ms
//	go run ./dev/pacing -render          # only re-render from docs/pacing.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/wsbridge"
)

// Levels and Margins are the lab's grid, in ms.
var (
	Levels  = []int{0, 50, 100, 200, 300}
	Margins = []int{10, 50, 100, 150, 200, 250, 300}
)

// Run is one real run: n messages from one component to one host page.
type Run struct {
	Transport string    `json:"transport"` // "postmessage" or "wsbridge"
	L         int       `json:"l"`         // host long tasks up to L ms
	Margin    int       `json:"margin"`    // ms over 1000 the sender spaced its sends by
	Start     time.Time `json:"start"`
	HostT     []float64 `json:"host_t"`            // host performance.now() at each message event, ms
	HostAbs   []float64 `json:"host_abs"`          // the same on the epoch clock (timeOrigin + now), ms
	Sent      []float64 `json:"sent,omitempty"`    // postmessage: after each Send returned, epoch ms
	Busy      float64   `json:"busy"`              // fraction of the run the host spent in long tasks
	Load      [2]string `json:"load"`              // /proc/loadavg before and after
	Confirm   bool      `json:"confirm,omitempty"` // a real run of a chosen margin, not a sweep base
}

// Data is everything the lab measured; docs/pacing.json keeps it.
type Data struct {
	Chromium string `json:"chromium"`
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
	Runs     []Run  `json:"runs"`
}

func main() {
	var (
		out      = flag.String("data", "docs/pacing.json", "results file (read, appended to, rewritten after each run)")
		docs     = flag.String("docs", "docs", "where pacing.md and pacing.png go")
		n        = flag.Int("n", 101, "messages per sweep run")
		n200     = flag.Int("n200", 201, "messages per run at L = 200 ms (the default margin needs >= 200 gaps there)")
		confirm  = flag.Int("confirm", -1, "margin (ms) to confirm with real runs at L = 200 ms; -1: none")
		nconfirm = flag.Int("nconfirm", 201, "messages per confirming run")
		only     = flag.String("transport", "", "postmessage or wsbridge; both if empty")
		levels   = flag.String("levels", "", "comma-separated long-task levels to sweep (ms); default 0,50,100,200,300; \"none\" skips the sweep")
		render   = flag.Bool("render", false, "only render the docs from -data")
	)
	flag.Parse()
	log.SetFlags(log.Ltime)
	var data Data
	if b, err := os.ReadFile(*out); err == nil {
		if err := json.Unmarshal(b, &data); err != nil {
			log.Fatalf("%s: %v", *out, err)
		}
	}
	if !*render {
		sweep := Levels
		if *levels == "none" {
			sweep = nil
		} else if *levels != "" {
			sweep = nil
			for _, f := range strings.Split(*levels, ",") {
				var l int
				if _, err := fmt.Sscan(f, &l); err != nil {
					log.Fatalf("-levels: %v", err)
				}
				sweep = append(sweep, l)
			}
		}
		transports := []string{"postmessage", "wsbridge"}
		if *only != "" {
			transports = []string{*only}
		}
		if err := measure(&data, *out, transports, sweep, *n, *n200, *confirm, *nconfirm); err != nil {
			log.Fatal(err)
		}
	}
	if err := writeDocs(&data, *docs); err != nil {
		log.Fatal(err)
	}
}

func measure(data *Data, out string, transports []string, sweep []int, n, n200, confirm, nconfirm int) error {
	path := browser.Chromium.ExecPath()
	if path == "" {
		return errors.New("no chromium found (apt-get install -y chromium, or set CHROMIUM)")
	}
	udd, err := os.MkdirTemp("", "pacing-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(udd)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browser.ChromiumFlags(path, udd)...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Start the browser now, so that a broken install fails here.
	if err := chromedp.Do(ctx); err != nil {
		return fmt.Errorf("starting %s: %w", path, err)
	}
	product := "Chromium"
	if v, err := exec.Command(path, "--version").Output(); err == nil {
		product = strings.TrimSpace(string(v)) // "Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)"
	}
	data.Chromium, data.CPUs, data.Go = product, runtime.NumCPU(), runtime.Version()
	log.Printf("%s, %d CPUs, %s", product, data.CPUs, data.Go)

	lab, err := newLab()
	if err != nil {
		return err
	}
	defer lab.close()

	save := func(r Run) error {
		data.Runs = append(data.Runs, r)
		b, err := json.MarshalIndent(data, "", " ")
		if err != nil {
			return err
		}
		return os.WriteFile(out, append(b, '\n'), 0o644)
	}
	type job struct {
		transport string
		l, margin int
		n         int
		confirm   bool
	}
	var jobs []job
	for _, l := range sweep {
		for _, tr := range transports {
			k := n
			if l == 200 {
				k = n200
			}
			jobs = append(jobs, job{tr, l, 0, k, false})
		}
	}
	if confirm >= 0 {
		for _, tr := range transports {
			jobs = append(jobs, job{tr, 200, confirm, nconfirm, true})
		}
	}
	for _, j := range jobs {
		log.Printf("%s L=%d margin=%d: %d messages", j.transport, j.l, j.margin, j.n)
		run := func() (Run, error) {
			rctx, cancel := context.WithTimeout(ctx, time.Duration(j.n)*3*time.Second+2*time.Minute)
			defer cancel()
			if j.transport == "postmessage" {
				return lab.postmessage(rctx, j.l, j.margin, j.n)
			}
			return lab.wsbridge(rctx, j.l, j.margin, j.n)
		}
		r, err := run()
		if err != nil {
			return fmt.Errorf("%s L=%d margin=%d: %w", j.transport, j.l, j.margin, err)
		}
		r.Confirm = j.confirm
		s := stats(r, r.Margin)
		log.Printf("  %d gaps: min %.1f ms, %d under 1000 ms, overhead %.1f%%, host busy %.0f%%, load %s -> %s",
			s.gaps, s.minGap, s.under, s.overhead*100, r.Busy*100, r.Load[0], r.Load[1])
		if err := save(r); err != nil {
			return err
		}
	}
	return nil
}

// lab serves the host page (on 127.0.0.1) and both components (on
// localhost) for the whole session.
type lab struct {
	ctx        context.Context
	host, comp *http.Server
	hostOrigin string
	compOrigin string
	hubOrigin  string // the Hub and bridge.js, on 127.0.0.1
	hub        *wsbridge.Hub
	reports    chan report
	dir        string // main.wasm
	pageSeq    int
}

type report struct {
	Event string    `json:"event"`
	Error string    `json:"error"`
	Errs  []string  `json:"errors"`
	Sent  []float64 `json:"sent"`
}

// hostPage records the component's messages and runs the long tasks.
var hostPage = template.Must(template.New("host").Parse(`<!doctype html><meta charset="utf-8"><title>busy host</title>
<script>
window.received = [];
window.busy = 0;
const L = {{.L}}, started = performance.now();
addEventListener("message", (e) => {
  if (e.origin !== {{.CompOrigin}}) return;
  const t = performance.now();
  received.push({t: t, abs: performance.timeOrigin + t});
});
// A heavy single-page app: busy for a random 0-L ms every 150-400 ms.
function task() {
  const end = performance.now() + Math.random() * L;
  const t0 = performance.now();
  while (performance.now() < end) {}
  busy += performance.now() - t0;
  setTimeout(task, 150 + Math.random() * 250);
}
if (L > 0) setTimeout(task, 150 + Math.random() * 250);
function busyFraction() { return busy / (performance.now() - started); }
function start() { document.getElementById("c").contentWindow.postMessage("start", {{.CompOrigin}}); }
</script>
<iframe id="c" src="{{.Src}}" width="400" height="200"></iframe>`))

const wasmPage = `<!doctype html><meta charset="utf-8"><title>component</title>
<script src="wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject).then((r) => go.run(r.instance));
</script>`

// data-url is http: (bridge.js maps it to ws:): html/template would
// sanitize a ws: URL in an attribute whose name contains "url".
var bridgePage = template.Must(template.New("bridge").Parse(`<!doctype html><meta charset="utf-8"><title>component</title>
<script src="{{.HubOrigin}}/bridge.js" data-url="{{.WS}}" data-id="{{.ID}}" data-target-origin="{{.HostOrigin}}" data-interval-ms="{{.Interval}}"></script>`))

func newLab() (*lab, error) {
	dir, err := os.MkdirTemp("", "pacing-wasm-")
	if err != nil {
		return nil, err
	}
	l := &lab{dir: dir, reports: make(chan report, 8)}
	log.Print("building dev/e2e/postmessage/testdata/component for js/wasm")
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "main.wasm"), "./dev/e2e/postmessage/testdata/component")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the WASM component (run from the module root): %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, err
	}
	wasmExec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")

	listen := func() (net.Listener, string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", err
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		return ln, port, nil
	}
	hostLn, hostPort, err := listen()
	if err != nil {
		return nil, err
	}
	compLn, compPort, err := listen()
	if err != nil {
		return nil, err
	}
	hubLn, hubPort, err := listen()
	if err != nil {
		return nil, err
	}
	l.hostOrigin = "http://127.0.0.1:" + hostPort
	l.compOrigin = "http://localhost:" + compPort // another site: its own renderer process
	l.hubOrigin = "http://127.0.0.1:" + hubPort

	hostMux := http.NewServeMux()
	hostMux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		hostPage.Execute(w, map[string]any{"L": r.URL.Query().Get("l"), "CompOrigin": l.compOrigin, "Src": r.URL.Query().Get("src")})
	})
	compMux := http.NewServeMux()
	compMux.HandleFunc("GET /wasm/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, wasmPage)
	})
	compMux.HandleFunc("GET /wasm/main.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "main.wasm"))
	})
	compMux.HandleFunc("GET /wasm/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, wasmExec)
	})
	compMux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep report
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case l.reports <- rep:
		default:
		}
	})
	compMux.HandleFunc("GET /bridge/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		bridgePage.Execute(w, map[string]string{
			"HubOrigin": l.hubOrigin, "WS": l.hubOrigin + "/ws", "ID": q.Get("id"),
			"HostOrigin": l.hostOrigin, "Interval": q.Get("interval"),
		})
	})
	l.hub = wsbridge.NewHub(wsbridge.Options{
		// The lab's own pages on loopback, each with a fresh id: no tokens.
		InsecureSkipAuthentication: true,
		OriginPatterns:             []string{"localhost:" + compPort},
		OnError:                    func(id string, err error) { log.Printf("hub: page %q: %v", id, err) },
	})
	hubMux := http.NewServeMux()
	hubMux.Handle("/ws", l.hub)
	hubMux.Handle("/bridge.js", wsbridge.ScriptHandler())

	l.host = &http.Server{Handler: hostMux}
	l.comp = &http.Server{Handler: compMux}
	hubSrv := &http.Server{Handler: hubMux}
	go l.host.Serve(hostLn)
	go l.comp.Serve(compLn)
	go hubSrv.Serve(hubLn)
	return l, nil
}

func (l *lab) close() {
	l.hub.Close()
	l.host.Close()
	l.comp.Close()
	os.RemoveAll(l.dir)
}

// open navigates a fresh tab to the host page framing src and waits for
// the component's iframe target: proof that it runs in its own process.
func (l *lab) open(ctx context.Context, L int, src string) (context.Context, context.CancelFunc, error) {
	tab, cancel := chromedp.NewContext(ctx)
	u := l.hostOrigin + "/?" + url.Values{"l": {fmt.Sprint(L)}, "src": {src}}.Encode()
	if err := chromedp.Do(tab, chromedp.Navigate(u)); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("navigate: %w", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		targets, err := chromedp.Targets(tab)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		for _, t := range targets {
			if t.Type == "iframe" && strings.HasPrefix(t.URL, l.compOrigin+"/") {
				return tab, cancel, nil
			}
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, nil, errors.New("the component is no iframe target of its own: not cross-site?")
		}
	}
}

type hostRec struct {
	T   float64 `json:"t"`
	Abs float64 `json:"abs"`
}

// collect waits until the host has recorded n messages (or 10 s passed)
// and fills r from the host page.
func collect(tab context.Context, r *Run, n int) error {
	var recs []hostRec
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var err error
		recs, err = chromedp.Run(tab, chromedp.Evaluate[[]hostRec]("window.received"))
		if err != nil {
			return err
		}
		if len(recs) >= n || time.Now().After(deadline) {
			break
		}
	}
	if len(recs) != n {
		return fmt.Errorf("host received %d messages, want %d", len(recs), n)
	}
	for _, rec := range recs {
		r.HostT = append(r.HostT, rec.T)
		r.HostAbs = append(r.HostAbs, rec.Abs)
	}
	busy, err := chromedp.Run(tab, chromedp.Evaluate[float64]("busyFraction()"))
	if err != nil {
		return err
	}
	r.Busy = busy
	r.Load[1] = loadavg()
	return nil
}

func (l *lab) postmessage(ctx context.Context, L, margin, n int) (Run, error) {
	r := Run{Transport: "postmessage", L: L, Margin: margin, Start: time.Now().UTC(), Load: [2]string{loadavg()}}
	for len(l.reports) > 0 {
		<-l.reports
	}
	src := l.compOrigin + "/wasm/?" + url.Values{"origin": {l.hostOrigin}, "host": {l.hostOrigin},
		"n": {fmt.Sprint(n)}, "margin": {fmt.Sprint(margin)}}.Encode()
	tab, cancel, err := l.open(ctx, L, src)
	if err != nil {
		return r, err
	}
	defer cancel()
	wait := func(event string) (report, error) {
		select {
		case rep := <-l.reports:
			if rep.Event != event {
				return rep, fmt.Errorf("component reported %+v, want %q", rep, event)
			}
			return rep, nil
		case <-ctx.Done():
			return report{}, fmt.Errorf("waiting for %q: %w", event, ctx.Err())
		}
	}
	if _, err := wait("ready"); err != nil {
		return r, err
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void]("start()")); err != nil {
		return r, err
	}
	done, err := wait("done")
	if err != nil {
		return r, err
	}
	if len(done.Errs) > 0 || len(done.Sent) != n {
		return r, fmt.Errorf("component: %d sent, errors %q", len(done.Sent), done.Errs)
	}
	r.Sent = done.Sent
	return r, collect(tab, &r, n)
}

// wsbridge sends n messages through the Hub as fast as the page acks them:
// bridge.js alone paces them, at data-interval-ms = 1000 + margin.
func (l *lab) wsbridge(ctx context.Context, L, margin, n int) (Run, error) {
	r := Run{Transport: "wsbridge", L: L, Margin: margin, Start: time.Now().UTC(), Load: [2]string{loadavg()}}
	l.pageSeq++
	id := fmt.Sprintf("lab-%d", l.pageSeq)
	src := l.compOrigin + "/bridge/?" + url.Values{"id": {id}, "interval": {fmt.Sprint(1000 + margin)}}.Encode()
	tab, cancel, err := l.open(ctx, L, src)
	if err != nil {
		return r, err
	}
	defer cancel()
	s := l.hub.Sender(id)
	// Until the page has connected, Send fails at once without sending.
	for i := 0; i < n; {
		err := s.Send(ctx, assistant.NewText(fmt.Sprintf("message %d", i)))
		if i == 0 && errors.Is(err, wsbridge.ErrNotConnected) {
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if os.Getenv("PACING_DEBUG") != "" {
			log.Printf("send %d: %v", i, err)
		}
		if err != nil {
			return r, fmt.Errorf("send %d: %w", i, err)
		}
		i++
	}
	return r, collect(tab, &r, n)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
