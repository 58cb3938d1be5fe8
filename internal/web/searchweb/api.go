package searchweb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/search"
)

// apiSearch answers GET /api/v1/search?q=…&category=…[&section=…&cursor=…&limit=…].
// Every section is returned when section is not given (only it otherwise). A missing query
// (no q and no category), one with no searchable word, an unknown category or a malformed
// paging parameter gets 400 with a message; nothing the visitor types causes a 500.
func (w *Web) apiSearch(rw http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r.URL.Query(), true)
	if err != nil {
		return err
	}
	if q.Text == "" && q.Category == "" {
		return errEmpty
	}
	res, err := w.search(r.Context(), q)
	if err != nil {
		return err
	}
	w.enc.Write(rw, "public, max-age=2", q.Text, q.Category, res)
	return nil
}

type apiSuggestion struct {
	Kind search.SuggestionKind `json:"kind"`
	Text string                `json:"text"`
	URL  string                `json:"url"`
	// Handle tells apart channels of the same name (titles and channels only).
	Handle string `json:"handle,omitempty"`
	Live   bool   `json:"live"`
}

type apiSuggestions struct {
	Query       string          `json:"query"`
	Suggestions []apiSuggestion `json:"suggestions"`
}

// apiAutocomplete answers GET /api/v1/autocomplete?q=…[&limit=…] with suggestions for what
// the header box holds: titles and channels (links to the channel), tags (a search) and
// categories (the category filter). 초성 such as ㄹㅅㅌ work. An empty prefix gets no
// suggestions; one longer than a query may be gets 400.
func (w *Web) apiAutocomplete(rw http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	raw := v.Get("q")
	if len(raw) > maxParamBytes {
		return errTooLong
	}
	prefix := cleanText(raw)
	if utf8.RuneCountInString(prefix) > search.MaxQueryRunes {
		return errTooLong
	}
	limit := 0
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errLimit
		}
		limit = min(n, search.MaxSuggestions)
	}
	out := apiSuggestions{Query: prefix, Suggestions: []apiSuggestion{}}
	if prefix != "" {
		for _, s := range w.opts.Search.Autocomplete(prefix, limit) {
			out.Suggestions = append(out.Suggestions, apiSuggestion{Kind: s.Kind, Text: s.Text, URL: suggestionURL(s), Handle: s.Handle, Live: s.Live})
		}
	}
	// Suggestions follow the index within seconds; a few seconds of caching lets a browser
	// (and a CDN) answer repeated keystrokes.
	return writeJSON(rw, "public, max-age=5", out)
}

// suggestionURL is where choosing a suggestion leads.
func suggestionURL(s search.Suggestion) string {
	switch s.Kind {
	case search.SuggestionTitle, search.SuggestionChannel:
		return "/c/" + url.PathEscape(s.Handle)
	case search.SuggestionCategory:
		return "/search?" + url.Values{"category": {s.Slug}}.Encode()
	default:
		return "/search?" + url.Values{"q": {s.Text}}.Encode()
	}
}

func writeJSON(rw http.ResponseWriter, cacheControl string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode search response: %w", err)
	}
	writeBody(rw, cacheControl, append(body, '\n'))
	return nil
}

func writeBody(rw http.ResponseWriter, cacheControl string, body []byte) {
	h := rw.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", cacheControl)
	rw.Write(body) //nolint:errcheck // the client went away; nothing to do
}
