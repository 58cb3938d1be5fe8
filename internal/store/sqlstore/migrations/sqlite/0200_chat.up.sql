-- Live chat: messages, per-channel settings, bans and timeouts, managers, the moderation
-- audit log. Times are UTC text in bun's sortable form.

-- Message ids are assigned by the chat hub (time-ordered, unique across nodes), not by the
-- database. Messages arrive in batches from a background writer; no foreign keys here, so a
-- batch can never fail because the sender's account or the channel went away meanwhile
-- (the nickname is kept with each message for the log anyway).
CREATE TABLE chat_messages (
    id         INTEGER NOT NULL PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    nickname   TEXT NOT NULL,
    badges     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    masked     BOOLEAN NOT NULL DEFAULT FALSE,
    sent_at    TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
-- History and resume: a channel's messages in id order.
CREATE INDEX ix_chat_messages_channel ON chat_messages (channel_id, id);
-- The dashboard's chat log of one user in one channel.
CREATE INDEX ix_chat_messages_channel_user ON chat_messages (channel_id, user_id, id);

CREATE TABLE chat_settings (
    channel_id     INTEGER NOT NULL PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    slow_seconds   INTEGER NOT NULL DEFAULT 0 CHECK (slow_seconds >= 0),
    followers_only BOOLEAN NOT NULL DEFAULT FALSE,
    verified_only  BOOLEAN NOT NULL DEFAULT FALSE,
    filter_mode    TEXT NOT NULL CHECK (filter_mode IN ('off', 'mask', 'block')),
    words          TEXT NOT NULL DEFAULT '[]', -- JSON array of the owner's words
    allowed_words  TEXT NOT NULL DEFAULT '[]', -- JSON array of the owner's allowed words
    updated_at     TIMESTAMP NOT NULL
);

-- At most one restriction per user and channel: a new one replaces the old.
CREATE TABLE chat_restrictions (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('ban', 'timeout')),
    until      TIMESTAMP,
    reason     TEXT NOT NULL DEFAULT '',
    by_user_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE chat_managers (
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    appointed_by INTEGER NOT NULL,
    appointed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX ix_chat_managers_user_id ON chat_managers (user_id);

-- Actor and target ids are kept without foreign keys: the log outlives accounts.
CREATE TABLE chat_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id     INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    actor_id       INTEGER NOT NULL,
    action         TEXT NOT NULL,
    target_user_id INTEGER NOT NULL DEFAULT 0,
    message_id     INTEGER NOT NULL DEFAULT 0,
    detail         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMP NOT NULL
);
CREATE INDEX ix_chat_audit_channel ON chat_audit (channel_id, id);
