// Package sim_test runs "assistant sim" end to end as a user does: it
// builds the assistant binary once, starts it from a temporary directory
// that holds no source, with a clean environment and no Go toolchain on
// PATH, opens the exact URL it prints in every engine of
// dev/internal/browser, and clicks through the workspace page and its
// component. It knows the sim only by its command line, its output and its
// pages.
//
//	cd dev && go test ./e2e/sim                      # builds cmd/assistant
//	cd dev && go test ./e2e/sim -assistant $(which assistant)  # an installed one
package sim_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imworkspace/assistant/dev/internal/browser"
)

var (
	assistantBin = flag.String("assistant", "", "test this assistant `binary` (such as one go install put on PATH) instead of building cmd/assistant; tests that need -tags natsserver are skipped")
	binDir       string // TestMain's temporary directory for the builds
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "e2e-sim-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// built caches the builds of cmd/assistant by build tags.
var built struct {
	sync.Mutex
	bins map[string]string
	errs map[string]error
}

// binary returns the assistant binary built with tags ("" or
// "natsserver"), building it on first use: as a release is built, from
// cmd/assistant's own go.mod (GOWORK=off), with -trimpath.
func binary(t *testing.T, tags string) string {
	t.Helper()
	if *assistantBin != "" {
		if tags != "" {
			t.Skipf("-assistant %s: this test needs a binary built with -tags %s", *assistantBin, tags)
		}
		return *assistantBin
	}
	built.Lock()
	defer built.Unlock()
	if built.bins == nil {
		built.bins, built.errs = map[string]string{}, map[string]error{}
	}
	if bin, ok := built.bins[tags]; ok {
		return bin
	}
	if err := built.errs[tags]; err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "..", "cmd", "assistant"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "assistant-"+strings.NewReplacer(",", "-", " ", "-").Replace(tags)+"bin")
	start := time.Now()
	cmd := exec.Command("go", "build", "-trimpath", "-tags", tags, "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		built.errs[tags] = fmt.Errorf("building cmd/assistant (tags %q): %v\n%s", tags, err, out)
		t.Fatal(built.errs[tags])
	}
	t.Logf("built cmd/assistant (tags %q) in %v", tags, time.Since(start).Round(time.Millisecond))
	built.bins[tags] = bin
	return bin
}

// simProc is a running "assistant sim".
type simProc struct {
	URL        string // the workspace URL it printed, to open as is
	Origin     string // that URL's origin
	CompOrigin string // the default component's origin it printed
}

// printedURLs matches the URLs of the sim's "workspace on URL (component
// origin URL)" line.
var printedURLs = regexp.MustCompile(`https?://[^\s)]+`)

// startSim runs bin ("assistant") as "assistant sim --addr 127.0.0.1:0
// args..." from an empty temporary directory with a clean environment:
// HOME, GOPATH, the Go caches and TMPDIR in it, and a PATH with nothing
// on it, so neither a source tree nor a Go toolchain can be found. It
// waits for the URL the sim prints and stops the sim (as Ctrl-C does) when
// t ends, checking that it exits 0.
func startSim(t *testing.T, bin string, args ...string) *simProc {
	t.Helper()
	root := t.TempDir()
	env := []string{"LANG=C.UTF-8"}
	for _, kv := range [][2]string{
		{"HOME", "home"}, {"GOPATH", "gopath"}, {"GOCACHE", "gocache"}, {"GOMODCACHE", "gopath/pkg/mod"},
		{"XDG_CACHE_HOME", "cache"}, {"XDG_CONFIG_HOME", "config"}, {"TMPDIR", "tmp"}, {"PATH", "emptybin"},
	} {
		dir := filepath.Join(root, kv[1])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		env = append(env, kv[0]+"="+dir)
	}
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"sim", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir, cmd.Env = work, env
	printed := make(chan string, 1)
	cmd.Stdout = &lineLogger{t: t, name: "sim stdout", onLine: func(line string) {
		if strings.Contains(line, "workspace on ") {
			select {
			case printed <- line:
			default:
			}
		}
	}}
	cmd.Stderr = &lineLogger{t: t, name: "sim stderr"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("assistant sim exited after Ctrl-C with %v, want 0", err)
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("assistant sim did not stop within 15 s of Ctrl-C")
		}
	})
	var line string
	select {
	case line = <-printed:
	case err := <-exited:
		exited <- err
		t.Fatalf("assistant sim exited before printing its URL: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("assistant sim printed no URL within 30 s")
	}
	urls := printedURLs.FindAllString(line, -1)
	if len(urls) == 0 {
		t.Fatalf("no URL in %q", line)
	}
	s := &simProc{URL: strings.TrimRight(urls[0], ".,;")}
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("the printed URL %q: %v", s.URL, err)
	}
	s.Origin = u.Scheme + "://" + u.Host
	if len(urls) > 1 {
		s.CompOrigin = strings.TrimRight(urls[1], ".,;/")
	}
	return s
}

// open loads the sim's workspace page in tab as a user does: first the
// exact URL the sim printed (which may carry a secret that the sim trades
// for a cookie), then, when query is not empty, the page with query.
func (s *simProc) open(t *testing.T, tab *browser.Tab, query url.Values) {
	t.Helper()
	if err := tab.Navigate(s.URL); err != nil {
		t.Fatal(err)
	}
	if len(query) > 0 {
		if err := tab.Navigate(s.Origin + "/?" + query.Encode()); err != nil {
			t.Fatal(err)
		}
	}
}

// lineLogger logs what a process writes, line by line, while the test
// runs; onLine, if set, sees each line too. exec.Cmd.Wait waits for it.
type lineLogger struct {
	t      *testing.T
	name   string
	onLine func(string)
	mu     sync.Mutex
	buf    bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // incomplete: keep for the next Write
			return len(p), nil
		}
		line = strings.TrimRight(line, "\n")
		l.t.Logf("%s: %s", l.name, line)
		if l.onLine != nil {
			l.onLine(line)
		}
	}
}

// startComponents serves testdata/components from a third origin and
// returns it: http://localhost:PORT, another site than the sim's
// workspace on 127.0.0.1, as a real component is.
func startComponents(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/components")))
	t.Cleanup(srv.Close)
	return "http://localhost:" + strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
}
