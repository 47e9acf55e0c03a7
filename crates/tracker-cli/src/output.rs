//! Tables for people, JSON for scripts.

use std::io::Write;

use comfy_table::{presets, Table};
use futures_util::TryStreamExt;
use serde::Serialize;
use tracker_api::{Queue, User};
use tracker_client::ItemStream;

use crate::cli::Output;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    // Borderless, like `kubectl get`: easy to read and to cut/grep.
    t.load_preset(presets::NOTHING);
    t.set_header(header.to_vec());
    t
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// One object: a two-column table of `rows`, or the object as JSON.
pub fn object<T: Serialize>(
    output: Output,
    value: &T,
    rows: Vec<(&str, String)>,
) -> anyhow::Result<()> {
    match output {
        Output::Json => print_json(value),
        Output::Table => {
            let mut t = Table::new();
            t.load_preset(presets::NOTHING);
            for (k, v) in rows {
                t.add_row(vec![k.to_owned(), v]);
            }
            println!("{t}");
            Ok(())
        }
    }
}

/// A list. JSON is written item by item as pages arrive (one array); a
/// table needs every row for its column widths, so it waits for them.
pub async fn list<T: Serialize>(
    output: Output,
    mut items: ItemStream<T>,
    limit: Option<usize>,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut n = 0;
    match output {
        Output::Json => {
            let mut out = std::io::stdout().lock();
            write!(out, "[")?;
            while n < limit {
                let Some(item) = items.try_next().await? else {
                    break;
                };
                write!(out, "{}\n  ", if n == 0 { "" } else { "," })?;
                serde_json::to_writer(&mut out, &item)?;
                n += 1;
            }
            writeln!(out, "{}]", if n == 0 { "" } else { "\n" })?;
        }
        Output::Table => {
            let mut t = table(header);
            while n < limit {
                let Some(item) = items.try_next().await? else {
                    break;
                };
                t.add_row(row(&item));
                n += 1;
            }
            println!("{t}");
        }
    }
    Ok(())
}

pub fn user_rows(u: &User) -> Vec<(&'static str, String)> {
    vec![
        ("uid", u.uid.to_string()),
        ("login", u.login.clone()),
        ("name", u.display.clone()),
        ("email", u.email.clone()),
        ("cloud uid", u.cloud_uid.clone()),
        ("dismissed", u.dismissed.to_string()),
        (
            "last login",
            u.last_login_date
                .map(|d| tracker_api::time::format(&d))
                .unwrap_or_default(),
        ),
    ]
}

pub const USER_HEADER: &[&str] = &["UID", "LOGIN", "NAME", "EMAIL"];

pub fn user_row(u: &User) -> Vec<String> {
    vec![
        u.uid.to_string(),
        u.login.clone(),
        u.display.clone(),
        u.email.clone(),
    ]
}

pub fn queue_rows(q: &Queue) -> Vec<(&'static str, String)> {
    vec![
        ("key", q.key.clone()),
        ("id", q.id.to_string()),
        ("name", q.name.clone()),
        ("lead", q.lead.display.clone()),
        ("description", q.description.clone().unwrap_or_default()),
        ("version", q.version.to_string()),
    ]
}

pub const QUEUE_HEADER: &[&str] = &["KEY", "ID", "NAME", "LEAD"];

pub fn queue_row(q: &Queue) -> Vec<String> {
    vec![
        q.key.clone(),
        q.id.to_string(),
        q.name.clone(),
        q.lead.display.clone(),
    ]
}

fn display(r: &Option<tracker_client::Ref>) -> String {
    r.as_ref()
        .and_then(|r| r.display.clone().or_else(|| r.key.clone()))
        .unwrap_or_default()
}

pub fn issue_rows(i: &tracker_client::Issue) -> Vec<(&'static str, String)> {
    vec![
        ("key", i.key.clone()),
        ("summary", i.summary.clone()),
        ("status", display(&i.status)),
        ("type", display(&i.issue_type)),
        ("priority", display(&i.priority)),
        ("assignee", display(&i.assignee)),
        ("queue", display(&i.queue)),
        ("version", i.version.to_string()),
        ("updated", i.updated_at.clone().unwrap_or_default()),
        ("description", i.description.clone().unwrap_or_default()),
    ]
}

pub const ISSUE_HEADER: &[&str] = &["KEY", "STATUS", "ASSIGNEE", "SUMMARY"];

pub fn issue_row(i: &tracker_client::Issue) -> Vec<String> {
    vec![
        i.key.clone(),
        display(&i.status),
        display(&i.assignee),
        i.summary.clone(),
    ]
}

pub const TRANSITION_HEADER: &[&str] = &["ID", "NAME", "TO"];

pub fn transition_row(t: &tracker_client::Transition) -> Vec<String> {
    vec![t.id.clone(), t.display.clone(), display(&t.to)]
}

pub const COMMENT_HEADER: &[&str] = &["ID", "AUTHOR", "CREATED", "TEXT"];

pub fn comment_row(c: &tracker_client::Comment) -> Vec<String> {
    vec![
        c.id.to_string(),
        display(&c.created_by),
        c.created_at.clone().unwrap_or_default(),
        c.text.clone(),
    ]
}

/// A list already in memory.
pub fn rows<T: Serialize>(
    output: Output,
    items: &[T],
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    match output {
        Output::Json => print_json(&items),
        Output::Table => {
            let mut t = table(header);
            for i in items {
                t.add_row(row(i));
            }
            println!("{t}");
            Ok(())
        }
    }
}
