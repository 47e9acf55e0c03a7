//! Issue search on SQLite: the shared statements (tracker-store-sql) over
//! the indexes and the FTS5 table of migrations 0005–0009.

use tracker_store::*;

use crate::issues::ISSUE_SELECT;
use crate::{SqliteStore, QUEUE_COLS, USER_COLS};

tracker_store_sql::search_store!(
    SqliteStore,
    tracker_store_sql::search::Dialect::Sqlite,
    ISSUE_SELECT,
    QUEUE_COLS,
    USER_COLS
);
