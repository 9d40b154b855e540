-- HPF schema 5: SM2 public keys and the signed daily checkpoints of the audit chain (RULES 11.3;
-- trust/sm2.h, trust/checkpoint.h, docs/internals/audit.md "Signatures and checkpoints").

-- Public SM2 keys: the centre's seal keys and the operators' keys. Private keys stay in files
-- outside the database (DATA_DIR/keys). A rotated key keeps its row, so what it signed still
-- verifies; the newest centre key is the one in use.
CREATE TABLE sm2_key (
    key_id      TEXT    PRIMARY KEY,               -- first 16 hex of the fingerprint
    owner       TEXT    NOT NULL CHECK (owner IN ('centre', 'operator')),
    user_id     INTEGER REFERENCES app_user (id),  -- the operator; NULL for the centre
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
    first_seq      INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL UNIQUE,
    leaves         INTEGER NOT NULL,
    root           TEXT    NOT NULL,               -- 64 hex
    signature      TEXT    NOT NULL,               -- SM2 (DER, hex) by key_id
    key_id         TEXT    NOT NULL REFERENCES sm2_key (key_id),
    created_at     TEXT    NOT NULL,               -- UTC wall clock of the signature
    anchor_receipt TEXT,                           -- the notary's receipt, once anchored
    anchored_at    TEXT,
    CHECK (first_seq >= 1 AND last_seq >= first_seq AND leaves = last_seq - first_seq + 1)
);

CREATE TRIGGER sm2_key_immutable_u BEFORE UPDATE ON sm2_key
BEGIN SELECT RAISE(ABORT, 'sm2_key rows are immutable'); END;
CREATE TRIGGER sm2_key_immutable_d BEFORE DELETE ON sm2_key
BEGIN SELECT RAISE(ABORT, 'sm2_key rows are immutable'); END;
CREATE TRIGGER audit_checkpoint_immutable_u BEFORE UPDATE ON audit_checkpoint
WHEN NEW.day IS NOT OLD.day OR NEW.centre IS NOT OLD.centre OR NEW.first_seq IS NOT OLD.first_seq
  OR NEW.last_seq IS NOT OLD.last_seq OR NEW.leaves IS NOT OLD.leaves OR NEW.root IS NOT OLD.root
  OR NEW.signature IS NOT OLD.signature OR NEW.key_id IS NOT OLD.key_id
  OR NEW.created_at IS NOT OLD.created_at OR OLD.anchor_receipt IS NOT NULL
  OR OLD.anchored_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
CREATE TRIGGER audit_checkpoint_immutable_d BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
