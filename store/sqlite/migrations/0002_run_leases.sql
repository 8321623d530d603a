-- The lease a run is written under, so a run whose holder died can be told
-- from one that is still going (InterruptOrphanedRuns).
ALTER TABLE runs ADD COLUMN lease_name   TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_holder TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_token  INTEGER NOT NULL DEFAULT 0;

CREATE INDEX runs_by_status ON runs (connection, status);
