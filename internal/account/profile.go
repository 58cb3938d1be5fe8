package account

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/freelylive/freely/internal/imageproc"
)

// UpdateNickname changes the user's nickname. Bad nicknames give *form.FieldError
// (nickname_invalid, nickname_reserved); a nickname someone else holds gives nickname_taken.
func (s *Service) UpdateNickname(ctx context.Context, userID int64, nickname string) (*User, error) {
	n, err := NormalizeNickname(nickname)
	if err != nil {
		return nil, err
	}
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Nickname == n {
		return u, nil
	}
	old := u.Nickname
	u.Nickname = n
	if err := s.store.UpdateProfile(ctx, u); err != nil {
		u.Nickname = old
		if fe := conflictFieldError(err); fe != nil {
			return nil, fe
		}
		return nil, fmt.Errorf("update nickname of user %d: %w", userID, err)
	}
	return u, nil
}

// ErrImagesDisabled: the Service was built without an image processor or blob store.
var ErrImagesDisabled = errors.New("image uploads are not configured")

// SetAvatar re-encodes the uploaded image (see imageproc.Avatar), stores it under a fresh key
// and makes it the user's avatar; the previous avatar object is deleted. Bad images give
// *form.FieldError on "avatar" (image_too_large, image_type, image_invalid).
func (s *Service) SetAvatar(ctx context.Context, userID int64, r io.Reader) (*User, error) {
	if s.images == nil || s.blob == nil {
		return nil, ErrImagesDisabled
	}
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	data, contentType, err := s.images.Process(r, imageproc.Avatar)
	if err != nil {
		return nil, err
	}
	key, err := imageproc.Save(ctx, s.blob, fmt.Sprintf("avatars/%d/", u.ID), data, contentType)
	if err != nil {
		return nil, err
	}
	old := u.AvatarKey
	u.AvatarKey = key
	if err := s.store.UpdateProfile(ctx, u); err != nil {
		s.deleteBlob(ctx, key)
		if fe := conflictFieldError(err); fe != nil {
			return nil, fe
		}
		return nil, fmt.Errorf("set avatar of user %d: %w", u.ID, err)
	}
	if old != "" {
		s.deleteBlob(ctx, old)
	}
	return u, nil
}

func (s *Service) deleteBlob(ctx context.Context, key string) {
	if err := s.blob.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "delete replaced image", "key", key, "err", err)
	}
}

// AvatarURL is the public URL of the user's avatar, "" when they have none.
func (s *Service) AvatarURL(u *User) string {
	if u == nil || u.AvatarKey == "" || s.blob == nil {
		return ""
	}
	return s.blob.URL(u.AvatarKey)
}
