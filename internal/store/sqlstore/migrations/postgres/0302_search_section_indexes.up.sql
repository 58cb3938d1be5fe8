-- Per-section partial indexes. With one GIN index and one (section, id) index for the whole
-- table, the planner could walk the primary key backwards through every document of the
-- other sections (all sessions, to reach the oldest channels). Partial indexes give each
-- section its own newest-first walk for common words and its own GIN index for rare ones.

DROP INDEX ix_search_docs_vec;
DROP INDEX ix_search_docs_section_id;
CREATE INDEX ix_search_docs_live_id ON search_docs (id) WHERE section = 'live';
CREATE INDEX ix_search_docs_past_id ON search_docs (id) WHERE section = 'past';
CREATE INDEX ix_search_docs_chan_id ON search_docs (id) WHERE section = 'chan';
CREATE INDEX ix_search_docs_live_vec ON search_docs USING GIN (vec) WHERE section = 'live';
CREATE INDEX ix_search_docs_past_vec ON search_docs USING GIN (vec) WHERE section = 'past';
CREATE INDEX ix_search_docs_chan_vec ON search_docs USING GIN (vec) WHERE section = 'chan';
ANALYZE search_docs;
