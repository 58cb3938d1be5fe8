package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// TestPoolKeepsEveryConnectionIdle uses the whole pool at once and releases it: every
// connection stays open for the next burst, none is closed for want of an idle slot (on
// PostgreSQL each reopening forks a server process).
func TestPoolKeepsEveryConnectionIdle(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		pool := db.Bun().DB
		n := pool.Stats().MaxOpenConnections
		if n < 2 {
			t.Fatalf("pool of %d connections", n)
		}
		conns := make([]*sql.Conn, n)
		for i := range conns {
			c, err := pool.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.PingContext(ctx); err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		for _, c := range conns {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
		st := pool.Stats()
		if st.MaxIdleClosed != 0 || st.Idle != n {
			t.Errorf("after using all %d connections: %d idle, %d closed for want of an idle slot", n, st.Idle, st.MaxIdleClosed)
		}
	})
}
