-- 0005: the details of each started activity's last heartbeat, by run and
-- the activity's scheduled event id. They were kept inside the run's state,
-- so that every step of a run rewrote all its activities' details (a run
-- with 1,000 started activities holding 2 KB each rewrote over 2 MB per
-- heartbeat); a heartbeat now writes its own activity's row only. A row
-- goes when its activity closes, and every row of a run when it closes.
--
-- Details already inside a stored state stay there: swfd reads them from
-- it, and moves them here with the run's next commit. During a rolling
-- upgrade a node of the previous release still writes them into the state,
-- where they win over a row (its write is the later one).

CREATE TABLE heartbeats (
	run_id             TEXT COLLATE "C" NOT NULL,
	scheduled_event_id BIGINT NOT NULL,
	details            BYTEA NOT NULL,
	PRIMARY KEY (run_id, scheduled_event_id)
);
