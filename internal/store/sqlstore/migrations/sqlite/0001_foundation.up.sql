-- Foundation schema: accounts, sessions, one-time tokens, channels, categories, tags.
-- Times are UTC text in bun's sortable form ("2006-01-02 15:04:05.999999+00:00"), so
-- comparisons in WHERE clauses order correctly.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT NOT NULL,
    nickname          TEXT NOT NULL,
    nickname_key      TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    email_verified_at TIMESTAMP,
    avatar_key        TEXT NOT NULL DEFAULT '',
    is_admin          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    CONSTRAINT uq_users_email UNIQUE (email),
    CONSTRAINT uq_users_nickname_key UNIQUE (nickname_key)
);

CREATE TABLE sessions (
    token_hash   TEXT NOT NULL PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);
CREATE INDEX ix_sessions_expires_at ON sessions (expires_at);

CREATE TABLE one_time_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX ix_one_time_tokens_user_id ON one_time_tokens (user_id);
CREATE INDEX ix_one_time_tokens_expires_at ON one_time_tokens (expires_at);

CREATE TABLE channels (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    handle       TEXT NOT NULL,
    display_name TEXT NOT NULL,
    introduction TEXT NOT NULL DEFAULT '',
    profile_key  TEXT NOT NULL DEFAULT '',
    banner_key   TEXT NOT NULL DEFAULT '',
    stream_key   TEXT,
    suspended    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT uq_channels_owner_id UNIQUE (owner_id),
    CONSTRAINT uq_channels_handle UNIQUE (handle),
    CONSTRAINT uq_channels_stream_key UNIQUE (stream_key)
);

CREATE TABLE categories (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    slug    TEXT NOT NULL,
    name_ko TEXT NOT NULL,
    name_en TEXT NOT NULL,
    CONSTRAINT uq_categories_slug UNIQUE (slug)
);
CREATE INDEX ix_categories_name_ko ON categories (name_ko);

CREATE TABLE channel_categories (
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    PRIMARY KEY (channel_id, category_id)
);
CREATE INDEX ix_channel_categories_category_id ON channel_categories (category_id);

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    CONSTRAINT uq_tags_name UNIQUE (name)
);
