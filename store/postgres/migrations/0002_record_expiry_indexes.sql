-- Partial indexes for ExpireRecordsBefore, which finds the encounters and
-- samples past their own expiry; most records have none, so the indexes
-- hold only those that do.
CREATE INDEX encounters_expiry ON encounters (expiry) WHERE expiry IS NOT NULL;
CREATE INDEX samples_expiry ON samples (expiry) WHERE expiry IS NOT NULL;
