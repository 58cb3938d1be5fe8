package form

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestErrorsEmptyIsNil(t *testing.T) {
	t.Parallel()
	var errs Errors
	if err := errs.Err(); err != nil {
		t.Fatalf("Err() of empty = %v, want nil", err)
	}
}

func TestErrorsCollectAndUnwrap(t *testing.T) {
	t.Parallel()
	var errs Errors
	errs.Add("email", "email_invalid")
	errs.Add("nickname", "nickname_invalid")
	errs.Add("email", "email_taken")
	errs.AddError(nil)
	err := fmt.Errorf("sign up: %w", errs.Err())

	if got := err.Error(); got != "sign up: invalid input: email: email_invalid, nickname: nickname_invalid, email: email_taken" {
		t.Errorf("Error() = %q", got)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "email" || fe.Code != "email_invalid" {
		t.Errorf("errors.As found %+v, want the first field error", fe)
	}
	if !errs.Has("nickname") || errs.Has("handle") {
		t.Errorf("Has gives wrong answers for %v", errs)
	}
	want := map[string]string{"email": "email_invalid", "nickname": "nickname_invalid"}
	if got := Codes(err); !reflect.DeepEqual(got, want) {
		t.Errorf("Codes = %v, want %v", got, want)
	}
	if got := len(FieldErrors(err)); got != 3 {
		t.Errorf("FieldErrors len = %d, want 3", got)
	}
}

func TestFieldErrorsOfSingleAndOther(t *testing.T) {
	t.Parallel()
	single := fmt.Errorf("avatar: %w", New("avatar", "image_type"))
	if got := FieldErrors(single); len(got) != 1 || got[0].Code != "image_type" {
		t.Errorf("FieldErrors(single) = %v", got)
	}
	if got := FieldErrors(errors.New("disk full")); got != nil {
		t.Errorf("FieldErrors(plain) = %v, want nil", got)
	}
	if got := Codes(nil); got != nil {
		t.Errorf("Codes(nil) = %v, want nil", got)
	}
}
