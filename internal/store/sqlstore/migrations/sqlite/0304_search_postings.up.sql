-- PostgreSQL adds a postings table in this version; SQLite's FTS5 tables already are
-- postings lists walked newest first, so it only refreshes its planner statistics.
ANALYZE search_docs;
