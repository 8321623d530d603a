-- Whether wugsync adopted the WUG device (it existed before wugsync linked
-- it), and what wugsync last wrote to it, as JSON ('' when unknown).
ALTER TABLE records ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN written TEXT    NOT NULL DEFAULT '';
