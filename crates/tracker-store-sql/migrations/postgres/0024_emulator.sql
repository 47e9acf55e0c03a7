-- The emulator's control plane (docs/emulator.md). A snapshot's rows live in
-- tables named emusnap_<slot>_<table>, made by the control plane; this table
-- names them. `tables` is JSON: [[table, [column, …]], …]; `sequences` the
-- key counters: [[name, value, called], …].
CREATE TABLE emulator_snapshots (
    name        TEXT PRIMARY KEY,
    slot        BIGINT NOT NULL UNIQUE,
    created_ms  BIGINT NOT NULL,
    tables      TEXT NOT NULL,
    sequences   TEXT NOT NULL,
    row_count   BIGINT NOT NULL
);

-- The test clock every node reads: the system's time moved by offset_ms, or
-- frozen at frozen_ms (Unix milliseconds).
CREATE TABLE emulator_clock (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    offset_ms   BIGINT NOT NULL,
    frozen_ms   BIGINT
);
INSERT INTO emulator_clock (id, offset_ms, frozen_ms) VALUES (1, 0, NULL);
