package simulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// controlGuard wraps the control API's handlers in the rules that keep it
// to the callers it is for: tests, tools and people on this machine, never
// a web page. The API mints tokens, shows client secrets, revokes every
// grant and moves time, and a page in the user's browser can reach
// 127.0.0.1 as well as the user can. A request is answered only when
//
//   - it comes from loopback, unless WithRemoteControl;
//   - its Host is localhost, a loopback address or the issuer's host: a
//     page whose own name was pointed at 127.0.0.1 (DNS rebinding) sends
//     that name, and reads the answers as its own;
//   - no page of another origin sent it (Origin, Sec-Fetch-Site);
//   - it carries the control token, when WithControlToken set one;
//   - a write says Content-Type: application/json, which a page of
//     another origin cannot send without a CORS preflight, and the control
//     API grants none. Text, form and multipart bodies go without one.
//
// Each refusal is a 4xx that changes nothing.
func (s *Simulator) controlGuard() func(http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	issuerHost := ""
	if u, err := url.Parse(s.cfg.issuer); err == nil && u.Hostname() != "" {
		issuerHost = u.Hostname()
		// A page served at the issuer's address is the simulator's own,
		// even when a proxy in between hands on another Host.
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	token := sha256.Sum256([]byte(s.cfg.controlToken))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case !s.cfg.remoteControl && !isLoopback(r):
				writeJSONError(w, http.StatusForbidden, "forbidden", "the control API answers loopback callers only (see --allow-remote-control)")
			case !allowedHost(r.Host, issuerHost):
				writeJSONError(w, http.StatusForbidden, "forbidden", fmt.Sprintf(
					"the control API answers requests for localhost, a loopback address or the issuer's host, not for %q: a web page whose name points at this machine (DNS rebinding) must not drive it", r.Host))
			case crossOrigin(cop, r):
				writeJSONError(w, http.StatusForbidden, "forbidden", fmt.Sprintf(
					"the control API answers no web page of another origin (Origin %q, Sec-Fetch-Site %q)", r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")))
			case s.cfg.controlToken != "" && !presents(r, token):
				w.Header().Set("WWW-Authenticate", `Bearer realm="oauthsim control API"`)
				writeJSONError(w, http.StatusUnauthorized, "unauthorized", "the control API needs its token: send Authorization: Bearer followed by the token serve was given (--control-token)")
			case !isJSONOrSafe(r):
				writeJSONError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", fmt.Sprintf(
					"%s needs Content-Type: %s, even without a body, not %q: a web page of another origin cannot send that without asking the API first, and it never agrees", r.Method, controlContentType, r.Header.Get("Content-Type")))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// isLoopback reports whether a request came from this machine. A request
// handed to ServeHTTP in-process (no listener put a local address in its
// context) counts as local too.
func isLoopback(r *http.Request) bool {
	if r.Context().Value(http.LocalAddrContextKey) == nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowedHost reports whether the Host a request names is this machine's
// by any name a rebinding page cannot have: localhost, a loopback address,
// or the issuer's host, which the operator chose.
func allowedHost(hostport, issuerHost string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || (issuerHost != "" && strings.EqualFold(host, issuerHost)) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// crossOrigin reports whether a browser sent r from a page of another
// origin. http.CrossOriginProtection judges writes only, as CSRF
// protection may; here every request is judged as a write, since no page
// of another origin has any business reading the control API either.
func crossOrigin(cop *http.CrossOriginProtection, r *http.Request) bool {
	asWrite := *r
	asWrite.Method = http.MethodPost
	return cop.Check(&asWrite) != nil
}

// presents reports whether r carries the control token as a bearer token.
// The hashes are compared in constant time, so that neither the token nor
// its length leaks through how long a refusal takes.
func presents(r *http.Request, token [sha256.Size]byte) bool {
	scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	sum := sha256.Sum256([]byte(got))
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(sum[:], token[:]) == 1
}

// isJSONOrSafe reports whether r reads only, or says its body is JSON.
func isJSONOrSafe(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == controlContentType
}
