-- HPF schema 3: the tamper-evident audit chain (RULES 11.2, 11.3; trust/audit.h and
-- docs/internals/audit.md). One global hash chain: entry n holds
-- hash_n = SM3(hash_{n-1} || canonical bytes of entry n), hash_0 = 32 zero bytes.

-- The chain. seq is the chain order, 1, 2, 3 ... without gaps, taken from audit_head inside the
-- business transaction that writes the record, so an entry commits with its record or not at all.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,   -- UTC wall clock of the append, 'YYYY-MM-DDTHH:MM:SS.mmmZ'
    actor     INTEGER NOT NULL,   -- app_user.id of who acted; 0 = the system
    kind      TEXT    NOT NULL,   -- 'employer.registered', 'remittance.posted', 'session.login' ...
    ref_table TEXT    NOT NULL,   -- the record the entry is about ...
    ref_id    INTEGER NOT NULL,   -- ... and its id
    payload   TEXT    NOT NULL,   -- canonical bytes of the record (or of the event)
    prev_hash TEXT    NOT NULL,   -- hash of entry seq - 1, 64 hex; 64 zeros for seq 1
    hash      TEXT    NOT NULL    -- SM3 of this entry, 64 hex
);
-- The verifier joins records to their latest entry; daily checkpoints find a day's seq range.
CREATE INDEX audit_log_ref ON audit_log (ref_table, ref_id, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain head: one row, updated by every append in its transaction. Its row lock (taken by
-- the UPDATE) serialises appenders until they commit, so seq has no gaps and no forks. An entry
-- must extend the head (its seq, its prev_hash) and moves the head's hash to its own.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Records written before the chain existed (a database upgraded to this schema) are not covered:
-- the highest id of each table at migration time. The first append copies these marks into the
-- genesis entry (seq 1), which protects them from then on.
CREATE TABLE audit_genesis (
    tbl    TEXT    PRIMARY KEY,
    max_id INTEGER NOT NULL
);
INSERT INTO audit_genesis
    SELECT 'app_user', COALESCE(MAX(id), 0) FROM app_user
    UNION ALL SELECT 'employer', COALESCE(MAX(id), 0) FROM employer
    UNION ALL SELECT 'member', COALESCE(MAX(id), 0) FROM member
    UNION ALL SELECT 'posting', COALESCE(MAX(id), 0) FROM posting
    UNION ALL SELECT 'remittance', COALESCE(MAX(id), 0) FROM remittance
    UNION ALL SELECT 'voucher', COALESCE(MAX(id), 0) FROM voucher;

-- A voucher's business record is found by its voucher (the verifiers ask for every voucher).
CREATE INDEX remittance_voucher ON remittance (voucher_id);

CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT seq FROM audit_head WHERE id = 1)
  OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'an audit entry must extend the chain head'); END;
CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log
BEGIN UPDATE audit_head SET hash = NEW.hash WHERE id = 1; END;

-- Append-only (ARCHITECTURE rule 5).
CREATE TRIGGER audit_log_immutable_u BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
CREATE TRIGGER audit_log_immutable_d BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
CREATE TRIGGER audit_head_keep BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit head is immutable'); END;
CREATE TRIGGER audit_genesis_immutable_u BEFORE UPDATE ON audit_genesis
BEGIN SELECT RAISE(ABORT, 'audit genesis marks are immutable'); END;
CREATE TRIGGER audit_genesis_immutable_d BEFORE DELETE ON audit_genesis
BEGIN SELECT RAISE(ABORT, 'audit genesis marks are immutable'); END;
