-- HPF schema 12: the interest accumulator on the account and the annual settlement (issue 5
-- item 5; RULES 2; docs/internals/interest.md).
--
-- The running interest state of the member's current interest year (domain/interest.h
-- hpf_interest_acc; its balance is member.balance), kept by every posting (ledger/ledger.c), so
-- that the settlement reads each account once (ARCHITECTURE rule 10):
--   int_year         Y: the state covers 1 July Y-1 .. 30 June Y; NULL until the first posting
--                    or settlement (then computed from the postings, see ledger/interest.c)
--   int_opening      上年结转余额 (GRZHSNJZYE): the balance at the start of the year
--   int_as_of        the latest posting day of the year (YYYY-MM-DD)
--   int_jishu        积数 of 1 July .. as_of - 1, fen·days
--   int_rate_jishu   the rate-weighted 积数 of the same days, floor(/10^7), fen·days
--   int_rate_rem     its remainder, 0 .. 10^7 - 1
-- A posting of year Y+1 that arrives before year Y is settled (the settlement runs after the
-- end of day of 30 June) closes year Y into the int_due_* columns, the figures up to 30 June
-- that the settlement then turns into interest: int_due_year, int_due_jishu (积数 of the whole
-- year), int_due_rate_jishu / int_due_rate_rem (rate-weighted, as above), int_due_balance.
ALTER TABLE member ADD COLUMN int_year BIGINT;
ALTER TABLE member ADD COLUMN int_opening BIGINT;
ALTER TABLE member ADD COLUMN int_as_of TEXT;
ALTER TABLE member ADD COLUMN int_jishu BIGINT;
ALTER TABLE member ADD COLUMN int_rate_jishu BIGINT;
ALTER TABLE member ADD COLUMN int_rate_rem BIGINT;
ALTER TABLE member ADD COLUMN int_due_year BIGINT;
ALTER TABLE member ADD COLUMN int_due_jishu BIGINT;
ALTER TABLE member ADD COLUMN int_due_rate_jishu BIGINT;
ALTER TABLE member ADD COLUMN int_due_rate_rem BIGINT;
ALTER TABLE member ADD COLUMN int_due_balance BIGINT;

-- One annual settlement (年终结息) run per interest year: its progress, so that a rerun resumes
-- where a crash stopped, and its totals. Accounts are settled in batches, one transaction and
-- one J6 voucher (template 018) each; a batch's voucher links back to the run (voucher_link).
CREATE TABLE interest_run (
    year        INTEGER PRIMARY KEY,             -- the interest year: ends 30 June of it
    started_at  TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at TEXT,
    accounts    BIGINT NOT NULL DEFAULT 0,      -- accounts settled so far
    interest    BIGINT NOT NULL DEFAULT 0,      -- interest posted so far, fen
    batches     BIGINT NOT NULL DEFAULT 0,
    day_basis   BIGINT NOT NULL,
    actor_id    BIGINT REFERENCES app_user (id)
);

-- Interest postings (kind '09' 年终结息, period = the interest year): one per account and year
-- at most, whatever happens to the job (idempotency per (account, year), RULES 2.4).
CREATE UNIQUE INDEX posting_interest_once ON posting (member_id, period)
    WHERE kind = '09' AND reversal_of IS NULL;

-- The business record of a voucher that no remittance or reversal carries (the annual interest,
-- a transfer, a merge ...): which business, and its row. `hpf verify` checks that every voucher
-- has exactly one business record. Rows are never changed or deleted.
CREATE TABLE voucher_link (
    voucher_id BIGINT PRIMARY KEY REFERENCES voucher (id),
    business   TEXT    NOT NULL,                 -- 'interest', 'citytransfer', ...
    ref_table  TEXT    NOT NULL,
    ref_id     BIGINT NOT NULL
);
CREATE INDEX voucher_link_ref ON voucher_link (ref_table, ref_id);
CREATE TRIGGER voucher_link_immutable BEFORE UPDATE OR DELETE ON voucher_link
    FOR EACH ROW EXECUTE FUNCTION hpf_immutable();

-- The count of an employer's live members (every employer read: svc.c EMPLOYER_COLS) from the
-- index alone: with member_employer (employer_id, id) it read each member row; a month's batch
-- remittance loads every employer.
CREATE INDEX member_employer_state ON member (employer_id, state);

-- Only remittances' postings have a remittance: the interest, transfers and merges add nothing to
-- this index (every lookup names a remittance, which implies NOT NULL on both stores).
DROP INDEX posting_remittance;
CREATE INDEX posting_remittance ON posting (remittance_id) WHERE remittance_id IS NOT NULL;
