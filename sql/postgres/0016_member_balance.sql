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
    member_id          BIGINT PRIMARY KEY REFERENCES member (id),
    balance            BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    paid_through       BIGINT,
    int_year           BIGINT,
    int_opening        BIGINT,
    int_as_of          TEXT,
    int_jishu          BIGINT,
    int_rate_jishu     BIGINT,
    int_rate_rem       BIGINT,
    int_due_year       BIGINT,
    int_due_jishu      BIGINT,
    int_due_rate_jishu BIGINT,
    int_due_rate_rem   BIGINT,
    int_due_balance    BIGINT
);
INSERT INTO member_balance (member_id, balance, paid_through, int_year, int_opening, int_as_of,
                            int_jishu, int_rate_jishu, int_rate_rem, int_due_year, int_due_jishu,
                            int_due_rate_jishu, int_due_rate_rem, int_due_balance)
    SELECT id, balance, paid_through, int_year, int_opening, int_as_of, int_jishu, int_rate_jishu,
           int_rate_rem, int_due_year, int_due_jishu, int_due_rate_jishu, int_due_rate_rem,
           int_due_balance
    FROM member;
ALTER TABLE member
    DROP COLUMN balance,
    DROP COLUMN paid_through,
    DROP COLUMN int_year,
    DROP COLUMN int_opening,
    DROP COLUMN int_as_of,
    DROP COLUMN int_jishu,
    DROP COLUMN int_rate_jishu,
    DROP COLUMN int_rate_rem,
    DROP COLUMN int_due_year,
    DROP COLUMN int_due_jishu,
    DROP COLUMN int_due_rate_jishu,
    DROP COLUMN int_due_rate_rem,
    DROP COLUMN int_due_balance;
