-- The partnership exchange's durable state (store.ExchangeState): agreement
-- suspensions, daily quota counts, the replay cache of the signature window
-- and the cases of hits with their decisions and pending releases. Times
-- are Unix microseconds, as elsewhere in this schema.
CREATE TABLE exchange_agreements (
	agreement TEXT PRIMARY KEY,
	suspended INTEGER NOT NULL CHECK (suspended IN (0, 1)),
	actor     TEXT NOT NULL,
	changed   INTEGER NOT NULL
);
CREATE TABLE exchange_quota (
	agreement   TEXT NOT NULL,
	partner     TEXT NOT NULL,
	search_type TEXT NOT NULL,
	day         TEXT NOT NULL,
	used        INTEGER NOT NULL CHECK (used >= 0),
	PRIMARY KEY (agreement, partner, search_type, day)
);
CREATE TABLE exchange_nonces (
	sender  TEXT NOT NULL,
	nonce   BLOB NOT NULL,
	expires INTEGER NOT NULL,
	PRIMARY KEY (sender, nonce)
);
CREATE INDEX exchange_nonces_expires ON exchange_nonces (expires);
CREATE TABLE exchange_cases (
	id        TEXT PRIMARY KEY,
	agreement TEXT NOT NULL,
	status    TEXT NOT NULL,
	data      BLOB NOT NULL
);
