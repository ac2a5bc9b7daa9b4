-- 0003: posts waiting for the search index. SavePoll queues the rowids of
-- new and changed posts in the same transaction as the posts; the store
-- indexes them later, in batches of their own (index.go): in the background
-- while the writer is idle, and always before a search runs.
CREATE TABLE search_queue (
    rid     INTEGER PRIMARY KEY, -- posts.rid
    indexed INTEGER NOT NULL     -- 1: the index holds an older text to delete first
);
-- A deleted post leaves nothing to index (posts_fts_delete removes what
-- the index holds of it).
CREATE TRIGGER search_queue_delete AFTER DELETE ON posts BEGIN
    DELETE FROM search_queue WHERE rid = old.rid;
END;
