-- HPF schema 16: the member's balance, 缴至年月 and interest state move out of the wide member
-- row into a narrow table of their own (issue 5's benchmark; docs/internals/ledger.md "The
-- narrow balance row").
--
-- Every posting rewrites these columns. On the member row they shared a record with the
-- encrypted personal fields and their blind indexes, about 440 bytes, nine rows to a 4 KiB page:
-- a month's remittance or the annual settlement dirtied (and wrote to the WAL, then back to the
-- database) every page of the member table. This row is about 60 bytes: a tenth of the pages.
-- The same reasoning gave the employer sub-ledger its table (employer_balance, schema 10).
--
-- One row per member, written when the account opens (ledger/ledger.c hpf_ledger_open_account);
-- `hpf verify` checks that every member has one. The columns keep their meaning and names
-- (schema 1: balance GRZHYE, paid_through JZNY; schema 12: int_*).
CREATE TABLE member_balance (
    member_id          INTEGER PRIMARY KEY REFERENCES member (id),
    balance            INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    paid_through       INTEGER,
    int_year           INTEGER,
    int_opening        INTEGER,
    int_as_of          TEXT,
    int_jishu          INTEGER,
    int_rate_jishu     INTEGER,
    int_rate_rem       INTEGER,
    int_due_year       INTEGER,
    int_due_jishu      INTEGER,
    int_due_rate_jishu INTEGER,
    int_due_rate_rem   INTEGER,
    int_due_balance    INTEGER
);
INSERT INTO member_balance (member_id, balance, paid_through, int_year, int_opening, int_as_of,
                            int_jishu, int_rate_jishu, int_rate_rem, int_due_year, int_due_jishu,
                            int_due_rate_jishu, int_due_rate_rem, int_due_balance)
    SELECT id, balance, paid_through, int_year, int_opening, int_as_of, int_jishu, int_rate_jishu,
           int_rate_rem, int_due_year, int_due_jishu, int_due_rate_jishu, int_due_rate_rem,
           int_due_balance
    FROM member;
ALTER TABLE member DROP COLUMN balance;
ALTER TABLE member DROP COLUMN paid_through;
ALTER TABLE member DROP COLUMN int_year;
ALTER TABLE member DROP COLUMN int_opening;
ALTER TABLE member DROP COLUMN int_as_of;
ALTER TABLE member DROP COLUMN int_jishu;
ALTER TABLE member DROP COLUMN int_rate_jishu;
ALTER TABLE member DROP COLUMN int_rate_rem;
ALTER TABLE member DROP COLUMN int_due_year;
ALTER TABLE member DROP COLUMN int_due_jishu;
ALTER TABLE member DROP COLUMN int_due_rate_jishu;
ALTER TABLE member DROP COLUMN int_due_rate_rem;
ALTER TABLE member DROP COLUMN int_due_balance;
