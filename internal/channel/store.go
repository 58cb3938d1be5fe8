package channel

import "context"

// Store is the persistence channel needs. Implementations return store.ErrNotFound for missing
// rows and store.ConflictError{Field:"handle"} when a handle is taken.
type Store interface {
	ChannelByID(ctx context.Context, id int64) (*Channel, error)
	// ChannelByHandle matches the lower-cased handle.
	ChannelByHandle(ctx context.Context, handle string) (*Channel, error)
	ChannelByOwner(ctx context.Context, ownerID int64) (*Channel, error)
	// ChannelByStreamKey is used by ingest; callers still compare keys in constant time.
	ChannelByStreamKey(ctx context.Context, key string) (*Channel, error)
	// UpdateChannel writes DisplayName, Introduction, ProfileKey, BannerKey and the category
	// list (by Category.ID, at most MaxCategories) in one transaction.
	UpdateChannel(ctx context.Context, ch *Channel) error
	SetStreamKey(ctx context.Context, channelID int64, key string) error
	SetSuspended(ctx context.Context, channelID int64, suspended bool) error
	// ListChannels pages channels by ID ascending, starting after afterID.
	ListChannels(ctx context.Context, afterID int64, limit int) ([]*Channel, error)

	// Categories returns every category ordered by Korean name.
	Categories(ctx context.Context) ([]Category, error)
	CategoryBySlug(ctx context.Context, slug string) (*Category, error)
	// UpsertCategories inserts categories by slug, updating names of existing ones (seeding).
	UpsertCategories(ctx context.Context, cats []Category) error

	// EnsureTags returns the tags with the given (already normalised) names, creating the
	// missing ones. Safe under concurrent calls with the same names.
	EnsureTags(ctx context.Context, names []string) ([]Tag, error)
}
