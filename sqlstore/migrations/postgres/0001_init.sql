-- Times are TIMESTAMPTZ (microsecond precision, stored as UTC).

CREATE TABLE users (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email          TEXT    NOT NULL UNIQUE,
	name           TEXT    NOT NULL DEFAULT '',
	roles          TEXT    NOT NULL,
	lang           TEXT    NOT NULL DEFAULT '',
	password_hash  TEXT    NOT NULL DEFAULT '',
	must_change_password BOOLEAN NOT NULL DEFAULT false,
	totp_secret    BYTEA,
	totp_last_step BIGINT NOT NULL DEFAULT 0,
	disabled_at    TIMESTAMPTZ,
	created_at     TIMESTAMPTZ NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE recovery_codes (
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash    TEXT    NOT NULL,
	used_at TIMESTAMPTZ,
	PRIMARY KEY (user_id, hash)
);

CREATE TABLE sessions (
	id           TEXT    PRIMARY KEY,
	user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT '',
	verified     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE sign_ins (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
	email      TEXT    NOT NULL DEFAULT '',
	at         TIMESTAMPTZ NOT NULL,
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	device     TEXT    NOT NULL DEFAULT '',
	factor     TEXT    NOT NULL DEFAULT 'password',
	net        TEXT    NOT NULL DEFAULT '',
	success    BOOLEAN NOT NULL
);
CREATE INDEX sign_ins_user_id_at ON sign_ins (user_id, success, at);
CREATE INDEX sign_ins_net_at ON sign_ins (net, success, at);
CREATE INDEX sign_ins_email_at ON sign_ins (email, success, at);
CREATE INDEX sign_ins_device_at ON sign_ins (device, success, at);
CREATE INDEX sign_ins_at ON sign_ins (at);

CREATE TABLE api_tokens (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         TEXT    NOT NULL,
	roles        TEXT    NOT NULL,
	hash         TEXT    NOT NULL UNIQUE,
	created_by   TEXT    NOT NULL DEFAULT '',
	created_at   TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ
);
-- A name is reusable once the token holding it is revoked.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE setup_tokens (
	hash       TEXT    PRIMARY KEY,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ
);

-- seq is last+1 under the write lock, never a sequence: no gaps.
CREATE TABLE audit_log (
	seq       BIGINT PRIMARY KEY,
	at        TIMESTAMPTZ NOT NULL,
	actor_id  BIGINT NOT NULL DEFAULT 0,
	token_id  BIGINT NOT NULL DEFAULT 0,
	actor     TEXT    NOT NULL DEFAULT '',
	ip        TEXT    NOT NULL DEFAULT '',
	action    TEXT    NOT NULL,
	target    TEXT    NOT NULL DEFAULT '',
	before    TEXT    NOT NULL DEFAULT '',
	after     TEXT    NOT NULL DEFAULT '',
	prev_hash TEXT    NOT NULL DEFAULT '',
	hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target);

CREATE TABLE messages (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key             TEXT    NOT NULL UNIQUE,
	channel         TEXT    NOT NULL,
	recipient       TEXT    NOT NULL,
	subject         TEXT    NOT NULL DEFAULT '',
	body            TEXT    NOT NULL DEFAULT '',
	headers         TEXT    NOT NULL DEFAULT '{}',
	attempts        BIGINT NOT NULL DEFAULT 0,
	next_attempt_at TIMESTAMPTZ NOT NULL,
	locked_until    TIMESTAMPTZ,
	sent_at         TIMESTAMPTZ,
	dead_at         TIMESTAMPTZ,
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;
CREATE INDEX messages_created_at ON messages (created_at);
