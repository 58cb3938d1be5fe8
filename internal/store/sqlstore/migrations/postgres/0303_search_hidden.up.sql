-- Whether a document's channel is suspended, kept on the document so a search no longer
-- joins channels for every candidate it reads. Triggers keep it equal to
-- channels.suspended in the transaction that changes either table; every change raises
-- the index generation, as hiding or showing a channel changes what searches return.

ALTER TABLE search_docs ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE search_docs SET hidden = TRUE WHERE channel_id IN (SELECT id FROM channels WHERE suspended);

CREATE FUNCTION search_channels_suspended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_docs SET hidden = NEW.suspended WHERE channel_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER search_channels_suspended AFTER UPDATE OF suspended ON channels
    FOR EACH ROW WHEN (OLD.suspended IS DISTINCT FROM NEW.suspended)
    EXECUTE FUNCTION search_channels_suspended();

-- A document written for a suspended channel (or moved to another channel) takes the flag
-- of its channel.
CREATE FUNCTION search_docs_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.hidden := coalesce((SELECT suspended FROM channels WHERE id = NEW.channel_id), FALSE);
    RETURN NEW;
END;
$$;
CREATE TRIGGER search_docs_hidden BEFORE INSERT OR UPDATE OF channel_id ON search_docs
    FOR EACH ROW EXECUTE FUNCTION search_docs_hidden();

CREATE TRIGGER search_docs_gen_hidden AFTER UPDATE OF hidden ON search_docs
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_bump();
