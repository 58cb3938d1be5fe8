package web

import (
	"bytes"
	"embed"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/web/i18n"
)

//go:embed templates
var templateFS embed.FS

// Page is what every template receives. Handlers set Name, Title and their own fields;
// render fills in the rest (who is logged in, language, CSRF token, ...).
type Page struct {
	Name      string // page template: templates/pages/<Name>.html
	Title     string // message ID of the title ("" for the bare site name)
	TitleArgs []any
	TitleText string // Title translated (filled by render)
	Data      any    // page-specific data
	Form      *Form  // the page's form state, nil when it has no form
	Slots     map[string][]Fragment

	// Filled by render.
	Lang       i18n.Lang
	User       *account.User
	AvatarURL  string
	CSRFToken  string
	Flash      string // message ID
	Path       string // request path, for navigation highlighting
	RequestID  string
	Status     int
	Nav        []NavLink
	BaseURL    string
	NoIndex    bool
	CurrentURL string // path and query, for the language switch
}

// Slot returns the fragments for a named slot (nil when none).
func (p *Page) Slot(name string) []Fragment { return p.Slots[name] }

// views holds every page template, parsed once per language so templates can call {{t}}
// without passing the language around.
type views struct {
	pages map[i18n.Lang]map[string]*template.Template
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parseViews parses layout, partials and pages (built-in and extensions') for every language.
func parseViews(cat *i18n.Catalog, as *assets, extra []fs.FS) (*views, error) {
	builtin, err := fs.Sub(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	sources := append([]fs.FS{builtin}, extra...)
	v := &views{pages: map[i18n.Lang]map[string]*template.Template{}}
	for _, lang := range i18n.Langs {
		base := template.New("").Funcs(templateFuncs(cat, as, lang))
		type pageFile struct {
			fsys fs.FS
			name string
		}
		var pages []pageFile
		for _, src := range sources {
			files, err := fs.Glob(src, "*.html")
			if err != nil {
				return nil, err
			}
			partials, err := fs.Glob(src, "partials/*.html")
			if err != nil {
				return nil, err
			}
			for _, f := range append(files, partials...) {
				if err := parseFile(base, src, f); err != nil {
					return nil, err
				}
			}
			pageFiles, err := fs.Glob(src, "pages/*.html")
			if err != nil {
				return nil, err
			}
			for _, f := range pageFiles {
				pages = append(pages, pageFile{src, f})
			}
		}
		if base.Lookup("layout") == nil {
			return nil, fmt.Errorf("templates: no \"layout\" template")
		}
		v.pages[lang] = map[string]*template.Template{}
		for _, pf := range pages {
			name := strings.TrimSuffix(path.Base(pf.name), ".html")
			if _, dup := v.pages[lang][name]; dup {
				return nil, fmt.Errorf("templates: page %q defined twice", name)
			}
			t, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if err := parseFile(t, pf.fsys, pf.name); err != nil {
				return nil, err
			}
			if t.Lookup("content") == nil {
				return nil, fmt.Errorf("templates: page %s does not define \"content\"", pf.name)
			}
			// fragment renders a section's template from this page's set, so sections can use
			// every partial.
			t.Funcs(template.FuncMap{"fragment": func(f Fragment) (template.HTML, error) {
				var b bytes.Buffer
				if err := t.ExecuteTemplate(&b, f.Template, f.Data); err != nil {
					return "", err
				}
				return template.HTML(b.String()), nil
			}})
			v.pages[lang][name] = t
		}
	}
	return v, nil
}

func parseFile(t *template.Template, fsys fs.FS, name string) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if _, err := t.New(name).Parse(string(b)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	return nil
}

// has reports whether a page template exists.
func (v *views) has(page string) bool {
	_, ok := v.pages[i18n.Default][page]
	return ok
}

// execute renders page in lang into w.
func (v *views) execute(w io.Writer, lang i18n.Lang, page string, data *Page) error {
	t, ok := v.pages[lang][page]
	if !ok {
		return fmt.Errorf("templates: no page %q", page)
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// render writes a complete page. The page is rendered into a buffer first: a template error
// becomes a clean error page instead of half a page, and the CSRF cookie can still be set.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, p *Page) error {
	st := stateFrom(r.Context())
	p.Lang = st.lang
	if p.Title != "" {
		p.TitleText = s.catalog.T(st.lang, p.Title, p.TitleArgs...)
	}
	p.User = st.user
	if st.user != nil {
		p.AvatarURL = s.accounts.AvatarURL(st.user)
	}
	p.CSRFToken = s.csrfToken(w, r)
	if status == http.StatusOK {
		p.Flash = s.takeFlash(w, r)
	}
	p.Path = r.URL.Path
	p.CurrentURL = r.URL.RequestURI()
	p.RequestID = st.id
	p.Status = status
	p.Nav = s.nav
	p.BaseURL = s.baseURL
	s.fillLayoutSlots(r, p)

	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := s.views.execute(buf, st.lang, p.Name, p); err != nil {
		return fmt.Errorf("render page %s: %w", p.Name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry per-visitor state (who is logged in, CSRF tokens): never cache them in a
	// shared cache, always revalidate.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Language", string(st.lang))
	h.Add("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	if err != nil {
		// The client went away mid-write; nothing else can be sent.
		return nil
	}
	return nil
}

// fillLayoutSlots fills the slots of the layout itself (header, side navigation), which every
// page has. Slots with no registered sections cost nothing.
func (s *Server) fillLayoutSlots(r *http.Request, p *Page) {
	for _, slot := range []string{SlotHeader, SlotSideNav} {
		if len(s.sections[slot]) == 0 {
			continue
		}
		if p.Slots == nil {
			p.Slots = map[string][]Fragment{}
		}
		p.Slots[slot] = s.fillSlot(r, slot, SlotInput{Viewer: p.User})
	}
}

func templateFuncs(cat *i18n.Catalog, as *assets, lang i18n.Lang) template.FuncMap {
	return template.FuncMap{
		// t translates a message ID: {{t "nav.login"}}, {{t "channel.title" .Name}}.
		"t": func(id string, args ...any) string { return cat.T(lang, id, args...) },
		// asset gives the hashed URL of an embedded static file.
		"asset": as.URL,
		// fragment is replaced per page (parseViews); this one only lets parsing succeed.
		"fragment": func(Fragment) (template.HTML, error) {
			return "", fmt.Errorf("fragment used outside a page")
		},
		"lang":     func() string { return string(lang) },
		"langs":    func() []i18n.Lang { return i18n.Langs },
		"catName":  func(c channel.Category) string { return categoryName(c, lang) },
		"tone":     tone,
		"initial":  initial,
		"field":    newFieldView,
		"avatarOf": newAvatarView,
		"inc":      func(i int) int { return i + 1 },
		"langURL":  langURL,
	}
}

// avatarView is what the "avatar" partial renders: the picture, or the name's initial on a
// coloured disc when there is none.
type avatarView struct{ Name, URL, Size string }

func newAvatarView(name, url, size string) avatarView { return avatarView{name, url, size} }

func categoryName(c channel.Category, lang i18n.Lang) string {
	if lang == i18n.English && c.NameEN != "" {
		return c.NameEN
	}
	if c.NameKO != "" {
		return c.NameKO
	}
	return c.Slug
}

// tone picks one of eight colour classes from a stable hash of s, so a category or a user
// without a picture keeps the same colour everywhere.
func tone(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("tone-%d", h.Sum32()%8)
}

// initial is the first character of a name, upper-cased, for avatar placeholders.
func initial(s string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(s))
	if r == utf8.RuneError {
		return "?"
	}
	return strings.ToUpper(string(r))
}

// langURL is the current URL with ?lang= set, for the language switch.
func langURL(current string, l i18n.Lang) string {
	p, q, _ := strings.Cut(current, "?")
	var kept []string
	for _, kv := range strings.Split(q, "&") {
		if kv != "" && !strings.HasPrefix(kv, "lang=") {
			kept = append(kept, kv)
		}
	}
	kept = append(kept, "lang="+string(l))
	return p + "?" + strings.Join(kept, "&")
}
