-- HPF schema 9: administrators and branch-office scopes (issue 4 parts 1 and 2;
-- docs/internals/identity.md "Roles and scopes"). The PostgreSQL twin of
-- sql/sqlite/0009_admin.sql. An administrator manages logins and holds no business route; a
-- branch office (管理部) of the centre sees its own employers' cases only.

-- The centre (00, the city) and Yancheng's county offices. Codes never change meaning.
CREATE TABLE branch (
    code TEXT PRIMARY KEY CHECK (length(code) = 2),
    name TEXT NOT NULL
);
INSERT INTO branch (code, name) VALUES
    ('00', '市中心'), ('01', '建湖'), ('02', '滨海'), ('03', '阜宁'), ('04', '射阳');

-- The branch an employer's cases belong to.
ALTER TABLE employer ADD COLUMN branch TEXT NOT NULL DEFAULT '00' REFERENCES branch (code);
CREATE INDEX employer_branch ON employer (branch, id);

-- app_user: the role 'admin', and an operator's branch (NULL: the whole centre).
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check
    CHECK (role IN ('member', 'agent', 'operator', 'admin'));
ALTER TABLE app_user ADD COLUMN branch TEXT REFERENCES branch (code);
ALTER TABLE app_user ADD CONSTRAINT app_user_branch_operator CHECK (branch IS NULL OR role = 'operator');
