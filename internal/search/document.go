package search

import (
	"context"
	"strings"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search/analysis"
)

// ChannelDocument describes a channel for the index. live says whether it is live now
// (channels that are live rank first among equally relevant channels).
func ChannelDocument(ch *channel.Channel, live bool) *Document {
	d := &Document{
		Kind:      DocChannel,
		RefID:     ch.ID,
		ChannelID: ch.ID,
		Live:      live,
		At:        ch.CreatedAt,
		Name:      ch.DisplayName,
		Body:      ch.Introduction,
		Channel:   ChannelText(ch.DisplayName, ch.Handle),
	}
	for _, c := range ch.Categories {
		d.CategoryIDs = append(d.CategoryIDs, c.ID)
		d.Tags = append(d.Tags, CategoryText(&c))
	}
	return d
}

// SessionDocument describes a live session of channel ch for the index.
func SessionDocument(s *live.Session, ch *channel.Channel) *Document {
	d := &Document{
		Kind:      DocSession,
		RefID:     s.ID,
		ChannelID: s.ChannelID,
		Live:      s.Open(),
		Viewers:   s.PeakViewers,
		At:        s.StartedAt,
		Name:      s.Title,
		Tags:      s.TagNames(),
		Channel:   ChannelText(ch.DisplayName, ch.Handle),
	}
	if s.Category != nil {
		d.CategoryIDs = []int64{s.Category.ID}
		d.Body = CategoryText(s.Category)
	}
	return d
}

// ChannelText is the Channel field of every document of a channel.
func ChannelText(displayName, handle string) string { return displayName + "\n" + handle }

// CategoryText is how a category is indexed: its Korean name as written and without spaces
// (so "리그 오브 레전드" also yields the user-dictionary word 리그오브레전드 and with it the
// synonyms 롤 and lol), and its English name.
func CategoryText(c *channel.Category) string {
	parts := []string{c.NameKO}
	if joined := strings.ReplaceAll(c.NameKO, " ", ""); joined != c.NameKO {
		parts = append(parts, joined)
	}
	parts = append(parts, c.NameEN)
	return strings.Join(parts, "\n")
}

// Field numbers the weighted text fields of a document.
type Field int

const (
	FieldName Field = iota
	FieldTags
	FieldBody
	FieldChannel
	NumFields
)

// DocTokens are a document's analysed tokens per field.
type DocTokens [NumFields][]string

// AnalyzeDocument returns the tokens of d's fields, waiting for the analyzer.
func AnalyzeDocument(ctx context.Context, an *analysis.Analyzer, d *Document) (DocTokens, error) {
	if err := an.Wait(ctx); err != nil {
		return DocTokens{}, err
	}
	toks, _ := TryAnalyzeDocument(an, d)
	return toks, nil
}

// TryAnalyzeDocument is AnalyzeDocument without waiting: ok is false while the analyzer is
// still loading. Stores call it inside write transactions and mark the document as pending
// analysis when it fails.
func TryAnalyzeDocument(an *analysis.Analyzer, d *Document) (toks DocTokens, ok bool) {
	texts := [NumFields]string{FieldName: d.Name, FieldBody: d.Body, FieldChannel: d.Channel}
	for f, text := range texts {
		if toks[f], ok = an.TryIndexTokens(text); !ok {
			return DocTokens{}, false
		}
	}
	for _, tag := range d.Tags {
		t, ok := an.TryIndexTokens(tag)
		if !ok {
			return DocTokens{}, false
		}
		toks[FieldTags] = append(toks[FieldTags], t...)
	}
	return toks, true
}
