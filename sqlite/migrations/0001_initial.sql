-- 0001: the initial schema. Times are integer Unix milliseconds; a zero
-- time.Time in a nullable column is stored as NULL.

CREATE TABLE domains (
	name        TEXT NOT NULL PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	retention   TEXT NOT NULL DEFAULT '',
	tags        TEXT NOT NULL DEFAULT '[]', -- JSON array of {"Key","Value"}
	created     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX domains_status ON domains (status, name);

CREATE TABLE types (
	kind        TEXT NOT NULL,
	domain      TEXT NOT NULL,
	name        TEXT NOT NULL,
	version     TEXT NOT NULL,
	status      TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created     INTEGER NOT NULL,
	deprecated  INTEGER,
	config      BLOB,
	PRIMARY KEY (kind, domain, name, version)
) WITHOUT ROWID;

CREATE INDEX types_domain_status ON types (domain, status);

CREATE TABLE executions (
	run_id             TEXT NOT NULL PRIMARY KEY,
	domain             TEXT NOT NULL,
	workflow_id        TEXT NOT NULL,
	type_name          TEXT NOT NULL,
	type_version       TEXT NOT NULL,
	start_time         INTEGER NOT NULL,
	close_time         INTEGER,
	open               INTEGER NOT NULL,
	close_status       TEXT NOT NULL DEFAULT '',
	tags               TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	parent_workflow_id TEXT NOT NULL DEFAULT '',
	parent_run_id      TEXT NOT NULL DEFAULT '',
	cancel_requested   INTEGER NOT NULL DEFAULT 0,
	version            INTEGER NOT NULL,
	state              BLOB
);

-- At most one open run per workflowId: the source of ErrAlreadyExists.
CREATE UNIQUE INDEX executions_open_workflow ON executions (domain, workflow_id) WHERE open = 1;
-- Visibility.
CREATE INDEX executions_start ON executions (domain, open, start_time, run_id);
CREATE INDEX executions_close ON executions (domain, close_time, run_id) WHERE open = 0;
CREATE INDEX executions_workflow ON executions (domain, workflow_id, start_time);
CREATE INDEX executions_type ON executions (domain, type_name, start_time);
CREATE INDEX executions_status ON executions (domain, close_status, close_time);

-- One row per distinct tag of a run, for tag filters.
CREATE TABLE execution_tags (
	domain     TEXT NOT NULL,
	tag        TEXT NOT NULL,
	start_time INTEGER NOT NULL,
	run_id     TEXT NOT NULL,
	PRIMARY KEY (domain, tag, start_time, run_id)
) WITHOUT ROWID;

CREATE INDEX execution_tags_run ON execution_tags (run_id);

CREATE TABLE events (
	run_id   TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	json     BLOB NOT NULL,
	PRIMARY KEY (run_id, event_id)
) WITHOUT ROWID;

CREATE TABLE tasks (
	run_id             TEXT NOT NULL,
	scheduled_event_id INTEGER NOT NULL,
	kind               TEXT NOT NULL,
	domain             TEXT NOT NULL,
	task_list          TEXT NOT NULL,
	priority           INTEGER NOT NULL,
	scheduled          INTEGER NOT NULL,
	PRIMARY KEY (run_id, scheduled_event_id)
) WITHOUT ROWID;

CREATE TABLE timers (
	run_id TEXT NOT NULL,
	key    TEXT NOT NULL,
	due    INTEGER NOT NULL,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE INDEX timers_due ON timers (due, run_id, key);

CREATE TABLE transfers (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id  TEXT NOT NULL,
	payload BLOB
);

CREATE INDEX transfers_run ON transfers (run_id);

CREATE TABLE meta (
	key   TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;
