-- 0006: what a successful poll found wrong with a source but recovered
-- from (a charset that lies), shown on /healthz.
ALTER TABLE sources ADD COLUMN warning TEXT NOT NULL DEFAULT '';
