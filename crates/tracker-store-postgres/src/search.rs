//! Issue search on PostgreSQL: the shared statements (tracker-store-sql) over
//! the indexes and the tsvector table of migrations 0005–0009.

use tracker_store::*;

use crate::issues::ISSUE_SELECT;
use crate::{PostgresStore, QUEUE_COLS, USER_COLS};

tracker_store_sql::search_store!(
    PostgresStore,
    tracker_store_sql::search::Dialect::Postgres,
    ISSUE_SELECT,
    QUEUE_COLS,
    USER_COLS
);
