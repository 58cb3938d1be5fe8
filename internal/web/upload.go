package web

import (
	"errors"
	"mime/multipart"
	"net/http"
)

// uploadedFile returns the file part named field of a parsed multipart form. A missing or
// empty file is a form error on errField, not a server error.
func uploadedFile(r *http.Request, field string) (multipart.File, bool, error) {
	file, hdr, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &StatusError{Status: http.StatusBadRequest, Message: "error.bad_request", Err: err}
	}
	if hdr.Size == 0 {
		file.Close()
		return nil, false, nil
	}
	return file, true, nil
}
