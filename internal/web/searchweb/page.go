package searchweb

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/web"
)

// pageData is what templates/pages/search_results.html shows.
type pageData struct {
	Query      string
	Category   *channel.Category // the active filter, nil for none
	Categories []channel.Category
	// Section is set when one section is paged through ("" shows all three).
	Section string
	// Error is the message ID of a refused query ("" when none).
	Error    string
	Searched bool
	Live     []card
	Channels []card
	Past     []card
	// More* link to a whole section from the overview ("" when everything is shown).
	MoreLive, MoreChannels, MorePast string
	// NextURL continues a paged section; AllURL goes back to the overview.
	NextURL, AllURL string
	// Suggestions answer a query of 초성 only (ㄹㅅㅌ), which has no searchable word.
	Suggestions []suggestionLink
}

// suggestionLink is an autocomplete suggestion shown on the results page.
type suggestionLink struct{ Text, URL string }

// Found reports whether any section has a result.
func (d *pageData) Found() bool { return len(d.Live)+len(d.Channels)+len(d.Past) > 0 }

// card is one result as the page shows it.
type card struct {
	URL          string
	Handle       string
	DisplayName  string
	ProfileURL   string
	Title        string
	Introduction string
	Tags         []string
	Category     *channel.Category
	Live         bool
	Viewers      string
	Started      string // date of a past broadcast
}

// searchPage answers GET /search: the results of ?q= and/or ?category=, three sections at
// a glance or one section paged with ?section= and ?cursor=. A refused query shows its
// reason on the page (status 400) with the search box ready for another try.
func (w *Web) searchPage(rw http.ResponseWriter, r *http.Request) error {
	d := &pageData{}
	cats, err := w.opts.Categories.Categories(r.Context())
	if err != nil {
		return err
	}
	d.Categories = cats
	q, err := parseQuery(r.URL.Query(), false)
	d.Query, d.Section = q.Text, string(q.Section)
	for i := range cats {
		if cats[i].Slug == q.Category {
			// The active filter leads the row, where it is seen without scrolling.
			active := cats[i]
			d.Categories = append([]channel.Category{active}, append(cats[:i:i], cats[i+1:]...)...)
			d.Category = &d.Categories[0]
			break
		}
	}
	status := http.StatusOK
	switch {
	case err != nil:
	case q.Text == "" && q.Category == "":
		// The navigation's "search" link: an empty page with the box and the categories.
	default:
		q.Limit = overviewLimit
		if q.Section != "" {
			q.Limit = sectionLimit
		}
		res, serr := w.search(r.Context(), q)
		if serr == nil {
			d.Searched = true
			w.fill(d, q, res)
		}
		err = serr
	}
	if errors.Is(err, errNoWords) && analysis.HasJamo(q.Text) {
		// 초성 (ㄹㅅㅌ) are not words the index holds, but autocomplete knows what they
		// abbreviate: offer those instead of an error.
		seen := map[string]bool{}
		for _, sg := range w.opts.Search.Autocomplete(q.Text, search.MaxSuggestions) {
			if seen[sg.Text] {
				continue // a title, tag and category of the same name: one link is enough
			}
			seen[sg.Text] = true
			d.Suggestions = append(d.Suggestions, suggestionLink{Text: sg.Text, URL: suggestionURL(sg)})
		}
		if len(d.Suggestions) > 0 {
			err = nil
		}
	}
	if err != nil {
		var se *web.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest {
			return err
		}
		d.Error, status = se.Message, se.Status
	}
	title, args := "sr.title", []any(nil)
	switch {
	case d.Query != "":
		title, args = "sr.title_query", []any{d.Query}
	case d.Category != nil:
		title, args = "sr.title_category", []any{d.Category.NameKO}
	}
	return w.router.Render(rw, r, status, &web.Page{Name: "search_results", Title: title, TitleArgs: args, Data: d, NoIndex: d.Error != ""})
}

// search runs q under the extension's deadline and classifies the refusals.
func (w *Web) search(ctx context.Context, q search.Query) (*search.Result, error) {
	sctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	res, err := w.opts.Search.Search(sctx, q)
	if err != nil {
		return nil, classify(ctx, err) // ctx: was it the visitor who left, or our deadline?
	}
	return res, nil
}

func (w *Web) fill(d *pageData, q search.Query, res *search.Result) {
	d.Live, d.Channels, d.Past = w.cards(res.Live), w.cards(res.Channels), w.cards(res.Past)
	base := url.Values{}
	if q.Text != "" {
		base.Set("q", q.Text)
	}
	if q.Category != "" {
		base.Set("category", q.Category)
	}
	link := func(v url.Values) string { return "/search?" + v.Encode() }
	if q.Section == "" {
		more := func(sec search.Section, n int) string {
			if n < q.Limit {
				return ""
			}
			v := clone(base)
			v.Set("section", string(sec))
			return link(v)
		}
		d.MoreLive = more(search.SectionLive, len(d.Live))
		d.MoreChannels = more(search.SectionChannels, len(d.Channels))
		d.MorePast = more(search.SectionPast, len(d.Past))
		return
	}
	d.AllURL = link(base)
	if res.Next != "" {
		v := clone(base)
		v.Set("section", string(q.Section))
		v.Set("cursor", res.Next)
		d.NextURL = link(v)
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (w *Web) cards(hits []search.Hit) []card {
	out := make([]card, len(hits))
	for i, h := range hits {
		c := card{
			URL:          "/c/" + url.PathEscape(h.Handle),
			Handle:       h.Handle,
			DisplayName:  h.DisplayName,
			ProfileURL:   w.opts.ImageURL(h.ProfileKey),
			Title:        h.Title,
			Introduction: h.Introduction,
			Tags:         h.Tags,
			Category:     h.Category,
			Live:         h.Live,
			Viewers:      groupDigits(h.Viewers),
		}
		if h.Section == search.SectionPast && !h.StartedAt.IsZero() {
			c.Started = h.StartedAt.In(kst).Format("2006.01.02")
		}
		out[i] = c
	}
	return out
}

// kst is the zone dates are shown in: the site's users are in Korea.
var kst = time.FixedZone("KST", 9*60*60)

// groupDigits writes n with thousands separators (12,345).
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sectionHead is the heading of one result section.
type sectionHead struct {
	ID, Title, More string
	Live            bool
}

// Head returns the heading of section id ("live", "channels" or "past").
func (d *pageData) Head(id string) sectionHead {
	switch search.Section(id) {
	case search.SectionLive:
		return sectionHead{ID: id, Title: "sr.section_live", More: d.MoreLive, Live: true}
	case search.SectionChannels:
		return sectionHead{ID: id, Title: "sr.section_chan", More: d.MoreChannels}
	default:
		return sectionHead{ID: id, Title: "sr.section_past", More: d.MorePast}
	}
}
