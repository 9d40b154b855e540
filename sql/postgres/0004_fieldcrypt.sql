-- HPF schema 4: personal fields encrypted at rest (issue 4 part 3; trust/fieldcrypt.h,
-- docs/internals/crypto.md). The PostgreSQL twin of sql/sqlite/0004_fieldcrypt.sql.
-- A member's resident ID and phone are stored only as f1.<version>.<...> ciphertexts (SM4-CTR +
-- HMAC-SM3, keys in DATA_DIR/keys, outside the database) and found through keyed blind indexes
-- (HMAC-SM3, 64 hex).
--
-- SQL cannot encrypt: the clear values of an existing database move to member_pii_legacy here,
-- and `hpf` (main/, right after the SQL migrations, before it serves or loads anything) encrypts
-- them in batches, one transaction each, deleting each row of member_pii_legacy as its member is
-- done; it then runs VACUUM FULL on the tables that held them, so no dead tuple keeps a clear
-- value. The table stays, empty. On a new database it is empty from the start.
CREATE TABLE member_pii_legacy (
    member_id BIGINT  PRIMARY KEY,                 -- member.id
    id_number TEXT    NOT NULL,
    phone     TEXT
);
INSERT INTO member_pii_legacy (member_id, id_number, phone) SELECT id, id_number, phone FROM member;

DROP INDEX member_one_live;
ALTER TABLE member DROP COLUMN id_number;
ALTER TABLE member DROP COLUMN phone;

ALTER TABLE member ADD COLUMN id_number_enc  TEXT;   -- ZJHM, f1 ciphertext (NULL only until encrypted)
ALTER TABLE member ADD COLUMN id_number_bidx TEXT;   -- blind index of the normalised ZJHM
ALTER TABLE member ADD COLUMN phone_enc      TEXT;   -- SJHM, f1 ciphertext; NULL: none
ALTER TABLE member ADD COLUMN phone_bidx     TEXT;   -- blind index of SJHM; NULL: none
ALTER TABLE member ADD COLUMN key_version    BIGINT; -- the field-key version of both ciphertexts

-- RULES 1.5 invariant 2, as before: at most one non-terminal account per (证件类型, 证件号码),
-- now through the blind index (equal numbers have equal indexes).
CREATE UNIQUE INDEX member_one_live ON member (id_type, id_number_bidx)
    WHERE state NOT IN ('03', '04', '05');
-- `hpf keys status` counts rows per version; rotation and the start-up check ask whether any row
-- is on a version other than the current one.
CREATE INDEX member_key_version ON member (key_version);
