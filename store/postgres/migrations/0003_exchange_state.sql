-- The partnership exchange's durable state (store.ExchangeState): agreement
-- suspensions, daily quota counts, the replay cache of the signature window
-- and the cases of hits with their decisions and pending releases.
CREATE TABLE exchange_agreements (
	agreement text        PRIMARY KEY,
	suspended boolean     NOT NULL,
	actor     text        NOT NULL,
	changed   timestamptz NOT NULL
);
CREATE TABLE exchange_quota (
	agreement   text    NOT NULL,
	partner     text    NOT NULL,
	search_type text    NOT NULL,
	day         text    NOT NULL,
	used        integer NOT NULL CHECK (used >= 0),
	PRIMARY KEY (agreement, partner, search_type, day)
);
CREATE TABLE exchange_nonces (
	sender  text        NOT NULL,
	nonce   bytea       NOT NULL,
	expires timestamptz NOT NULL,
	PRIMARY KEY (sender, nonce)
);
CREATE INDEX exchange_nonces_expires ON exchange_nonces (expires);
CREATE TABLE exchange_cases (
	id        text  PRIMARY KEY,
	agreement text  NOT NULL,
	status    text  NOT NULL,
	data      bytea NOT NULL
);
