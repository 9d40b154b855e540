-- HPF schema 14: changes of the contribution terms (issue 5 item 3; RULES C-5, 1.2, 1.3 types 10
-- and 75, 1.4; docs/internals/contribution-changes.md).
--
-- 基数调整 (10): each 缴存年度 (1 July Y .. 30 June Y+1, named Y) the employer declares each
-- member's prior-year average monthly wage. A batch is one declaration (idempotent per
-- employer and key); each row changes one member's wage from its effective month on. member.wage
-- holds the latest declared wage (audited: member.changed); a remittance takes the wage in force
-- for its month from these rows (hpf_contrib_value_at). One adjustment a year per member,
-- except an operator's correction.
CREATE TABLE base_adjustment_batch (
    id           INTEGER PRIMARY KEY,
    employer_id  INTEGER NOT NULL REFERENCES employer (id),
    year         INTEGER NOT NULL,                 -- 缴存年度 Y: 1 July Y .. 30 June Y+1
    idem_key     TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    nrows        INTEGER NOT NULL CHECK (nrows > 0),
    correction   INTEGER NOT NULL CHECK (correction IN (0, 1)),
    biz_date     TEXT    NOT NULL,
    actor_id     INTEGER REFERENCES app_user (id),
    created_at   TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (employer_id, idem_key)
);
CREATE TABLE base_adjustment (
    id              INTEGER PRIMARY KEY,
    batch_id        INTEGER NOT NULL REFERENCES base_adjustment_batch (id),
    member_id       INTEGER NOT NULL REFERENCES member (id),
    employer_id     INTEGER NOT NULL REFERENCES employer (id), -- the declaring employer
    year            INTEGER NOT NULL,
    effective_month INTEGER NOT NULL,              -- yyyymm, first month of the new wage
    old_wage        INTEGER NOT NULL CHECK (old_wage > 0), -- in force in that month before
    new_wage        INTEGER NOT NULL CHECK (new_wage > 0),
    base            INTEGER NOT NULL CHECK (base > 0),     -- clamped by the month's policy
    correction      INTEGER NOT NULL CHECK (correction IN (0, 1)),
    biz_date        TEXT    NOT NULL,
    actor_id        INTEGER REFERENCES app_user (id),
    created_at      TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX base_adjustment_member ON base_adjustment (member_id, effective_month, id);
CREATE INDEX base_adjustment_employer ON base_adjustment (employer_id, year, id);
CREATE INDEX base_adjustment_batch_rows ON base_adjustment (batch_id, id);
-- contribution.base_year_done: one adjustment a year per member, corrections aside.
CREATE UNIQUE INDEX base_adjustment_once ON base_adjustment (member_id, year) WHERE correction = 0;

-- 比例调整 (75): an employer's ratios from a month on; employer.unit_ratio_bp / indiv_ratio_bp
-- hold the latest (audited: employer.changed), a remittance takes the ratios in force for its
-- month from these rows.
CREATE TABLE ratio_change (
    id              INTEGER PRIMARY KEY,
    employer_id     INTEGER NOT NULL REFERENCES employer (id),
    effective_month INTEGER NOT NULL,
    old_unit_bp     INTEGER NOT NULL,
    old_indiv_bp    INTEGER NOT NULL,
    new_unit_bp     INTEGER NOT NULL CHECK (new_unit_bp BETWEEN 1 AND 10000),
    new_indiv_bp    INTEGER NOT NULL CHECK (new_indiv_bp BETWEEN 1 AND 10000),
    reason          TEXT,
    idem_key        TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    biz_date        TEXT    NOT NULL,
    actor_id        INTEGER REFERENCES app_user (id),
    created_at      TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (employer_id, idem_key)
);
CREATE INDEX ratio_change_employer ON ratio_change (employer_id, effective_month, id);

-- 灵活就业 (RULES 1.4): the centre's own pseudo-unit that holds voluntary depositors' accounts
-- (one row, made on first use), and each depositor's terms.
CREATE TABLE voluntary_unit (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    employer_id INTEGER NOT NULL UNIQUE REFERENCES employer (id)
);
CREATE TABLE voluntary_account (
    member_id     INTEGER PRIMARY KEY REFERENCES member (id),
    base          INTEGER NOT NULL CHECK (base > 0),
    ratio_bp      INTEGER NOT NULL CHECK (ratio_bp BETWEEN 1 AND 20000),
    registered_on TEXT    NOT NULL,
    actor_id      INTEGER REFERENCES app_user (id),
    created_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- A voluntary deposit is a remittance (kind 01) of one member of the pseudo-unit: one per
-- member and month, where an employer's 汇缴 is one per employer and month.
ALTER TABLE remittance ADD COLUMN member_id INTEGER REFERENCES member (id);
DROP INDEX remittance_one_per_month;
CREATE UNIQUE INDEX remittance_one_per_month ON remittance (employer_id, period)
    WHERE kind = '01' AND member_id IS NULL;
CREATE UNIQUE INDEX remittance_one_per_member_month ON remittance (member_id, period)
    WHERE kind = '01' AND member_id IS NOT NULL;

CREATE TRIGGER base_adjustment_immutable_u BEFORE UPDATE ON base_adjustment
BEGIN SELECT RAISE(ABORT, 'base adjustments are immutable'); END;
CREATE TRIGGER base_adjustment_immutable_d BEFORE DELETE ON base_adjustment
BEGIN SELECT RAISE(ABORT, 'base adjustments are immutable'); END;
CREATE TRIGGER ratio_change_immutable_u BEFORE UPDATE ON ratio_change
BEGIN SELECT RAISE(ABORT, 'ratio changes are immutable'); END;
CREATE TRIGGER ratio_change_immutable_d BEFORE DELETE ON ratio_change
BEGIN SELECT RAISE(ABORT, 'ratio changes are immutable'); END;
