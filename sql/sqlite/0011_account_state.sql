-- HPF schema 11: the personal account states (issue 5 item 3; RULES 1.5, 1.6;
-- docs/internals/accounts.md). member.state (GRZHZT) stays where it was; this adds the history
-- of its changes: one row per business that changed a state or an employer (封存, 启封, 内部转移,
-- 冻结, 解冻), written in the business's transaction beside the member's audit snapshot
-- (member.state_changed). Rows are never changed or deleted. A frozen account returns, on 解冻,
-- to the from_state of its latest 冻结 row.
CREATE TABLE member_state_history (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES member (id),
    business      TEXT    NOT NULL,                 -- JGJ/T 320 A.5: 04, 05, 06, 14, 15 ...
    from_state    TEXT    NOT NULL,                 -- GRZHZT before and after
    to_state      TEXT    NOT NULL,
    from_employer INTEGER NOT NULL REFERENCES employer (id),
    to_employer   INTEGER NOT NULL REFERENCES employer (id),
    reason        TEXT,                             -- as given; NULL: none
    order_ref     TEXT,                             -- 冻结: the court order or fraud case
    biz_date      TEXT    NOT NULL,                 -- YYYY-MM-DD, the business date
    actor_id      INTEGER REFERENCES app_user (id), -- NULL: the system
    created_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (business <> '14' OR order_ref IS NOT NULL)
);
CREATE INDEX member_state_history_member ON member_state_history (member_id, id);
CREATE TRIGGER member_state_history_immutable_u BEFORE UPDATE ON member_state_history
BEGIN SELECT RAISE(ABORT, 'member state history rows are immutable'); END;
CREATE TRIGGER member_state_history_immutable_d BEFORE DELETE ON member_state_history
BEGIN SELECT RAISE(ABORT, 'member state history rows are immutable'); END;
