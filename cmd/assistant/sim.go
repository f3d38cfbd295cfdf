//go:build !js

package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"

	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
)

//go:embed web
var webFS embed.FS

const simUsage = `usage: assistant sim [--addr HOST:PORT] [--component URL] [--replicas N]

Runs a local customer-service workspace: open the printed URL, which
carries a secret (as Jupyter's does) so that other programs on the machine
cannot use the sim; the first visit trades it for a cookie. It frames a
component from a second local site (localhost for a workspace on 127.0.0.1:
the browser isolates them as it does a real workspace and its component),
checks every message the component posts as a strict host would (wire
format, channel, one message per second, origin), renders accepted messages
as the customer sees them and logs refused ones with the rule they break.
Without --component it frames the Go WebAssembly example
(examples/wasm-component), built with the local Go toolchain. The page's
"wsbridge" demo frames a bridge page instead and sends through a Go
wsbridge.Hub from a form; with --replicas 2 the Go service runs as two
replicas joined by an embedded NATS server (wsbridge/natsroute): the page's
socket is on replica B, the form sends from replica A. Ctrl-C stops it.

Flags:
`

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("assistant sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg simConfig
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8800", "serve the workspace page on `HOST:PORT`")
	fs.StringVar(&cfg.ComponentAddr, "component-addr", "", "serve the default component on `HOST:PORT` (default: the --addr host, any free port)")
	fs.StringVar(&cfg.Component, "component", "", "frame the component page at `URL` instead of the default one")
	fs.IntVar(&cfg.Replicas, "replicas", 1, "run the wsbridge demo's Go service as `N` replicas (1 or 2); with 2 they route through an embedded NATS server")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "assistant sim: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	if cfg.Replicas != 1 && cfg.Replicas != 2 {
		fmt.Fprintf(stderr, "assistant sim: --replicas %d: want 1 or 2\n", cfg.Replicas)
		return exitUsage
	}
	cfg.Log = stderr
	s, err := newSim(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "assistant sim: %v\n", err)
		return exitUsage
	}
	// The URL carries the sim's secret: open it, and keep it to yourself.
	fmt.Fprintf(stdout, "assistant sim: workspace on %s (component origin %s); Ctrl-C to stop\n", s.startURL(), s.compOrigin)
	if err := s.serve(ctx); err != nil {
		fmt.Fprintf(stderr, "assistant sim: %v\n", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, "assistant sim: stopped")
	return exitOK
}

// simConfig configures a simulator.
type simConfig struct {
	Addr          string    // workspace page listener, such as "127.0.0.1:8800"
	ComponentAddr string    // default component listener; "" means Addr's host, any port
	Component     string    // the user's component page; "" frames the default one
	ModuleDir     string    // source of the default component; "" finds it
	CacheDir      string    // build output; "" uses the user cache dir
	Replicas      int       // the wsbridge demo's service: 2 replicas routed through NATS, else one Hub
	Log           io.Writer // build progress and errors
}

// sim is the workspace simulator: two HTTP servers on two local origins,
// the workspace (host page and its API) and the default component.
type sim struct {
	cfg        simConfig
	hostLn     net.Listener
	compLn     net.Listener
	hostOrigin string   // http://host:port of hostLn
	compOrigin string   // origin of compLn, see componentOrigin
	builder    *builder // nil with --component
	rules      assistant.Rules
	page       *template.Template
	hub        *wsbridge.Hub // the wsbridge demo's Go service
	signer     *wsbridge.TokenSigner
	secret     string           // in the printed URL, then a cookie: see requireSecret
	tickets    tickets          // one-time passes to the bridge page: see serveBridgePage
	wsSender   assistant.Sender // hub.Sender(bridgePageID), or replica A's Sender
	replicas   *wsReplicas      // with --replicas 2; hub is then replica B's
}

// newSim listens on both addresses; serve then runs the servers.
func newSim(ctx context.Context, cfg simConfig) (*sim, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Component != "" && originOf(cfg.Component) == "" {
		return nil, fmt.Errorf("--component %q: must be an absolute http or https URL", cfg.Component)
	}
	hostLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	compAddr := cfg.ComponentAddr
	if compAddr == "" {
		h, _, _ := net.SplitHostPort(cfg.Addr)
		compAddr = net.JoinHostPort(h, "0")
	}
	compLn, err := net.Listen("tcp", compAddr)
	if err != nil {
		hostLn.Close()
		return nil, err
	}
	page, err := template.ParseFS(webFS, "web/index.html")
	if err != nil {
		hostLn.Close()
		compLn.Close()
		return nil, err
	}
	s := &sim{
		cfg:        cfg,
		hostLn:     hostLn,
		compLn:     compLn,
		hostOrigin: "http://" + displayAddr(hostLn.Addr()),
		compOrigin: componentOrigin(compLn.Addr()),
		rules:      assistant.DefaultRules(),
		page:       page,
		secret:     newSecret(),
	}
	if cfg.Component == "" {
		s.builder = newBuilder(ctx, cfg.ModuleDir, cfg.CacheDir, cfg.Log)
	}
	for _, ln := range []net.Listener{hostLn, compLn} {
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			fmt.Fprintf(cfg.Log, "assistant sim: warning: listening on %s, which other machines can reach: "+
				"anyone on the network can reach the workspace and its component, and the sim uses no TLS: its secret URL travels in clear text. "+
				"Use a loopback address (127.0.0.1) unless you mean it.\n", ln.Addr())
		}
	}
	// The bridge page is served by the Hub's own host, which the Hub
	// always accepts: no OriginPatterns needed. The Hub admits only a page
	// token for the bridge page's id; the bridge page that carries one is
	// served only against a one-time ticket from the workspace page, which
	// needs the sim's secret (see requireSecret). So a program on this
	// machine without the secret URL gets no token and cannot take the id
	// over; one that can read the browser's cookies or the sim's output
	// can. The key lives as long as the sim.
	key := make([]byte, wsbridge.MinKeySize)
	rand.Read(key)
	signer, err := wsbridge.NewTokenSigner(key)
	if err != nil {
		hostLn.Close()
		compLn.Close()
		return nil, err
	}
	s.signer = signer
	if cfg.Replicas == 2 {
		if s.replicas, err = startWSReplicas(wsbridge.Options{Authenticate: signer.Verify}); err != nil {
			hostLn.Close()
			compLn.Close()
			return nil, err
		}
		s.hub = s.replicas.b.Hub()
		s.wsSender = s.replicas.a.Sender(bridgePageID) // paced by replica B's Hub
		return s, nil
	}
	s.hub = wsbridge.NewHub(wsbridge.Options{Authenticate: signer.Verify})
	s.wsSender = s.hub.Sender(bridgePageID) // paced per page by the Hub
	return s, nil
}

// displayAddr turns an unspecified listen address into a loopback one, so
// the printed URL can be opened.
func displayAddr(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// componentOrigin names the component listener's origin. On 127.0.0.1 it
// is http://localhost:PORT, not http://127.0.0.1:PORT: the workspace page
// is on 127.0.0.1, and another port of the same host is the same site.
// Chromium runs same-site frames on one renderer thread, where the
// component's Go code would delay the host page's message events. A real
// workspace and its component are different sites, in separate renderer
// processes; localhost and 127.0.0.1 are different sites too.
func componentOrigin(a net.Addr) string {
	addr := displayAddr(a)
	if host, port, _ := net.SplitHostPort(addr); host == "127.0.0.1" {
		addr = net.JoinHostPort("localhost", port)
	}
	return "http://" + addr
}

// componentOriginFor returns the origin the page requested with Host
// pageHost frames the sim's component pages from: compOrigin, unless the
// page itself was opened on localhost, then the listener's address, so
// that page and component stay different sites.
func (s *sim) componentOriginFor(pageHost string) string {
	if h, _, err := net.SplitHostPort(pageHost); err == nil && strings.EqualFold(h, "localhost") {
		return "http://" + displayAddr(s.compLn.Addr())
	}
	return s.compOrigin
}

// workspaceOriginFor returns the origin of the workspace page that frames
// the sim's component pages requested with Host compHost, reversing
// componentOriginFor, or "" for a Host no workspace page frames. Component
// pages post to it and allow only it to frame them: it never comes from
// the request's query, which any framing site controls.
func (s *sim) workspaceOriginFor(compHost string) string {
	switch "http://" + strings.ToLower(compHost) {
	case s.compOrigin:
		return s.hostOrigin
	case "http://" + displayAddr(s.compLn.Addr()):
		_, port, _ := net.SplitHostPort(s.hostLn.Addr().String())
		return "http://" + net.JoinHostPort("localhost", port)
	}
	return ""
}

// serve runs both servers until ctx is done, then shuts them down, letting
// requests in flight finish for up to five seconds. It returns nil after a
// clean shutdown.
func (s *sim) serve(ctx context.Context) error {
	servers := []*http.Server{
		{Handler: s.hostHandler(), ReadHeaderTimeout: 10 * time.Second},
		{Handler: s.componentHandler(), ReadHeaderTimeout: 10 * time.Second},
	}
	lns := []net.Listener{s.hostLn, s.compLn}
	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() {
			if err := srv.Serve(lns[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		})
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	// Close the Hub first: http.Server.Shutdown does not wait for the
	// hijacked WebSocket connections, the Hub does.
	closeHub := s.hub.Close
	if s.replicas != nil {
		closeHub = s.replicas.close
	}
	if e := closeHub(); e != nil && err == nil {
		err = e
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		if e := srv.Shutdown(shutCtx); e != nil && err == nil {
			err = e
		}
	}
	wg.Wait()
	return err
}

// hostHandler serves the workspace page and its API.
func (s *sim) hostHandler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("POST /api/check", s.serveCheck)
	mux.HandleFunc("POST /api/wsbridge/send", s.serveWSSend)
	return guard(s.hostLn, s.requireSecret(mux))
}

// guard refuses requests that do not come from the sim's own pages: a
// Host that is not the server on ln (DNS rebinding) or, for anything but
// GET, an Origin other than the page's (cross-site requests). Both
// servers use it.
func guard(ln net.Listener, next http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	listenHost, _, _ := net.SplitHostPort(displayAddr(ln.Addr()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, p, err := net.SplitHostPort(r.Host)
		if err != nil || p != port || !(h == listenHost || h == "localhost" || h == "127.0.0.1" || h == "[::1]" || h == "::1") {
			http.Error(w, "assistant sim: unexpected Host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("Origin") != "http://"+r.Host {
			http.Error(w, "assistant sim: cross-origin request refused", http.StatusForbidden)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// pageCSP is the host page's Content-Security-Policy: only its own
// script, and no script at all in what it renders. Rich messages render in
// srcdoc frames, which inherit it.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src http: https: data:; frame-src http: https:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *sim) servePage(w http.ResponseWriter, r *http.Request) {
	hostOrigin := "http://" + r.Host
	compOrigin := s.componentOriginFor(r.Host)
	comp := s.cfg.Component
	isDefault := comp == ""
	if isDefault {
		comp = compOrigin + "/?origin=" + url.QueryEscape(hostOrigin)
	}
	wsDemo := r.URL.Query().Get("demo") == "wsbridge"
	if wsDemo {
		comp, isDefault = s.withTicket(compOrigin+"/bridge/"), false
	} else if c := r.URL.Query().Get("component"); c != "" {
		if originOf(c) == "" {
			http.Error(w, "assistant sim: component must be an absolute http or https URL", http.StatusBadRequest)
			return
		}
		comp, isDefault = c, false
	}
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := s.page.Execute(w, map[string]any{
		"Component":  comp,
		"Origin":     originOf(comp),
		"HostOrigin": hostOrigin,
		"Default":    isDefault,
		"WSBridge":   wsDemo,
		"HasDefault": s.builder != nil,
	})
	if err != nil {
		fmt.Fprintf(s.cfg.Log, "assistant sim: rendering the page: %v\n", err)
	}
}

// maxArrival bounds one forwarded message event: a wire string of up to
// assistant.MaxMessageSize bytes, each escaped at most once more in the
// request's JSON, and the other fields. Larger wire strings that fit are
// judged too large by assistant.Decode.
const maxArrival = 2*assistant.MaxMessageSize + 64<<10

func (s *sim) serveCheck(w http.ResponseWriter, r *http.Request) {
	var a arrival
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxArrival))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		http.Error(w, "assistant sim: bad check request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(judge(a, s.rules))
}

// componentHandler serves the second origin: the default component (its
// index.html and assets from examples/wasm-component, main.wasm and
// wasm_exec.js from the build cache; when the build fails, the page in the
// frame says why) and the wsbridge demo (bridge page, bridge.js, the Hub).
func (s *sim) componentHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", s.hub)
	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
	mux.HandleFunc("GET /bridge/{$}", s.serveBridgePage)
	mux.HandleFunc("GET /bridge/stats", s.serveWSStats)
	mux.HandleFunc("/", s.serveDefaultComponent)
	return guard(s.compLn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/bridge.js" {
			w.Header().Set("Cache-Control", "no-store")
		}
		// Only the sim's workspace page may frame its component pages:
		// a bridge page framed by another site would post nowhere (or, in
		// browsers without location.ancestorOrigins, be unable to tell).
		ancestors := "'none'"
		if o := s.workspaceOriginFor(r.Host); o != "" {
			ancestors = o
		}
		w.Header().Set("Content-Security-Policy", "frame-ancestors "+ancestors)
		mux.ServeHTTP(w, r)
	}))
}

func (s *sim) serveDefaultComponent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.builder == nil {
		http.Error(w, "assistant sim: this sim frames "+s.cfg.Component+"; it serves no default component", http.StatusNotFound)
		return
	}
	src, out, err := s.builder.ensure(r.Context())
	if err != nil {
		buildFailed(w, err)
		return
	}
	switch name := strings.TrimPrefix(r.URL.Path, "/"); name {
	case "main.wasm", "wasm_exec.js":
		http.ServeFile(w, r, filepath.Join(out, name))
	default:
		if strings.HasSuffix(name, ".go") {
			http.NotFound(w, r)
			return
		}
		http.FileServer(http.Dir(src)).ServeHTTP(w, r)
	}
}

var buildFailedPage = template.Must(template.New("").Parse(`<!doctype html>
<meta charset="utf-8">
<title>default component unavailable</title>
<style>body{font:13px system-ui,sans-serif;margin:12px;color:#7a1010}pre{white-space:pre-wrap;background:#fff4f4;border:1px solid #f0c0c0;padding:8px;color:#300}</style>
<h3 id="build-error">The default component could not be built</h3>
<pre>{{.}}</pre>
<p>Fix the error and reload, or run <code>assistant sim --component URL</code> to frame your own component page.</p>
`))

func buildFailed(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	buildFailedPage.Execute(w, err.Error())
}
