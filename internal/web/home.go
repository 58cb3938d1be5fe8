package web

import (
	"fmt"
	"net/http"

	"github.com/freelylive/freely/internal/channel"
)

type homeData struct {
	Categories []channel.Category
}

// homePage shows "live now" (filled by the live feature through SlotHomeLive; an empty state
// until then) and the category grid.
func (s *Server) homePage(w http.ResponseWriter, r *http.Request) error {
	cats, err := s.channels.Categories(r.Context())
	if err != nil {
		return fmt.Errorf("home: list categories: %w", err)
	}
	in := SlotInput{Viewer: userFrom(r.Context())}
	return s.render(w, r, http.StatusOK, &Page{
		Name:  "home",
		Title: "home.title",
		Data:  homeData{Categories: cats},
		Slots: map[string][]Fragment{
			SlotHomeLive:  s.fillSlot(r, SlotHomeLive, in),
			SlotHomeAfter: s.fillSlot(r, SlotHomeAfter, in),
		},
	})
}
