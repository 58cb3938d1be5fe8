-- The index generation also covers what result cards show, so the search service may reuse
-- cards read under the current generation. Titles, tags, introductions and the live flag
-- already raise it through search_docs; a channel's picture and names and a category's
-- names live in their own tables.

CREATE TRIGGER search_channels_card AFTER UPDATE OF profile_key, display_name, handle ON channels
WHEN old.profile_key IS NOT new.profile_key OR old.display_name IS NOT new.display_name OR old.handle IS NOT new.handle
BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
END;

CREATE TRIGGER search_categories_card AFTER UPDATE OF slug, name_ko, name_en ON categories
BEGIN
    UPDATE search_generation SET gen = gen + 1 WHERE id = 1;
END;
