-- 0004: how many types of each kind a domain holds, so that registering a
-- type checks the limit (10,000 per kind and domain) by reading one row
-- rather than counting the domain's types in the write transaction, which
-- made each registration cost time in proportion to the types already
-- there, and every refused registration into a full domain the most.
-- Triggers keep the count with every insert and delete of a type, in the
-- same transaction; it is filled here from the types already stored.

CREATE TABLE type_counts (
	kind   TEXT NOT NULL,
	domain TEXT NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (kind, domain)
) WITHOUT ROWID;

INSERT INTO type_counts (kind, domain, n) SELECT kind, domain, count(*) FROM types GROUP BY kind, domain;

CREATE TRIGGER types_count_insert AFTER INSERT ON types BEGIN
	INSERT INTO type_counts (kind, domain, n) VALUES (NEW.kind, NEW.domain, 1)
		ON CONFLICT (kind, domain) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER types_count_delete AFTER DELETE ON types BEGIN
	UPDATE type_counts SET n = n - 1 WHERE kind = OLD.kind AND domain = OLD.domain;
END;
