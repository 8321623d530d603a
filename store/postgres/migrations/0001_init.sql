-- One row per exported address, keyed the way Records orders them. Key
-- columns use the "C" collation so that order is byte order, whatever the
-- database's default collation.
CREATE TABLE records (
	connection        text COLLATE "C" NOT NULL CHECK (connection <> ''),
	vrf               text COLLATE "C" NOT NULL,
	address           text COLLATE "C" NOT NULL,
	object_kind       text        NOT NULL,
	object_id         bigint      NOT NULL,
	object_name       text        NOT NULL,
	status            text        NOT NULL CHECK (status IN ('pending', 'exported', 'scan_triggered', 'scan_completed', 'error', 'removed')),
	reason            text        NOT NULL,
	wug_device_id     text        NOT NULL,
	scan_id           text        NOT NULL,
	scan_state        text        NOT NULL,
	scan_discovered   boolean     NOT NULL,
	fingerprint       text        NOT NULL,
	attempts          integer     NOT NULL CHECK (attempts >= 0),
	last_error        text        NOT NULL,
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL,
	exported_at       timestamptz,
	scan_triggered_at timestamptz,
	scan_completed_at timestamptz,
	PRIMARY KEY (connection, vrf, address)
);

-- A status page (connection, status, after a key) is a range scan of this
-- index in key order; counts by status read it too.
CREATE INDEX records_by_status ON records (connection, status, vrf, address);
CREATE INDEX records_by_update ON records (connection, updated_at);
CREATE INDEX records_by_object ON records (object_kind, object_id);

CREATE TABLE runs (
	seq         bigint      GENERATED ALWAYS AS IDENTITY,
	id          text        NOT NULL PRIMARY KEY,
	connection  text        NOT NULL,
	kind        text        NOT NULL,
	run_trigger text        NOT NULL,
	filters     jsonb,
	status      text        NOT NULL,
	started_at  timestamptz NOT NULL,
	finished_at timestamptz,
	selected    integer     NOT NULL,
	added       integer     NOT NULL,
	updated     integer     NOT NULL,
	scanned     integer     NOT NULL,
	unchanged   integer     NOT NULL,
	failed      integer     NOT NULL,
	error       text        NOT NULL
);

-- Newest first; seq breaks ties in start time by insertion order.
CREATE INDEX runs_by_start ON runs (started_at DESC, seq DESC);
CREATE INDEX runs_by_connection ON runs (connection, started_at DESC, seq DESC);

-- One row per lease name, kept after release so tokens keep increasing.
-- An empty holder is a released lease. Expiry is judged by the database
-- clock, the one clock every replica shares.
CREATE TABLE leases (
	name       text        NOT NULL PRIMARY KEY,
	holder     text        NOT NULL,
	token      bigint      NOT NULL,
	expires_at timestamptz NOT NULL
);
