package alert_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/bus/mem"
)

// publishBatch publishes a fan-out batch the way FanOut does.
func publishBatch(t *testing.T, b *mem.Bus, alertID int64, users ...int64) {
	t.Helper()
	data, err := json.Marshal(map[string]any{
		"v":     1,
		"alert": map[string]any{"id": alertID, "kind": "went_live", "channel_id": 1, "channel_handle": "c", "title": "t"},
		"users": users,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), alert.TopicFanOut, data); err != nil {
		t.Fatal(err)
	}
}

func TestHubDeliversInOrderAndDropsForSlowPages(t *testing.T) {
	t.Parallel()
	b := mem.New(mem.Options{})
	defer b.Close()
	hub := alert.NewHub(b, alert.HubOptions{Buffer: 1})
	if err := hub.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	slow, err := hub.Subscribe(t.Context(), 7)
	if err != nil {
		t.Fatal(err)
	}
	marker, err := hub.Subscribe(t.Context(), 9)
	if err != nil {
		t.Fatal(err)
	}
	// A malformed message is skipped; the three batches naming user 7 overflow its buffer
	// of one; the last batch, for user 9 only, shows the earlier ones were handled.
	if err := b.Publish(t.Context(), alert.TopicFanOut, []byte(`{"v":1,"users":[7]}`)); err != nil {
		t.Fatal(err)
	}
	publishBatch(t, b, 1, 3, 7, 8)
	publishBatch(t, b, 2, 7)
	publishBatch(t, b, 3, 1, 2, 7, 100)
	publishBatch(t, b, 4, 9)
	if p := receive(t, marker); p.Alert == nil || p.Alert.ID != 4 {
		t.Fatalf("marker got %+v", p)
	}
	if p := receive(t, slow); p.Alert == nil || p.Alert.ID != 1 {
		t.Errorf("slow page got %+v, want the first alert", p)
	}
	if slow.Dropped() != 2 {
		t.Errorf("slow page dropped %d, want 2", slow.Dropped())
	}
	if delivered, dropped := hub.Stats(); delivered != 2 || dropped != 2 {
		t.Errorf("hub stats %d delivered, %d dropped; want 2, 2", delivered, dropped)
	}
}

func TestHubSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	b := mem.New(mem.Options{})
	defer b.Close()
	hub := alert.NewHub(b, alert.HubOptions{})
	if err := hub.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Subscribe(t.Context(), 0); !errors.Is(err, alert.ErrNoUser) {
		t.Errorf("subscribe without a user: %v", err)
	}
	a, err := hub.Subscribe(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hub.Subscribe(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, ok := <-a.C(); ok {
		t.Error("closed subscription still open")
	}
	// The other page of the same user still gets its messages.
	publishBatch(t, b, 11, 5)
	if p := receive(t, c); p.Alert == nil || p.Alert.ID != 11 {
		t.Errorf("remaining page got %+v", p)
	}
	if err := hub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-c.C(); ok {
		t.Error("subscription open after the hub closed")
	}
	if _, err := hub.Subscribe(t.Context(), 5); !errors.Is(err, alert.ErrHubClosed) {
		t.Errorf("subscribe after close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("closing a subscription of a closed hub: %v", err)
	}
}

// Pages of one user opening at once share one subscription to the user's topic: each gets
// every message exactly once.
func TestHubConcurrentSubscribes(t *testing.T) {
	t.Parallel()
	b := mem.New(mem.Options{})
	defer b.Close()
	hub := alert.NewHub(b, alert.HubOptions{})
	if err := hub.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	const pages = 16
	subs := make(chan *alert.Subscription, pages)
	var wg sync.WaitGroup
	for range pages {
		wg.Go(func() {
			s, err := hub.Subscribe(t.Context(), 42)
			if err != nil {
				t.Error(err)
				return
			}
			subs <- s
		})
	}
	wg.Wait()
	close(subs)
	data, err := json.Marshal(map[string]any{"v": 1, "push": map[string]any{"type": "unread", "unread": 7}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), alert.UserTopic(42), data); err != nil {
		t.Fatal(err)
	}
	n := 0
	for s := range subs {
		n++
		if p := receive(t, s); p.Type != alert.PushUnread || p.Unread == nil || *p.Unread != 7 {
			t.Errorf("page got %+v", p)
		}
		if len(s.C()) != 0 {
			t.Error("a page got the message twice")
		}
	}
	if n != pages {
		t.Fatalf("%d pages subscribed, want %d", n, pages)
	}
}
