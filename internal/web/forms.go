package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/freelylive/freely/internal/form"
)

// Form is a form's state for re-rendering: the values the visitor typed (never passwords)
// and the messages for what was refused.
type Form struct {
	values  map[string][]string
	errors  map[string][]string // field → message IDs
	general []string            // message IDs not tied to a field shown on the page
}

// newForm keeps the submitted values of the named fields. Password fields are never listed,
// so they are never echoed back into a page.
func newForm(r *http.Request, keep ...string) *Form {
	f := &Form{values: map[string][]string{}}
	for _, name := range keep {
		if vs, ok := r.PostForm[name]; ok {
			f.values[name] = vs
		}
	}
	return f
}

// Value is the first submitted value of a field.
func (f *Form) Value(name string) string {
	if f == nil || len(f.values[name]) == 0 {
		return ""
	}
	return f.values[name][0]
}

// Values are all submitted values of a field (multi-selects).
func (f *Form) Values(name string) []string {
	if f == nil {
		return nil
	}
	return f.values[name]
}

// Set fills a field (pages pre-fill forms from stored data this way).
func (f *Form) Set(name string, vs ...string) { f.values[name] = vs }

// Errors are the message IDs for a field.
func (f *Form) Errors(name string) []string {
	if f == nil {
		return nil
	}
	return f.errors[name]
}

// General are message IDs about the form as a whole.
func (f *Form) General() []string {
	if f == nil {
		return nil
	}
	return f.general
}

// FieldsInvalid reports whether a field shown on the page was refused.
func (f *Form) FieldsInvalid() bool { return f != nil && len(f.errors) > 0 }

// Invalid reports whether anything was refused.
func (f *Form) Invalid() bool { return f != nil && (len(f.errors) > 0 || len(f.general) > 0) }

// AddError attaches a message ID to a field, or to the whole form when field is "".
func (f *Form) AddError(field, msgID string) {
	if field == "" {
		f.general = append(f.general, msgID)
		return
	}
	if f.errors == nil {
		f.errors = map[string][]string{}
	}
	if !slices.Contains(f.errors[field], msgID) {
		f.errors[field] = append(f.errors[field], msgID)
	}
}

// addServiceErrors copies the *form.FieldErrors in err onto the form and reports whether
// there were any. Errors on fields the page does not show become form-wide messages, so
// nothing a service refused goes unsaid.
func (f *Form) addServiceErrors(err error, shown ...string) bool {
	fes := form.FieldErrors(err)
	for _, fe := range fes {
		field := fe.Field
		if !slices.Contains(shown, field) {
			field = ""
		}
		f.AddError(field, "field."+fe.Code)
	}
	return len(fes) > 0
}

// fieldView is what the "field" partial renders: one labelled input with its hint, value and
// errors.
type fieldView struct {
	Name, Type, Label, Hint, Autocomplete, Value string
	Required, Optional                           bool
	MaxLen                                       int
	Errors                                       []string
}

// newFieldView builds a fieldView in a template:
//
//	{{template "field" (field .Form "email" "email" "form.email" "required" "autocomplete=email")}}
//
// Options: "required", "optional", "autocomplete=…", "hint=<message ID>", "max=<n>".
// Password inputs never get a value.
func newFieldView(f *Form, name, typ, label string, opts ...string) (fieldView, error) {
	v := fieldView{Name: name, Type: typ, Label: label, Errors: f.Errors(name)}
	if typ != "password" {
		v.Value = f.Value(name)
	}
	for _, o := range opts {
		key, val, _ := strings.Cut(o, "=")
		switch key {
		case "required":
			v.Required = true
		case "optional":
			v.Optional = true
		case "autocomplete":
			v.Autocomplete = val
		case "hint":
			v.Hint = val
		case "max":
			if _, err := fmt.Sscanf(val, "%d", &v.MaxLen); err != nil {
				return v, fmt.Errorf("field %s: bad max %q", name, val)
			}
		default:
			return v, fmt.Errorf("field %s: unknown option %q", name, o)
		}
	}
	return v, nil
}

// bodyKind says what a state-changing route accepts.
type bodyKind int

const (
	formBody   bodyKind = iota // application/x-www-form-urlencoded, up to maxFormBytes
	uploadBody                 // multipart/form-data, up to maxUploadBytes
	jsonBody                   // application/json, up to maxFormBytes, decoded by the handler
)

// parseBody checks the Content-Type, caps the body and parses it. Errors are the 400, 413
// and 415 status errors.
func parseBody(w http.ResponseWriter, r *http.Request, kind bodyKind) error {
	want, limit := "application/x-www-form-urlencoded", int64(maxFormBytes)
	switch kind {
	case uploadBody:
		want, limit = "multipart/form-data", maxUploadBytes
	case jsonBody:
		want = "application/json"
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return errUnsupportedType
	}
	if r.ContentLength > limit {
		return errTooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if kind == jsonBody {
		// The handler decodes the body; reading past the cap fails with *http.MaxBytesError,
		// which errors.go answers with 413.
		return nil
	}
	if kind == uploadBody {
		// With the body capped at limit, every part fits in memory; nothing goes to disk.
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errTooLarge
		}
		return &StatusError{Status: http.StatusBadRequest, Message: "error.bad_request", Err: err}
	}
	return nil
}
