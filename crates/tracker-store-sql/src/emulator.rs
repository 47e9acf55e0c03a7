//! The emulator's snapshots and test clock (docs/emulator.md).
//!
//! A snapshot copies every application table, as the schema lists them
//! (nothing here names a table of the model), into tables of its own
//! (`emusnap_<slot>_<table>`, in the same database, so every node sees
//! them), with the key counters. A restore empties the tables and copies the
//! rows back in one transaction, parents before children; the full-text
//! index is rebuilt by its own triggers as the rows return.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Dialect, Engine, SqlStore};

/// Tables that are the server's machinery rather than data: the migration
/// record, the revocation counter every node polls (a restore bumps it
/// instead), keys every node signs with, leases of periodic jobs, the data
/// stamp's counter (restoring it would move it back to a value a cached
/// answer may carry: the restore's own row changes move it on instead),
/// and the control plane's own tables.
fn machinery(table: &str) -> bool {
    table.starts_with("_sqlx")
        || table.starts_with("sqlite_")
        || table.starts_with("emulator_")
        || table.starts_with("emusnap_")
        || matches!(
            table,
            "auth_epoch" | "server_keys" | "job_leases" | "data_generation"
        )
}

/// An identifier as SQL text (names come from the schema's catalog).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn snapshot_table(slot: i64, table: &str) -> String {
    quoted(&format!("emusnap_{slot}_{table}"))
}

fn invalid(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("{what}: {e}"))
}

/// A table copied by a snapshot, with the columns it was copied with.
type TableColumns = Vec<(String, Vec<String>)>;
/// A key counter: name, value, and whether the value was handed out.
type Sequence = (String, i64, bool);

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// The application tables in an order where every table comes after
    /// the tables it references (inserts go in this order, deletes in the
    /// reverse); derived tables left out.
    async fn data_tables(&self, conn: &mut D::Connection) -> Result<Vec<String>> {
        let all: Vec<String> = Self::scalars_on(&mut *conn, D::DIALECT.tables_sql(), ()).await?;
        let mut tables: Vec<String> = all
            .into_iter()
            .filter(|t| !machinery(t) && !D::DIALECT.derived_table(t))
            .collect();
        let edges: Vec<(String, String)> =
            Self::fetch_all_on(&mut *conn, D::DIALECT.foreign_keys_sql(), ()).await?;
        let mut ordered = Vec::with_capacity(tables.len());
        while !tables.is_empty() {
            let ready: Vec<String> = tables
                .iter()
                .filter(|t| {
                    !edges.iter().any(|(child, parent)| {
                        child == *t && parent != *t && tables.contains(parent)
                    })
                })
                .cloned()
                .collect();
            if ready.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "the tables {tables:?} reference each other in a cycle"
                )));
            }
            tables.retain(|t| !ready.contains(t));
            ordered.extend(ready);
        }
        Ok(ordered)
    }

    async fn read_sequences(&self, conn: &mut D::Connection) -> Result<Vec<Sequence>> {
        match D::DIALECT {
            Dialect::Sqlite => {
                let rows: Vec<(String, i64)> = Self::fetch_all_on(
                    &mut *conn,
                    "SELECT name, seq FROM sqlite_sequence ORDER BY name",
                    (),
                )
                .await?;
                Ok(rows.into_iter().map(|(n, v)| (n, v, true)).collect())
            }
            Dialect::Postgres => {
                let names: Vec<String> =
                    Self::scalars_on(&mut *conn, D::DIALECT.sequences_sql(), ()).await?;
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    let (value, called): (i64, bool) = Self::fetch_one_on(
                        &mut *conn,
                        &format!("SELECT last_value, is_called FROM {}", quoted(&name)),
                        (),
                    )
                    .await?;
                    out.push((name, value, called));
                }
                Ok(out)
            }
        }
    }

    /// Sets the key counters to `sequences`; counters not named start over.
    async fn write_sequences(
        &self,
        conn: &mut D::Connection,
        sequences: &[Sequence],
    ) -> Result<()> {
        match D::DIALECT {
            Dialect::Sqlite => {
                Self::exec_on(&mut *conn, "DELETE FROM sqlite_sequence", ()).await?;
                for (name, value, _) in sequences {
                    Self::exec_on(
                        &mut *conn,
                        "INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)",
                        (name, *value),
                    )
                    .await?;
                }
            }
            Dialect::Postgres => {
                let names: Vec<String> =
                    Self::scalars_on(&mut *conn, D::DIALECT.sequences_sql(), ()).await?;
                for name in names {
                    let (value, called) = sequences
                        .iter()
                        .find(|(n, _, _)| *n == name)
                        .map_or((1, false), |(_, v, c)| (*v, *c));
                    Self::exec_on(
                        &mut *conn,
                        "SELECT setval($1::regclass, $2, $3)",
                        (quoted(&name), value, called),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Deletes every row of the data tables `ordered` (see
    /// [`SqlStore::data_tables`]) and of the tables derived from them.
    async fn delete_data(&self, conn: &mut D::Connection, ordered: &[String]) -> Result<()> {
        let mut tables: Vec<String> = ordered.iter().rev().cloned().collect();
        match D::DIALECT {
            Dialect::Sqlite => {
                // Checked at commit, when every row is back. The full-text
                // index empties through its triggers.
                Self::exec_on(&mut *conn, "PRAGMA defer_foreign_keys = ON", ()).await?;
            }
            Dialect::Postgres => {
                // What the triggers derive goes last: deleting comments
                // refreshes it.
                let all: Vec<String> =
                    Self::scalars_on(&mut *conn, D::DIALECT.tables_sql(), ()).await?;
                tables.extend(all.into_iter().filter(|t| D::DIALECT.derived_table(t)));
            }
        }
        // DELETE rather than PostgreSQL's TRUNCATE: on a test's few rows it
        // is many times faster (TRUNCATE makes new files for every table and
        // index). Children go first, so no reference stands in the way.
        for table in &tables {
            Self::exec_on(&mut *conn, &format!("DELETE FROM {}", quoted(table)), ()).await?;
        }
        Ok(())
    }

    async fn snapshot_slot(
        &self,
        conn: &mut D::Connection,
        name: &str,
    ) -> Result<Option<(i64, TableColumns, Vec<Sequence>)>> {
        let row: Option<(i64, String, String)> = Self::fetch_optional_on(
            &mut *conn,
            "SELECT slot, tables, sequences FROM emulator_snapshots WHERE name = $1",
            (name,),
        )
        .await?;
        let Some((slot, tables, sequences)) = row else {
            return Ok(None);
        };
        let tables: TableColumns =
            serde_json::from_str(&tables).map_err(|e| invalid("snapshot tables", e))?;
        let sequences: Vec<Sequence> =
            serde_json::from_str(&sequences).map_err(|e| invalid("snapshot sequences", e))?;
        Ok(Some((slot, tables, sequences)))
    }

    /// Drops the snapshot's tables and its row; `false` when there was none.
    async fn drop_snapshot(&self, conn: &mut D::Connection, name: &str) -> Result<bool> {
        let Some((slot, tables, _)) = self.snapshot_slot(&mut *conn, name).await? else {
            return Ok(false);
        };
        for (table, _) in &tables {
            Self::exec_on(
                &mut *conn,
                &format!("DROP TABLE IF EXISTS {}", snapshot_table(slot, table)),
                (),
            )
            .await?;
        }
        Self::exec_on(
            &mut *conn,
            "DELETE FROM emulator_snapshots WHERE name = $1",
            (name,),
        )
        .await?;
        Ok(true)
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> EmulatorStore for SqlStore<D> {
    async fn save_snapshot(
        &self,
        name: &str,
        created_ms: i64,
        replace: bool,
    ) -> Result<Option<SnapshotInfo>> {
        let mut tx = self.begin().await?;
        if D::DIALECT == Dialect::Postgres {
            // SQLite's write transaction already excludes other savers.
            Self::exec_on(
                &mut *tx,
                "LOCK TABLE emulator_snapshots IN EXCLUSIVE MODE",
                (),
            )
            .await?;
        }
        if !replace && self.snapshot_slot(&mut tx, name).await?.is_some() {
            return Ok(None);
        }
        self.drop_snapshot(&mut tx, name).await?;
        let slot: i64 = Self::scalar_on(
            &mut *tx,
            "SELECT coalesce(max(slot), 0) + 1 FROM emulator_snapshots",
            (),
        )
        .await?;
        let mut copied: TableColumns = Vec::new();
        let mut rows = 0i64;
        for table in self.data_tables(&mut tx).await? {
            let columns: Vec<String> =
                Self::scalars_on(&mut *tx, D::DIALECT.columns_sql(), (&table,)).await?;
            let list = columns
                .iter()
                .map(|c| quoted(c))
                .collect::<Vec<_>>()
                .join(", ");
            let copy = snapshot_table(slot, &table);
            Self::exec_on(
                &mut *tx,
                &format!(
                    "CREATE TABLE {copy} AS SELECT {list} FROM {}",
                    quoted(&table)
                ),
                (),
            )
            .await?;
            let n: i64 =
                Self::scalar_on(&mut *tx, &format!("SELECT count(*) FROM {copy}"), ()).await?;
            rows += n;
            copied.push((table, columns));
        }
        let sequences = self.read_sequences(&mut tx).await?;
        let tables = serde_json::to_string(&copied).map_err(|e| invalid("snapshot", e))?;
        let sequences = serde_json::to_string(&sequences).map_err(|e| invalid("snapshot", e))?;
        Self::exec_on(
            &mut *tx,
            "INSERT INTO emulator_snapshots (name, slot, created_ms, tables, sequences, \
             row_count) VALUES ($1, $2, $3, $4, $5, $6)",
            (name, slot, created_ms, tables, sequences, rows),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(SnapshotInfo {
            name: name.to_owned(),
            created_ms,
            rows,
        }))
    }

    async fn restore_snapshot(&self, name: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let Some((slot, tables, sequences)) = self.snapshot_slot(&mut tx, name).await? else {
            return Ok(false);
        };
        let ordered = self.data_tables(&mut tx).await?;
        if let Some((missing, _)) = tables.iter().find(|(t, _)| !ordered.contains(t)) {
            return Err(StoreError::Invalid(format!(
                "snapshot {name} holds table {missing}, which the schema no longer has"
            )));
        }
        self.delete_data(&mut tx, &ordered).await?;
        for table in &ordered {
            let Some((_, columns)) = tables.iter().find(|(t, _)| t == table) else {
                // A table made by a later migration: empty, as it was then.
                continue;
            };
            let list = columns
                .iter()
                .map(|c| quoted(c))
                .collect::<Vec<_>>()
                .join(", ");
            Self::exec_on(
                &mut *tx,
                &format!(
                    "INSERT INTO {} ({list}) SELECT {list} FROM {}",
                    quoted(table),
                    snapshot_table(slot, table)
                ),
                (),
            )
            .await?;
        }
        self.write_sequences(&mut tx, &sequences).await?;
        Self::commit_bumping_epoch(tx).await?;
        Ok(true)
    }

    async fn empty_data(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        let ordered = self.data_tables(&mut tx).await?;
        self.delete_data(&mut tx, &ordered).await?;
        self.write_sequences(&mut tx, &[]).await?;
        Self::commit_bumping_epoch(tx).await
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        let rows: Vec<(String, i64, i64)> = self
            .fetch_all(
                "SELECT name, created_ms, row_count FROM emulator_snapshots ORDER BY name",
                (),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(name, created_ms, rows)| SnapshotInfo {
                name,
                created_ms,
                rows,
            })
            .collect())
    }

    async fn delete_snapshot(&self, name: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let dropped = self.drop_snapshot(&mut tx, name).await?;
        tx.commit().await.map_err(db)?;
        Ok(dropped)
    }

    async fn clock_setting(&self) -> Result<ClockSetting> {
        let (offset_ms, frozen_ms): (i64, Option<i64>) = self
            .fetch_one(
                "SELECT offset_ms, frozen_ms FROM emulator_clock WHERE id = 1",
                (),
            )
            .await?;
        Ok(ClockSetting {
            offset_ms,
            frozen_ms,
        })
    }

    async fn put_clock_setting(&self, setting: ClockSetting) -> Result<()> {
        self.exec(
            "UPDATE emulator_clock SET offset_ms = $1, frozen_ms = $2 WHERE id = 1",
            (setting.offset_ms, setting.frozen_ms),
        )
        .await?;
        Ok(())
    }
}
