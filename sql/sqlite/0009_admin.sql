-- HPF schema 9: administrators and branch-office scopes (issue 4 parts 1 and 2;
-- docs/internals/identity.md "Roles and scopes"). An administrator manages logins and holds no
-- business route; a branch office (管理部) of the centre sees its own employers' cases only.

-- The centre (00, the city) and Yancheng's county offices. Codes never change meaning.
CREATE TABLE branch (
    code TEXT PRIMARY KEY CHECK (length(code) = 2),
    name TEXT NOT NULL
);
INSERT INTO branch (code, name) VALUES
    ('00', '市中心'), ('01', '建湖'), ('02', '滨海'), ('03', '阜宁'), ('04', '射阳');

-- The branch an employer's cases belong to. SQLite adds no REFERENCES column with a non-NULL
-- default while foreign keys are on: the triggers below keep it pointing at a branch instead.
ALTER TABLE employer ADD COLUMN branch TEXT NOT NULL DEFAULT '00';
CREATE INDEX employer_branch ON employer (branch, id);
CREATE TRIGGER employer_branch_i BEFORE INSERT ON employer
WHEN NOT EXISTS (SELECT 1 FROM branch WHERE code = NEW.branch)
BEGIN SELECT RAISE(ABORT, 'employer.branch names no branch'); END;
CREATE TRIGGER employer_branch_u BEFORE UPDATE OF branch ON employer
WHEN NOT EXISTS (SELECT 1 FROM branch WHERE code = NEW.branch)
BEGIN SELECT RAISE(ABORT, 'employer.branch names no branch'); END;

-- app_user: the role 'admin', and an operator's branch (NULL: the whole centre). SQLite changes
-- a CHECK only by building the table again. The rows are copied aside, the table dropped and
-- made anew, and the rows copied back with their ids: with the foreign keys deferred, dropping
-- the table counts the rows that still reference it (sessions, approvals, keys ...) and putting
-- each login back counts them off again, so the commit finds every reference whole. app_user
-- has no index but its UNIQUE and no trigger of its own.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE app_user_copy AS SELECT id, username, pw_hash, role, display_name, employer_id,
    member_id, disabled, created_at, totp_secret, totp_last_step FROM app_user;
DROP TABLE app_user;
CREATE TABLE app_user (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    pw_hash        TEXT    NOT NULL,               -- argon2id encoded string
    role           TEXT    NOT NULL CHECK (role IN ('member', 'agent', 'operator', 'admin')),
    display_name   TEXT    NOT NULL,
    employer_id    INTEGER REFERENCES employer (id),
    member_id      INTEGER REFERENCES member (id),
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    totp_secret    TEXT,                           -- schema 7
    totp_last_step INTEGER NOT NULL DEFAULT 0,     -- schema 7
    branch         TEXT    REFERENCES branch (code), -- operators: their branch; NULL: the centre
    CHECK ((role = 'agent') = (employer_id IS NOT NULL)),
    CHECK ((role = 'member') = (member_id IS NOT NULL)),
    CHECK (branch IS NULL OR role = 'operator')
);
INSERT INTO app_user (id, username, pw_hash, role, display_name, employer_id, member_id,
    disabled, created_at, totp_secret, totp_last_step)
    SELECT id, username, pw_hash, role, display_name, employer_id, member_id, disabled,
        created_at, totp_secret, totp_last_step FROM app_user_copy ORDER BY id;
DROP TABLE app_user_copy;
