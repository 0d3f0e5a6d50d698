-- 0002: indexes for the visibility operations. Every List/Count with at
-- most one selector (workflowId, type name, type name and version, tag,
-- close status) and one time filter is answered from one index range read in
-- result order (time, run_id), so a page of 100 reads about 100 index
-- entries however large the domain, and a count reads only index entries,
-- never the table.
--
-- Open runs and closed runs by start time share indexes with "open" before
-- the time; closed runs by close time have partial indexes WHERE open = 0
-- (queries spell "open = 0" literally so that the planner may use them).

DROP INDEX executions_workflow;
DROP INDEX executions_type;
DROP INDEX executions_status;

-- (domain, open, start_time, run_id) and (domain, close_time, run_id)
-- WHERE open = 0 of 0001 serve the queries without a selector.

-- workflowId: start_time before open so that LatestRun's order
-- (start_time DESC, open DESC, run_id DESC) is the index order too.
CREATE INDEX executions_workflow_start ON executions (domain, workflow_id, start_time, open, run_id);
CREATE INDEX executions_workflow_close ON executions (domain, workflow_id, close_time, run_id) WHERE open = 0;

-- Type name (all versions); the version rides along so that counts by
-- name and version can be answered from these too.
CREATE INDEX executions_type_start ON executions (domain, type_name, open, start_time, run_id, type_version);
CREATE INDEX executions_type_close ON executions (domain, type_name, close_time, run_id, type_version) WHERE open = 0;

-- Type name and version.
CREATE INDEX executions_version_start ON executions (domain, type_name, type_version, open, start_time, run_id);
CREATE INDEX executions_version_close ON executions (domain, type_name, type_version, close_time, run_id) WHERE open = 0;

-- Close status (closed runs only).
CREATE INDEX executions_status_start ON executions (domain, close_status, start_time, run_id) WHERE open = 0;
CREATE INDEX executions_status_close ON executions (domain, close_status, close_time, run_id) WHERE open = 0;

-- Tags: one row per distinct tag of a run, carrying the run's open flag and
-- times (kept up to date when the run closes), so that a tag filter reads
-- only the runs it returns. There is no index by run_id: a run's rows are
-- found by primary key from the run's own tags, open flag and start time.
CREATE TABLE execution_tag_index (
	domain     TEXT NOT NULL,
	tag        TEXT NOT NULL,
	open       INTEGER NOT NULL,
	start_time INTEGER NOT NULL,
	close_time INTEGER,
	run_id     TEXT NOT NULL,
	PRIMARY KEY (domain, tag, open, start_time, run_id)
) WITHOUT ROWID;

CREATE INDEX execution_tag_index_close ON execution_tag_index (domain, tag, close_time, run_id) WHERE open = 0;

INSERT INTO execution_tag_index (domain, tag, open, start_time, close_time, run_id)
	SELECT t.domain, t.tag, e.open, e.start_time, e.close_time, t.run_id
	FROM execution_tags t JOIN executions e ON e.run_id = t.run_id;

DROP TABLE execution_tags;
