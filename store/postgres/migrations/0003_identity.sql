-- Whether wugsync adopted the WUG device (it existed before wugsync linked
-- it), and what wugsync last wrote to it, as JSON ('' when unknown).
ALTER TABLE records ADD COLUMN adopted boolean NOT NULL DEFAULT false;
ALTER TABLE records ADD COLUMN written text    NOT NULL DEFAULT '';
