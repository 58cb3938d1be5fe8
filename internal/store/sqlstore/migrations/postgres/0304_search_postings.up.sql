-- Postings: one row per (section, token, document), the inverted index in the order a
-- search reads it. The GIN indexes answer "which documents hold this word" but not "the
-- newest fifty of them": a word held by a few thousand documents meant fetching all of
-- them from the table (bitmap scan) or walking the section newest first and testing
-- thousands of rows. A backward walk of this primary key reads the newest documents of a
-- word from the index alone, and PostgreSQL can intersect the words of a query by joining
-- these walks. Triggers keep it equal to search_docs.vec in the writing transaction.

CREATE TABLE search_postings (
    section TEXT NOT NULL,
    token   TEXT NOT NULL,
    doc_id  BIGINT NOT NULL,
    PRIMARY KEY (section, token, doc_id)
);

-- Deleting by (section, token, doc_id) uses the primary key, so no second index on doc_id
-- is needed.
CREATE FUNCTION search_postings_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM search_postings
        WHERE section = OLD.section AND doc_id = OLD.id
          AND token = ANY (tsvector_to_array(OLD.vec));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO search_postings (section, token, doc_id)
        SELECT NEW.section, t, NEW.id FROM unnest(tsvector_to_array(NEW.vec)) AS t;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER search_postings_insert AFTER INSERT ON search_docs
    FOR EACH ROW EXECUTE FUNCTION search_postings_sync();
CREATE TRIGGER search_postings_delete AFTER DELETE ON search_docs
    FOR EACH ROW EXECUTE FUNCTION search_postings_sync();
-- A rewrite with the same tokens (a reindex, a title edit that analyses alike) leaves the
-- postings alone.
CREATE TRIGGER search_postings_update AFTER UPDATE ON search_docs
    FOR EACH ROW WHEN (OLD.vec IS DISTINCT FROM NEW.vec OR OLD.section IS DISTINCT FROM NEW.section OR OLD.id <> NEW.id)
    EXECUTE FUNCTION search_postings_sync();

INSERT INTO search_postings (section, token, doc_id)
SELECT section, t, id FROM search_docs, unnest(tsvector_to_array(vec)) AS t;
ANALYZE search_postings;
