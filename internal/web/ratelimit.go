package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address rate limits and sessions attribute a request to. Behind a trusted
// proxy it is the right-most X-Forwarded-For entry: the address the proxy itself saw (entries
// further left are whatever the client claimed).
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// rateKey is the bucket a client falls into. IPv6 clients are grouped by /64, the block a
// single subscriber usually gets, so rotating addresses inside it does not reset the limit.
func rateKey(scope, ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			ip = p.String()
		}
	}
	return scope + "|" + ip
}
