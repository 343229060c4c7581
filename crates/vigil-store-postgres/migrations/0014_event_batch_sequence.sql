-- Event batches are numbered from the id column's identity sequence from now
-- on (they were numbered one past the largest under the write lock, which
-- left the sequence behind): a batch's events are stored before the write
-- lock is taken, so that several batches are stored at once. The sequence
-- moves past every batch stored before.
SELECT setval(pg_get_serial_sequence('event_batches', 'id'),
              COALESCE((SELECT MAX(id) FROM event_batches), 0) + 1, false);
