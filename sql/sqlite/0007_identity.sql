-- HPF schema 7: identity (issue 4; docs/internals/identity.md). Second factors of operators and
-- agents (TOTP), SMS one-time codes of members, login throttling with back-off, the moment a
-- session last proved its second factor, and the verdicts counter terminals hand in.

-- TOTP (RFC 6238) of operators and agents: the shared secret, base32, and the last time step
-- accepted, so that a code is refused the second time (replay). Members have none.
ALTER TABLE app_user ADD COLUMN totp_secret TEXT;
ALTER TABLE app_user ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- When the session's second factor was last proven (unix seconds): the login, or a step-up.
-- Money routes want it younger than session_step_up_s.
ALTER TABLE session ADD COLUMN factor_at INTEGER NOT NULL DEFAULT 0;

-- Failed logins, per login ('u:' || app_user.id) or, for names that match no login, per name
-- ('n:' || SM3 of the name): the same answers either way, so the throttle tells nothing about
-- which names exist. Times are unix milliseconds. A success deletes the row; rows idle for a day
-- are purged with the expired sessions.
CREATE TABLE login_throttle (
    throttle_key TEXT    PRIMARY KEY,
    user_id      INTEGER REFERENCES app_user (id),
    failures     INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX login_throttle_updated ON login_throttle (updated_at);

-- SMS one-time codes (members' second factor). The challenge is a random token the client
-- holds; only its SM3 is kept, and the code only as SM3(challenge || code). Five tries, five
-- minutes, one use. A step-up challenge belongs to one session.
CREATE TABLE otp_challenge (
    id             INTEGER PRIMARY KEY,
    challenge_hash TEXT    NOT NULL UNIQUE,
    user_id        INTEGER NOT NULL REFERENCES app_user (id),
    purpose        TEXT    NOT NULL CHECK (purpose IN ('login', 'step_up')),
    session_hash   TEXT,
    code_hash      TEXT    NOT NULL,
    tries          INTEGER NOT NULL DEFAULT 0,
    expires_at     INTEGER NOT NULL,               -- unix seconds
    used_at        INTEGER,
    created_at     INTEGER NOT NULL,
    CHECK ((purpose = 'step_up') = (session_hash IS NOT NULL))
);
CREATE INDEX otp_challenge_expires ON otp_challenge (expires_at);

-- What a counter terminal saw (ID-card reader, face check, e-licence scan), recorded with the
-- case it belongs to and the operator at the counter. Immutable, and each is on the audit chain.
CREATE TABLE identity_verdict (
    id              INTEGER PRIMARY KEY,
    case_ref        TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('id_card', 'face', 'elicence')),
    result          TEXT    NOT NULL CHECK (result IN ('pass', 'fail')),
    device_id       TEXT    NOT NULL,
    evidence_sha256 TEXT,
    licence_id      TEXT,
    score           INTEGER CHECK (score BETWEEN 0 AND 100),
    operator_id     INTEGER NOT NULL REFERENCES app_user (id),
    idem_key        TEXT,
    request_hash    TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,              -- UTC 'YYYY-MM-DDTHH:MM:SSZ'
    CHECK ((kind = 'elicence') = (licence_id IS NOT NULL)),
    CHECK ((kind = 'elicence') = (evidence_sha256 IS NULL)),
    CHECK (score IS NULL OR kind = 'face')
);
CREATE INDEX identity_verdict_case ON identity_verdict (case_ref, id);
CREATE UNIQUE INDEX identity_verdict_idem ON identity_verdict (operator_id, idem_key)
    WHERE idem_key IS NOT NULL;
CREATE TRIGGER identity_verdict_immutable_u BEFORE UPDATE ON identity_verdict
BEGIN SELECT RAISE(ABORT, 'identity verdicts are immutable'); END;
CREATE TRIGGER identity_verdict_immutable_d BEFORE DELETE ON identity_verdict
BEGIN SELECT RAISE(ABORT, 'identity verdicts are immutable'); END;
