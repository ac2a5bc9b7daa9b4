-- 0004: the join tables refer to posts by rid (assigned in increasing
-- order) as well as by id. Their indexes keyed by post were keyed by the
-- random 16-hex id, so every commit of new posts dirtied (and wrote to the
-- WAL) one leaf page per post in each of them; keyed by rid they only grow
-- at the end. post_id stays where a listing orders by it: listings and
-- cursors keep their (published, id) order.

ALTER TABLE post_sources RENAME TO old_post_sources;
ALTER TABLE post_categories RENAME TO old_post_categories;
ALTER TABLE post_tags RENAME TO old_post_tags;

CREATE TABLE post_sources (
    post_rid  INTEGER NOT NULL REFERENCES posts (rid) ON DELETE CASCADE,
    post_id   TEXT NOT NULL, -- posts.id of post_rid
    source    TEXT NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    hash      TEXT NOT NULL DEFAULT '',
    published INTEGER NOT NULL
);
-- The rowid keeps the order in which sources first carried a post.
INSERT INTO post_sources (rowid, post_rid, post_id, source, key, hash, published)
    SELECT o.rowid, p.rid, o.post_id, o.source, o.key, o.hash, o.published
    FROM old_post_sources o CROSS JOIN posts p ON p.id = o.post_id
    ORDER BY o.rowid;

CREATE TABLE post_categories (
    category  TEXT NOT NULL,
    published INTEGER NOT NULL,
    post_id   TEXT NOT NULL,
    post_rid  INTEGER NOT NULL REFERENCES posts (rid) ON DELETE CASCADE,
    PRIMARY KEY (category, published, post_id)
) WITHOUT ROWID;
INSERT INTO post_categories (category, published, post_id, post_rid)
    SELECT o.category, o.published, o.post_id, p.rid
    FROM old_post_categories o CROSS JOIN posts p ON p.id = o.post_id
    ORDER BY o.category, o.published, o.post_id;

CREATE TABLE post_tags (
    tag       TEXT NOT NULL,
    published INTEGER NOT NULL,
    post_id   TEXT NOT NULL,
    post_rid  INTEGER NOT NULL REFERENCES posts (rid) ON DELETE CASCADE,
    PRIMARY KEY (tag, published, post_id)
) WITHOUT ROWID;
INSERT INTO post_tags (tag, published, post_id, post_rid)
    SELECT o.tag, o.published, o.post_id, p.rid
    FROM old_post_tags o CROSS JOIN posts p ON p.id = o.post_id
    ORDER BY o.tag, o.published, o.post_id;

-- Dropping the old tables drops their indexes and the trigger
-- post_sources_list; the new ones take their names. Indexes are built after
-- the rows are in, which sorts once instead of inserting at random.
DROP TABLE old_post_sources;
DROP TABLE old_post_categories;
DROP TABLE old_post_tags;

CREATE UNIQUE INDEX post_sources_post ON post_sources (post_rid, source);
CREATE UNIQUE INDEX post_sources_key ON post_sources (source, key);
-- Covering: listings and Prune walk it without reading the table.
CREATE INDEX post_sources_listing ON post_sources (source, published, post_id, post_rid);
CREATE INDEX post_categories_post ON post_categories (post_rid);
CREATE INDEX post_tags_post ON post_tags (post_rid);

-- Crediting a post to a source lists it under the source's category and tags.
CREATE TRIGGER post_sources_list AFTER INSERT ON post_sources BEGIN
    INSERT OR IGNORE INTO post_categories (category, published, post_id, post_rid)
        SELECT s.category, new.published, new.post_id, new.post_rid FROM sources s
        WHERE s.name = new.source AND s.category <> '';
    INSERT OR IGNORE INTO post_tags (tag, published, post_id, post_rid)
        SELECT j.value, new.published, new.post_id, new.post_rid FROM sources s, json_each(s.tags) j
        WHERE s.name = new.source AND j.value <> '';
END;
