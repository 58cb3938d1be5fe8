package channel

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/freelylive/freely/internal/blob"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/store"
)

// Options configure a Service. Store is required; Images and Blob are needed for profile and
// banner images only.
type Options struct {
	Store  Store
	Images *imageproc.Processor
	Blob   blob.Store
	Now    func() time.Time
	Logger *slog.Logger
}

// Service holds the channel use-cases. It is safe for concurrent use.
type Service struct {
	store  Store
	images *imageproc.Processor
	blob   blob.Store
	now    func() time.Time
	log    *slog.Logger
}

// NewService applies defaults to opts and returns the Service.
func NewService(opts Options) *Service {
	s := &Service{store: opts.Store, images: opts.Images, blob: opts.Blob, now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// ErrImagesDisabled: the Service was built without an image processor or blob store.
var ErrImagesDisabled = errors.New("image uploads are not configured")

// ByHandle returns the channel with the handle (any case). A handle that cannot exist gives
// store.ErrNotFound like an unknown one.
func (s *Service) ByHandle(ctx context.Context, handle string) (*Channel, error) {
	h, err := NormalizeHandle(handle)
	if err != nil {
		// Reserved words are not channels either.
		return nil, fmt.Errorf("channel %q: %w", handle, store.ErrNotFound)
	}
	ch, err := s.store.ChannelByHandle(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("channel %q: %w", h, err)
	}
	return ch, nil
}

// ByOwner returns the channel of the user; store.ErrNotFound passes through.
func (s *Service) ByOwner(ctx context.Context, ownerID int64) (*Channel, error) {
	ch, err := s.store.ChannelByOwner(ctx, ownerID)
	if err != nil {
		return nil, fmt.Errorf("channel of user %d: %w", ownerID, err)
	}
	return ch, nil
}

// ByStreamKey returns the channel whose secret stream key is key, for ingest. Malformed and
// unknown keys give store.ErrNotFound; the key is compared in constant time and never appears
// in the error.
func (s *Service) ByStreamKey(ctx context.Context, key string) (*Channel, error) {
	if !wellFormedStreamKey(key) {
		return nil, fmt.Errorf("channel by stream key: %w", store.ErrNotFound)
	}
	ch, err := s.store.ChannelByStreamKey(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("channel by stream key: %w", err)
	}
	// The database found the row by an index lookup; comparing again in constant time keeps
	// a collation or trailing-space quirk of some backend from admitting a near-miss.
	if subtle.ConstantTimeCompare([]byte(ch.StreamKey), []byte(key)) != 1 {
		return nil, fmt.Errorf("channel by stream key: %w", store.ErrNotFound)
	}
	return ch, nil
}

// SettingsInput is what the channel settings form sends.
type SettingsInput struct {
	DisplayName   string
	Introduction  string
	CategorySlugs []string
}

// UpdateSettings validates and saves the owner's display name, introduction and categories.
// Every bad field is reported at once as form.Errors (display_name_invalid, intro_too_long,
// intro_invalid, too_many_categories, category_unknown); nothing is saved then.
func (s *Service) UpdateSettings(ctx context.Context, ownerID int64, in SettingsInput) (*Channel, error) {
	var errs form.Errors
	name, err := normalizeDisplayName(in.DisplayName)
	addFieldErr(&errs, err)
	intro, err := normalizeIntroduction(in.Introduction)
	addFieldErr(&errs, err)
	cats, err := s.categoriesBySlug(ctx, in.CategorySlugs, &errs)
	if err != nil {
		return nil, err
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	ch, err := s.ByOwner(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	ch.DisplayName, ch.Introduction, ch.Categories = name, intro, cats
	if err := s.store.UpdateChannel(ctx, ch); err != nil {
		return nil, fmt.Errorf("update channel %d: %w", ch.ID, err)
	}
	return ch, nil
}

// categoriesBySlug resolves the chosen slugs, ignoring blanks and repeats.
func (s *Service) categoriesBySlug(ctx context.Context, slugs []string, errs *form.Errors) ([]Category, error) {
	seen := map[string]bool{}
	var cats []Category
	for _, slug := range slugs {
		if slug == "" || seen[slug] {
			continue
		}
		seen[slug] = true
		if len(seen) > MaxCategories {
			errs.Add("categories", "too_many_categories")
			return nil, nil
		}
		if len(slug) > 100 {
			errs.Add("categories", "category_unknown")
			continue
		}
		c, err := s.store.CategoryBySlug(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			errs.Add("categories", "category_unknown")
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("category %q: %w", slug, err)
		}
		cats = append(cats, *c)
	}
	return cats, nil
}

func addFieldErr(errs *form.Errors, err error) {
	for _, fe := range form.FieldErrors(err) {
		errs.AddError(fe)
	}
}

// SetProfileImage re-encodes the upload (imageproc.ChannelProfile) and makes it the channel's
// profile image; the previous object is deleted. Bad images give *form.FieldError on
// "profile_image".
func (s *Service) SetProfileImage(ctx context.Context, ownerID int64, r io.Reader) (*Channel, error) {
	return s.setImage(ctx, ownerID, r, imageproc.ChannelProfile, "profile", func(ch *Channel) *string { return &ch.ProfileKey })
}

// SetBannerImage re-encodes the upload (imageproc.Banner, 1920×480) and makes it the channel's
// banner; the previous object is deleted. Bad images give *form.FieldError on "banner_image".
func (s *Service) SetBannerImage(ctx context.Context, ownerID int64, r io.Reader) (*Channel, error) {
	return s.setImage(ctx, ownerID, r, imageproc.Banner, "banner", func(ch *Channel) *string { return &ch.BannerKey })
}

func (s *Service) setImage(ctx context.Context, ownerID int64, r io.Reader, kind imageproc.Kind, name string, field func(*Channel) *string) (*Channel, error) {
	if s.images == nil || s.blob == nil {
		return nil, ErrImagesDisabled
	}
	ch, err := s.ByOwner(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	data, contentType, err := s.images.Process(r, kind)
	if err != nil {
		return nil, err
	}
	key, err := imageproc.Save(ctx, s.blob, fmt.Sprintf("channels/%d/%s-", ch.ID, name), data, contentType)
	if err != nil {
		return nil, err
	}
	slot := field(ch)
	old := *slot
	*slot = key
	if err := s.store.UpdateChannel(ctx, ch); err != nil {
		*slot = old
		s.deleteBlob(ctx, key)
		return nil, fmt.Errorf("set %s image of channel %d: %w", name, ch.ID, err)
	}
	if old != "" {
		s.deleteBlob(ctx, old)
	}
	return ch, nil
}

func (s *Service) deleteBlob(ctx context.Context, key string) {
	if err := s.blob.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "delete replaced image", "key", key, "err", err)
	}
}

// ImageURL is the public URL of a channel image key, "" for "".
func (s *Service) ImageURL(key string) string {
	if key == "" || s.blob == nil {
		return ""
	}
	return s.blob.URL(key)
}

// RegenerateStreamKey gives the owner's channel a fresh stream key; the old one stops working
// at once (a publisher already live keeps its connection; ingest checks keys on connect).
func (s *Service) RegenerateStreamKey(ctx context.Context, ownerID int64) (*Channel, error) {
	ch, err := s.ByOwner(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	key := NewStreamKey()
	if err := s.store.SetStreamKey(ctx, ch.ID, key); err != nil {
		return nil, fmt.Errorf("set stream key of channel %d: %w", ch.ID, err)
	}
	ch.StreamKey = key
	return ch, nil
}

// Categories lists every category, ordered by Korean name.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	cats, err := s.store.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return cats, nil
}

// EnsureTags normalises raw hashtags (NormalizeTags) and returns the tag rows, creating the
// missing ones. Live sessions and the demo seeder use it.
func (s *Service) EnsureTags(ctx context.Context, raw []string) ([]Tag, error) {
	names, err := NormalizeTags(raw)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	tags, err := s.store.EnsureTags(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("ensure tags: %w", err)
	}
	return tags, nil
}
