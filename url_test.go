package assistant

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// urlCorpus holds inputs that browsers and naive checks read differently:
// backslashes, tabs and newlines (which browsers delete), leading spaces
// and C0 controls (which they strip), schemes without slashes, user info,
// odd ports, IPv4 forms browsers rewrite, IPv6, IDNA and percent-encoded
// hosts.
var urlCorpus = []string{
	// Paths.
	"pages/index/index?foo=bar", "/pages/product/detail", "pagepath", "./a", "../../a", "?q=1", "#frag",
	"/..//evil.example", ".//evil.example", "/%2F/evil.example", "%2F%2Fevil.example", "/%5Cevil.example",
	"/%5C%5Cevil.example", "pages/index?x=\\", "pages/index#\\\\evil.example", "?//evil.example", "#//evil.example",
	// Paths that browsers read as another host, or as a scheme.
	"//evil.example", "/\\evil.example/phish", "\\\\evil.example", "\\/evil.example", "./\\evil.example",
	"/\t/evil.example", "/\n/evil.example", "/\r/evil.example", " //evil.example", "\x00//evil.example",
	"\x1f/\\evil.example", "https:evil.example", "http:evil.example", "http:/evil.example", "https:/evil.example",
	"http:\\\\evil.example", "https:\\\\evil.example/x", "HTTP:evil.example", "java\tscript:alert(1)",
	" javascript:alert(1)", "javascript:alert(1)", "data:text/html,x", "mailto:a@evil.example", "c:/windows",
	"C:\\x", "a:b/c", "pages/a:b", "/ /evil.example", "/pa th", "\u00a0//evil.example", "\u2028//evil.example",
	// Absolute URLs.
	"https://x.example/", "http://x.example", "HTTPS://X.EXAMPLE/Y", "hTtP://x.example/", "https://x.example?q",
	"https://x.example#f", "https://x.example/a b", "https://x.example/%zz", "https://example.com./x",
	"https://a_b.example/", "https://-a.example/", "https://a-.example/", "https://example.1a/", "https://1.example/",
	"https://evil.example\\@good.example/", "https://x.example\\", "https://x.example\\y", "https://x.example/\\y",
	"https://x.example?\\", " https://evil.example/", "\thttps://evil.example/", "\x00https://evil.example/",
	"https://ev\til.example/", "https://ev\nil.example/", "https://evil.example\t/", "ht\ttps://evil.example/",
	"https://good.example@evil.example/", "https://good.example:443@evil.example/", "https://@evil.example/",
	"https://good.example%40evil.example/", "https://ex%61mple.com/", "https://evil.example%2F.good.example/",
	"https://:443/x.jpg", "https://:/x", "http://%zz/", "http://[::1/x", "http://x.example:99999999/",
	"http://x.example:65535/", "http://x.example:65536/", "http://x.example:0/", "http://x.example:0080/",
	"http://x.example:80/", "https://x.example:443/", "https://x.example:80/", "http://x.example:/",
	"http://x.example:80:80/", "http://x.example:+80/", "http://x.example: 80/", "http://a b/",
	"https://[::1]/", "https://[::1]:8443/", "https://[::ffff:1.2.3.4]/", "https://[fe80::1%25eth0]/",
	"https://[::1]x/", "https://[1.2.3.4]/", "https://[::1]]/", "https://[]/", "https://[::1",
	"https://1.2.3.4/", "https://1.2.3.4:8080/", "https://1.2.3/", "https://0x7f.1/", "https://2130706433/",
	"https://127.1/", "https://01.2.3.4/", "https://1.2.3.4./", "https://256.1.1.1/", "https://example.1/",
	"https://example.0x/", "https://example.0x1f/", "https://a..b/", "https://.a/", "https://./", "https://a*b/",
	"https://bücher.example/", "https://xn--bcher-kva.example/", "https://xn--a.example/", "https://XN--/",
	"https://例え.jp/", "https://evil.example。com/", "https://evil．example/", "https://x\u00a0.example/",
	"https://x.example/\u2028", "http://", "https://", "https:///x", "http:///evil.example", "https:////evil.example",
	"https:/\\evil.example", "httpx://evil.example", "http//evil.example", "ftp://x.example/y",
}

// origin is the scheme and host of a URL as a browser reports them
// (protocol + "//" + host), normalized so equal origins compare equal:
// IPv6 addresses by value, names in lower case, default ports dropped.
func origin(t *testing.T, scheme, host, port string) string {
	t.Helper()
	scheme = strings.ToLower(scheme)
	if h, ok := strings.CutPrefix(host, "["); ok {
		a, err := netip.ParseAddr(strings.TrimSuffix(h, "]"))
		if err != nil {
			t.Fatalf("bad IPv6 host %q: %v", host, err)
		}
		host = "[" + a.String() + "]"
	}
	host = strings.ToLower(host)
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil {
			t.Fatalf("bad port %q", port)
		}
		if !(scheme == "http:" && n == 80 || scheme == "https:" && n == 443) {
			host += ":" + strconv.Itoa(n)
		}
	}
	return scheme + "//" + host
}

// goOrigin is the origin this package expects for an accepted absolute
// URL, read with net/url from its scheme and authority (the path is left
// out: net/url is stricter about it than browsers, and it cannot move the
// host).
func goOrigin(t *testing.T, s string) string {
	t.Helper()
	scheme, rest, _ := strings.Cut(s, "://")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	u, err := url.Parse(strings.ToLower(scheme) + "://" + rest)
	if err != nil || u.User != nil || u.Hostname() == "" {
		t.Fatalf("accepted %q, but net/url reads its authority as %+v, %v", s, u, err)
	}
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		host = "[" + host + "]"
	}
	return origin(t, u.Scheme+":", host, u.Port())
}

// TestURLsMatchBrowsers is the differential test against node's WHATWG URL
// parser, which browsers share: every URL the checks accept must resolve,
// against a page on host.example, to the origin Go reads in it, and every
// accepted path must stay on host.example.
func TestURLsMatchBrowsers(t *testing.T) {
	node := nodeEval(t, `s => { try { const u = new URL(s, "https://host.example/"); return u.protocol + "//" + u.host } catch (e) { return "error: " + e.message } }`, urlCorpus)
	const base = "https://host.example"
	accepted := 0
	for i, s := range urlCorpus {
		checks := []struct {
			field string
			rule  string
		}{
			{"imgUrl", checkHTTPURL(s)},
			{"url", checkProductURL(s)},
			{"pagepath", checkPath(s)},
		}
		for _, c := range checks {
			if c.rule != "" {
				continue
			}
			accepted++
			want := base
			if _, isHTTP := cutPrefixFold(s, "http"); c.field == "imgUrl" || c.field == "url" && isHTTP {
				want = goOrigin(t, s)
			}
			got := node[i]
			if !strings.HasPrefix(got, "error") {
				scheme, host, _ := strings.Cut(got, "//")
				port := ""
				if j := strings.LastIndexByte(host, ':'); j >= 0 && !strings.HasSuffix(host, "]") {
					host, port = host[:j], host[j+1:]
				}
				got = origin(t, scheme, host, port)
			}
			if got != want {
				t.Errorf("%s %q is accepted as %s, but a browser reads %s", c.field, s, want, node[i])
			}
		}
	}
	if accepted < 40 {
		t.Errorf("only %d accepted cases: the corpus no longer tests acceptance", accepted)
	}
}

// TestURLRegressions pins the inputs of the security review: each was
// accepted, and browsers read it as another host or reject it.
func TestURLRegressions(t *testing.T) {
	img := "https://img.example/x.jpg"
	runValidation(t, []validationCase{
		{"url-slash-backslash", NewProduct("n", "/\\evil.example/phish", img), "url", "backslash"},
		{"url-backslash-in-host", NewProduct("n", "https://evil.example\\@good.example/", img), "url", "backslash"},
		{"img-empty-host-port", NewProduct("n", "", "https://:443/x.jpg"), "imgUrl", "host"},
		{"img-bad-escape", NewProduct("n", "", "http://%zz/x.jpg"), "imgUrl", "percent"},
		{"img-open-bracket", NewProduct("n", "", "http://[::1/x.jpg"), "imgUrl", "IPv6"},
		{"img-huge-port", NewProduct("n", "", "http://img.example:99999999/x.jpg"), "imgUrl", "port"},
		{"img-port-0", NewProduct("n", "", "http://img.example:0/x.jpg"), "imgUrl", "port"},
		{"img-ipv4-short", NewProduct("n", "", "http://0x7f.1/x.jpg"), "imgUrl", "IPv4"},
		{"img-ipv6-zone", NewProduct("n", "", "http://[fe80::1%25eth0]/x.jpg"), "imgUrl", "percent"},
		{"img-unicode-host", NewProduct("n", "", "http://bücher.example/x.jpg"), "imgUrl", "ASCII"},
		{"img-idna", NewProduct("n", "", "http://xn--a.example/x.jpg"), "imgUrl", "IDNA"},
		{"path-slash-backslash", NewMiniProgramPage("t", "/\\evil.example/phish", img), "pagepath", "backslash"},
		{"path-backslashes", NewMiniProgramPage("t", "\\\\evil.example", img), "pagepath", "backslash"},
		{"pic-bad-escape", NewMiniProgramPage("t", "p", "http://%zz/"), "pic_url", "percent"},
		{"ok-ipv6-port", NewProduct("n", "https://[::1]:8443/x", "http://[::ffff:1.2.3.4]/x.jpg"), "", ""},
		{"ok-fqdn-default-port", NewProduct("n", "HTTPS://Shop.Example.:443/a%zz", "http://img.example:/x.jpg"), "", ""},
		{"ok-escaped-backslash", NewMiniProgramPage("t", "/%5Cevil.example?q=\\", img), "", ""},
	})
}

// TestIPAddressesMatchNetip checks the hand-written address parsers
// against net/netip, for every string of up to 7 characters over a small
// alphabet and for addresses of every length.
func TestIPAddressesMatchNetip(t *testing.T) {
	check := func(s string) {
		a, err := netip.ParseAddr(s)
		want4 := err == nil && a.Is4()
		want6 := err == nil && a.Is6() && a.Zone() == ""
		if got := validIPv4(s); got != want4 {
			t.Errorf("validIPv4(%q) = %v, net/netip says %v", s, got, want4)
		}
		if got := validIPv6(s); got != want6 {
			t.Errorf("validIPv6(%q) = %v, net/netip says %v", s, got, want6)
		}
	}
	const alphabet = "01f:.%"
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		check(prefix)
		if n == 0 {
			return
		}
		for i := range len(alphabet) {
			gen(prefix+alphabet[i:i+1], n-1)
		}
	}
	gen("", 7)
	for _, s := range []string{
		"1.2.3.4", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "0.0.0.0", "1.2.3.4.",
		"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "1:2:3:4:5:6::7:8",
		"1:2:3:4:5:6:7:8:9", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "::1.2.3",
		"12345::", "abcd:ef01:2345:6789:ABCD:EF01:2345:6789", "1:::2", ":1::", "1::2::3", "fe80::1%eth0", "1.2.3.4::",
		"::ffff:01.2.3.4", "0:0:0:0:0:0:0:0", "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7:8",
	} {
		check(s)
	}
}
