-- Batch jobs run on one server at a time: a job's leader holds a lease that it renews; another
-- server takes the job over when the lease has expired.
CREATE TABLE job_lease (
    job        TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL  -- unix seconds
);
