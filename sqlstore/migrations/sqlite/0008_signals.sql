-- Signals: reports of suspected problems from the public form, the API
-- and the intake mailbox, waiting in the triage queue. contact is personal
-- data (staff only). message_id makes reading an e-mail twice one signal;
-- source_net (the sender's network) throttles floods of the form.
-- security_incident_id becomes a foreign key once security incidents exist.
CREATE TABLE signals (
	id                   INTEGER PRIMARY KEY,
	receipt              TEXT    NOT NULL UNIQUE,
	source               TEXT    NOT NULL,
	subject              TEXT    NOT NULL,
	body                 TEXT    NOT NULL,
	contact              TEXT    NOT NULL DEFAULT '',
	attachments          TEXT    NOT NULL DEFAULT '[]',
	message_id           TEXT,
	source_net           TEXT    NOT NULL DEFAULT '',
	received_at          INTEGER NOT NULL,
	state                TEXT    NOT NULL,
	acknowledged_by      TEXT    NOT NULL DEFAULT '',
	acknowledged_at      INTEGER,
	closed_by            TEXT    NOT NULL DEFAULT '',
	closed_at            INTEGER,
	reason               TEXT    NOT NULL DEFAULT '',
	security_incident_id INTEGER
);
CREATE UNIQUE INDEX signals_message_id ON signals (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX signals_state ON signals (state, received_at);
CREATE INDEX signals_source_net ON signals (source_net, received_at);
