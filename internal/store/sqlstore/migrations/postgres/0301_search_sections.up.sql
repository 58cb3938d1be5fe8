-- Result sections become a column (they were marker words in the token list), indexed with
-- the document ID so the newest documents of one section can be walked backwards and
-- filtered by the tsquery when a word is too common for the GIN index to pay off.

ALTER TABLE search_docs ADD COLUMN section TEXT NOT NULL DEFAULT 'chan' CHECK (section IN ('live', 'past', 'chan'));
UPDATE search_docs SET
    section = CASE WHEN kind = 'channel' THEN 'chan' WHEN live THEN 'live' ELSE 'past' END,
    tok_meta = trim(replace(replace(replace(tok_meta,
        chr(57344) || 'live', ''), chr(57344) || 'past', ''), chr(57344) || 'chan', ''));
CREATE INDEX ix_search_docs_section_id ON search_docs (section, id);

-- The index generation: raised by every statement that changes search_docs in a way that can
-- change what matches or how it ranks (not by viewer counts, which change all the time), in
-- the changing transaction, so a node may reuse a ranking it computed while the generation
-- it read is current.
CREATE TABLE search_generation (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    gen BIGINT NOT NULL
);
INSERT INTO search_generation (id, gen) VALUES (1, 1);
CREATE FUNCTION search_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER search_docs_gen AFTER INSERT OR DELETE ON search_docs
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_bump();
CREATE TRIGGER search_docs_gen_update
    AFTER UPDATE OF tok_name, tok_tags, tok_body, tok_channel, tok_meta, section, live, channel_id ON search_docs
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_bump();
