// Package form holds the error types that use-cases return for bad user input: one FieldError
// per refused field, carrying a stable message key (Code) that the web layer translates. It
// is shared by account and channel so neither imports the other for error types; it imports
// nothing from the project.
package form

import (
	"errors"
	"strings"
)

// FieldError says that one input field was refused and why. Code is a stable message key such
// as "email_invalid" or "handle_taken"; the web layer maps it to a localised sentence.
type FieldError struct {
	Field string
	Code  string
}

// New returns a *FieldError for field with code.
func New(field, code string) *FieldError { return &FieldError{Field: field, Code: code} }

func (e *FieldError) Error() string { return e.Field + ": " + e.Code }

// Errors collects the FieldErrors of one form submission, so a user sees every problem at
// once instead of one per round trip.
type Errors []*FieldError

// Add records that field was refused with code.
func (e *Errors) Add(field, code string) { *e = append(*e, New(field, code)) }

// AddError records fe when it is non-nil.
func (e *Errors) AddError(fe *FieldError) {
	if fe != nil {
		*e = append(*e, fe)
	}
}

// Has reports whether field already has an error (the first problem of a field is usually
// the one worth showing).
func (e Errors) Has(field string) bool {
	for _, fe := range e {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil when nothing was refused, else the collection as an error.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Error()
	}
	return "invalid input: " + strings.Join(parts, ", ")
}

// Unwrap exposes the individual FieldErrors to errors.Is and errors.As.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// FieldErrors returns every FieldError in err's chain (a single *FieldError, an Errors, or
// either wrapped), or nil when err is not about input.
func FieldErrors(err error) []*FieldError {
	var errs Errors
	if errors.As(err, &errs) {
		return errs
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}
	}
	return nil
}

// Codes maps each refused field to its first code; handy for templates and JSON replies.
func Codes(err error) map[string]string {
	fes := FieldErrors(err)
	if fes == nil {
		return nil
	}
	m := make(map[string]string, len(fes))
	for _, fe := range fes {
		if _, ok := m[fe.Field]; !ok {
			m[fe.Field] = fe.Code
		}
	}
	return m
}
