-- One FTS5 table per result section instead of one table filtered by marker words: a search
-- of one section then reads only that section's lists, and no longer intersects every query
-- with a list as long as the section. The tables are contentless (search_docs holds the
-- text) and keyed by the negated document ID, so FTS5 walks them in its fast, forward
-- direction while returning the newest documents first.

DROP TRIGGER search_docs_ai;
DROP TRIGGER search_docs_ad;
DROP TRIGGER search_docs_au;
DROP TABLE search_vocab;
DROP TABLE search_fts;

ALTER TABLE search_docs ADD COLUMN section TEXT NOT NULL DEFAULT 'chan' CHECK (section IN ('live', 'past', 'chan'));
UPDATE search_docs SET
    section = CASE WHEN kind = 'channel' THEN 'chan' WHEN live THEN 'live' ELSE 'past' END,
    tok_meta = trim(replace(replace(replace(tok_meta,
        char(57344) || 'live', ''), char(57344) || 'past', ''), char(57344) || 'chan', ''));

CREATE VIRTUAL TABLE search_fts_live USING fts5 (
    tok_name, tok_tags, tok_body, tok_channel, tok_meta,
    content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none'
);
CREATE VIRTUAL TABLE search_fts_past USING fts5 (
    tok_name, tok_tags, tok_body, tok_channel, tok_meta,
    content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none'
);
CREATE VIRTUAL TABLE search_fts_chan USING fts5 (
    tok_name, tok_tags, tok_body, tok_channel, tok_meta,
    content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none'
);
CREATE VIRTUAL TABLE search_vocab_live USING fts5vocab (search_fts_live, 'row');
CREATE VIRTUAL TABLE search_vocab_past USING fts5vocab (search_fts_past, 'row');
CREATE VIRTUAL TABLE search_vocab_chan USING fts5vocab (search_fts_chan, 'row');

INSERT INTO search_fts_live (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    SELECT -id, tok_name, tok_tags, tok_body, tok_channel, tok_meta FROM search_docs WHERE section = 'live';
INSERT INTO search_fts_past (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    SELECT -id, tok_name, tok_tags, tok_body, tok_channel, tok_meta FROM search_docs WHERE section = 'past';
INSERT INTO search_fts_chan (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
    SELECT -id, tok_name, tok_tags, tok_body, tok_channel, tok_meta FROM search_docs WHERE section = 'chan';

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts_live (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
        SELECT -new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta WHERE new.section = 'live';
    INSERT INTO search_fts_past (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
        SELECT -new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta WHERE new.section = 'past';
    INSERT INTO search_fts_chan (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
        SELECT -new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta WHERE new.section = 'chan';
END;

CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_fts_live WHERE rowid = -old.id;
    DELETE FROM search_fts_past WHERE rowid = -old.id;
    DELETE FROM search_fts_chan WHERE rowid = -old.id;
END;

CREATE TRIGGER search_docs_au AFTER UPDATE OF tok_name, tok_tags, tok_body, tok_channel, tok_meta, section ON search_docs BEGIN
    DELETE FROM search_fts_live WHERE rowid = -old.id;
    DELETE FROM search_fts_past WHERE rowid = -old.id;
    DELETE FROM search_fts_chan WHERE rowid = -old.id;
    INSERT INTO search_fts_live (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
        SELECT -new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta WHERE new.section = 'live';
    INSERT INTO search_fts_past (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
        SELECT -new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta WHERE new.section = 'past';
    INSERT INTO search_fts_chan (rowid, tok_name, tok_tags, tok_body, tok_channel, tok_meta)
        SELECT -new.id, new.tok_name, new.tok_tags, new.tok_body, new.tok_channel, new.tok_meta WHERE new.section = 'chan';
END;

-- The index generation: raised by every change to search_docs that can change what matches
-- or how it ranks (not by viewer counts, which change all the time), in the changing
-- transaction, so a node may reuse a ranking it computed while the generation it read is
-- current.
CREATE TABLE search_generation (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL
);
INSERT INTO search_generation (id, gen) VALUES (1, 1);
CREATE TRIGGER search_docs_gen_ai AFTER INSERT ON search_docs BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER search_docs_gen_ad AFTER DELETE ON search_docs BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
END;
CREATE TRIGGER search_docs_gen_au AFTER UPDATE OF tok_name, tok_tags, tok_body, tok_channel, tok_meta, section, live, channel_id ON search_docs BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
END;
