//! The emulator's control plane (docs/emulator.md): named snapshots of all
//! the data, restored in one transaction, and the test clock's setting,
//! kept in the database so that every node sharing it reads the same.

use async_trait::async_trait;

use crate::Result;

/// A snapshot as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub name: String,
    /// When it was taken, Unix milliseconds of the server's clock.
    pub created_ms: i64,
    /// Rows it holds, over every table.
    pub rows: i64,
}

/// The test clock: the server's time is `frozen_ms` when set, else the
/// system's time moved by `offset_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockSetting {
    pub offset_ms: i64,
    pub frozen_ms: Option<i64>,
}

#[async_trait]
pub trait EmulatorStore: Send + Sync + 'static {
    /// Copies every application table (and the key counters) under `name`,
    /// replacing a snapshot of that name, or (`replace` false) leaving it
    /// and answering `None`. Two nodes saving at once take turns.
    async fn save_snapshot(
        &self,
        name: &str,
        created_ms: i64,
        replace: bool,
    ) -> Result<Option<SnapshotInfo>>;
    /// Replaces all the data with the snapshot's, in one transaction, and
    /// bumps the auth epoch so every node drops what it cached. `false`
    /// when there is no snapshot of that name.
    async fn restore_snapshot(&self, name: &str) -> Result<bool>;
    /// Deletes all the data (the schema stays) and restarts the key
    /// counters; bumps the auth epoch.
    async fn empty_data(&self) -> Result<()>;
    async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>>;
    /// `false` when there was none.
    async fn delete_snapshot(&self, name: &str) -> Result<bool>;

    async fn clock_setting(&self) -> Result<ClockSetting>;
    async fn put_clock_setting(&self, setting: ClockSetting) -> Result<()>;
}
