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

/// What a list shows of each kind of object: its table's header, and the
/// row of one object under it (JSON shows everything).
pub trait Listed: Serialize {
    const HEADER: &'static [&'static str];
    fn row(&self) -> Vec<String>;
}

/// A list. JSON is written item by item as pages arrive (one array); a
/// table needs every row for its column widths, so it waits for them.
pub async fn list<T: Listed>(
    output: Output,
    mut items: ItemStream<T>,
    limit: Option<usize>,
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
            let mut t = table(T::HEADER);
            while n < limit {
                let Some(item) = items.try_next().await? else {
                    break;
                };
                t.add_row(item.row());
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

impl Listed for User {
    const HEADER: &'static [&'static str] = &["UID", "LOGIN", "NAME", "EMAIL"];

    fn row(&self) -> Vec<String> {
        vec![
            self.uid.to_string(),
            self.login.clone(),
            self.display.clone(),
            self.email.clone(),
        ]
    }
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

impl Listed for Queue {
    const HEADER: &'static [&'static str] = &["KEY", "ID", "NAME", "LEAD"];

    fn row(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.id.to_string(),
            self.name.clone(),
            self.lead.display.clone(),
        ]
    }
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

impl Listed for tracker_client::Issue {
    const HEADER: &'static [&'static str] = &["KEY", "STATUS", "ASSIGNEE", "SUMMARY"];

    fn row(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            display(&self.status),
            display(&self.assignee),
            self.summary.clone(),
        ]
    }
}

impl Listed for tracker_client::Transition {
    const HEADER: &'static [&'static str] = &["ID", "NAME", "TO"];

    fn row(&self) -> Vec<String> {
        vec![self.id.clone(), self.display.clone(), display(&self.to)]
    }
}

impl Listed for tracker_client::Comment {
    const HEADER: &'static [&'static str] = &["ID", "AUTHOR", "CREATED", "TEXT"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            display(&self.created_by),
            self.created_at.clone().unwrap_or_default(),
            self.text.clone(),
        ]
    }
}

/// A list already in memory.
pub fn rows<T: Listed>(output: Output, items: &[T]) -> anyhow::Result<()> {
    match output {
        Output::Json => print_json(&items),
        Output::Table => {
            let mut t = table(T::HEADER);
            for i in items {
                t.add_row(i.row());
            }
            println!("{t}");
            Ok(())
        }
    }
}
