-- Live video: each channel's stream information (set on the dashboard before or during a
-- broadcast) and its live sessions. Times are UTC text in bun's sortable form.

CREATE TABLE live_stream_info (
    channel_id  INTEGER NOT NULL PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    title       TEXT NOT NULL DEFAULT '',
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE live_stream_info_tags (
    channel_id INTEGER NOT NULL REFERENCES live_stream_info (channel_id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, tag_id)
);

-- ended_at is NULL while the session is open (publishing or within its grace period).
-- last_seen_at moves forward on a heartbeat while a publisher is connected; it is the
-- recorded end of a session a crash left open.
CREATE TABLE live_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    title        TEXT NOT NULL DEFAULT '',
    category_id  INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    started_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP,
    duration_ms  INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    peak_viewers INTEGER NOT NULL DEFAULT 0 CHECK (peak_viewers >= 0)
);
-- One open session per channel, enforced by the database.
CREATE UNIQUE INDEX uq_live_sessions_open_channel ON live_sessions (channel_id) WHERE ended_at IS NULL;
CREATE INDEX ix_live_sessions_channel_id ON live_sessions (channel_id, id);
CREATE INDEX ix_live_sessions_category_id ON live_sessions (category_id);

CREATE TABLE live_session_tags (
    session_id INTEGER NOT NULL REFERENCES live_sessions (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (session_id, tag_id)
);
CREATE INDEX ix_live_session_tags_tag_id ON live_session_tags (tag_id);
