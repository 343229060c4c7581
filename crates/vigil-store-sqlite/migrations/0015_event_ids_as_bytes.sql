-- An event id that is a pseudonym ("psn:" and 32 lowercase hexadecimal
-- characters, as every event id is once the Trust's key is set) is stored
-- as its 16 bytes, a BLOB, instead of its 36 characters; any other event id
-- stays text. The primary key (deployment, event id) takes every new event
-- at a random place, and each batch rewrites nearly every page of it: with
-- entries of about 28 bytes instead of 47 it has some two fifths fewer
-- pages to find, change and write. The text form is '"psn:" || lower(hex(event_id))'
-- for a BLOB (see SqliteStore::EVENT_ID_TEXT). A text id and a BLOB never
-- compare equal, so every pseudonym is stored in one form only: the events
-- stored before are converted here.

DROP TRIGGER inference_events_no_update;
UPDATE inference_events SET event_id = unhex(substr(event_id, 5))
WHERE typeof(event_id) = 'text' AND length(event_id) = 36 AND substr(event_id, 1, 4) = 'psn:'
  AND substr(event_id, 5) = lower(substr(event_id, 5)) AND unhex(substr(event_id, 5)) IS NOT NULL;
CREATE TRIGGER inference_events_no_update BEFORE UPDATE ON inference_events
BEGIN SELECT RAISE(ABORT, 'inference events are never edited'); END;
