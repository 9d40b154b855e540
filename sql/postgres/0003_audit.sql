-- HPF schema 3: the tamper-evident audit chain (RULES 11.2, 11.3; trust/audit.h and
-- docs/internals/audit.md). The PostgreSQL twin of sql/sqlite/0003_audit.sql.
-- One global hash chain: entry n holds hash_n = SM3(hash_{n-1} || canonical bytes of entry n),
-- hash_0 = 32 zero bytes.

-- The chain. seq is the chain order, 1, 2, 3 ... without gaps, taken from audit_head inside the
-- business transaction that writes the record, so an entry commits with its record or not at all.
CREATE TABLE audit_log (
    seq       BIGINT  PRIMARY KEY,
    at        TEXT    NOT NULL,   -- UTC wall clock of the append, 'YYYY-MM-DDTHH:MM:SS.mmmZ'
    actor     BIGINT  NOT NULL,   -- app_user.id of who acted; 0 = the system
    kind      TEXT    NOT NULL,   -- 'employer.registered', 'remittance.posted', 'session.login' ...
    ref_table TEXT    NOT NULL,   -- the record the entry is about ...
    ref_id    BIGINT  NOT NULL,   -- ... and its id
    payload   TEXT    NOT NULL,   -- canonical bytes of the record (or of the event)
    prev_hash TEXT    NOT NULL,   -- hash of entry seq - 1, 64 hex; 64 zeros for seq 1
    hash      TEXT    NOT NULL    -- SM3 of this entry, 64 hex
);
-- The verifier joins records to their latest entry; daily checkpoints find a day's seq range.
CREATE INDEX audit_log_ref ON audit_log (ref_table, ref_id, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain head: one row, updated by every append in its transaction. Its row lock (taken by
-- the UPDATE, held until commit; writers run at READ COMMITTED) serialises appenders, so seq has
-- no gaps and no forks, and the next appender sees the committed head. An entry must extend the
-- head (its seq, its prev_hash) and moves the head's hash to its own.
CREATE TABLE audit_head (
    id   BIGINT  PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Records written before the chain existed (a database upgraded to this schema) are not covered:
-- the highest id of each table at migration time. The first append copies these marks into the
-- genesis entry (seq 1), which protects them from then on.
CREATE TABLE audit_genesis (
    tbl    TEXT    PRIMARY KEY,
    max_id BIGINT  NOT NULL
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

CREATE FUNCTION hpf_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    h audit_head%ROWTYPE;
BEGIN
    SELECT * INTO h FROM audit_head WHERE id = 1;
    IF NOT FOUND OR NEW.seq IS DISTINCT FROM h.seq OR NEW.prev_hash IS DISTINCT FROM h.hash THEN
        RAISE EXCEPTION 'an audit entry must extend the chain head'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION hpf_audit_link();

-- Append-only (ARCHITECTURE rule 5); hpf_immutable() comes from 0001_init.sql.
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION hpf_immutable();
CREATE TRIGGER audit_head_keep BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION hpf_immutable();
CREATE TRIGGER audit_genesis_immutable BEFORE UPDATE OR DELETE ON audit_genesis
    FOR EACH ROW EXECUTE FUNCTION hpf_immutable();
