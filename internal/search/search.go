// Package search owns what Freely finds when someone types: which text of channels and live
// sessions is indexed (Document), how a query is matched and ranked (Service.Search) and the
// autocomplete behind the header search box (Autocomplete). Korean analysis lives in
// search/analysis; storage is the Store port, implemented for SQLite FTS5 and PostgreSQL
// full-text search in store/sqlstore. It imports no HTTP, SQL driver or configuration
// package.
//
// Matching. Every query term must match (a compound matches whole or by all its parts);
// synonyms were added at index time, so 롤 finds 리그오브레전드 without expanding the query.
// Query text never reaches the database as syntax: stores quote each analysed token.
//
// Ranking. Each section (live now, channels, past broadcasts) is ranked on its own. The
// store returns the newest documents that match, a window at a time (twice the page); the
// service scores them with BM25F (term frequency per field, weighted title > tags > channel
// name > body, length-normalised, IDF from cached document frequencies), counts scores
// within 10 % of each other as equally relevant, and breaks ties by live (channels), viewers
// and recency. Within a window the order is exact BM25F; a query so broad that it matches
// more documents than a window ranks the newest window first, and paging continues window by
// window — for live streams and broadcasts the newest are the ones worth showing, and every
// page costs the same however deep. Ranked pages and result cards are cached while the index
// generation (which every committed change to what a search matches, ranks or shows raises)
// stays the same; viewer counts of live hits come from the live directory.
package search

import (
	"errors"
	"time"

	"github.com/freelylive/freely/internal/channel"
)

// DocKind says what a document describes.
type DocKind string

const (
	// DocChannel: a channel (display name, handle, introduction, categories).
	DocChannel DocKind = "channel"
	// DocSession: a live session, open or ended (title, tags, category).
	DocSession DocKind = "session"
)

// Section is one group of search results.
type Section string

const (
	// SectionLive: sessions that are live now.
	SectionLive Section = "live"
	// SectionChannels: channels.
	SectionChannels Section = "channels"
	// SectionPast: sessions that have ended (past broadcasts).
	SectionPast Section = "past"
)

// Sections lists every section in display order.
var Sections = []Section{SectionLive, SectionChannels, SectionPast}

// Document is what the index holds for one channel or live session: the text to analyse in
// four weighted fields plus what filtering and ranking need. ChannelDocument and
// SessionDocument build it; stores persist it with the tokens of DocumentTokens.
type Document struct {
	Kind      DocKind
	RefID     int64 // channel ID or session ID
	ChannelID int64
	// CategoryIDs: the session's category, or the channel's categories.
	CategoryIDs []int64
	// Live: the session is open; for a channel, the channel is live now.
	Live bool
	// Viewers: a session's peak viewers so far.
	Viewers int
	// At: when the session started or the channel was created (recency).
	At time.Time

	// Name is the session title or the channel's display name (weighted highest).
	Name string
	// Tags are the session's tags or the names of the channel's categories.
	Tags []string
	// Body is the channel introduction, or the names of the session's category.
	Body string
	// Channel is the display name and handle of the channel, on every document of the
	// channel, so a search for a streamer finds their broadcasts too.
	Channel string
}

// Hit is one search result with what a result card shows. It holds nothing private.
type Hit struct {
	Section Section
	// DocID is the index row the hit comes from: with Result.Generation it identifies what
	// the card shows, for callers that cache its rendering.
	DocID       int64
	ChannelID   int64
	Handle      string
	DisplayName string
	ProfileKey  string // blob key of the channel's profile image, "" for none
	// SessionID, Title, Tags, Category and StartedAt describe a live or past session;
	// they are empty for channel hits.
	SessionID int64
	Title     string
	Tags      []string
	Category  *channel.Category
	StartedAt time.Time
	// Introduction is the channel's introduction (channel hits only).
	Introduction string
	// Live: the session is live, or (channel hits) the channel is live now.
	Live bool
	// Viewers: current viewers of a live session when known, else its peak viewers.
	Viewers int
	// Score is the BM25F relevance the hit was ranked by (higher is better).
	Score float64
}

// Errors the service returns for bad queries. The web layer shows them as messages; none is
// an internal failure.
var (
	// ErrEmptyQuery: the query holds no searchable word (empty, only emoji or punctuation)
	// and no category to browse.
	ErrEmptyQuery = errors.New("search: the query has no searchable word")
	// ErrQueryTooLong: the query is longer than MaxQueryRunes.
	ErrQueryTooLong = errors.New("search: the query is too long")
	// ErrUnknownCategory: the category filter names no category.
	ErrUnknownCategory = errors.New("search: unknown category")
	// ErrBadCursor: the paging cursor was not made by this service for this query.
	ErrBadCursor = errors.New("search: invalid cursor")
	// ErrUnknownSection: Query.Section names no section.
	ErrUnknownSection = errors.New("search: unknown section")
)
