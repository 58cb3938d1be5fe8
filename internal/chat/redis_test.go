package chat_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/freelylive/freely/internal/bus/redis"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// Two hubs, each with its own connection to Redis, share one room: a message sent on one
// reaches a client on the other, and a ban issued on one is enforced on the other.
func TestTwoNodesOverRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("FREELY_TEST_REDIS")
	if url == "" {
		t.Skip("Redis tests skipped: set FREELY_TEST_REDIS to a server URL (e.g. redis://127.0.0.1:6379/0) to run them")
	}
	var b [6]byte
	rand.Read(b[:])
	prefix := "freelytest:" + hex.EncodeToString(b[:]) + ":"
	node := func() *redis.Bus {
		rb, err := redis.New(context.Background(), redis.Options{URL: url, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rb.Close() })
		return rb
	}
	w := newWorld(t, sqltest.SQLite(t))
	runTwoNodes(t, w, w.newHub(t, node()), w.newHub(t, node()))
}
