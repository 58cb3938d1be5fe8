// Package store holds the errors every storage adapter returns, so the core never sees a SQL
// dialect or driver error. Adapters (store/sqlstore) translate driver errors into these at their
// edge; callers compare with errors.Is.
package store

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique constraint refused the write.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the write lost a race with another (e.g. an optimistic check failed).
	ErrConflict = errors.New("conflict")
)

// ConflictError names the unique field that refused a write (for example "email",
// "nickname", "handle"), so forms can say which field to change. It matches
// ErrAlreadyExists with errors.Is.
type ConflictError struct {
	Field string
}

func (e *ConflictError) Error() string { return fmt.Sprintf("%s already exists", e.Field) }

// Is reports ErrAlreadyExists as the same error.
func (e *ConflictError) Is(target error) bool { return target == ErrAlreadyExists }

// AlreadyExists returns a ConflictError for field.
func AlreadyExists(field string) error { return &ConflictError{Field: field} }

// ConflictField returns the field of a ConflictError in err's chain, or "".
func ConflictField(err error) string {
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce.Field
	}
	return ""
}
