-- Every raise of the index generation also notifies freely_search_generation (delivered when
-- the transaction commits, once per transaction), so a server keeps the generation in memory
-- and reads it again only after a change instead of before every search.

CREATE OR REPLACE FUNCTION search_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
    PERFORM pg_notify('freely_search_generation', '');
    RETURN NULL;
END;
$$;
