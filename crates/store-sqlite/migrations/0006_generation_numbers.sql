-- Generations numbered per feed (1, 2, 3 ... for each feed), as people
-- count a feed's imports; the id stays the row's key. Existing rows are
-- numbered by their order within the feed.
ALTER TABLE feed_generations ADD COLUMN number INTEGER NOT NULL DEFAULT 0;
UPDATE feed_generations SET number = (
    SELECT COUNT(*) FROM feed_generations g
    WHERE g.feed_id = feed_generations.feed_id AND g.id <= feed_generations.id
);
