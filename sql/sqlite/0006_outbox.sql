-- The transactional outbox (ARCHITECTURE rule 3): messages for the outside peers (SMS, notary,
-- later banks) written in the same transaction as the business record that causes them, sent
-- afterwards by the dispatcher (jobs/dispatch.c) at least once. A message is never deleted by
-- business code; sent and dead ones stay for the record.
--   status   queued (waiting or being sent), sent (the peer answered 2xx; reply kept), dead
--            (refused by the peer, or failed HPF_OUTBOX_MAX_ATTEMPTS times; last_error says why)
--   next_at  unix seconds when it is due; a dispatcher that claims it moves next_at past the
--            time its send can take, so no other server sends it meanwhile
--   attempts sends started
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    peer       TEXT    NOT NULL CHECK (length(peer) BETWEEN 1 AND 31),
    topic      TEXT    NOT NULL CHECK (length(topic) BETWEEN 1 AND 63),
    idem_key   TEXT    NOT NULL UNIQUE CHECK (length(idem_key) BETWEEN 1 AND 127),
    payload    TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'dead')),
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at    INTEGER NOT NULL,
    last_error TEXT    NOT NULL DEFAULT '',
    reply      TEXT,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER
);
-- The dispatcher's poll: the due queued messages, oldest first.
CREATE INDEX outbox_due ON outbox (status, next_at);
