package assistant

import (
	"strings"
)

// URL rules (docs/PROTOCOL.md, "URLs"). A URL passes only when a browser
// reads it as this package does: an absolute URL must name the host Go
// sees, and a path must stay on the page's host. Whatever a browser would
// read differently, or reject, is refused.

// checkHTTPURL reports the rule s breaks as an absolute http(s) URL.
func checkHTTPURL(s string) string {
	if r := checkChars(s, singleLine); r != "" {
		return r
	}
	rest, ok := cutPrefixFold(s, "https://")
	if !ok {
		rest, ok = cutPrefixFold(s, "http://")
	}
	if !ok {
		return "must be an absolute http or https URL"
	}
	if r := checkBackslash(s); r != "" {
		return r
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	return checkAuthority(authority)
}

// checkAuthority reports the rule a URL's authority (host and optional
// port) breaks. It reads what net/url reads (the tests check both agree)
// but allocates nothing, so AppendEncode stays allocation-free.
func checkAuthority(a string) string {
	if strings.Contains(a, "@") {
		// http://trusted.example@evil.example reads as trusted but is not.
		return "must not contain user info (@)"
	}
	if strings.Contains(a, "%") {
		return "must not percent-encode the host"
	}
	host, port, bracketed := a, "", false
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "must have a valid IPv6 address in its brackets"
		}
		host, port, bracketed = a[1:end], a[end+1:], true
		if port != "" && port[0] != ':' {
			return "must be an absolute http or https URL with a host"
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i:]
	}
	if host == "" {
		return "must be an absolute http or https URL with a host"
	}
	if r := checkHost(host, bracketed); r != "" {
		return r
	}
	if port = strings.TrimPrefix(port, ":"); port != "" { // "host:" is the default port
		n := 0
		for i := 0; i < len(port); i++ {
			c := port[i]
			if c < '0' || c > '9' || n > 65535 {
				return "must have a port from 1 to 65535"
			}
			n = n*10 + int(c-'0')
		}
		if n < 1 || n > 65535 {
			return "must have a port from 1 to 65535"
		}
	}
	return ""
}

// checkHost reports the rule a URL's host h breaks: it must be an IPv6
// literal (bracketed, no zone), a dotted-decimal IPv4 address, or an ASCII
// DNS name whose labels are letters, digits, '-' and '_'. Browsers read a
// name ending in a number (example.1, 0x7f.1) as an IPv4 address, so such
// a name must be one written out in full. IDNA labels (xn--) are refused:
// whether a browser accepts one depends on Unicode tables this package
// does not carry.
func checkHost(h string, bracketed bool) string {
	if bracketed {
		if !validIPv6(h) {
			return "must have a valid IPv6 address in its brackets"
		}
		return ""
	}
	name := strings.TrimSuffix(h, ".") // a fully qualified name is fine
	last := name
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return "must have a host without empty labels"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "must have a host of ASCII letters, digits, '-', '_' and '.'"
			}
		}
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return "must not have an IDNA (xn--) host label"
		}
		last = label
	}
	if looksNumeric(last) && !validIPv4(h) {
		return "must have a host that is a name or a dotted-decimal IPv4 address"
	}
	return ""
}

// validIPv4 reports whether s is four decimal numbers from 0 to 255,
// without leading zeros (which browsers would read as octal), joined by
// dots. The root package parses addresses by hand, not with net/netip,
// which would add about 35 KB (gzipped) to every WASM component.
func validIPv4(s string) bool {
	for part := 0; part < 4; part++ {
		if part > 0 {
			if s == "" || s[0] != '.' {
				return false
			}
			s = s[1:]
		}
		n, i := 0, 0
		for i < len(s) && i < 4 && '0' <= s[i] && s[i] <= '9' {
			n = n*10 + int(s[i]-'0')
			i++
		}
		if i == 0 || i > 3 || n > 255 || i > 1 && s[0] == '0' {
			return false
		}
		s = s[i:]
	}
	return s == ""
}

// validIPv6 reports whether s is an IPv6 address in RFC 4291 text form:
// eight groups of one to four hex digits, at most one "::" standing for
// one or more zero groups, the last two groups optionally written as an
// IPv4 address. A zone ("%eth0") is refused: browsers reject it.
func validIPv6(s string) bool {
	groups, compressed := 0, false
	if strings.HasPrefix(s, "::") {
		compressed, s = true, s[2:]
		if s == "" {
			return true
		}
	}
	for {
		n := 0
		for n < len(s) && n < 5 && isHex(s[n]) {
			n++
		}
		if n < len(s) && s[n] == '.' { // an IPv4 tail: two groups, and the end
			if !validIPv4(s) {
				return false
			}
			groups += 2
			break
		}
		if n == 0 || n > 4 {
			return false
		}
		groups++
		if s = s[n:]; s == "" {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return false
		}
		s = s[1:]
		if s[0] == ':' {
			if compressed {
				return false
			}
			compressed, s = true, s[1:]
			if s == "" {
				break
			}
		}
	}
	return groups == 8 && !compressed || groups <= 7 && compressed
}

// looksNumeric reports whether browsers parse label, a host's last label,
// as a number and so the host as an IPv4 address (the WHATWG URL
// standard's "ends in a number" check).
func looksNumeric(label string) bool {
	if rest, ok := cutPrefixFold(label, "0x"); ok {
		for i := 0; i < len(rest); i++ {
			if !isHex(rest[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(label); i++ {
		if label[i] < '0' || label[i] > '9' {
			return false
		}
	}
	return true
}

// checkBackslash refuses a backslash before the query: browsers read it as
// a slash there, so "/\evil.example" is the network address //evil.example.
func checkBackslash(s string) string {
	if i := strings.IndexAny(s, `\?#`); i >= 0 && s[i] == '\\' {
		return `must not contain a backslash before the query (browsers read it as "/")`
	}
	return ""
}

// checkPath reports the rule s breaks as a mini-program page path such as
// "pages/index/index?foo=bar": relative to the page, so no scheme (which
// rules out javascript: and data: URLs) and no //host.
func checkPath(s string) string {
	if r := checkChars(s, singleLine); r != "" {
		return r
	}
	if r := checkBackslash(s); r != "" {
		return r
	}
	if strings.HasPrefix(s, "//") {
		return "must be a path, not a network address"
	}
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	if strings.Contains(s[:end], ":") {
		return "must be a path without a scheme"
	}
	if strings.Contains(s, " ") {
		return "must not contain spaces"
	}
	return ""
}

// checkProductURL reports the rule s breaks as a product card's url: an
// absolute http(s) URL, or (not starting with "http", as the vendor's
// clients decide) a mini-program path.
func checkProductURL(s string) string {
	if _, ok := cutPrefixFold(s, "http"); ok {
		return checkHTTPURL(s)
	}
	if r := checkPath(s); r != "" {
		return r + " (or an absolute http or https URL)"
	}
	return ""
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
