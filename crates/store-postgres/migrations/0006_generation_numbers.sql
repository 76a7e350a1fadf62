-- Generations numbered per feed (1, 2, 3 ... for each feed), as people
-- count a feed's imports; the id stays the row's key. Existing rows are
-- numbered by their order within the feed.
ALTER TABLE feed_generations ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
UPDATE feed_generations g SET number = r.n
FROM (SELECT id, row_number() OVER (PARTITION BY feed_id ORDER BY id) AS n
      FROM feed_generations) r
WHERE r.id = g.id;
