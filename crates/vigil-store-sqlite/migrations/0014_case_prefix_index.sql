-- Events are found by their case through the first eight hexadecimal
-- characters of the case's pseudonym (32 bits of a keyed hash), not the
-- whole 36-character text. Every new event inserts into this index at a
-- random place (pseudonyms are keyed hashes); entries a quarter of the size
-- fill a quarter of the pages, so each batch of events changes and writes far
-- fewer of them. A lookup names the prefix and then the whole pseudonym
-- (`substr(case_pseudonym, 5, 8) IN (…) AND case_pseudonym IN (…)`): the
-- index narrows to the prefix, the table row decides.

DROP INDEX inference_events_by_case;
CREATE INDEX inference_events_by_case_prefix ON inference_events (deployment_id, substr(case_pseudonym, 5, 8));
