// Package channel owns channels (one per user), categories, tags and stream keys. It holds the
// use-cases (Service) and declares the storage it needs (Store); it imports no HTTP, SQL driver
// or configuration package.
package channel

import (
	"cmp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

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

// CompareCategories orders categories as a Korean list reads: names that begin in Hangul
// first, in 가나다 order (which is the syllables' code-point order), then the others (Latin
// titles such as "Parasocial") by their letters ignoring case, ties by ID.
func CompareCategories(a, b Category) int {
	if ah, bh := startsHangul(a.NameKO), startsHangul(b.NameKO); ah != bh {
		if ah {
			return -1
		}
		return 1
	}
	if c := strings.Compare(strings.ToLower(a.NameKO), strings.ToLower(b.NameKO)); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// startsHangul tells whether s begins with a Hangul syllable or jamo.
func startsHangul(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Hangul, r)
}

// Tag is a normalised hashtag, created on first use and shared by later features (live
// sessions carry tags).
type Tag struct {
	ID   int64
	Name string // normalised: trimmed, NFC, case-folded
}
