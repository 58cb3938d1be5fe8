-- PostgreSQL notifies generation raises from this version so servers keep the generation in
-- memory; SQLite has one process and reads it in process, so nothing changes here.
SELECT 1;
