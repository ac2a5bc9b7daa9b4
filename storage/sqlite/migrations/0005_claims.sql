-- 0005: claims. A poller leases a source before it polls it (Claim), and
-- its SavePoll is fenced by the lease's token, so that two pollers (serve
-- and a `refeed poll` from cron, or a poller that stalled past its lease)
-- never both write a source's poll. A source is claimable when
-- max(next_poll, lease_until) is at or before now: due and not leased.
ALTER TABLE sources ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sources_due ON sources (max(next_poll, lease_until)) WHERE status <> 'gone';

-- The fencing tokens: every Claim takes the next one.
INSERT INTO meta (key, value) VALUES ('lease_token', 0);

-- Named leases for singleton work (retention, config sync).
CREATE TABLE leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL,
    token INTEGER NOT NULL
) WITHOUT ROWID;
