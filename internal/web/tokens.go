package web

import "net/http"

// maxLinkToken bounds the tokens of e-mailed links; real ones are far shorter.
const maxLinkToken = 256

// linkToken reads a one-time token from a mailed link or its confirmation form. Anything that
// is not a short run of URL-safe characters is no token at all.
func linkToken(v string) (string, bool) {
	if v == "" || len(v) > maxLinkToken {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return "", false
		}
	}
	return v, true
}

// tokenPageHeaders keeps a token in the address bar from leaking through the Referer header
// or a shared cache.
func tokenPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// tokenPageData is shared by the verify and reset pages.
type tokenPageData struct {
	Token   string
	Invalid bool
	Reason  string // message ID when Invalid
}
