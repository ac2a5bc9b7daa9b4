-- 0001: refeed's schema on PostgreSQL. It follows storage/sqlite's tables
-- one for one, so that both backends answer the same: times are bigint unix
-- nanoseconds (UTC, 0 = unset; timestamptz keeps only microseconds, and a
-- cursor must round-trip exactly), and names, ids, categories and tags sort
-- by code point (COLLATE "C"), as SQLite's BINARY does, whatever the
-- database's locale.

-- The database clock, in the nanoseconds every time column holds. Every
-- lease and claim is on it, never on an instance's own clock.
CREATE FUNCTION refeed_now() RETURNS bigint LANGUAGE sql VOLATILE AS
    $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000 $$;

-- meta holds counters; "version" changes whenever what a listing shows does.
CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('version', 1);

-- The fencing tokens of claims: every Claim takes the next one.
CREATE SEQUENCE lease_tokens;

CREATE TABLE sources (
    name          text COLLATE "C" PRIMARY KEY,
    config_url    text NOT NULL,
    category      text COLLATE "C" NOT NULL,
    tags          text[] COLLATE "C" NOT NULL DEFAULT '{}',
    interval_ns   bigint NOT NULL DEFAULT 0,
    url           text NOT NULL DEFAULT '',
    etag          text NOT NULL DEFAULT '',
    last_modified text NOT NULL DEFAULT '',
    title         text NOT NULL DEFAULT '',
    site_url      text NOT NULL DEFAULT '',
    last_poll     bigint NOT NULL DEFAULT 0,
    last_success  bigint NOT NULL DEFAULT 0,
    status        text NOT NULL DEFAULT '',
    error_class   text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    failures      integer NOT NULL DEFAULT 0,
    next_poll     bigint NOT NULL DEFAULT 0,
    warning       text NOT NULL DEFAULT '',
    lease_owner   text NOT NULL DEFAULT '',
    lease_until   bigint NOT NULL DEFAULT 0,
    lease_token   bigint NOT NULL DEFAULT 0
);
-- Claimable when greatest(next_poll, lease_until) <= now: due and not leased.
CREATE INDEX sources_due ON sources ((greatest(next_poll, lease_until))) WHERE status <> 'gone';

CREATE TABLE posts (
    rid        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text COLLATE "C" NOT NULL UNIQUE,
    key        text NOT NULL,
    guid       text NOT NULL DEFAULT '',
    link       text NOT NULL DEFAULT '',
    title      text NOT NULL DEFAULT '',
    content    text NOT NULL DEFAULT '',
    summary    text NOT NULL DEFAULT '',
    author     text NOT NULL DEFAULT '',
    image      text NOT NULL DEFAULT '',
    enclosures text NOT NULL DEFAULT '', -- JSON array, '' when none
    published  bigint NOT NULL,
    updated    bigint NOT NULL,
    first_seen bigint NOT NULL,
    hash       text NOT NULL DEFAULT '',
    -- link_claim is the link of the first post stored with it (NULL on the
    -- others): the unique constraint that keeps "one link, one post across
    -- sources" true when two instances save the same link at once. A post
    -- whose source already carries a post with its link (feeds that give
    -- every item the home page as link) stores NULL.
    link_claim text UNIQUE,
    -- The search index, from Go (package storage/search): the title's and
    -- the body's tokens with positions, and the body's plain text for the
    -- terms the index cannot find.
    search     tsvector NOT NULL DEFAULT ''::tsvector,
    body_text  text NOT NULL DEFAULT ''
);
CREATE INDEX posts_published ON posts (published, id);
CREATE INDEX posts_link ON posts (link, rid) WHERE link <> '';
-- fastupdate with a large pending list (256 MB, about 20,000 posts): a
-- save appends its posts' entries to the list (cheap) instead of inserting
-- each of several hundred words into the tree; the list is merged in bulk,
-- key by key, by gin_clean_pending_list, which the store runs once saves
-- pause (cleaner.go), or by vacuum. Searches read the list too, so nothing
-- is missed meanwhile; they are slower while it is long.
CREATE INDEX posts_search ON posts USING gin (search) WITH (fastupdate = on, gin_pending_list_limit = 262144);
-- Vacuums triggered by inserts alone would merge the pending list in the
-- middle of a large poll; they wait for 100,000 new posts instead (vacuums
-- for updated and deleted rows, and anti-wraparound ones, are as usual).
ALTER TABLE posts SET (autovacuum_vacuum_insert_threshold = 100000);
-- lz4 compresses the long columns several times faster than the default
-- pglz, where the server has it (Debian's does).
DO $$ BEGIN
    ALTER TABLE posts ALTER content SET COMPRESSION lz4, ALTER summary SET COMPRESSION lz4,
        ALTER body_text SET COMPRESSION lz4, ALTER search SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
END $$;

-- post_sources credits a post to a source, in the order sources first
-- carried it (seq). (source, key) is the identity lookup; hash is what this
-- source last delivered.
CREATE TABLE post_sources (
    seq       bigint GENERATED ALWAYS AS IDENTITY, -- no index: only fillSources orders by it
    post_rid  bigint NOT NULL REFERENCES posts (rid) ON DELETE CASCADE,
    post_id   text COLLATE "C" NOT NULL,
    source    text COLLATE "C" NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    key       text NOT NULL,
    hash      text NOT NULL DEFAULT '',
    published bigint NOT NULL,
    UNIQUE (post_rid, source),
    UNIQUE (source, key)
);
CREATE INDEX post_sources_listing ON post_sources (source, published, post_id) INCLUDE (post_rid);

CREATE TABLE post_categories (
    category  text COLLATE "C" NOT NULL,
    published bigint NOT NULL,
    post_id   text COLLATE "C" NOT NULL,
    post_rid  bigint NOT NULL REFERENCES posts (rid) ON DELETE CASCADE,
    PRIMARY KEY (category, published, post_id)
);
CREATE INDEX post_categories_post ON post_categories (post_rid);

CREATE TABLE post_tags (
    tag       text COLLATE "C" NOT NULL,
    published bigint NOT NULL,
    post_id   text COLLATE "C" NOT NULL,
    post_rid  bigint NOT NULL REFERENCES posts (rid) ON DELETE CASCADE,
    PRIMARY KEY (tag, published, post_id)
);
CREATE INDEX post_tags_post ON post_tags (post_rid);

-- Crediting a post to a source lists it under the source's category and
-- tags: the backend writes those rows with the credits, a statement per
-- save (a row trigger would cost a PL/pgSQL call per post).

-- What Prune deleted, so that a post still in its feed is not stored again.
CREATE TABLE tombstones (
    source text COLLATE "C" NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    key    text NOT NULL,
    pruned bigint NOT NULL,
    PRIMARY KEY (source, key)
);
CREATE INDEX tombstones_pruned ON tombstones (pruned);

-- Named leases for singleton work (retention, config sync, WebSub pings).
CREATE TABLE leases (
    name  text COLLATE "C" PRIMARY KEY,
    owner text NOT NULL,
    until bigint NOT NULL,
    token bigint NOT NULL
);

-- The configs that running processes registered (RegisterConfig): a sync
-- never removes a source a live registration names.
CREATE TABLE configs (
    owner text COLLATE "C" PRIMARY KEY,
    names text[] COLLATE "C" NOT NULL,
    until bigint NOT NULL
);
