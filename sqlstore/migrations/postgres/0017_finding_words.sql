-- A finding's detail as i18n words, so that the console says it in the
-- reader's language: JSON {"key": "findings.detail.…", "args": ["…"]},
-- '' on findings opened before (the console shows their English detail).
ALTER TABLE findings ADD COLUMN words TEXT NOT NULL DEFAULT '';
