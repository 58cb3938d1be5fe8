package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/alert/alerttest"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// fanOutAll alerts every follower of e's channel.
func fanOutAll(t *testing.T, as *sqlstore.AlertStore, e *alert.Event) {
	t.Helper()
	for range 100 {
		b, err := as.FanOutBatch(context.Background(), e.ID, 50, followEpoch)
		if err != nil {
			t.Fatal(err)
		}
		if b.Done {
			return
		}
	}
	t.Fatalf("fan-out of event %d does not finish", e.ID)
}

func eventIDs(t *testing.T, db *sqlstore.DB) []int64 {
	t.Helper()
	var ids []int64
	if err := db.Bun().NewRaw(`SELECT id FROM alert_events ORDER BY id`).Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}

// alertRows counts alert rows per event id, including rows of events that are gone.
func alertRows(t *testing.T, db *sqlstore.DB) map[int64]int {
	t.Helper()
	var rows []struct {
		EventID int64 `bun:"event_id"`
		N       int   `bun:"n"`
	}
	if err := db.Bun().NewRaw(`SELECT event_id, COUNT(*) AS n FROM alerts GROUP BY event_id`).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for _, r := range rows {
		out[r.EventID] = r.N
	}
	return out
}

// sweepAlerts runs the retention steps to the end as the job does, checking each step's
// bound, and returns how many statements each part took.
func sweepAlerts(t *testing.T, as *sqlstore.AlertStore, before time.Time, limit int) (alertSteps, eventSteps int, alerts, events int64) {
	t.Helper()
	ctx := context.Background()
	for after := int64(0); ; {
		n, next, done, err := as.DeleteAlertsBefore(ctx, before, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		alertSteps++
		alerts += n
		if n > int64(limit) {
			t.Errorf("an alerts step deleted %d rows, limit %d", n, limit)
		}
		if done {
			break
		}
		if next < after || (next == after && n < int64(limit)) {
			t.Fatalf("alerts step after user %d went to %d with %d deleted: no progress", after, next, n)
		}
		after = next
		if alertSteps > 1000 {
			t.Fatal("the alerts sweep does not finish")
		}
	}
	for {
		n, err := as.DeleteAlertEventsBefore(ctx, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		eventSteps++
		events += n
		if n > int64(limit) {
			t.Errorf("an events step deleted %d rows, limit %d", n, limit)
		}
		if n < int64(limit) {
			return
		}
		if eventSteps > 1000 {
			t.Fatal("the events sweep does not finish")
		}
	}
}

// Retention deletes the alerts (and events) older than the cutoff, keeps the rest, leaves
// the bell's unread count right, and removes alerts whose channel was deleted.
func TestAlertRetention(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		as := sqlstore.NewAlertStore(db)
		fs := sqlstore.NewFollowStore(db)
		_, chA := streamer(t, db, "ret_a")
		_, chB := streamer(t, db, "ret_b")
		fan, _ := streamer(t, db, "ret_fan")
		if err := alerttest.SeedFollowers(ctx, db, chA.ID, 20, followEpoch); err != nil {
			t.Fatal(err)
		}
		if err := alerttest.SeedFollowers(ctx, db, chB.ID, 6, followEpoch); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []int64{chA.ID, chB.ID} {
			if _, err := fs.AddFollow(ctx, fan.ID, ch, followEpoch, 10); err != nil {
				t.Fatal(err)
			}
		}

		now := followEpoch
		const day = 24 * time.Hour
		before := now.Add(-30 * day)
		source := int64(0)
		event := func(ch int64, kind alert.Kind, at time.Time) *alert.Event {
			source++
			e := &alert.Event{Kind: kind, ChannelID: ch, SourceID: source, Title: "t", OccurredAt: at}
			createEvent(t, db, as, e, time.Time{})
			fanOutAll(t, as, e)
			return e
		}
		// Created in this order, so ids follow it. The first is recent but has the lowest id
		// (dated out of id order): its alerts lie in the range swept and must stay.
		early := event(chA.ID, alert.KindNotice, now.Add(-2*day))
		var old []*alert.Event
		for i := range 5 {
			old = append(old, event(chA.ID, alert.KindNotice, now.Add(-40*day+time.Duration(i)*time.Hour)))
		}
		bOld := event(chB.ID, alert.KindWentLive, now.Add(-35*day))
		bRecent := event(chB.ID, alert.KindNotice, now.Add(-day))
		aRecent := event(chA.ID, alert.KindWentLive, now.Add(-time.Hour))
		edge := event(chA.ID, alert.KindNotice, before) // exactly at the cutoff: not older, kept
		lateOld := event(chA.ID, alert.KindNotice, now.Add(-31*day))

		for _, e := range []*alert.Event{old[0], aRecent} {
			if err := as.MarkRead(ctx, fan.ID, e.ID, now); err != nil {
				t.Fatal(err)
			}
		}
		// Deleting channel B takes its events; their alerts stay as hidden rows.
		if _, err := db.Bun().NewRaw(`DELETE FROM channels WHERE id = ?`, chB.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		unread := func() int {
			t.Helper()
			n, err := as.UnreadCount(ctx, fan.ID, alert.UnreadCap)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		// early, old[1:], edge, lateOld.
		if n := unread(); n != 7 {
			t.Fatalf("unread before the sweep: %d, want 7", n)
		}
		rows := alertRows(t, db)
		if rows[bOld.ID] != 7 || rows[bRecent.ID] != 7 || rows[lateOld.ID] != 21 {
			t.Fatalf("alert rows before the sweep: %v", rows)
		}

		alertSteps, eventSteps, alerts, events := sweepAlerts(t, as, before, 4)
		// 5 old + lateOld of channel A (21 rows each), and channel B's two (7 rows each).
		if alerts != 6*21+2*7 || events != 6 {
			t.Errorf("deleted %d alerts and %d events, want %d and 6", alerts, events, 6*21+2*7)
		}
		if alertSteps < 10 || eventSteps != 2 {
			t.Errorf("%d alert steps and %d event steps: batches of 4 must loop", alertSteps, eventSteps)
		}

		kept := []int64{early.ID, aRecent.ID, edge.ID}
		if got := eventIDs(t, db); !slices.Equal(got, kept) {
			t.Errorf("events left %v, want %v", got, kept)
		}
		rows = alertRows(t, db)
		if len(rows) != 3 || rows[early.ID] != 21 || rows[aRecent.ID] != 21 || rows[edge.ID] != 21 {
			t.Errorf("alert rows left %v, want 21 for each of %v", rows, kept)
		}
		if n := unread(); n != 2 {
			t.Errorf("unread after the sweep: %d, want 2 (early, edge)", n)
		}
		list, err := as.Alerts(ctx, fan.ID, 0, alert.MaxListLimit)
		if err != nil {
			t.Fatal(err)
		}
		var listed []int64
		for _, a := range list {
			listed = append(listed, a.ID)
		}
		if !slices.Equal(listed, []int64{edge.ID, aRecent.ID, early.ID}) {
			t.Errorf("list after the sweep %v", listed)
		}

		// A second sweep finds nothing; one with a cutoff before every event neither.
		for _, b := range []time.Time{before, now.Add(-1000 * day)} {
			if _, _, alerts, events := sweepAlerts(t, as, b, 4); alerts != 0 || events != 0 {
				t.Errorf("sweep before %s deleted %d alerts and %d events", b, alerts, events)
			}
		}
		if got := alertRows(t, db); len(got) != 3 {
			t.Errorf("alert rows after sweeping again %v", got)
		}
	})
}

// With no event left at all, the alerts still stored (their channels deleted) are orphans and go.
func TestAlertRetentionOrphansOnly(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		as := sqlstore.NewAlertStore(db)
		_, ch := streamer(t, db, "orphaned")
		if err := alerttest.SeedFollowers(ctx, db, ch.ID, 9, followEpoch); err != nil {
			t.Fatal(err)
		}
		e := &alert.Event{Kind: alert.KindWentLive, ChannelID: ch.ID, SourceID: 1, OccurredAt: followEpoch}
		createEvent(t, db, as, e, time.Time{})
		fanOutAll(t, as, e)
		if _, err := db.Bun().NewRaw(`DELETE FROM channels WHERE id = ?`, ch.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// The cutoff is long before the event, which is gone anyway.
		if _, _, alerts, _ := sweepAlerts(t, as, followEpoch.Add(-time.Hour), 4); alerts != 9 {
			t.Errorf("deleted %d orphaned alerts, want 9", alerts)
		}
		if rows := alertRows(t, db); len(rows) != 0 {
			t.Errorf("alert rows left %v", rows)
		}
	})
}

func TestAlertRetentionRefusesNoLimit(t *testing.T) {
	t.Parallel()
	as := sqlstore.NewAlertStore(sqltest.SQLite(t))
	if _, _, _, err := as.DeleteAlertsBefore(context.Background(), followEpoch, 0, 0); err == nil {
		t.Error("DeleteAlertsBefore with limit 0 succeeded")
	}
	if _, err := as.DeleteAlertEventsBefore(context.Background(), followEpoch, 0); err == nil {
		t.Error("DeleteAlertEventsBefore with limit 0 succeeded")
	}
}

// Every retention statement reads through an index: a sweep must cost what it deletes (and
// one probe per user), never a scan of the alerts table or of every event.
func TestAlertRetentionPlans(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		before := sqlstore.DBTime(followEpoch)
		pg := db.Dialect() == sqlstore.DialectPostgres
		deleteAlerts, deleteEvents := sqlstore.DeleteAlertsSQLite, sqlstore.DeleteAlertEventsSQLite
		alertsArgs := []any{0, 10000, 5, before, 10000}
		if pg {
			deleteAlerts, deleteEvents = sqlstore.DeleteAlertsPostgres, sqlstore.DeleteAlertEventsPostgres
			alertsArgs = []any{5, before, 10000, 0, 10000, 10000}
		}
		statements := []struct {
			name  string
			query string
			args  []any
			// want must appear in the plan: the index path the statement is built for.
			want []string
		}{
			{"newest expired event", sqlstore.NewestExpiredEventSQL, []any{before},
				pick(pg, []string{"Index Scan Backward using ix_alert_events_occurred_at"}, []string{"ix_alert_events_occurred_at (occurred_at<?)"})},
			{"oldest event", sqlstore.OldestEventSQL, nil,
				pick(pg, []string{"alert_events_pkey"}, []string{"SCAN alert_events"})},
			{"delete alerts", deleteAlerts, alertsArgs,
				pick(pg, []string{"users_pkey", "Index Cond: ((user_id = u.id) AND (event_id < ", "alert_events_pkey on alert_events e"},
					[]string{"SEARCH a USING PRIMARY KEY (user_id=? AND event_id<?)", "SEARCH u USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)", "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"})},
			{"delete events", deleteEvents, []any{before, 10000},
				pick(pg, []string{"ix_alert_events_occurred_at", "Index Cond: (id = ANY ("}, []string{"ix_alert_events_occurred_at (occurred_at<?)", "SEARCH alert_events USING INTEGER PRIMARY KEY (rowid=?)"})},
		}
		for _, st := range statements {
			plan := explain(t, db, st.query, st.args...)
			for _, w := range st.want {
				if !strings.Contains(plan, w) {
					t.Errorf("%s: plan lacks %q:\n%s", st.name, w, plan)
				}
			}
			// SQLite's one SCAN allowed is the primary-key walk of "oldest event", which
			// stops at the first row.
			if !pg && st.name != "oldest event" && strings.Contains(plan, "SCAN ") {
				t.Errorf("%s: plan scans a table:\n%s", st.name, plan)
			}
			if pg && strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: plan scans a table:\n%s", st.name, plan)
			}
		}
	})
}

func pick(pg bool, postgres, sqlite []string) []string {
	if pg {
		return postgres
	}
	return sqlite
}

// explain returns the plan of query. On PostgreSQL the tables of a test are a few pages,
// which makes a sequential scan the cheapest plan for anything, so sequential scans are
// priced out: the check is that the statement has the intended index path.
func explain(t *testing.T, db *sqlstore.DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Bun().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	prefix := "EXPLAIN QUERY PLAN "
	if db.Dialect() == sqlstore.DialectPostgres {
		prefix = "EXPLAIN "
		if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, `RESET enable_seqscan`)
	}
	rows, err := conn.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		// SQLite: id, parent, notused, detail; PostgreSQL: one text column.
		if s, ok := vals[len(vals)-1].(string); ok {
			lines = append(lines, s)
		} else if b, ok := vals[len(vals)-1].([]byte); ok {
			lines = append(lines, string(b))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
