package mem_test

import (
	"errors"
	"testing"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/bus/bustest"
	"github.com/freelylive/freely/internal/bus/mem"
)

func newBus(t *testing.T) bus.Bus {
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	t.Parallel()
	bustest.Run(t, newBus)
}

// The in-process bus is one node; every handle on it must see what the others publish, as
// nodes sharing a Redis do.
func TestConformanceMultiNode(t *testing.T) {
	t.Parallel()
	bustest.RunMultiNode(t, func(t *testing.T) (bus.Bus, bus.Bus) {
		b := newBus(t)
		return b, b
	})
}

func TestBufferSizeAndDropCounts(t *testing.T) {
	t.Parallel()
	b := mem.New(mem.Options{BufferSize: 3})
	defer b.Close()
	sub, err := b.Subscribe(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Subscribe(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"1", "2", "3", "4", "5"} {
		if err := b.Publish(t.Context(), "t", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"1", "2", "3"} {
		if m := <-sub.C(); string(m.Data) != want {
			t.Fatalf("got %q, want %q (the oldest messages are kept)", m.Data, want)
		}
	}
	if sub.Dropped() != 2 || other.Dropped() != 2 || b.Dropped() != 4 {
		t.Errorf("dropped: sub %d other %d bus %d, want 2, 2, 4", sub.Dropped(), other.Dropped(), b.Dropped())
	}
	if err := b.Publish(t.Context(), "t", []byte("6")); err != nil {
		t.Fatal(err)
	}
	if m := <-sub.C(); string(m.Data) != "6" {
		t.Errorf("after draining, got %q", m.Data)
	}
}

func TestRejectsEmptyTopicAndUseAfterClose(t *testing.T) {
	t.Parallel()
	b := mem.New(mem.Options{})
	if err := b.Publish(t.Context(), "", nil); err == nil {
		t.Error("Publish to empty topic accepted")
	}
	if _, err := b.Subscribe(t.Context(), ""); err == nil {
		t.Error("Subscribe to empty topic accepted")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Publish(t.Context(), "t", nil); !errors.Is(err, mem.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
}
