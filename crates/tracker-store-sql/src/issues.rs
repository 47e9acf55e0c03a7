//! Issues, comments, links and the changelog.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Transaction;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, join_ids, split, Binds, Engine, SqlStore, Then, SEP};
use crate::{CommentRow, IssueRow};

pub(crate) const ISSUE_SELECT: &str = "SELECT i.pk, i.id, i.org, i.queue_id, i.key, i.version, i.summary, \
    i.description, i.issue_type, i.priority, i.status, i.previous_status, i.resolution, \
    i.assignee, i.author, i.updated_by, i.parent_pk, i.unique_key, i.created_at, i.updated_at, \
    i.resolved_at, i.status_start_time, i.last_comment_updated_at, i.comment_count, i.votes, i.extra, \
    (SELECT string_agg(CAST(f.uid AS TEXT), '\u{1f}') FROM issue_followers f WHERE f.issue_pk = i.pk) AS followers, \
    (SELECT string_agg(t.tag, '\u{1f}') FROM issue_tags t WHERE t.issue_pk = i.pk) AS tags, \
    (SELECT string_agg(a.key, '\u{1f}') FROM issue_aliases a WHERE a.issue_pk = i.pk) AS aliases, \
    (SELECT string_agg(CAST(c.component_pk AS TEXT), '\u{1f}') FROM issue_components c WHERE c.issue_pk = i.pk) AS components, \
    (SELECT string_agg(CAST(v.version_pk AS TEXT), '\u{1f}') FROM issue_versions v WHERE v.issue_pk = i.pk AND v.fix) AS fix_versions, \
    (SELECT string_agg(CAST(v.version_pk AS TEXT), '\u{1f}') FROM issue_versions v WHERE v.issue_pk = i.pk AND NOT v.fix) AS affected_versions \
    FROM issues i";

/// The statement of [`IssueStore::issue_by_key_or_id`] (`$1` the
/// organization, `$2` a key, an old key or an id); public for the driver
/// benchmark, which runs it through another driver.
pub fn issue_by_key_sql() -> String {
    // One indexed lookup per way of naming an issue: an `OR` across the
    // columns makes SQLite scan every issue of the organization.
    format!(
        "{ISSUE_SELECT} WHERE i.org = $1 AND i.pk = COALESCE( \
           (SELECT pk FROM issues WHERE org = $1 AND key = $2), \
           (SELECT pk FROM issues WHERE id = $2 AND org = $1), \
           (SELECT issue_pk FROM issue_aliases WHERE org = $1 AND key = $2))"
    )
}

const LINK_COLS: &str = "pk, org, type_id, source_pk, target_pk, created_by, created_at, \
    COALESCE(updated_by, created_by) AS updated_by, COALESCE(updated_at, created_at) AS updated_at";

const COMMENT_COLS: &str =
    "pk, id, issue_pk, text, summonees, author, updated_by, created_at, updated_at, version";

/// The record [`IssueStore::issue_by_pk`] would read back right after
/// `create_issue`: sets deduplicated and sorted as the reads return them.
pub(crate) fn created_record(
    i: &IssueRecord,
    pk: i64,
    key: String,
    microsecond_times: bool,
) -> IssueRecord {
    let mut issue = i.clone();
    issue.pk = pk;
    issue.key = key;
    issue.version = 1;
    issue.followers.sort_unstable();
    issue.followers.dedup();
    issue.tags = split(Some(issue.tags.join(&SEP.to_string())));
    issue.tags.sort();
    issue.tags.dedup();
    issue.aliases = Vec::new();
    for ids in [
        &mut issue.components,
        &mut issue.fix_versions,
        &mut issue.affected_versions,
    ] {
        ids.sort_unstable();
        ids.dedup();
    }
    if !microsecond_times {
        return issue;
    }
    use chrono::SubsecRound;
    for t in [
        &mut issue.created_at,
        &mut issue.updated_at,
        &mut issue.status_start_time,
    ] {
        *t = t.trunc_subsecs(6);
    }
    for t in [&mut issue.resolved_at, &mut issue.last_comment_updated_at]
        .into_iter()
        .flatten()
    {
        *t = t.trunc_subsecs(6);
    }
    issue
}

/// A comment as written: an issue's and an entity's are stored alike, in
/// tables of their own.
pub(crate) struct CommentFields<'a> {
    pub pk: i64,
    pub id: &'a str,
    pub text: &'a str,
    pub summonees: &'a [i64],
    pub author: i64,
    pub updated_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Both comment records have these fields by the same names, and no trait
/// in common to read them through.
macro_rules! comment_fields_from {
    ($($record:ty),+) => {$(
        impl<'a> From<&'a $record> for CommentFields<'a> {
            fn from(c: &'a $record) -> Self {
                CommentFields {
                    pk: c.pk,
                    id: &c.id,
                    text: &c.text,
                    summonees: &c.summonees,
                    author: c.author,
                    updated_by: c.updated_by,
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                }
            }
        }
    )+};
}

comment_fields_from!(CommentRecord, EntityCommentRecord);

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Inserts a comment into `table` under the issue or entity `under`
    /// names (its column and pk); the new comment's pk.
    pub(crate) async fn insert_comment(
        tx: &mut Transaction<'_, D>,
        table: &str,
        (parent_col, parent): (&str, i64),
        c: CommentFields<'_>,
    ) -> Result<i64> {
        let sql = format!(
            "INSERT INTO {table} ({parent_col}, id, text, summonees, author, updated_by, \
               created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) \
             RETURNING pk"
        );
        let binds = (
            parent,
            c.id,
            c.text,
            join_ids(c.summonees),
            c.author,
            c.updated_by,
            c.created_at,
            c.updated_at,
        );
        Self::scalar_on(&mut **tx, &sql, binds).await
    }

    /// Edits comment `c.pk` of `table` if it is under `under` (as for
    /// [`Self::insert_comment`]).
    pub(crate) async fn update_comment(
        tx: &mut Transaction<'_, D>,
        table: &str,
        (parent_col, parent): (&str, i64),
        c: CommentFields<'_>,
    ) -> Result<u64> {
        let sql = format!(
            "UPDATE {table} SET text = $1, summonees = $2, updated_by = $3, updated_at = $4, \
               version = version + 1 WHERE pk = $5 AND {parent_col} = $6"
        );
        let binds = (
            c.text,
            join_ids(c.summonees),
            c.updated_by,
            c.updated_at,
            c.pk,
            parent,
        );
        Self::exec_on(&mut **tx, &sql, binds).await
    }

    async fn replace_sets(tx: &mut Transaction<'_, D>, issue: &IssueRecord, pk: i64) -> Result<()> {
        for table in [
            "issue_followers",
            "issue_tags",
            "issue_components",
            "issue_versions",
        ] {
            Self::exec_on(
                &mut **tx,
                &format!("DELETE FROM {table} WHERE issue_pk = $1"),
                (pk,),
            )
            .await?;
        }
        Self::insert_sets(tx, &[(issue, pk)]).await
    }

    /// Adds the sets (followers, tags, components, versions) of issues to
    /// their rows, one statement per kind of set for all of them.
    async fn insert_sets(
        tx: &mut Transaction<'_, D>,
        issues: &[(&IssueRecord, i64)],
    ) -> Result<()> {
        type Set = fn(&IssueRecord) -> &[i64];
        let sets: [(&str, Set); 2] = [
            ("issue_followers (issue_pk, uid)", |i| &i.followers),
            ("issue_components (issue_pk, component_pk)", |i| {
                &i.components
            }),
        ];
        for (into, set) in sets {
            let pairs: Vec<(i64, i64)> = issues
                .iter()
                .flat_map(|(i, pk)| set(i).iter().map(move |v| (*pk, *v)))
                .collect();
            Self::insert_rows(tx, into, "(?, ?)", pairs).await?;
        }
        let tags: Vec<(i64, String)> = issues
            .iter()
            .flat_map(|(i, pk)| i.tags.iter().map(move |t| (*pk, t.clone())))
            .collect();
        Self::insert_rows(tx, "issue_tags (issue_pk, tag)", "(?, ?)", tags).await?;
        let versions: Vec<(i64, i64, bool)> = issues
            .iter()
            .flat_map(|(i, pk)| {
                let fix = i.fix_versions.iter().map(move |v| (*pk, *v, true));
                let affected = i.affected_versions.iter().map(move |v| (*pk, *v, false));
                fix.chain(affected)
            })
            .collect();
        Self::insert_rows(
            tx,
            "issue_versions (issue_pk, version_pk, fix)",
            "(?, ?, ?)",
            versions,
        )
        .await
    }

    /// Writes changelog entries, each for its issue, in one statement.
    async fn insert_changelog(
        tx: &mut Transaction<'_, D>,
        entries: &[(i64, &NewChangelog)],
    ) -> Result<()> {
        let sql = format!(
            "INSERT INTO changelog (id, issue_pk, kind, updated_by, updated_at, fields, data) \
             VALUES {}",
            crate::rows_sql(D::DIALECT, "(?, ?, ?, ?, ?, ?, ?)", entries.len())
        );
        let rows: Vec<_> = entries
            .iter()
            .map(|(issue_pk, c)| {
                (
                    &c.id,
                    *issue_pk,
                    &c.kind,
                    c.updated_by,
                    c.updated_at,
                    &c.fields,
                    &c.data,
                )
            })
            .collect();
        Self::exec_on(&mut **tx, &sql, rows).await?;
        Ok(())
    }

    /// Takes the queue's next number. Being the transaction's first write, it
    /// also takes SQLite's write lock, so numbers are handed out one at a time.
    async fn next_key(tx: &mut Transaction<'_, D>, org: i64, queue_id: i64) -> Result<String> {
        let (n, key) = Self::take_numbers(tx, org, queue_id, 1).await?;
        Ok(format!("{key}-{n}"))
    }

    /// Moves the queue's counter on by `count`: the last number taken and
    /// the queue's key. The queue's row stays locked until commit, so no
    /// other transaction (on any node) takes numbers in between.
    pub(crate) async fn take_numbers(
        tx: &mut Transaction<'_, D>,
        org: i64,
        queue_id: i64,
        count: i64,
    ) -> Result<(i64, String)> {
        let row: Option<(i64, String)> = Self::fetch_optional_on(
            &mut **tx,
            "UPDATE queues SET issue_seq = issue_seq + $3 \
             WHERE id = $1 AND org = $2 AND deleted_at IS NULL RETURNING issue_seq, key",
            (queue_id, org, count),
        )
        .await?;
        row.ok_or(StoreError::NotFound("queue"))
    }

    /// The columns both an issue's insert and its update write, from
    /// `summary` to `extra`, in that order.
    fn issue_columns(i: &IssueRecord) -> impl Binds<'_, D> {
        (
            &i.summary,
            &i.description,
            &i.issue_type,
            &i.priority,
            &i.status,
            &i.previous_status,
            &i.resolution,
            i.assignee,
            i.updated_by,
            i.parent_pk,
            i.updated_at,
            i.resolved_at,
            i.status_start_time,
            i.last_comment_updated_at,
            i.comment_count,
            i.votes,
            &i.extra,
        )
    }

    /// Writes a new issue under `key` with its sets, attachments and
    /// changelog entry; its pk.
    pub(crate) async fn insert_new(
        tx: &mut Transaction<'_, D>,
        new: &NewIssue,
        key: &str,
    ) -> Result<i64> {
        let pks = Self::insert_many(tx, &[(new, key)])
            .await
            .map_err(|(_, e)| e)?;
        pks.into_iter()
            .next()
            .ok_or_else(|| StoreError::Database("the new issue's row was not returned".into()))
    }

    /// Writes new issues under their keys with their sets, attachments and
    /// changelog entries, a statement for all the issues, one for all their
    /// entries and one per kind of set (a batch of creates is then a few
    /// round trips, not a few per issue): their pks, in order. On failure,
    /// which issue failed when that is known (one alone, or the attachments
    /// of one); nothing is written then (the caller rolls back).
    pub(crate) async fn insert_many(
        tx: &mut Transaction<'_, D>,
        news: &[(&NewIssue, &str)],
    ) -> std::result::Result<Vec<i64>, (Option<usize>, StoreError)> {
        let whose = |e: StoreError| (if news.len() == 1 { Some(0) } else { None }, e);
        // Twenty-four placeholders a row and at most a batch of rows
        // (`creates::MAX_BATCH`): far below both engines' limits.
        let sql = format!(
            "INSERT INTO issues (id, org, queue_id, key, author, unique_key, created_at, \
             version, summary, description, issue_type, priority, status, previous_status, \
             resolution, assignee, updated_by, parent_pk, updated_at, resolved_at, \
             status_start_time, last_comment_updated_at, comment_count, votes, extra) VALUES {} \
             RETURNING id, pk",
            crate::rows_sql(
                D::DIALECT,
                "(?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                news.len()
            )
        );
        let rows: Vec<_> = news
            .iter()
            .map(|(n, key)| {
                let i = &n.issue;
                Then(
                    (
                        &i.id,
                        i.org,
                        i.queue_id,
                        *key,
                        i.author,
                        &i.unique,
                        i.created_at,
                    ),
                    Self::issue_columns(i),
                )
            })
            .collect();
        // The order of a multi-row insert's returned rows is not promised:
        // each pk is found by its issue's id.
        let returned: std::collections::HashMap<String, i64> =
            Self::fetch_all_on::<(String, i64)>(&mut **tx, &sql, rows)
                .await
                .map_err(whose)?
                .into_iter()
                .collect();
        let pks = news
            .iter()
            .map(|(n, _)| {
                returned.get(&n.issue.id).copied().ok_or_else(|| {
                    whose(StoreError::Database(
                        "a new issue's row was not returned".into(),
                    ))
                })
            })
            .collect::<std::result::Result<Vec<i64>, _>>()?;
        let issues: Vec<(&IssueRecord, i64)> = news
            .iter()
            .zip(&pks)
            .map(|((n, _), pk)| (&n.issue, *pk))
            .collect();
        // A new issue has no followers or tags to replace: insert only.
        Self::insert_sets(tx, &issues).await.map_err(whose)?;
        for (index, ((n, _), pk)) in news.iter().zip(&pks).enumerate() {
            if let Some(a) = &n.attachments {
                Self::write_attachments(tx, n.issue.org, *pk, None, a)
                    .await
                    .map_err(|e| (Some(index), e))?;
            }
        }
        let entries: Vec<(i64, &NewChangelog)> = news
            .iter()
            .zip(&pks)
            .map(|((n, _), pk)| (*pk, &n.changelog))
            .collect();
        Self::insert_changelog(tx, &entries).await.map_err(whose)?;
        Ok(pks)
    }

    /// Claims a key an import names: refused when an issue has it now or
    /// had it before a move; the queue's counter moves past its number so
    /// issues created later do not collide with it.
    async fn take_key(
        tx: &mut Transaction<'_, D>,
        org: i64,
        queue_id: i64,
        key: &str,
        number: i64,
    ) -> Result<()> {
        let bumped = Self::exec_on(
            &mut **tx,
            "UPDATE queues SET issue_seq = CASE WHEN issue_seq < $1 THEN $1 ELSE issue_seq END \
             WHERE id = $2 AND org = $3 AND deleted_at IS NULL",
            (number, queue_id, org),
        )
        .await?;
        if bumped == 0 {
            return Err(StoreError::NotFound("queue"));
        }
        let taken: Option<i64> = Self::optional_scalar_on(
            &mut **tx,
            "SELECT pk FROM issues WHERE org = $1 AND key = $2 \
             UNION ALL SELECT issue_pk FROM issue_aliases WHERE org = $3 AND key = $4",
            (org, key, org, key),
        )
        .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("issue {key}")));
        }
        Ok(())
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> IssueStore for SqlStore<D> {
    async fn create_issue(&self, new: &NewIssue) -> Result<IssueRecord> {
        self.create_grouped(new).await
    }

    async fn import_issue(
        &self,
        new: &NewIssue,
        given: Option<(&str, i64)>,
    ) -> Result<IssueRecord> {
        let i = &new.issue;
        let mut tx = self.begin().await?;
        let key = match given {
            None => Self::next_key(&mut tx, i.org, i.queue_id).await?,
            Some((key, number)) => {
                Self::take_key(&mut tx, i.org, i.queue_id, key, number).await?;
                key.to_owned()
            }
        };
        let pk = Self::insert_new(&mut tx, new, &key).await?;
        tx.commit().await.map_err(db)?;
        self.issue_created().await;
        // Everything stored is known here; a re-read would cost a statement
        // per create for the same values.
        Ok(created_record(i, pk, key, D::DIALECT.microsecond_times()))
    }

    async fn issue_by_key_or_id(&self, org: i64, key_or_id: &str) -> Result<Option<IssueRecord>> {
        self.find::<IssueRow, _>(&issue_by_key_sql(), (org, key_or_id))
            .await
    }

    async fn issue_by_pk(&self, org: i64, pk: i64) -> Result<Option<IssueRecord>> {
        self.find::<IssueRow, _>(
            &format!("{ISSUE_SELECT} WHERE i.org = $1 AND i.pk = $2"),
            (org, pk),
        )
        .await
    }

    async fn issue_by_unique(&self, org: i64, unique: &str) -> Result<Option<IssueRecord>> {
        self.find::<IssueRow, _>(
            &format!("{ISSUE_SELECT} WHERE i.org = $1 AND i.unique_key = $2"),
            (org, unique),
        )
        .await
    }

    async fn write_issue(&self, w: &IssueWrite) -> Result<(WriteOutcome, Option<IssueRecord>)> {
        let i = &w.issue;
        let mut tx = self.begin().await?;
        let mut key = i.key.clone();
        let mut queue_id = i.queue_id;
        if let Some((new_queue, _)) = &w.move_to_queue {
            key = Self::next_key(&mut tx, i.org, *new_queue).await?;
            queue_id = *new_queue;
            Self::exec_on(
                &mut *tx,
                "INSERT INTO issue_aliases (org, key, issue_pk) VALUES ($1, $2, $3) \
                 ON CONFLICT (org, key) DO UPDATE SET issue_pk = excluded.issue_pk",
                (i.org, &i.key, i.pk),
            )
            .await?;
        }
        if let Some(done) = &w.job_item {
            if !Self::complete_item(&mut tx, i.pk, done).await? {
                tx.rollback().await.map_err(db)?;
                return Ok((WriteOutcome::ItemTaken, None));
            }
        }
        let updated = Self::exec_on(
            &mut *tx,
            "UPDATE issues SET queue_id = $1, key = $2, version = version + 1, summary = $3, \
             description = $4, issue_type = $5, priority = $6, status = $7, previous_status = \
             $8, resolution = $9, assignee = $10, updated_by = $11, parent_pk = $12, updated_at \
             = $13, resolved_at = $14, status_start_time = $15, last_comment_updated_at = $16, \
             comment_count = $17, votes = $18, extra = $19 WHERE pk = $20 AND org = $21 AND \
             version = $22",
            Then(
                Then((queue_id, &key), Self::issue_columns(i)),
                (i.pk, i.org, i.version),
            ),
        )
        .await?;
        if updated == 0 {
            tx.rollback().await.map_err(db)?;
            return Ok((WriteOutcome::VersionConflict, None));
        }
        Self::replace_sets(&mut tx, i, i.pk).await?;
        // The comment this write inserts or updates, for its attachments.
        let mut comment_pk = None;
        match &w.comment {
            Some(CommentWrite::Insert(c)) => {
                let under = ("issue_pk", i.pk);
                let pk = Self::insert_comment(&mut tx, "comments", under, c.into()).await?;
                comment_pk = Some(pk);
            }
            Some(CommentWrite::Update(c)) => {
                comment_pk = Some(c.pk);
                Self::update_comment(&mut tx, "comments", ("issue_pk", i.pk), c.into()).await?;
            }
            Some(CommentWrite::Delete(pk)) => {
                Self::delete_owned(&mut tx, "comments", "issue_pk", *pk, i.pk).await?;
            }
            None => {}
        }
        match &w.link {
            Some(LinkWrite::Insert(l)) => {
                Self::exec_on(
                    &mut *tx,
                    "INSERT INTO links (org, type_id, source_pk, target_pk, created_by, \
                     created_at, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    (
                        l.org,
                        &l.type_id,
                        l.source_pk,
                        l.target_pk,
                        l.created_by,
                        l.created_at,
                        l.updated_by,
                        l.updated_at,
                    ),
                )
                .await?;
            }
            Some(LinkWrite::Delete(pk)) => {
                Self::exec_on(
                    &mut *tx,
                    "DELETE FROM links WHERE pk = $1 AND (source_pk = $2 OR target_pk = $3)",
                    (pk, i.pk, i.pk),
                )
                .await?;
            }
            None => {}
        }
        if let Some(worklog) = &w.worklog {
            Self::write_worklog(&mut tx, i.pk, worklog).await?;
        }
        if let Some(remote) = &w.remote_link {
            Self::write_remote_link(&mut tx, i.pk, remote).await?;
        }
        if let Some(a) = &w.attachments {
            // An error drops the transaction: nothing of the write is kept.
            Self::write_attachments(&mut tx, i.org, i.pk, comment_pk, a).await?;
        }
        for (issue_pk, entry) in &w.changelog {
            Self::insert_changelog(&mut tx, &[(*issue_pk, entry)]).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok((WriteOutcome::Written, self.issue_by_pk(i.org, i.pk).await?))
    }

    async fn list_comments(
        &self,
        issue_pk: i64,
        after_pk: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CommentRecord>> {
        let under = ("issue_pk", issue_pk);
        self.comments_after::<CommentRow, _>("comments", COMMENT_COLS, under, after_pk, limit)
            .await
    }

    async fn comment(&self, issue_pk: i64, id_or_pk: &str) -> Result<Option<CommentRecord>> {
        let pk = id_or_pk.parse::<i64>().unwrap_or(-1);
        self.find::<CommentRow, _>(
            &format!(
                "SELECT {COMMENT_COLS} FROM comments WHERE issue_pk = $1 AND (pk = $2 OR id = $3)"
            ),
            (issue_pk, pk, id_or_pk),
        )
        .await
    }

    async fn list_links(&self, issue_pk: i64) -> Result<Vec<LinkRecord>> {
        self.find_all::<LinkRecord, _>(
            &format!(
                "SELECT {LINK_COLS} FROM links WHERE source_pk = $1 OR target_pk = $2 ORDER BY pk"
            ),
            (issue_pk, issue_pk),
        )
        .await
    }

    async fn link(&self, issue_pk: i64, pk: i64) -> Result<Option<LinkRecord>> {
        self.find::<LinkRecord, _>(
            &format!(
                "SELECT {LINK_COLS} FROM links WHERE pk = $1 AND (source_pk = $2 OR target_pk = $3)"
            ),
            (pk, issue_pk, issue_pk),
        )
        .await
    }

    async fn list_changelog(
        &self,
        issue_pk: i64,
        q: &ChangelogQuery,
    ) -> Result<Vec<ChangelogRecord>> {
        let after: i64 = match &q.after {
            Some(id) => self
                .optional_scalar(
                    "SELECT pk FROM changelog WHERE id = $1 AND issue_pk = $2",
                    (id, issue_pk),
                )
                .await?
                .unwrap_or(i64::MAX),
            None => 0,
        };
        // Filters on the field run over the JSON text: entries are small and
        // per issue, so a scan of one issue's history is cheap.
        let sql = format!(
            "SELECT pk, id, issue_pk, kind, updated_by, updated_at, fields, data FROM changelog \
             WHERE issue_pk = $1 AND pk > $2 AND (CAST($3 AS TEXT) IS NULL OR kind = $4) \
               AND (CAST($5 AS TEXT) IS NULL \
                 OR {position}(fields, '\"field\":\"' || $6 || '\"') > 0) \
             ORDER BY pk LIMIT $7",
            position = D::DIALECT.position(),
        );
        let binds = (
            issue_pk, after, &q.kind, &q.kind, &q.field, &q.field, q.limit,
        );
        self.fetch_all(&sql, binds).await
    }

    async fn set_queue_deleted(
        &self,
        org: i64,
        queue_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let deleted = at.is_some();
        let r = self
            .exec(
                "UPDATE queues SET deleted_at = $1, version = version + 1 \
             WHERE id = $2 AND org = $3 AND (deleted_at IS NULL) = $4",
                (at, queue_id, org, deleted),
            )
            .await?;
        Ok(r > 0)
    }

    async fn issue_count_in_queue(&self, queue_id: i64) -> Result<i64> {
        self.scalar(
            "SELECT COUNT(*) FROM issues WHERE queue_id = $1",
            (queue_id,),
        )
        .await
    }

    async fn update_queue(&self, q: &QueueRecord) -> Result<WriteOutcome> {
        self.update_versioned(
            "UPDATE queues SET name = $1, description = $2, lead_uid = $3, default_type = $4, \
               default_priority = $5, issue_types = $9, version = version + 1 \
             WHERE id = $6 AND org = $7 AND version = $8",
            (
                &q.name,
                &q.description,
                q.lead_uid,
                &q.default_type,
                &q.default_priority,
                q.id,
                q.org,
                q.version,
                &q.issue_types,
            ),
        )
        .await
    }

    async fn queue_tags(&self, queue_id: i64) -> Result<Vec<String>> {
        self.scalars(
            "SELECT DISTINCT t.tag FROM issue_tags t JOIN issues i ON i.pk = t.issue_pk \
             WHERE i.queue_id = $1 ORDER BY t.tag",
            (queue_id,),
        )
        .await
    }

    async fn issues_with_tag(&self, queue_id: i64, tag: &str) -> Result<Vec<i64>> {
        self.scalars(
            "SELECT i.pk FROM issues i JOIN issue_tags t ON t.issue_pk = i.pk \
             WHERE i.queue_id = $1 AND t.tag = $2 ORDER BY i.pk",
            (queue_id, tag),
        )
        .await
    }
}
