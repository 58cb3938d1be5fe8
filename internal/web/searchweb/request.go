package searchweb

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/web"
)

// Page sizes: the overview shows the best few of each section with a "more" link, a single
// section pages through its results.
const (
	overviewLimit = 8
	sectionLimit  = 24
)

// maxParamBytes bounds every parameter before any work is done on it (a query longer than
// search.MaxQueryRunes is refused anyway; this stops megabyte parameters early).
const maxParamBytes = 4 * (search.MaxQueryRunes + 1)

func badRequest(msg string) error {
	return &web.StatusError{Status: http.StatusBadRequest, Message: msg}
}

var (
	errEmpty    = badRequest("sr.error_empty")
	errNoWords  = badRequest("sr.error_no_words")
	errTooLong  = badRequest("sr.error_too_long")
	errCategory = badRequest("sr.error_category")
	errCursor   = badRequest("sr.error_cursor")
	errSection  = badRequest("sr.error_section")
	errLimit    = badRequest("sr.error_limit")
	errBusy     = &web.StatusError{Status: http.StatusServiceUnavailable, Message: "sr.error_unavailable"}
)

// parseQuery reads q, category, section, cursor and (for the API) limit from the URL. The
// text is trimmed and cleaned of invalid UTF-8; everything else is checked for shape only —
// the search service decides what a well-formed value means.
func parseQuery(v url.Values, allowLimit bool) (search.Query, error) {
	for _, k := range []string{"q", "category", "section", "cursor", "limit"} {
		if len(v.Get(k)) > maxParamBytes {
			if k == "q" {
				return search.Query{}, errTooLong
			}
			return search.Query{}, badRequest("error.bad_request")
		}
	}
	q := search.Query{
		Text:     cleanText(v.Get("q")),
		Category: strings.TrimSpace(v.Get("category")),
		Section:  search.Section(v.Get("section")),
		Cursor:   v.Get("cursor"),
	}
	if utf8.RuneCountInString(q.Text) > search.MaxQueryRunes {
		return q, errTooLong
	}
	if q.Category != "" && !validSlug(q.Category) {
		return q, errCategory
	}
	if q.Section != "" && !validSection(q.Section) {
		return q, errSection
	}
	if q.Cursor != "" && q.Section == "" {
		return q, errCursor
	}
	if s := v.Get("limit"); s != "" && allowLimit {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, errLimit
		}
		q.Limit = min(n, search.MaxLimit)
	}
	return q, nil
}

func cleanText(s string) string {
	return strings.TrimSpace(strings.ToValidUTF8(s, ""))
}

func validSection(s search.Section) bool {
	for _, v := range search.Sections {
		if s == v {
			return true
		}
	}
	return false
}

// classify turns the search service's refusals into what the visitor sees; anything else
// is an internal failure the web layer logs.
func classify(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, search.ErrEmptyQuery):
		return errNoWords
	case errors.Is(err, search.ErrQueryTooLong):
		return errTooLong
	case errors.Is(err, search.ErrUnknownCategory):
		return errCategory
	case errors.Is(err, search.ErrBadCursor):
		return errCursor
	case errors.Is(err, search.ErrUnknownSection):
		return errSection
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// Our own deadline (the dictionary still loading, the database slow), not the
		// visitor leaving.
		return &web.StatusError{Status: errBusy.Status, Message: errBusy.Message, Err: err}
	}
	return err
}

// validSlug accepts what a category slug can look like (lower-case letters, digits and
// dashes); the service then checks that the category exists.
func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
