-- 0001: the initial schema. Times are BIGINT Unix milliseconds; a zero
-- time.Time in a nullable column is stored as NULL. Every text column that
-- is compared or ordered uses COLLATE "C" (byte order, as SWF and the SQLite
-- driver order), so that indexes serve the queries whatever the database's
-- default collation.
--
-- Booleans are BOOLEAN and partial indexes say WHERE open / WHERE NOT open;
-- queries spell the open flag literally so that the planner may use them.

CREATE TABLE domains (
	name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	status      TEXT COLLATE "C" NOT NULL,
	retention   TEXT NOT NULL DEFAULT '',
	tags        TEXT NOT NULL DEFAULT '[]', -- JSON array of {"Key","Value"}
	created     BIGINT NOT NULL
);

CREATE INDEX domains_status ON domains (status, name);

CREATE TABLE types (
	kind        TEXT COLLATE "C" NOT NULL,
	domain      TEXT COLLATE "C" NOT NULL,
	name        TEXT COLLATE "C" NOT NULL,
	version     TEXT COLLATE "C" NOT NULL,
	status      TEXT COLLATE "C" NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created     BIGINT NOT NULL,
	deprecated  BIGINT,
	config      BYTEA,
	PRIMARY KEY (kind, domain, name, version)
);

CREATE INDEX types_domain_status ON types (domain, status);

CREATE TABLE executions (
	run_id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	domain             TEXT COLLATE "C" NOT NULL,
	workflow_id        TEXT COLLATE "C" NOT NULL,
	type_name          TEXT COLLATE "C" NOT NULL,
	type_version       TEXT COLLATE "C" NOT NULL,
	start_time         BIGINT NOT NULL,
	close_time         BIGINT,
	open               BOOLEAN NOT NULL,
	close_status       TEXT COLLATE "C" NOT NULL DEFAULT '',
	tags               TEXT[] NOT NULL DEFAULT '{}',
	parent_workflow_id TEXT NOT NULL DEFAULT '',
	parent_run_id      TEXT NOT NULL DEFAULT '',
	cancel_requested   BOOLEAN NOT NULL DEFAULT false,
	version            BIGINT NOT NULL,
	state              BYTEA
);

-- At most one open run per workflowId: the source of ErrAlreadyExists, also
-- between swfd nodes sharing the database.
CREATE UNIQUE INDEX executions_open_workflow ON executions (domain, workflow_id) WHERE open;

-- Visibility: every List/Count with at most one selector (workflowId, type
-- name, type name and version, tag, close status) and one time filter is one
-- index range read in result order (time, run_id).
CREATE INDEX executions_start ON executions (domain, open, start_time, run_id);
CREATE INDEX executions_close ON executions (domain, close_time, run_id) WHERE NOT open;
-- workflowId: start_time before open so that LatestRun's order
-- (start_time DESC, open DESC, run_id DESC) is the index order too.
CREATE INDEX executions_workflow_start ON executions (domain, workflow_id, start_time, open, run_id);
CREATE INDEX executions_workflow_close ON executions (domain, workflow_id, close_time, run_id) WHERE NOT open;
CREATE INDEX executions_type_start ON executions (domain, type_name, open, start_time, run_id, type_version);
CREATE INDEX executions_type_close ON executions (domain, type_name, close_time, run_id, type_version) WHERE NOT open;
CREATE INDEX executions_version_start ON executions (domain, type_name, type_version, open, start_time, run_id);
CREATE INDEX executions_version_close ON executions (domain, type_name, type_version, close_time, run_id) WHERE NOT open;
CREATE INDEX executions_status_start ON executions (domain, close_status, start_time, run_id) WHERE NOT open;
CREATE INDEX executions_status_close ON executions (domain, close_status, close_time, run_id) WHERE NOT open;

-- One row per distinct tag of a run, carrying the run's domain, open flag
-- and times (kept up to date by every update), so that a tag filter reads
-- only the runs it returns.
CREATE TABLE execution_tags (
	run_id     TEXT COLLATE "C" NOT NULL,
	tag        TEXT COLLATE "C" NOT NULL,
	domain     TEXT COLLATE "C" NOT NULL,
	open       BOOLEAN NOT NULL,
	start_time BIGINT NOT NULL,
	close_time BIGINT,
	PRIMARY KEY (run_id, tag)
);

CREATE INDEX execution_tags_start ON execution_tags (domain, tag, open, start_time, run_id);
CREATE INDEX execution_tags_close ON execution_tags (domain, tag, close_time, run_id) WHERE NOT open;

CREATE TABLE events (
	run_id   TEXT COLLATE "C" NOT NULL,
	event_id BIGINT NOT NULL,
	json     BYTEA NOT NULL,
	PRIMARY KEY (run_id, event_id)
);

CREATE TABLE tasks (
	run_id             TEXT COLLATE "C" NOT NULL,
	scheduled_event_id BIGINT NOT NULL,
	kind               TEXT NOT NULL,
	domain             TEXT NOT NULL,
	task_list          TEXT NOT NULL,
	priority           INTEGER NOT NULL,
	scheduled          BIGINT NOT NULL,
	PRIMARY KEY (run_id, scheduled_event_id)
);

CREATE TABLE timers (
	run_id TEXT COLLATE "C" NOT NULL,
	key    TEXT COLLATE "C" NOT NULL,
	due    BIGINT NOT NULL,
	PRIMARY KEY (run_id, key)
);

CREATE INDEX timers_due ON timers (due, run_id, key);

-- Transfer ids come from an identity column: unique and increasing in the
-- order they are taken (which, between concurrent writers, is not quite the
-- order of their commits).
CREATE TABLE transfers (
	id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	run_id  TEXT COLLATE "C" NOT NULL,
	payload BYTEA
);

CREATE INDEX transfers_run ON transfers (run_id);

CREATE TABLE meta (
	key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	value BYTEA NOT NULL
);
