-- ebsp store schema, version 1 (SQLite).
--
-- Identity 1-n Encounter 1-n Sample 1-n Template, Identity 1-n Flag.
-- Children are deleted with their parent (ON DELETE CASCADE; the engine
-- turns PRAGMA foreign_keys on for every connection), which is how Erase
-- and ExpireBefore remove everything an identity holds.
--
-- Times are INTEGER microseconds since 1970-01-01 UTC (the precision of a
-- PostgreSQL timestamptz, so both engines round-trip the same values); an
-- expiry of NULL means none. Lists (names, nationality) are JSON arrays.
-- source_agency and legal_basis are NOT NULL and non-empty on every record.

CREATE TABLE identities (
	id            TEXT    PRIMARY KEY NOT NULL CHECK (id <> ''),
	names         TEXT,
	date_of_birth TEXT    NOT NULL DEFAULT '',
	nationality   TEXT,
	case_ref      TEXT    NOT NULL DEFAULT '',
	created       INTEGER NOT NULL,
	source_agency TEXT    NOT NULL CHECK (source_agency <> ''),
	legal_basis   TEXT    NOT NULL CHECK (legal_basis <> ''),
	expiry        INTEGER
);
CREATE INDEX identities_expiry ON identities (expiry) WHERE expiry IS NOT NULL;

CREATE TABLE encounters (
	id            TEXT    PRIMARY KEY NOT NULL CHECK (id <> ''),
	identity_id   TEXT    NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
	time          INTEGER NOT NULL,
	place         TEXT    NOT NULL DEFAULT '',
	agency        TEXT    NOT NULL DEFAULT '',
	purpose       TEXT    NOT NULL DEFAULT '',
	source_agency TEXT    NOT NULL CHECK (source_agency <> ''),
	legal_basis   TEXT    NOT NULL CHECK (legal_basis <> ''),
	expiry        INTEGER
);
CREATE INDEX encounters_identity ON encounters (identity_id);

CREATE TABLE samples (
	id            TEXT    PRIMARY KEY NOT NULL CHECK (id <> ''),
	encounter_id  TEXT    NOT NULL REFERENCES encounters (id) ON DELETE CASCADE,
	modality      TEXT    NOT NULL CHECK (modality IN ('finger', 'face', 'iris', 'dna')),
	-- ANSI/NIST-ITL 1-2011 Table 8 friction ridge generalized position (FGP).
	position      INTEGER NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 19),
	format        TEXT    NOT NULL DEFAULT '',
	data          BLOB,
	quality       INTEGER NOT NULL DEFAULT 0 CHECK (quality BETWEEN 0 AND 100),
	source_agency TEXT    NOT NULL CHECK (source_agency <> ''),
	legal_basis   TEXT    NOT NULL CHECK (legal_basis <> ''),
	expiry        INTEGER
);
CREATE INDEX samples_encounter ON samples (encounter_id);

CREATE TABLE templates (
	id        TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
	sample_id TEXT NOT NULL REFERENCES samples (id) ON DELETE CASCADE,
	algorithm TEXT NOT NULL CHECK (algorithm <> ''),
	version   TEXT NOT NULL DEFAULT '',
	data      BLOB NOT NULL CHECK (length(data) > 0)
);
CREATE INDEX templates_sample ON templates (sample_id);

CREATE TABLE flags (
	id            TEXT    PRIMARY KEY NOT NULL CHECK (id <> ''),
	identity_id   TEXT    NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
	category      TEXT    NOT NULL CHECK (category <> ''),
	source        TEXT    NOT NULL CHECK (source <> ''),
	created       INTEGER NOT NULL,
	source_agency TEXT    NOT NULL CHECK (source_agency <> ''),
	legal_basis   TEXT    NOT NULL CHECK (legal_basis <> ''),
	expiry        INTEGER
);
CREATE INDEX flags_identity ON flags (identity_id);
CREATE INDEX flags_expiry ON flags (expiry) WHERE expiry IS NOT NULL;
