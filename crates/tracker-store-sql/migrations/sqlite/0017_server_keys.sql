-- Keys every node must agree on (the sign-in form's token key): made by the
-- first node that needs one, read by all.
CREATE TABLE server_keys (
    name    TEXT PRIMARY KEY,
    secret  TEXT NOT NULL
);
