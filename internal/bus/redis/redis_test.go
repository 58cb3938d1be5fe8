package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/bus/bustest"
	"github.com/freelylive/freely/internal/bus/redis"
)

// EnvRedis names the Redis server the tests use, e.g. redis://127.0.0.1:6379/0.
const EnvRedis = "FREELY_TEST_REDIS"

func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(EnvRedis)
	if u == "" {
		t.Skipf("Redis tests skipped: set %s to a server URL (e.g. redis://127.0.0.1:6379/0) to run them", EnvRedis)
	}
	return u
}

// prefix isolates one test's buses from every other test's on the shared server.
func prefix(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return "freelytest:" + hex.EncodeToString(b[:]) + ":"
}

func newBus(t *testing.T, url, prefix string) *redis.Bus {
	t.Helper()
	b, err := redis.New(context.Background(), redis.Options{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatalf("redis bus: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	url := redisURL(t)
	bustest.Run(t, func(t *testing.T) bus.Bus { return newBus(t, url, prefix(t)) })
}

func TestConformanceMultiNode(t *testing.T) {
	url := redisURL(t)
	bustest.RunMultiNode(t, func(t *testing.T) (bus.Bus, bus.Bus) {
		p := prefix(t)
		return newBus(t, url, p), newBus(t, url, p)
	})
}

func TestPrefixesIsolate(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	a, b := newBus(t, url, prefix(t)), newBus(t, url, prefix(t))
	ctx := context.Background()
	sub, err := b.Subscribe(ctx, "chat.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "chat.1", []byte("other deployment")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "chat.1", []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if m := <-sub.C(); string(m.Data) != "mine" || m.Topic != "chat.1" {
		t.Fatalf("got %q on %q, want only this bus's message", m.Data, m.Topic)
	}
}

func TestNewFailsFast(t *testing.T) {
	t.Parallel()
	if _, err := redis.New(context.Background(), redis.Options{}); err == nil {
		t.Fatal("New without URL or client succeeded")
	}
	if _, err := redis.New(context.Background(), redis.Options{URL: "http://example.com"}); err == nil {
		t.Fatal("New with a non-Redis URL succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := redis.New(ctx, redis.Options{URL: "redis://127.0.0.1:1/0"}); err == nil {
		t.Fatal("New with an unreachable server succeeded")
	}
}

// A topic whose last subscriber leaves just as a new one arrives stays subscribed: the
// UNSUBSCRIBE must not overtake the new SUBSCRIBE on the way to Redis.
func TestResubscribeRace(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	b := newBus(t, url, prefix(t))
	ctx := context.Background()
	for i := range 200 {
		old, err := b.Subscribe(ctx, "chat.9")
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() { old.Close(); close(closed) }()
		sub, err := b.Subscribe(ctx, "chat.9")
		if err != nil {
			t.Fatal(err)
		}
		<-closed
		if err := b.Publish(ctx, "chat.9", []byte("x")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sub.C():
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: message lost after a resubscribe", i)
		}
		sub.Close()
	}
}
