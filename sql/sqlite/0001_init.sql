-- HPF schema 1: policy, chart of accounts, users and sessions, employers, members,
-- remittances, vouchers and the member sub-ledger.
-- Written in the subset of SQL that SQLite and PostgreSQL share where possible.
-- Money columns are integer fen; ratios integer basis points; dates TEXT 'YYYY-MM-DD';
-- months INTEGER yyyymm. Codes follow JGJ/T 320 (see docs/ and RULES.md 6.1).

-- Policy parameters (政策信息), versioned by effective date (RULES 0.3). Illustrative values:
-- Yancheng's own figures must be loaded from the official notice.
CREATE TABLE policy_version (
    version            INTEGER PRIMARY KEY,
    effective_from     TEXT    NOT NULL UNIQUE,
    unit_ratio_min_bp  INTEGER NOT NULL CHECK (unit_ratio_min_bp BETWEEN 1 AND 10000),
    unit_ratio_max_bp  INTEGER NOT NULL CHECK (unit_ratio_max_bp >= unit_ratio_min_bp),
    indiv_ratio_min_bp INTEGER NOT NULL CHECK (indiv_ratio_min_bp BETWEEN 1 AND 10000),
    indiv_ratio_max_bp INTEGER NOT NULL CHECK (indiv_ratio_max_bp >= indiv_ratio_min_bp),
    city_avg_wage      INTEGER NOT NULL CHECK (city_avg_wage > 0),
    min_wage           INTEGER NOT NULL CHECK (min_wage > 0),
    cap_multiple       INTEGER NOT NULL CHECK (cap_multiple BETWEEN 1 AND 5),
    rounding           TEXT    NOT NULL CHECK (rounding IN ('yuan', 'jiao', 'fen')),
    ratios_must_match  INTEGER NOT NULL CHECK (ratios_must_match IN (0, 1)),
    deposit_rate_e7    INTEGER NOT NULL CHECK (deposit_rate_e7 >= 0),
    day_basis          INTEGER NOT NULL CHECK (day_basis IN (360, 365)),
    note               TEXT    NOT NULL,
    created_at         TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO policy_version VALUES
    (1, '2000-01-01', 500, 1200, 500, 1200, 750000, 207000, 3, 'yuan', 1, 150000, 360,
     'illustrative values of RULES.md 1.2-A; replace with the official notice', CURRENT_TIMESTAMP);

-- Named counters for account numbers and serials (taken inside the business transaction).
CREATE TABLE counter (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Chart of accounts (会计科目, RULES 5.2) as data.
CREATE TABLE subject (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    class       TEXT NOT NULL CHECK (class IN ('asset', 'liability', 'equity', 'income', 'expense')),
    normal_side TEXT NOT NULL CHECK (normal_side IN ('D', 'C'))
);
INSERT INTO subject VALUES
    ('101', '住房公积金存款', 'asset', 'D'),
    ('102', '增值收益存款', 'asset', 'D'),
    ('111', '应收利息', 'asset', 'D'),
    ('119', '其他应收款', 'asset', 'D'),
    ('121', '委托贷款', 'asset', 'D'),
    ('122', '逾期贷款', 'asset', 'D'),
    ('124', '国家债券', 'asset', 'D'),
    ('201', '住房公积金', 'liability', 'C'),
    ('211', '应付利息', 'liability', 'C'),
    ('214', '专项应付款', 'liability', 'C'),
    ('219', '其他应付款', 'liability', 'C'),
    ('301', '贷款风险准备', 'equity', 'C'),
    ('311', '增值收益', 'equity', 'C'),
    ('321', '增值收益分配', 'equity', 'D'),
    ('401', '业务收入', 'income', 'C'),
    ('411', '业务支出', 'expense', 'D');

-- Employers (单位, JGJ/T 320 4.0.2 / 5.0.2). state: 01 正常 02 开户 03 缓缴 04 销户 05 封存.
CREATE TABLE employer (
    id             INTEGER PRIMARY KEY,
    account_no     TEXT    NOT NULL UNIQUE,        -- DWZH
    name           TEXT    NOT NULL,               -- DWMC
    uscc           TEXT    NOT NULL UNIQUE,        -- ZZJGDM (unified social credit code)
    unit_ratio_bp  INTEGER NOT NULL,               -- DWJCBL
    indiv_ratio_bp INTEGER NOT NULL,               -- GRJCBL
    state          TEXT    NOT NULL DEFAULT '01',  -- DWZHZT
    opened_on      TEXT    NOT NULL,               -- DWKHRQ
    paid_through   INTEGER,                        -- JZNY yyyymm
    created_at     TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Member accounts (个人账户, 4.0.3 / 5.0.4). state per RULES 1.5: 01 正常 02 封存 03 合并销户
-- 04 外部转出销户 05 提取销户 06 冻结 99 其他.
CREATE TABLE member (
    id           INTEGER PRIMARY KEY,
    account_no   TEXT    NOT NULL UNIQUE,          -- GRZH, never reused
    employer_id  INTEGER NOT NULL REFERENCES employer (id),
    name         TEXT    NOT NULL,                 -- XingMing
    id_type      TEXT    NOT NULL DEFAULT '01',    -- ZJLX
    id_number    TEXT    NOT NULL,                 -- ZJHM
    phone        TEXT,                             -- SJHM
    wage         INTEGER NOT NULL CHECK (wage > 0),-- prior-year average monthly wage
    state        TEXT    NOT NULL DEFAULT '01',    -- GRZHZT
    opened_on    TEXT    NOT NULL,                 -- KHRQ
    closed_on    TEXT,                             -- XHRQ
    balance      INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0), -- GRZHYE
    paid_through INTEGER,                          -- JZNY yyyymm
    created_at   TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX member_employer ON member (employer_id, id);
-- RULES 1.5 invariant 2: at most one non-terminal account per (证件类型, 证件号码).
CREATE UNIQUE INDEX member_one_live ON member (id_type, id_number)
    WHERE state NOT IN ('03', '04', '05');

-- Logins. A member's username is the resident ID number; agents act for one employer.
CREATE TABLE app_user (
    id           INTEGER PRIMARY KEY,
    username     TEXT    NOT NULL UNIQUE,
    pw_hash      TEXT    NOT NULL,                 -- argon2id encoded string
    role         TEXT    NOT NULL CHECK (role IN ('member', 'agent', 'operator')),
    display_name TEXT    NOT NULL,
    employer_id  INTEGER REFERENCES employer (id),
    member_id    INTEGER REFERENCES member (id),
    disabled     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((role = 'agent') = (employer_id IS NOT NULL)),
    CHECK ((role = 'member') = (member_id IS NOT NULL))
);

-- Sessions live in the database so several servers can share them. Only a hash of the token
-- is stored.
CREATE TABLE session (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,                   -- unix seconds
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX session_by_user ON session (user_id);

-- Vouchers (记账凭证, 8.0.5) and their lines. Immutable once written.
CREATE TABLE voucher (
    id         INTEGER PRIMARY KEY,
    voucher_no TEXT    NOT NULL UNIQUE,            -- JZPZH
    biz_date   TEXT    NOT NULL,                   -- JZRQ
    template   TEXT    NOT NULL,                   -- voucher template code, e.g. 001 汇补缴
    summary    TEXT    NOT NULL,                   -- ZhaiYao
    created_at TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE voucher_line (
    voucher_id INTEGER NOT NULL REFERENCES voucher (id),
    line_no    INTEGER NOT NULL,
    subject    TEXT    NOT NULL REFERENCES subject (code),
    debit      INTEGER NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit     INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0),
    CHECK ((debit = 0) <> (credit = 0)),
    PRIMARY KEY (voucher_id, line_no)
);

-- Remittances (汇缴 01, later 补缴 02 ...), one per employer-month for type 01; the client's
-- idempotency key is unique per employer and the request hash detects a reused key.
CREATE TABLE remittance (
    id           INTEGER PRIMARY KEY,
    serial       TEXT    NOT NULL UNIQUE,
    employer_id  INTEGER NOT NULL REFERENCES employer (id),
    kind         TEXT    NOT NULL DEFAULT '01',
    period       INTEGER NOT NULL,                 -- HBJNY yyyymm
    idem_key     TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    members      INTEGER NOT NULL CHECK (members > 0),
    unit_total   INTEGER NOT NULL CHECK (unit_total >= 0),
    indiv_total  INTEGER NOT NULL CHECK (indiv_total >= 0),
    total        INTEGER NOT NULL CHECK (total = unit_total + indiv_total),
    voucher_id   INTEGER NOT NULL REFERENCES voucher (id),
    posted_on    TEXT    NOT NULL,
    created_by   INTEGER REFERENCES app_user (id),
    created_at   TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (employer_id, idem_key)
);
CREATE UNIQUE INDEX remittance_one_per_month ON remittance (employer_id, period) WHERE kind = '01';

-- Member sub-ledger (个人业务明细, 5.0.5): one row per movement, never updated or deleted.
-- kind: JGJ/T A.5 business type (01 汇缴 ...). balance_after is the member balance after it.
CREATE TABLE posting (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES member (id),
    biz_date      TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    period        INTEGER,
    amount        INTEGER NOT NULL,
    unit_amount   INTEGER NOT NULL DEFAULT 0,
    indiv_amount  INTEGER NOT NULL DEFAULT 0,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    voucher_id    INTEGER NOT NULL REFERENCES voucher (id),
    remittance_id INTEGER REFERENCES remittance (id),
    reversal_of   INTEGER REFERENCES posting (id),
    created_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX posting_member ON posting (member_id, id);
CREATE INDEX posting_remittance ON posting (remittance_id);

-- Immutable history (ARCHITECTURE rule 5).
CREATE TRIGGER posting_immutable_u BEFORE UPDATE ON posting
BEGIN SELECT RAISE(ABORT, 'posting rows are immutable'); END;
CREATE TRIGGER posting_immutable_d BEFORE DELETE ON posting
BEGIN SELECT RAISE(ABORT, 'posting rows are immutable'); END;
CREATE TRIGGER voucher_immutable_u BEFORE UPDATE ON voucher
BEGIN SELECT RAISE(ABORT, 'vouchers are immutable'); END;
CREATE TRIGGER voucher_immutable_d BEFORE DELETE ON voucher
BEGIN SELECT RAISE(ABORT, 'vouchers are immutable'); END;
CREATE TRIGGER voucher_line_immutable_u BEFORE UPDATE ON voucher_line
BEGIN SELECT RAISE(ABORT, 'voucher lines are immutable'); END;
CREATE TRIGGER voucher_line_immutable_d BEFORE DELETE ON voucher_line
BEGIN SELECT RAISE(ABORT, 'voucher lines are immutable'); END;
CREATE TRIGGER remittance_immutable_u BEFORE UPDATE ON remittance
BEGIN SELECT RAISE(ABORT, 'remittances are immutable'); END;
CREATE TRIGGER remittance_immutable_d BEFORE DELETE ON remittance
BEGIN SELECT RAISE(ABORT, 'remittances are immutable'); END;
