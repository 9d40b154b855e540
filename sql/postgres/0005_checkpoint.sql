-- HPF schema 5: SM2 public keys and the signed daily checkpoints of the audit chain (RULES 11.3;
-- trust/sm2.h, trust/checkpoint.h, docs/internals/audit.md "Signatures and checkpoints").
-- The PostgreSQL twin of sql/sqlite/0005_checkpoint.sql.

-- Public SM2 keys: the centre's seal keys and the operators' keys. Private keys stay in files
-- outside the database (DATA_DIR/keys). A rotated key keeps its row, so what it signed still
-- verifies; the newest centre key is the one in use.
CREATE TABLE sm2_key (
    key_id      TEXT    PRIMARY KEY,               -- first 16 hex of the fingerprint
    owner       TEXT    NOT NULL CHECK (owner IN ('centre', 'operator')),
    user_id     BIGINT  REFERENCES app_user (id),  -- the operator; NULL for the centre
    fingerprint TEXT    NOT NULL UNIQUE,           -- SM3 of the DER SubjectPublicKeyInfo, 64 hex
    public_pem  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,                  -- UTC 'YYYY-MM-DDTHH:MM:SS.mmmZ': valid from
    CHECK ((owner = 'operator') = (user_id IS NOT NULL))
);
CREATE INDEX sm2_key_owner ON sm2_key (owner, user_id, created_at);

-- One checkpoint per closed day (Asia/Shanghai) that has audit entries: the Merkle root (RFC 6962
-- shape, SM3) over the hashes of entries first_seq..last_seq, signed with the centre's SM2 key
-- over "hpf-checkpoint/1|centre|YYYYMMDD|first_seq|last_seq|leaves|root". The ranges of
-- successive checkpoints follow each other without a gap. Immutable, except that the notary's
-- receipt may be filled in once (anchoring, through the outbox).
CREATE TABLE audit_checkpoint (
    day            TEXT    PRIMARY KEY,            -- 'YYYY-MM-DD', centre time zone
    centre         TEXT    NOT NULL,               -- centre code, as signed
    first_seq      BIGINT  NOT NULL,
    last_seq       BIGINT  NOT NULL UNIQUE,
    leaves         BIGINT  NOT NULL,
    root           TEXT    NOT NULL,               -- 64 hex
    signature      TEXT    NOT NULL,               -- SM2 (DER, hex) by key_id
    key_id         TEXT    NOT NULL REFERENCES sm2_key (key_id),
    created_at     TEXT    NOT NULL,               -- UTC wall clock of the signature
    anchor_receipt TEXT,                           -- the notary's receipt, once anchored
    anchored_at    TEXT,
    CHECK (first_seq >= 1 AND last_seq >= first_seq AND leaves = last_seq - first_seq + 1)
);

-- hpf_immutable() comes from 0001_init.sql.
CREATE TRIGGER sm2_key_immutable BEFORE UPDATE OR DELETE ON sm2_key
    FOR EACH ROW EXECUTE FUNCTION hpf_immutable();
CREATE FUNCTION hpf_checkpoint_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.anchor_receipt IS NOT NULL OR OLD.anchored_at IS NOT NULL
       OR (NEW.day, NEW.centre, NEW.first_seq, NEW.last_seq, NEW.leaves, NEW.root, NEW.signature,
           NEW.key_id, NEW.created_at)
          IS DISTINCT FROM (OLD.day, OLD.centre, OLD.first_seq, OLD.last_seq, OLD.leaves, OLD.root,
                            OLD.signature, OLD.key_id, OLD.created_at) THEN
        RAISE EXCEPTION 'audit checkpoints are immutable'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_checkpoint_immutable BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION hpf_checkpoint_keep();
