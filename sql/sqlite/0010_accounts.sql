-- HPF schema 10: fund accounting (issue 5 item 1; RULES 5; docs/internals/ledger.md).
-- The chart of accounts in versions by effective date, the voucher templates as rows, reversals
-- (冲账) linked to what they reverse, and the employer sub-ledger kept beside the member one.
-- The baseline chart (data/chart-1999.csv) is not here: `hpf` loads it, through the same
-- validation as `hpf ledger chart load`, the first time it opens a database without a chart.

-- subject stays the registry of every code any chart version defined, so that voucher_line
-- keeps referring to a chart code. A code's class and normal side never change (history is read
-- with them); its name, level and parent follow the latest version that holds it.
ALTER TABLE subject ADD COLUMN level INTEGER NOT NULL DEFAULT 1;
ALTER TABLE subject ADD COLUMN parent TEXT;
CREATE TRIGGER subject_class_u BEFORE UPDATE OF code, class, normal_side ON subject
WHEN NEW.code <> OLD.code OR NEW.class <> OLD.class OR NEW.normal_side <> OLD.normal_side
BEGIN SELECT RAISE(ABORT, 'a subject keeps its code, class and normal side'); END;
CREATE TRIGGER subject_immutable_d BEFORE DELETE ON subject
BEGIN SELECT RAISE(ABORT, 'subjects are never deleted'); END;

-- A chart version is in force from effective_from until the next version's date. Loaded once,
-- never changed: a correction is a new version.
CREATE TABLE chart_version (
    id             INTEGER PRIMARY KEY,
    effective_from TEXT    NOT NULL UNIQUE,          -- YYYY-MM-DD
    name           TEXT    NOT NULL,                 -- e.g. 住房公积金会计核算办法 (1999)
    source         TEXT    NOT NULL,                 -- the file it came from
    subjects       INTEGER NOT NULL CHECK (subjects > 0),
    loaded_by      INTEGER REFERENCES app_user (id), -- NULL: the system (the baseline)
    loaded_at      TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- The subjects of a version (JGJ/T 320 8.0.2: KMBH, KMMC, KMJB, KMSX, KMYEFX).
CREATE TABLE chart_entry (
    version     INTEGER NOT NULL REFERENCES chart_version (id),
    code        TEXT    NOT NULL REFERENCES subject (code),
    name        TEXT    NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 6),
    parent      TEXT,
    class       TEXT    NOT NULL CHECK (class IN ('asset', 'liability', 'equity', 'income', 'expense')),
    normal_side TEXT    NOT NULL CHECK (normal_side IN ('D', 'C')),
    PRIMARY KEY (version, code),
    CHECK ((level = 1) = (parent IS NULL))
);
CREATE TRIGGER chart_version_immutable_u BEFORE UPDATE ON chart_version
BEGIN SELECT RAISE(ABORT, 'chart versions are immutable'); END;
CREATE TRIGGER chart_version_immutable_d BEFORE DELETE ON chart_version
BEGIN SELECT RAISE(ABORT, 'chart versions are immutable'); END;
CREATE TRIGGER chart_entry_immutable_u BEFORE UPDATE ON chart_entry
BEGIN SELECT RAISE(ABORT, 'chart entries are immutable'); END;
CREATE TRIGGER chart_entry_immutable_d BEFORE DELETE ON chart_entry
BEGIN SELECT RAISE(ABORT, 'chart entries are immutable'); END;

-- Voucher templates (凭证模板, RULES 5.3): the core entries J1..J8. Codes are those of the
-- implementation's catalogue (VoucherBusinessType 001..045) where RULES names them; 046 and 047
-- are ours (the catalogue's codes for them were not found). A line takes the named amount of
-- the business; a line whose amount is zero is left out of the voucher.
CREATE TABLE voucher_template (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    entry TEXT NOT NULL   -- RULES 5.3 entry, J1 ...
);
CREATE TABLE voucher_template_line (
    template TEXT    NOT NULL REFERENCES voucher_template (code),
    line_no  INTEGER NOT NULL CHECK (line_no > 0),
    side     TEXT    NOT NULL CHECK (side IN ('D', 'C')),
    subject  TEXT    NOT NULL,   -- a chart code; checked against the chart in force when used
    amount   TEXT    NOT NULL,   -- the name of the business amount the line takes
    PRIMARY KEY (template, line_no)
);
INSERT INTO voucher_template (code, name, entry) VALUES
    ('001', '汇补缴', 'J1'),
    ('003', '收到暂收', 'J1'''),
    ('047', '暂收分摊', 'J1'''),
    ('007', '部分提取', 'J2'),
    ('008', '销户提取', 'J3'),
    ('010', '死亡无继承人销户', 'J4'),
    ('017', '计提公积金利息', 'J5'),
    ('018', '结算公积金利息', 'J6'),
    ('011', '外部转出', 'J7'),
    ('046', '外部转入', 'J8');
INSERT INTO voucher_template_line (template, line_no, side, subject, amount) VALUES
    ('001', 1, 'D', '101', 'deposit'),
    ('001', 2, 'C', '201', 'deposit'),
    ('003', 1, 'D', '101', 'received'),
    ('003', 2, 'C', '219', 'received'),
    ('047', 1, 'D', '219', 'allocated'),
    ('047', 2, 'C', '201', 'allocated'),
    ('007', 1, 'D', '201', 'withdrawal'),
    ('007', 2, 'C', '101', 'withdrawal'),
    ('008', 1, 'D', '201', 'principal'),
    ('008', 2, 'D', '211', 'interest_accrued'),
    ('008', 3, 'D', '41101', 'interest_unaccrued'),
    ('008', 4, 'C', '101', 'paid'),
    ('010', 1, 'D', '201', 'principal'),
    ('010', 2, 'C', '40105', 'principal'),
    ('017', 1, 'D', '41101', 'interest'),
    ('017', 2, 'C', '211', 'interest'),
    ('018', 1, 'D', '211', 'interest_accrued'),
    ('018', 2, 'D', '41101', 'interest_unaccrued'),
    ('018', 3, 'C', '201', 'interest'),
    ('011', 1, 'D', '201', 'principal'),
    ('011', 2, 'D', '211', 'interest_accrued'),
    ('011', 3, 'D', '41101', 'interest_unaccrued'),
    ('011', 4, 'C', '101', 'paid'),
    ('046', 1, 'D', '101', 'transfer_in'),
    ('046', 2, 'C', '201', 'transfer_in');

-- Reversal (冲账, JGJ/T 320 CZBZ/CZBS): the mirror voucher names the one it reverses; a voucher
-- is reversed at most once (the index), and a reversal is never reversed (ledger/ledger.c). The
-- immutability triggers of schema 1 cover the new column.
ALTER TABLE voucher ADD COLUMN reversal_of INTEGER REFERENCES voucher (id);
CREATE UNIQUE INDEX voucher_reversal ON voucher (reversal_of) WHERE reversal_of IS NOT NULL;
-- The postings a voucher moved (a reversal mirrors them) and the one mirror of a posting.
CREATE INDEX posting_voucher ON posting (voucher_id);
CREATE UNIQUE INDEX posting_reversal ON posting (reversal_of) WHERE reversal_of IS NOT NULL;

-- The employer sub-ledger (单位账户余额): the sum of the balances of the employer's members, kept
-- by every member posting (ledger/ledger.c) in a narrow table of its own, so that a remittance's
-- postings do not rewrite the wide employer row. `hpf verify` checks it against the members and
-- its total against account 201.
CREATE TABLE employer_balance (
    employer_id INTEGER PRIMARY KEY REFERENCES employer (id),
    balance     INTEGER NOT NULL CHECK (balance >= 0)
);
INSERT INTO employer_balance (employer_id, balance)
    SELECT employer_id, SUM(balance) FROM member GROUP BY employer_id;
