// Package demo fills an empty installation with demo users and channels built from a snapshot
// of 655 real Korean stream listings (kr_streams.json, embedded), so a newcomer sees a living
// site. The raw listings are also exported (Streams) for live-video and search work that needs
// realistic Korean titles and tags. It works through the account and channel services and a
// small store interface; it imports no HTTP, SQL driver or configuration package.
package demo

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed kr_streams.json
var streamsJSON []byte

// Stream is one listing of the snapshot: personal fields (account names, nicknames, images)
// were removed before it was committed.
type Stream struct {
	Title     string   `json:"title"`      // as the streamer wrote it: Korean, emoji, brackets, slang; may be ""
	Category  string   `json:"category"`   // category slug, e.g. "league-of-legends"
	Tags      []string `json:"tags"`       // the streamer's hashtags, 2–10
	Viewers   int      `json:"viewers"`    // concurrent viewers when the snapshot was taken
	SearchTag string   `json:"search_tag"` // the tag the snapshot was collected under
}

// Streams returns the embedded listings, freshly parsed (callers may modify the result).
func Streams() ([]Stream, error) { return ParseStreams(streamsJSON) }

// ParseStreams decodes listings in the kr_streams.json format and checks every record has a
// category. Titles may be empty: one streamer in the snapshot left it blank.
func ParseStreams(data []byte) ([]Stream, error) {
	var out []Stream
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("parse stream listings: %w", err)
	}
	for i, s := range out {
		if strings.TrimSpace(s.Category) == "" {
			return nil, fmt.Errorf("stream listing %d: category is required", i)
		}
	}
	return out, nil
}
