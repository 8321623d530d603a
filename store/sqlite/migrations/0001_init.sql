-- One row per exported address, keyed the way Records orders them. Times
-- are microseconds since the Unix epoch, UTC; NULL is the zero time.
CREATE TABLE records (
	connection        TEXT    NOT NULL CHECK (connection <> ''),
	vrf               TEXT    NOT NULL,
	address           TEXT    NOT NULL,
	object_kind       TEXT    NOT NULL,
	object_id         INTEGER NOT NULL,
	object_name       TEXT    NOT NULL,
	status            TEXT    NOT NULL CHECK (status IN ('pending', 'exported', 'scan_triggered', 'scan_completed', 'error', 'removed')),
	reason            TEXT    NOT NULL,
	wug_device_id     TEXT    NOT NULL,
	scan_id           TEXT    NOT NULL,
	scan_state        TEXT    NOT NULL,
	scan_discovered   INTEGER NOT NULL,
	fingerprint       TEXT    NOT NULL,
	attempts          INTEGER NOT NULL CHECK (attempts >= 0),
	last_error        TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	exported_at       INTEGER,
	scan_triggered_at INTEGER,
	scan_completed_at INTEGER,
	PRIMARY KEY (connection, vrf, address)
) WITHOUT ROWID;

-- A status page (connection, status, after a key) and the counts by status
-- are range scans of this index; the counts never touch the table.
CREATE INDEX records_by_status ON records (connection, status, vrf, address);
CREATE INDEX records_by_update ON records (connection, updated_at);
CREATE INDEX records_by_object ON records (object_kind, object_id);

CREATE TABLE runs (
	id          TEXT    NOT NULL PRIMARY KEY,
	connection  TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	run_trigger TEXT    NOT NULL,
	filters     TEXT,
	status      TEXT    NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	selected    INTEGER NOT NULL,
	added       INTEGER NOT NULL,
	updated     INTEGER NOT NULL,
	scanned     INTEGER NOT NULL,
	unchanged   INTEGER NOT NULL,
	failed      INTEGER NOT NULL,
	error       TEXT    NOT NULL
);

-- Newest first; the rowid breaks ties in start time by insertion order.
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_connection ON runs (connection, started_at);

-- One row per lease name, kept after release so tokens keep increasing.
-- An empty holder is a released lease.
CREATE TABLE leases (
	name       TEXT    NOT NULL PRIMARY KEY,
	holder     TEXT    NOT NULL,
	token      INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
