-- Whether a document's channel is suspended, kept on the document so a search no longer
-- joins channels for every candidate it reads. Triggers keep it equal to
-- channels.suspended in the transaction that changes either table; every change raises
-- the index generation, as hiding or showing a channel changes what searches return.

ALTER TABLE search_docs ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE search_docs SET hidden = TRUE WHERE channel_id IN (SELECT id FROM channels WHERE suspended);

CREATE TRIGGER search_channels_suspended AFTER UPDATE OF suspended ON channels
WHEN old.suspended IS NOT new.suspended BEGIN
    UPDATE search_docs SET hidden = new.suspended WHERE channel_id = new.id;
END;

-- A document written for a suspended channel (or moved to another channel) takes the flag
-- of its channel; the WHEN clauses keep the usual write, of a visible channel, at one
-- lookup.
CREATE TRIGGER search_docs_hidden_ai AFTER INSERT ON search_docs
WHEN new.hidden IS NOT coalesce((SELECT suspended FROM channels WHERE id = new.channel_id), FALSE) BEGIN
    UPDATE search_docs SET hidden = NOT hidden WHERE id = new.id;
END;
CREATE TRIGGER search_docs_hidden_au AFTER UPDATE OF channel_id ON search_docs
WHEN new.hidden IS NOT coalesce((SELECT suspended FROM channels WHERE id = new.channel_id), FALSE) BEGIN
    UPDATE search_docs SET hidden = NOT hidden WHERE id = new.id;
END;

CREATE TRIGGER search_docs_gen_hidden AFTER UPDATE OF hidden ON search_docs
WHEN old.hidden IS NOT new.hidden BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
END;
