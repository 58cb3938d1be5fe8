-- Search index: one row per channel and per live session, holding the text as written (for
-- re-analysis) and the analysed tokens of each field, space-separated. search_fts indexes the
-- tokens with FTS5's ascii tokenizer, which only splits at ASCII spaces and punctuation —
-- tokens are made of letters and digits, so each stays one token. The index carries no
-- positions (detail=none): queries only ask which documents hold which words; ranking
-- happens in the application. Triggers keep search_fts equal to search_docs, including
-- rows removed by foreign-key cascades.
-- analyzed is the analysis version of the tokens (0 while pending); rev counts writes so
-- a late re-analysis never overwrites newer tokens.

CREATE TABLE search_docs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('channel', 'session')),
    ref_id       INTEGER NOT NULL,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    session_id   INTEGER REFERENCES live_sessions (id) ON DELETE CASCADE,
    category_id  INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    live         BOOLEAN NOT NULL DEFAULT FALSE,
    viewers      INTEGER NOT NULL DEFAULT 0,
    at           TIMESTAMP NOT NULL,
    name_text    TEXT NOT NULL DEFAULT '',
    tags_text    TEXT NOT NULL DEFAULT '',
    body_text    TEXT NOT NULL DEFAULT '',
    channel_text TEXT NOT NULL DEFAULT '',
    tok_name     TEXT NOT NULL DEFAULT '',
    tok_tags     TEXT NOT NULL DEFAULT '',
    tok_body     TEXT NOT NULL DEFAULT '',
    tok_channel  TEXT NOT NULL DEFAULT '',
    tok_meta     TEXT NOT NULL DEFAULT '',
    analyzed     INTEGER NOT NULL DEFAULT 0,
    rev          INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT uq_search_docs_ref UNIQUE (kind, ref_id)
);
CREATE INDEX ix_search_docs_channel_id ON search_docs (channel_id);
CREATE INDEX ix_search_docs_session_id ON search_docs (session_id);
CREATE INDEX ix_search_docs_analyzed ON search_docs (analyzed);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    tok_name, tok_tags, tok_body, tok_channel, tok_meta,
    content = 'search_docs', content_rowid = 'id',
    tokenize = 'ascii', detail = 'none'
);

-- Document frequencies of tokens, for ranking.
CREATE VIRTUAL TABLE search_vocab USING fts5vocab (search_fts, 'row');

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    VALUES (new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta);
END;

CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    VALUES ('delete', old.id, old.tok_name, old.tok_tags, old.tok_body, old.tok_channel, old.tok_meta);
END;

CREATE TRIGGER search_docs_au AFTER UPDATE OF tok_name, tok_tags, tok_body, tok_channel, tok_meta ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    VALUES ('delete', old.id, old.tok_name, old.tok_tags, old.tok_body, old.tok_channel, old.tok_meta);
    INSERT INTO search_fts (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    VALUES (new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta);
END;
