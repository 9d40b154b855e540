-- HPF schema 15: cross-city transfers in and out (异地转移接续, BDC901..906) and account merge
-- (个人合并) (issue 5 item 3; RULES 1.5, 1.6, 2.1 I-8, 5.3 J7/J8; docs/internals/citytransfer.md).
--
-- city_transfer is one transfer, in (we are the receiving centre: our member applied, we sent a
-- BDC901 contact letter) or out (we are the sending centre: the other centre's letter names our
-- member; we paid out and sent a BDC905). Its workflow state (RULES 1.6 item 6) moves; every
-- move is an immutable city_transfer_event row. Money fields stay NULL until known: for a
-- transfer in, the sending centre's BDC905 brings the split 本金 / 利息 and the flags that the
-- continuity counter and the loan rules read later (SixMconFlag, LoanNum, LoanEndFlag,
-- FrLoanFlag).
CREATE TABLE city_transfer (
    id           INTEGER PRIMARY KEY,
    direction    TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    contact_no   TEXT    NOT NULL UNIQUE,            -- 联系函编号: institution + YYMMDD + seq
    member_id    INTEGER NOT NULL REFERENCES member (id),
    state        TEXT    NOT NULL,                   -- workflow code, RULES 1.6 item 6
    other_centre TEXT    NOT NULL,                   -- the other centre's institution code
    or_unit      TEXT,                               -- in: the former employer's name
    or_acct      TEXT,                               -- the account at the sending centre
    idem_key     TEXT    UNIQUE,                     -- in: the application's Idempotency-Key
    principal    INTEGER CHECK (principal >= 0),     -- OrAcctAmt 本金, fen
    interest     INTEGER CHECK (interest >= 0),      -- Yinter 利息, fen
    amount       INTEGER CHECK (amount >= 0),        -- TranAmt = principal + interest
    o_acct       INTEGER,                            -- OAcctDate yyyymm
    pay_end      INTEGER,                            -- PayEndDate 缴至年月 yyyymm
    six_mcon     INTEGER CHECK (six_mcon IN (1, 2)), -- SixMconFlag
    loan_num     INTEGER CHECK (loan_num >= 0),      -- LoanNum
    loan_end     INTEGER CHECK (loan_end IN (1, 2)), -- LoanEndFlag
    fr_loan      INTEGER CHECK (fr_loan IN (1, 2)),  -- FrLoanFlag
    cont_phone   TEXT,                               -- the sending centre's contact phone
    voucher_id   INTEGER REFERENCES voucher (id),    -- 046 (in) or 011 (out), once posted
    applied_on   TEXT    NOT NULL,                   -- business date of the letter
    done_on      TEXT,                               -- business date it ended
    actor_id     INTEGER REFERENCES app_user (id),
    created_at   TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (amount IS NULL OR amount = principal + interest)
);
CREATE INDEX city_transfer_member ON city_transfer (member_id, id);
CREATE UNIQUE INDEX city_transfer_voucher ON city_transfer (voucher_id) WHERE voucher_id IS NOT NULL;
-- At most one open transfer in per member (a second letter while one is under way is refused).
CREATE UNIQUE INDEX city_transfer_one_open_in ON city_transfer (member_id)
    WHERE direction = 'in' AND state IN ('01', '02', '08', '06');

CREATE TABLE city_transfer_event (
    id          INTEGER PRIMARY KEY,
    transfer_id INTEGER NOT NULL REFERENCES city_transfer (id),
    from_state  TEXT,                                -- NULL: the transfer began
    to_state    TEXT    NOT NULL,
    tx_code     TEXT    NOT NULL,                    -- the message it came with: BDC901 ...
    note        TEXT,
    biz_date    TEXT    NOT NULL,
    actor_id    INTEGER REFERENCES app_user (id),    -- NULL: the platform's answer
    created_at  TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX city_transfer_event_transfer ON city_transfer_event (transfer_id, id);
CREATE TRIGGER city_transfer_event_immutable_u BEFORE UPDATE ON city_transfer_event
BEGIN SELECT RAISE(ABORT, 'city transfer events are immutable'); END;
CREATE TRIGGER city_transfer_event_immutable_d BEFORE DELETE ON city_transfer_event
BEGIN SELECT RAISE(ABORT, 'city transfer events are immutable'); END;
CREATE TRIGGER city_transfer_d BEFORE DELETE ON city_transfer
BEGIN SELECT RAISE(ABORT, 'city transfers are never deleted'); END;

-- 个人合并: a duplicate account of one person merged into their main account; the duplicate's
-- balance moves by one voucher of template 099 and two postings, and it ends in state 03.
CREATE TABLE member_merge (
    id          INTEGER PRIMARY KEY,
    from_member INTEGER NOT NULL UNIQUE REFERENCES member (id),
    to_member   INTEGER NOT NULL REFERENCES member (id),
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    voucher_id  INTEGER REFERENCES voucher (id),     -- NULL when the duplicate held nothing
    reason      TEXT    NOT NULL,
    biz_date    TEXT    NOT NULL,
    actor_id    INTEGER REFERENCES app_user (id),
    created_at  TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (from_member <> to_member)
);
CREATE TRIGGER member_merge_immutable_u BEFORE UPDATE ON member_merge
BEGIN SELECT RAISE(ABORT, 'member merges are immutable'); END;
CREATE TRIGGER member_merge_immutable_d BEFORE DELETE ON member_merge
BEGIN SELECT RAISE(ABORT, 'member merges are immutable'); END;

-- Template 099 个人合并 (ours [D]; RULES 5.3 has no entry: a move inside the member sub-ledger,
-- 201 to 201, whose control total does not change).
INSERT INTO voucher_template (code, name, entry) VALUES ('099', '个人合并', 'D');
INSERT INTO voucher_template_line (template, line_no, side, subject, amount) VALUES
    ('099', 1, 'D', '201', 'merged'),
    ('099', 2, 'C', '201', 'merged');
