-- ebsp store schema, version 1 (PostgreSQL).
--
-- Identity 1-n Encounter 1-n Sample 1-n Template, Identity 1-n Flag.
-- Children are deleted with their parent (ON DELETE CASCADE), which is how
-- Erase and ExpireBefore remove everything an identity holds; every foreign
-- key has an index so that the cascade does not scan the child table.
--
-- Times are timestamptz (microsecond precision); an expiry of NULL means
-- none. source_agency and legal_basis are NOT NULL and non-empty on every
-- record. Image and template bytes are bytea: PostgreSQL moves large values
-- out of line (TOAST), so the row scans of the gallery load do not read
-- images.

CREATE TABLE identities (
	id            text        PRIMARY KEY CHECK (id <> ''),
	names         text[],
	date_of_birth text        NOT NULL DEFAULT '',
	nationality   text[],
	case_ref      text        NOT NULL DEFAULT '',
	created       timestamptz NOT NULL,
	source_agency text        NOT NULL CHECK (source_agency <> ''),
	legal_basis   text        NOT NULL CHECK (legal_basis <> ''),
	expiry        timestamptz
);
CREATE INDEX identities_expiry ON identities (expiry) WHERE expiry IS NOT NULL;

CREATE TABLE encounters (
	id            text        PRIMARY KEY CHECK (id <> ''),
	identity_id   text        NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
	time          timestamptz NOT NULL,
	place         text        NOT NULL DEFAULT '',
	agency        text        NOT NULL DEFAULT '',
	purpose       text        NOT NULL DEFAULT '',
	source_agency text        NOT NULL CHECK (source_agency <> ''),
	legal_basis   text        NOT NULL CHECK (legal_basis <> ''),
	expiry        timestamptz
);
CREATE INDEX encounters_identity ON encounters (identity_id);

CREATE TABLE samples (
	id            text        PRIMARY KEY CHECK (id <> ''),
	encounter_id  text        NOT NULL REFERENCES encounters (id) ON DELETE CASCADE,
	modality      text        NOT NULL CHECK (modality IN ('finger', 'face', 'iris', 'dna')),
	-- ANSI/NIST-ITL 1-2011 Table 8 friction ridge generalized position (FGP).
	position      smallint    NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 19),
	format        text        NOT NULL DEFAULT '',
	data          bytea,
	quality       smallint    NOT NULL DEFAULT 0 CHECK (quality BETWEEN 0 AND 100),
	source_agency text        NOT NULL CHECK (source_agency <> ''),
	legal_basis   text        NOT NULL CHECK (legal_basis <> ''),
	expiry        timestamptz
);
CREATE INDEX samples_encounter ON samples (encounter_id);

CREATE TABLE templates (
	id        text  PRIMARY KEY CHECK (id <> ''),
	sample_id text  NOT NULL REFERENCES samples (id) ON DELETE CASCADE,
	algorithm text  NOT NULL CHECK (algorithm <> ''),
	version   text  NOT NULL DEFAULT '',
	data      bytea NOT NULL CHECK (length(data) > 0)
);
CREATE INDEX templates_sample ON templates (sample_id);

CREATE TABLE flags (
	id            text        PRIMARY KEY CHECK (id <> ''),
	identity_id   text        NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
	category      text        NOT NULL CHECK (category <> ''),
	source        text        NOT NULL CHECK (source <> ''),
	created       timestamptz NOT NULL,
	source_agency text        NOT NULL CHECK (source_agency <> ''),
	legal_basis   text        NOT NULL CHECK (legal_basis <> ''),
	expiry        timestamptz
);
CREATE INDEX flags_identity ON flags (identity_id);
CREATE INDEX flags_expiry ON flags (expiry) WHERE expiry IS NOT NULL;
