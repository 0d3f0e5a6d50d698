-- 0003: a description may be given empty, and SWF then shows it as "",
-- while one not given is left out. description stays '' for both, as rows
-- written before have it (they read as not given, as before);
-- empty_description tells the one given empty. A tag's value given empty is
-- marked likewise in the tags JSON ("EmptyValue": true), which needs no
-- change here.

ALTER TABLE domains ADD COLUMN empty_description INTEGER NOT NULL DEFAULT 0;
ALTER TABLE types ADD COLUMN empty_description INTEGER NOT NULL DEFAULT 0;
