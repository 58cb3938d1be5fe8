package web

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

const maxQueryLen = 100

type searchData struct {
	Query string
}

// searchPage is the search box's target; the search feature replaces it with results.
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if !utf8.ValidString(q) {
		q = strings.ToValidUTF8(q, "")
	}
	if utf8.RuneCountInString(q) > maxQueryLen {
		q = string([]rune(q)[:maxQueryLen])
	}
	return s.render(w, r, http.StatusOK, &Page{Name: "search", Title: "search.title", Data: searchData{Query: q}})
}
