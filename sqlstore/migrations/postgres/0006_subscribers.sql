-- E-mail subscribers (double opt-in), their services, the attempts counted
-- for rate limits, and notices: public updates to fan out to subscribers.
-- confirm_hash is the SHA-256 of the pending confirmation link's token;
-- the link itself is never stored.
CREATE TABLE subscribers (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email           TEXT    NOT NULL UNIQUE,
	lang            TEXT    NOT NULL,
	all_services    BOOLEAN NOT NULL DEFAULT false,
	status          TEXT    NOT NULL,
	nonce           TEXT    NOT NULL,
	confirm_hash    TEXT UNIQUE,
	confirm_until   TIMESTAMPTZ,
	confirm_sent_at TIMESTAMPTZ,
	confirmed_at    TIMESTAMPTZ,
	created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX subscribers_status ON subscribers (status, id);

CREATE TABLE subscriber_services (
	subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
	service_id    BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	PRIMARY KEY (subscriber_id, service_id)
);
CREATE INDEX subscriber_services_service ON subscriber_services (service_id);

-- One row per accepted form submission: source network and a digest of
-- the address, never the address.
CREATE TABLE subscribe_attempts (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         TIMESTAMPTZ NOT NULL,
	net        TEXT    NOT NULL,
	email_hash TEXT    NOT NULL
);
CREATE INDEX subscribe_attempts_net ON subscribe_attempts (net, at);
CREATE INDEX subscribe_attempts_email ON subscribe_attempts (email_hash, at);

-- services is a JSON array of service IDs; all_services ignores it.
CREATE TABLE notices (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key          TEXT    NOT NULL UNIQUE,
	kind         TEXT    NOT NULL,
	subject_id   BIGINT  NOT NULL DEFAULT 0,
	title        TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	body         TEXT    NOT NULL,
	path         TEXT    NOT NULL,
	services     TEXT    NOT NULL,
	all_services BOOLEAN NOT NULL,
	at           TIMESTAMPTZ NOT NULL,
	cursor       BIGINT NOT NULL DEFAULT 0,
	done_at      TIMESTAMPTZ,
	created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX notices_pending ON notices (id) WHERE done_at IS NULL;

-- Webhook subscriptions staff create: a URL and services. The signing
-- secret is sealed with the at-rest key (auth.Box), shown once.
CREATE TABLE webhooks (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url           TEXT    NOT NULL,
	all_services  BOOLEAN NOT NULL DEFAULT false,
	secret_sealed BYTEA    NOT NULL,
	created_by    TEXT    NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_services (
	webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	PRIMARY KEY (webhook_id, service_id)
);
