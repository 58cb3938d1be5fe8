-- Follows and alerts. Times are UTC text in bun's sortable form.

-- One row per (channel, follower). The primary key leads with the channel, so a channel's
-- followers are one ordered range: the alert fan-out walks it by keyset in user-id order.
-- WITHOUT ROWID stores the rows in that order instead of in a second b-tree.
CREATE TABLE follows (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
-- A user's followed channels (side panel) and the cascade when a user is deleted.
CREATE INDEX ix_follows_user_id ON follows (user_id, channel_id);

-- The maintained follower count. Triggers keep it in the transaction that changes follows,
-- including deletes cascaded from users or channels, so it never drifts and pages never
-- count rows.
CREATE TABLE channel_follower_counts (
    channel_id INTEGER NOT NULL PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    followers  INTEGER NOT NULL DEFAULT 0 CHECK (followers >= 0)
);

CREATE TRIGGER trg_follows_count_insert AFTER INSERT ON follows
BEGIN
    INSERT INTO channel_follower_counts (channel_id, followers) VALUES (NEW.channel_id, 1)
    ON CONFLICT (channel_id) DO UPDATE SET followers = followers + 1;
END;

CREATE TRIGGER trg_follows_count_delete AFTER DELETE ON follows
BEGIN
    UPDATE channel_follower_counts SET followers = followers - 1 WHERE channel_id = OLD.channel_id;
END;

-- One row per thing that alerts followers: a channel went live (source_id = live session id)
-- or posted a notice (source_id = notice id). AUTOINCREMENT keeps ids increasing and never
-- reused, so a user's alerts sort newest first by event id. The fan-out worker keeps its
-- progress here (fanout_cursor: the last follower user id alerted), updated in the same
-- transaction as each batch of alerts, so a restarted worker resumes exactly where the last
-- committed batch ended.
CREATE TABLE alert_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    channel_id     INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    source_id      INTEGER NOT NULL,
    title          TEXT NOT NULL DEFAULT '',
    occurred_at    TIMESTAMP NOT NULL,
    fanout_cursor  INTEGER NOT NULL DEFAULT 0,
    fanout_alerts  INTEGER NOT NULL DEFAULT 0,
    fanout_done_at TIMESTAMP,
    CONSTRAINT uq_alert_events_source UNIQUE (kind, source_id)
);
-- The spam window: the channel's latest event of a kind.
CREATE INDEX ix_alert_events_channel ON alert_events (channel_id, kind, occurred_at);

-- One row per (recipient, event): the primary key makes a retried fan-out batch a no-op
-- (ON CONFLICT DO NOTHING) and lists a user's alerts newest first. Rows are tiny because
-- everything shown lives once in alert_events. There are deliberately no foreign keys: the
-- fan-out only inserts users it has just read from follows, and checking the user and the
-- event for each of a million rows would cost more than the insert itself. Reads join
-- alert_events, so alerts of a deleted event are invisible; a trigger removes a deleted
-- user's alerts.
CREATE TABLE alerts (
    user_id  INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    read_at  TIMESTAMP,
    PRIMARY KEY (user_id, event_id)
) WITHOUT ROWID;

CREATE TRIGGER trg_users_delete_alerts AFTER DELETE ON users
BEGIN
    DELETE FROM alerts WHERE user_id = OLD.id;
END;
