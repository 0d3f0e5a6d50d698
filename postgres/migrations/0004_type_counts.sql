-- 0004: how many types of each kind a domain holds, so that registering a
-- type checks the limit (10,000 per kind and domain) by reading one row
-- rather than counting the domain's types in its transaction, which made
-- each registration cost time in proportion to the types already there,
-- and every refused registration into a full domain the most.
--
-- A trigger keeps the count with every insert and delete of a type, in the
-- same transaction, whichever swfd writes it: during a rolling upgrade the
-- previous release, which still counts the rows, keeps it right too. The
-- trigger is created before the count is filled: CREATE TRIGGER locks the
-- types table against writes until this migration commits, so a type
-- registered meanwhile is either in the count or counted by the trigger.

CREATE TABLE type_counts (
	kind   TEXT COLLATE "C" NOT NULL,
	domain TEXT COLLATE "C" NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (kind, domain)
);

CREATE FUNCTION types_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO type_counts (kind, domain, n) VALUES (NEW.kind, NEW.domain, 1)
			ON CONFLICT (kind, domain) DO UPDATE SET n = type_counts.n + 1;
	ELSE
		UPDATE type_counts SET n = n - 1 WHERE kind = OLD.kind AND domain = OLD.domain;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER types_count AFTER INSERT OR DELETE ON types
	FOR EACH ROW EXECUTE FUNCTION types_count();

INSERT INTO type_counts (kind, domain, n) SELECT kind, domain, count(*) FROM types GROUP BY kind, domain;
