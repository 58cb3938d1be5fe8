-- PostgreSQL replaces its search indexes with per-section ones in this version; SQLite has
-- had one FTS table per section since 0301 and only refreshes its planner statistics.
ANALYZE search_docs;
