// Package channel owns channels (one per user), categories, tags and stream keys. It holds the
// use-cases (Service) and declares the storage it needs (Store); it imports no HTTP, SQL driver
// or configuration package.
package channel

import "time"

// MaxCategories is how many categories a channel may list.
const MaxCategories = 2

// Channel is a user's public presence: the page viewers visit and the stream they watch.
type Channel struct {
	ID           int64
	OwnerID      int64
	Handle       string // URL id: lower-case [a-z0-9_], 3–24 characters, unique
	DisplayName  string
	Introduction string
	ProfileKey   string // blob key of the profile image, "" for none
	BannerKey    string // blob key of the banner image, "" for none
	Categories   []Category
	// StreamKey is the secret RTMP stream key. It is private: never in public responses.
	StreamKey string
	Suspended bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Category is a kind of content (a game or a topic), seeded as data.
type Category struct {
	ID     int64
	Slug   string // e.g. "league-of-legends"
	NameKO string // e.g. "리그 오브 레전드"
	NameEN string // e.g. "League of Legends"
}

// Tag is a normalised hashtag, created on first use and shared by later features (live
// sessions carry tags).
type Tag struct {
	ID   int64
	Name string // normalised: trimmed, NFC, case-folded
}
