// Package searchweb is the web side of search: the /search results page (live now,
// channels, past broadcasts; category filter; paging), the JSON API behind it
// (GET /api/v1/search, GET /api/v1/autocomplete) and the header search box's suggestion
// dropdown (static/search.js). It is a web.Extension; it turns the search service's
// errors into clear 400 answers and never shows the service's internals. It imports no SQL
// driver, store adapter or configuration package.
package searchweb

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/web"
)

//go:embed templates
var templateFS embed.FS

// Search is what the pages need from the search service (search.Service implements it).
type Search interface {
	Search(ctx context.Context, q search.Query) (*search.Result, error)
	Autocomplete(prefix string, limit int) []search.Suggestion
}

// Categories lists the categories the filter offers (the SQL store implements it).
type Categories interface {
	Categories(ctx context.Context) ([]channel.Category, error)
}

// Options configure the extension. Search and Categories are required.
type Options struct {
	Search     Search
	Categories Categories
	// ImageURL turns a profile image's blob key into its URL ("" for none); nil shows
	// initials instead of images.
	ImageURL func(key string) string
	// Timeout bounds one search, including a wait for the Korean dictionary right after
	// start-up. Default 10 s; a search that runs out gets 503.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Web holds the extension's handlers. Create it with New and give Extension() to web.New.
type Web struct {
	opts   Options
	log    *slog.Logger
	router *web.Router // set when web.New registers the routes
	enc    *Encoder
}

// New checks opts. It does no I/O.
func New(opts Options) (*Web, error) {
	if opts.Search == nil || opts.Categories == nil {
		return nil, errors.New("searchweb: Options.Search and Categories are required")
	}
	if opts.ImageURL == nil {
		opts.ImageURL = func(string) string { return "" }
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	w := &Web{opts: opts, log: opts.Logger, enc: NewEncoder(opts.ImageURL)}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w, nil
}

// Extension is what web.New takes: the search page replaces the built-in placeholder, the
// API routes are added, and the header gets the suggestion dropdown.
func (w *Web) Extension() web.Extension {
	tmpl, _ := fs.Sub(templateFS, "templates")
	return web.Extension{
		Name:      "search",
		Routes:    w.routes,
		Templates: tmpl,
		Messages:  messages,
		Sections: []web.Section{
			// The dropdown's script and styles, on every page (the header is on every page).
			{Slot: web.SlotHeader, Template: "search_assets", Order: -100, Load: loadAssets},
		},
	}
}

func (w *Web) routes(r *web.Router) {
	w.router = r
	r.Replace("GET /search", w.searchPage)
	r.Handle("GET /api/v1/search", w.apiSearch, web.JSON())
	r.Handle("GET /api/v1/autocomplete", w.apiAutocomplete, web.JSON())
}

// assetsData is non-nil so the header section renders; it needs nothing else.
type assetsData struct{}

func loadAssets(*http.Request, web.SlotInput) (any, error) { return assetsData{}, nil }
