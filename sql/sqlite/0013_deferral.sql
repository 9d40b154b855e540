-- HPF schema 13: deferral (缓缴, RULES 1.1 C-9 / C-10, 1.3 type 13), its make-up by back-payment
-- (补缴, type 02) and the policy flag of the continuity counter (docs/internals/deposits.md).
--
-- A back-payment is a remittance row of kind '02' (schema 1) whose postings carry their own
-- months; nothing new is needed for it here. A deferral is granted through maker-checker
-- (approval kind deferral.grant): one row per grant, and one owed_month row (应缴未缴) per member
-- and deferred month with the amounts computed at the grant. A back-payment that fills an owed
-- month marks it made up (once). The employer's state is 03 while a deferral is active.
CREATE TABLE deferral (
    id          INTEGER PRIMARY KEY,
    employer_id INTEGER NOT NULL REFERENCES employer (id),
    ref         TEXT    NOT NULL,                 -- the approval's business key (Idempotency-Key)
    from_month  INTEGER NOT NULL,                 -- yyyymm, first deferred month
    to_month    INTEGER NOT NULL,                 -- yyyymm, last deferred month
    reason      TEXT    NOT NULL,
    document_no TEXT    NOT NULL,                 -- the 管委会 approval document (批准文号)
    state       TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'made_up', 'ended')),
    granted_on  TEXT    NOT NULL,                 -- business date of the grant
    closed_on   TEXT,                             -- business date it left 'active'
    members     INTEGER NOT NULL CHECK (members >= 0),
    owed_total  INTEGER NOT NULL CHECK (owed_total >= 0),
    created_by  INTEGER REFERENCES app_user (id),
    created_at  TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (to_month >= from_month),
    CHECK ((state = 'active') = (closed_on IS NULL)),
    UNIQUE (employer_id, ref)
);
CREATE INDEX deferral_employer ON deferral (employer_id, from_month);

CREATE TABLE owed_month (
    id           INTEGER PRIMARY KEY,
    deferral_id  INTEGER NOT NULL REFERENCES deferral (id),
    member_id    INTEGER NOT NULL REFERENCES member (id),
    period       INTEGER NOT NULL,                -- 汇补缴年月 yyyymm
    unit_amount  INTEGER NOT NULL CHECK (unit_amount >= 0),
    indiv_amount INTEGER NOT NULL CHECK (indiv_amount >= 0),
    amount       INTEGER NOT NULL CHECK (amount = unit_amount + indiv_amount),
    made_up_by   INTEGER REFERENCES remittance (id), -- the back-payment that filled it
    made_up_on   TEXT,
    CHECK ((made_up_by IS NULL) = (made_up_on IS NULL)),
    UNIQUE (member_id, period)
);
CREATE INDEX owed_month_deferral ON owed_month (deferral_id, period);

-- A deferral leaves 'active' once and changes nothing else; an owed month is made up once.
CREATE TRIGGER deferral_close BEFORE UPDATE ON deferral
WHEN OLD.state <> 'active' OR NEW.id IS NOT OLD.id OR NEW.employer_id IS NOT OLD.employer_id
  OR NEW.ref IS NOT OLD.ref OR NEW.from_month IS NOT OLD.from_month
  OR NEW.to_month IS NOT OLD.to_month OR NEW.reason IS NOT OLD.reason
  OR NEW.document_no IS NOT OLD.document_no OR NEW.granted_on IS NOT OLD.granted_on
  OR NEW.members IS NOT OLD.members OR NEW.owed_total IS NOT OLD.owed_total
  OR NEW.created_by IS NOT OLD.created_by
BEGIN SELECT RAISE(ABORT, 'a deferral is closed once and is immutable after that'); END;
CREATE TRIGGER deferral_keep BEFORE DELETE ON deferral
BEGIN SELECT RAISE(ABORT, 'deferrals are immutable'); END;
CREATE TRIGGER owed_month_make_up BEFORE UPDATE ON owed_month
WHEN OLD.made_up_by IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.deferral_id IS NOT OLD.deferral_id
  OR NEW.member_id IS NOT OLD.member_id OR NEW.period IS NOT OLD.period
  OR NEW.unit_amount IS NOT OLD.unit_amount OR NEW.indiv_amount IS NOT OLD.indiv_amount
  OR NEW.amount IS NOT OLD.amount
BEGIN SELECT RAISE(ABORT, 'an owed month is made up once and is immutable after that'); END;
CREATE TRIGGER owed_month_keep BEFORE DELETE ON owed_month
BEGIN SELECT RAISE(ABORT, 'owed months are immutable'); END;

-- RULES 1.3: approved deferral months count as continuous when this is on (C-10: 2022).
ALTER TABLE policy_version ADD COLUMN deferral_counts_as_continuous INTEGER NOT NULL DEFAULT 1
    CHECK (deferral_counts_as_continuous IN (0, 1));
