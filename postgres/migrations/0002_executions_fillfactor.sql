-- 0002: leave a quarter of each executions page free. Nearly every step
-- of an open run rewrites its row (state and version) without touching an
-- indexed column; with room on the page PostgreSQL keeps the new version
-- there (a HOT update) instead of adding an entry to each of the table's
-- indexes. Applies to pages written from now on.
ALTER TABLE executions SET (fillfactor = 75);
