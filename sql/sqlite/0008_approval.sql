-- HPF schema 8: maker-checker approvals (issue 4 part 2; service/approval.c,
-- docs/internals/approval.md). Every money movement and every policy change is first stored
-- here as a pending request by its maker; it runs only when another login (the checker) with
-- scope approves it, in the same transaction as the decision. Nobody decides their own request.

CREATE TABLE approval (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL,                -- 'remittance.post', 'policy.change' ...
    ref               TEXT    NOT NULL,                -- business key: the Idempotency-Key
    scope_employer_id INTEGER REFERENCES employer (id), -- the employer it acts for; NULL: centre
    payload           TEXT    NOT NULL,                -- the request as submitted (JSON)
    request_hash      TEXT    NOT NULL,                -- SM3 of the canonical request, 64 hex
    maker_id          INTEGER NOT NULL REFERENCES app_user (id),
    made_at           TEXT    NOT NULL,                -- UTC 'YYYY-MM-DDTHH:MM:SSZ'
    status            TEXT    NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    checker_id        INTEGER REFERENCES app_user (id), -- who approved or rejected
    decided_at        TEXT,                            -- UTC, when it left pending
    reason            TEXT,                            -- a rejection's reason
    signature         TEXT,                            -- SM2 (DER, hex) of an operator checker
    key_id            TEXT    REFERENCES sm2_key (key_id),
    result            TEXT,                            -- what the execution produced (JSON)
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status IN ('approved', 'rejected')) = (checker_id IS NOT NULL)),
    CHECK (checker_id IS NULL OR checker_id <> maker_id),   -- nobody approves their own work
    CHECK ((signature IS NULL) = (key_id IS NULL)),
    CHECK (signature IS NULL OR checker_id IS NOT NULL),
    CHECK ((status = 'approved') = (result IS NOT NULL)),
    CHECK ((status = 'rejected') = (reason IS NOT NULL))
);
-- One request per business key and scope: a repeated submit finds it (idempotency).
CREATE UNIQUE INDEX approval_ref ON approval (kind, COALESCE(scope_employer_id, 0), ref);
CREATE INDEX approval_status ON approval (status, id);
CREATE INDEX approval_scope ON approval (scope_employer_id, status, id);

-- A request changes once, from pending to its decision, and keeps what was asked; after that
-- it is immutable (ARCHITECTURE rule 5), like the audit chain it is recorded on.
CREATE TRIGGER approval_decide BEFORE UPDATE ON approval
WHEN OLD.status <> 'pending' OR NEW.status = 'pending' OR NEW.id IS NOT OLD.id
  OR NEW.kind IS NOT OLD.kind OR NEW.ref IS NOT OLD.ref
  OR NEW.scope_employer_id IS NOT OLD.scope_employer_id OR NEW.payload IS NOT OLD.payload
  OR NEW.request_hash IS NOT OLD.request_hash OR NEW.maker_id IS NOT OLD.maker_id
  OR NEW.made_at IS NOT OLD.made_at
BEGIN SELECT RAISE(ABORT, 'an approval is decided once and is immutable after that'); END;
CREATE TRIGGER approval_keep BEFORE DELETE ON approval
BEGIN SELECT RAISE(ABORT, 'approvals are immutable'); END;
