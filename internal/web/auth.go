package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Names of the token's carriers.
const (
	tokenCookie = "trailhound_token"
	tokenHeader = "X-Trailhound-Token"
	tokenQuery  = "token"
)

// authorize lets a request through, or answers it and returns false.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	if !h.opts.RequireToken && !loopbackHost(r.Host) {
		// Reachable only on loopback, yet asked for another host name: a DNS-rebinding
		// page. It must not read the API.
		writeError(w, http.StatusForbidden, "this investigator answers only to localhost, 127.0.0.1 or [::1]")
		return false
	}
	if q := r.URL.Query().Get(tokenQuery); q != "" && r.Method == http.MethodGet {
		if !h.tokenEqual(q) {
			h.unauthorized(w)
			return false
		}
		// The printed URL: keep the token in a cookie only this site gets, and take it out
		// of the address bar and the history.
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: h.opts.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		u := *r.URL
		qs := u.Query()
		qs.Del(tokenQuery)
		u.RawQuery = qs.Encode()
		u.Scheme, u.Host = "", ""
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if h.opts.RequireToken && !h.hasToken(r) {
		h.unauthorized(w)
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.URL.Path != "/api/csp-report" {
		return h.checkStateChange(w, r)
	}
	return true
}

// hasToken reports whether the request carries the token in a cookie, an Authorization
// header or the X-Trailhound-Token header.
func (h *Handler) hasToken(r *http.Request) bool {
	if c, err := r.Cookie(tokenCookie); err == nil && h.tokenEqual(c.Value) {
		return true
	}
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && h.tokenEqual(strings.TrimSpace(b)) {
		return true
	}
	return h.tokenEqual(r.Header.Get(tokenHeader))
}

func (h *Handler) tokenEqual(s string) bool {
	return s != "" && subtle.ConstantTimeCompare([]byte(s), []byte(h.opts.Token)) == 1
}

func (h *Handler) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="trailhound"`)
	writeError(w, http.StatusUnauthorized, "a token is required: open the URL trailhound printed at start (…/?token=…), or send Authorization: Bearer TOKEN")
}

// checkStateChange lets through only a request the page itself made: the token in its
// header (a cookie alone is sent by cross-site requests too), a JSON body (a form cannot
// send one without a CORS preflight, which this server never grants), and no cross-site
// origin.
func (h *Handler) checkStateChange(w http.ResponseWriter, r *http.Request) bool {
	if !h.tokenEqual(r.Header.Get(tokenHeader)) {
		writeError(w, http.StatusForbidden, "a change needs the "+tokenHeader+" header")
		return false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "a change is sent as application/json")
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		writeError(w, http.StatusForbidden, "cross-site request refused")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			writeError(w, http.StatusForbidden, "cross-origin request refused")
			return false
		}
	}
	return true
}

// loopbackHost reports whether a Host header names this machine by a loopback name or
// address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Loopback reports whether a listen address is on loopback only (127.0.0.0/8, ::1,
// localhost): elsewhere the investigator must require its token.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
