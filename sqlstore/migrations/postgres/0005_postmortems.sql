-- Post-mortems: one per incident, its dated timeline and who wrote it.
-- revision counts saved versions of the text; an approval names the one it
-- approves. approved_* are cleared when an edit withdraws the approval.
CREATE TABLE postmortems (
	incident_id  BIGINT  PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
	summary      TEXT    NOT NULL,
	impact       TEXT    NOT NULL,
	root_cause   TEXT    NOT NULL,
	went_well    TEXT    NOT NULL,
	changes      TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	revision     INTEGER NOT NULL,
	approved_by  TEXT    NOT NULL DEFAULT '',
	approved_at  TIMESTAMPTZ,
	published_by TEXT    NOT NULL DEFAULT '',
	published_at TIMESTAMPTZ,
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX postmortems_published_at ON postmortems (published_at);

-- The timeline, in order (position breaks ties between entries of the same time).
CREATE TABLE postmortem_timeline (
	incident_id BIGINT  NOT NULL REFERENCES postmortems (incident_id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	at          TIMESTAMPTZ NOT NULL,
	text        TEXT    NOT NULL,
	PRIMARY KEY (incident_id, position)
);

-- Everyone who wrote or edited the text (user:ID, token:ID…): none of them
-- may approve it. position keeps the order of first contribution.
CREATE TABLE postmortem_contributors (
	incident_id BIGINT  NOT NULL REFERENCES postmortems (incident_id) ON DELETE CASCADE,
	actor_key   TEXT    NOT NULL,
	label       TEXT    NOT NULL,
	position    INTEGER NOT NULL,
	PRIMARY KEY (incident_id, actor_key)
);
