#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The evaluator on a fixed dataset of 20 issues whose answers were worked out by hand.
//! The clock is Friday 2024-03-15 12:00 UTC (this week: Mon 11th – Sun 17th) and "me" is alice.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use tracker_query::{parse, Change, Context, Document, Field, Value};

#[derive(Default)]
struct Issue {
    key: &'static str,
    fields: HashMap<String, Vec<Value>>,
    changes: Vec<(&'static str, Change)>,
}

impl Document for Issue {
    fn values(&self, field: &Field) -> Vec<Value> {
        let k = match field {
            Field::Known(k) => (*k).to_string(),
            Field::Local { queue, name } => format!("{queue}.{}", name.to_lowercase()),
            Field::Custom(_) => return vec![],
        };
        self.fields.get(&k).cloned().unwrap_or_default()
    }

    fn changes(&self, field: &Field) -> Vec<Change> {
        self.changes
            .iter()
            .filter(|(f, _)| matches!(field, Field::Known(k) if k == f))
            .map(|(_, c)| c.clone())
            .collect()
    }
}

fn user(login: &str) -> Value {
    let display = match login {
        "alice" => "Alice Smith",
        "bob" => "Bob Jones",
        "ivan" => "Ivan Ivanov",
        "ivanka" => "Ivanka Sidorova",
        "user3370" => "Petr Petrov",
        other => panic!("unknown user {other}"),
    };
    Value::user(login, display)
}

fn dt(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .unwrap()
        .and_utc()
}

fn entity(display: &str) -> Value {
    let key: String = display
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect();
    Value::Entity {
        key,
        display: display.to_string(),
    }
}

/// Builds an issue from `field=value` pairs; `|` separates the values of a multi-valued field.
fn issue(key: &'static str, spec: &[(&str, &str)]) -> Issue {
    let mut i = Issue {
        key,
        ..Default::default()
    };
    let queue = key.split('-').next().unwrap();
    i.fields.insert("key".into(), vec![Value::name(key)]);
    i.fields.insert(
        "queue".into(),
        vec![Value::Entity {
            key: queue.into(),
            display: format!("{queue} queue"),
        }],
    );
    for (field, raw) in spec {
        let values = raw
            .split('|')
            .map(|v| match *field {
                "summary" | "description" | "comment" => Value::Text(v.into()),
                "status" | "priority" | "type" | "resolution" => entity(v),
                "assignee"
                | "createdBy"
                | "followers"
                | "DEVS.tester"
                | "DEVS.test engineer"
                | "DEVS.lead test engineer" => user(v),
                "tags" | "epic" | "fixVersions" | "affectedVersions" | "components" => {
                    Value::name(v)
                }
                "createdAt" | "updatedAt" | "resolvedAt" => Value::DateTime(dt(v)),
                "deadline" => Value::Date(NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap()),
                "votes" | "storyPoints" => Value::Number(v.parse().unwrap()),
                "spent" | "originalEstimation" => Value::Duration(v.parse().unwrap()),
                other => panic!("no such test field {other}"),
            })
            .collect();
        // Local fields are looked up as "QUEUE.name" with the name lowercased (see `values`).
        let key = if field.starts_with("DEVS.") {
            field.to_lowercase().replacen("devs.", "DEVS.", 1)
        } else {
            field.to_string()
        };
        i.fields.insert(key, values);
    }
    i
}

fn change(field: &'static str, from: &str, to: &str, by: &str, at: &str) -> (&'static str, Change) {
    (
        field,
        Change {
            from: Some(entity(from)),
            to: Some(entity(to)),
            by: user(by),
            at: dt(at),
        },
    )
}

fn dataset() -> Vec<Issue> {
    let mut d = vec![
        issue(
            "TEST-1",
            &[
                ("summary", "Login page crashes on submit"),
                ("description", "Steps: open the login page and press submit"),
                ("status", "Open"),
                ("priority", "Critical"),
                ("type", "Bug"),
                ("assignee", "alice"),
                ("createdBy", "bob"),
                ("followers", "ivan"),
                ("tags", "ui"),
                ("createdAt", "2024-03-15T09:00"),
                ("updatedAt", "2024-03-15T10:00"),
                ("deadline", "2024-03-18"),
                ("votes", "3"),
                ("storyPoints", "5"),
            ],
        ),
        issue(
            "TEST-2",
            &[
                ("summary", "Version 2.0"),
                ("description", "Make lists of release blockers"),
                ("status", "In Progress"),
                ("priority", "Blocker"),
                ("type", "Task"),
                ("assignee", "alice"),
                ("createdBy", "alice"),
                ("tags", "Support"),
                ("createdAt", "2024-03-14T08:00"),
                ("updatedAt", "2024-03-15T11:00"),
                ("deadline", "2024-03-15"),
                ("votes", "7"),
                ("storyPoints", "8"),
                ("comment", "good job on the release notes"),
            ],
        ),
        issue(
            "TEST-3",
            &[
                ("summary", "Version 2.0 beta"),
                ("status", "Closed"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("resolution", "Fixed"),
                ("assignee", "bob"),
                ("createdBy", "alice"),
                ("createdAt", "2024-01-10T10:00"),
                ("updatedAt", "2024-02-01T10:00"),
                ("resolvedAt", "2024-02-01T10:00"),
                ("deadline", "2024-01-31"),
                ("votes", "0"),
                ("storyPoints", "3"),
            ],
        ),
        issue(
            "TEST-4",
            &[
                ("summary", "UI Update 2.0"),
                ("status", "Open"),
                ("priority", "Minor"),
                ("type", "Task"),
                ("createdBy", "user3370"),
                ("followers", "alice"),
                ("tags", "wiki"),
                ("createdAt", "2024-03-11T00:00"),
                ("updatedAt", "2024-03-12T09:00"),
                ("votes", "1"),
            ],
        ),
        issue(
            "TEST-5",
            &[
                ("summary", "Update UI colours"),
                ("status", "Resolved"),
                ("priority", "Normal"),
                ("type", "Bug"),
                ("resolution", "Fixed"),
                ("assignee", "ivan"),
                ("createdBy", "ivan"),
                ("createdAt", "2023-12-31T23:59"),
                ("updatedAt", "2024-01-02T12:00"),
                ("resolvedAt", "2024-01-02T12:00"),
                ("votes", "6"),
                ("storyPoints", "2"),
                ("comment", "great job"),
                ("spent", "441000"),
                ("originalEstimation", "259200"),
            ],
        ),
        issue(
            "TEST-6",
            &[
                ("summary", "Make a map of the office"),
                ("description", "Make a map"),
                ("status", "Open"),
                ("priority", "Critical"),
                ("type", "Task"),
                ("assignee", "user3370"),
                ("createdBy", "alice"),
                ("followers", "bob|alice"),
                ("createdAt", "2024-03-15T00:30"),
                ("updatedAt", "2024-03-15T00:30"),
                ("deadline", "2024-03-20"),
                ("votes", "0"),
            ],
        ),
        issue(
            "TEST-7",
            &[
                ("summary", "Release checklist"),
                ("status", "Open"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("assignee", "bob"),
                ("createdBy", "alice"),
                ("tags", "Support|wiki"),
                ("createdAt", "2024-02-20T10:00"),
                ("updatedAt", "2024-03-10T10:00"),
                ("deadline", "2024-03-17"),
                ("votes", "2"),
                ("fixVersions", "12.11.1986"),
                ("affectedVersions", "14.09.1978"),
            ],
        ),
        issue(
            "TEST-8",
            &[
                ("summary", "Crash in exporter"),
                ("status", "Closed"),
                ("priority", "Blocker"),
                ("type", "Bug"),
                ("resolution", "Won't fix"),
                ("assignee", "alice"),
                ("createdBy", "bob"),
                ("followers", "alice"),
                ("createdAt", "2024-03-01T10:00"),
                ("updatedAt", "2024-03-05T10:00"),
                ("resolvedAt", "2024-03-05T10:00"),
                ("votes", "4"),
                ("components", "backend|frontend"),
            ],
        ),
        issue(
            "TEST-9",
            &[
                ("summary", "Version 2.0 docs"),
                ("status", "Open"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("assignee", "ivanka"),
                ("createdBy", "ivan"),
                ("followers", "ivanka"),
                ("createdAt", "2024-03-13T10:00"),
                ("updatedAt", "2024-03-13T10:00"),
                ("votes", "0"),
            ],
        ),
        issue(
            "TEST-10",
            &[
                ("summary", "Make release notes"),
                ("description", "Make: release"),
                ("status", "Open"),
                ("priority", "Minor"),
                ("type", "Task"),
                ("createdBy", "alice"),
                ("createdAt", "2024-03-12T10:00"),
                ("updatedAt", "2024-03-14T10:00"),
                ("deadline", "2024-03-14"),
                ("votes", "0"),
            ],
        ),
        issue(
            "DEVS-1",
            &[
                ("summary", "Deploy pipeline"),
                ("status", "In Progress"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("assignee", "bob"),
                ("createdBy", "bob"),
                ("createdAt", "2024-02-15T10:00"),
                ("updatedAt", "2024-03-01T10:00"),
                ("epic", "TREK-1"),
                ("DEVS.tester", "ivan"),
                ("DEVS.test engineer", "ivan"),
                ("storyPoints", "13"),
                ("votes", "2"),
            ],
        ),
        issue(
            "DEVS-2",
            &[
                ("summary", "Refactor storage"),
                ("status", "Open"),
                ("priority", "Blocker"),
                ("type", "Task"),
                ("assignee", "alice"),
                ("createdBy", "bob"),
                ("tags", "backend"),
                ("createdAt", "2024-03-15T11:30"),
                ("updatedAt", "2024-03-15T11:30"),
                ("deadline", "2024-03-14"),
                ("votes", "0"),
                ("DEVS.lead test engineer", "user3370"),
                ("DEVS.tester", "user3370"),
            ],
        ),
        issue(
            "DEVS-3",
            &[
                ("summary", "Flaky tests"),
                ("status", "Closed"),
                ("priority", "Minor"),
                ("type", "Bug"),
                ("resolution", "Fixed"),
                ("assignee", "ivan"),
                ("createdBy", "alice"),
                ("followers", "bob"),
                ("createdAt", "2023-06-01T10:00"),
                ("updatedAt", "2023-06-10T10:00"),
                ("resolvedAt", "2023-06-10T10:00"),
                ("votes", "9"),
            ],
        ),
        issue(
            "DEVS-4",
            &[
                ("summary", "Login timeout"),
                ("status", "Open"),
                ("priority", "Critical"),
                ("type", "Bug"),
                ("assignee", "bob"),
                ("createdBy", "user3370"),
                ("followers", "alice"),
                ("createdAt", "2024-03-08T10:00"),
                ("updatedAt", "2024-03-09T10:00"),
                ("votes", "5"),
                ("epic", "TREK-1"),
            ],
        ),
        issue(
            "DEVS-5",
            &[
                ("summary", "Metrics dashboard"),
                ("status", "In Progress"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("assignee", "user3370"),
                ("createdBy", "bob"),
                ("createdAt", "2024-01-15T10:00"),
                ("updatedAt", "2024-02-15T10:00"),
                ("votes", "1"),
            ],
        ),
        issue(
            "DEVS-6",
            &[
                ("summary", "Cache layer"),
                ("status", "Open"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("assignee", "bob"),
                ("createdBy", "bob"),
                ("createdAt", "2024-03-14T23:00"),
                ("updatedAt", "2024-03-14T23:00"),
                ("deadline", "2024-03-16"),
                ("votes", "0"),
                ("storyPoints", "0.5"),
            ],
        ),
        issue(
            "TREK-1",
            &[
                ("summary", "Epic: new onboarding"),
                ("status", "Open"),
                ("priority", "Normal"),
                ("type", "Epic"),
                ("assignee", "alice"),
                ("createdBy", "alice"),
                ("createdAt", "2024-01-02T10:00"),
                ("updatedAt", "2024-03-14T09:00"),
            ],
        ),
        issue(
            "TREK-2",
            &[
                ("summary", "Onboarding emails"),
                ("status", "In Progress"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("assignee", "bob"),
                ("createdBy", "alice"),
                ("epic", "TREK-1"),
                ("createdAt", "2024-02-01T10:00"),
                ("updatedAt", "2024-03-15T09:30"),
                ("votes", "2"),
            ],
        ),
        issue(
            "TREK-3",
            &[
                ("summary", "Onboarding survey"),
                ("status", "Open"),
                ("priority", "Minor"),
                ("type", "Task"),
                ("createdBy", "user3370"),
                ("epic", "TREK-1"),
                ("createdAt", "2024-02-02T10:00"),
                ("updatedAt", "2024-03-13T09:30"),
            ],
        ),
        issue(
            "TREK-4",
            &[
                ("summary", "Welcome page UI"),
                ("status", "Closed"),
                ("priority", "Normal"),
                ("type", "Task"),
                ("resolution", "Fixed"),
                ("assignee", "alice"),
                ("createdBy", "bob"),
                ("tags", "ui"),
                ("createdAt", "2024-01-20T10:00"),
                ("updatedAt", "2024-02-10T10:00"),
                ("resolvedAt", "2024-02-10T10:00"),
            ],
        ),
    ];
    // Status changes, each issue's in the order they happened.
    for (key, from, to, by, at) in [
        ("TEST-3", "Open", "Closed", "bob", "2024-02-01T10:00"),
        ("TEST-8", "Open", "In Progress", "alice", "2024-03-02T10:00"),
        (
            "TEST-8",
            "In Progress",
            "Closed",
            "alice",
            "2024-03-05T10:00",
        ),
        ("DEVS-1", "Open", "In Progress", "ivan", "2024-03-13T10:00"),
        ("DEVS-3", "Open", "In Progress", "ivan", "2017-09-05T10:00"),
        ("DEVS-5", "Open", "In Progress", "ivan", "2024-03-14T09:00"),
    ] {
        let i = d.iter().position(|i| i.key == key).unwrap();
        d[i].changes.push(change("status", from, to, by, at));
    }
    d
}

fn ctx() -> Context {
    Context::new("alice", dt("2024-03-15T12:00"))
        .with_group("Sales department", &["bob", "user3370"])
}

/// Keys of the matching issues, in the query's sort order (dataset order breaks ties).
fn search(query: &str) -> Vec<&'static str> {
    let q = parse(query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
    let data = dataset();
    let ctx = ctx();
    let mut hits: Vec<&Issue> = data.iter().filter(|i| q.matches(*i, &ctx)).collect();
    hits.sort_by(|a, b| q.compare(*a, *b));
    hits.into_iter().map(|i| i.key).collect()
}

fn all_but(excluded: &[&str]) -> Vec<&'static str> {
    dataset()
        .into_iter()
        .map(|i| i.key)
        .filter(|k| !excluded.contains(k))
        .collect()
}

#[test]
fn the_dataset_has_twenty_issues() {
    assert_eq!(dataset().len(), 20);
}

#[test]
fn my_open_test_issues_sorted_by_update_newest_first() {
    assert_eq!(
        search(r#"Queue: TEST Assignee: me() Status: !Closed "Sort by": Updated DESC"#),
        ["TEST-2", "TEST-1"]
    );
}

#[test]
fn trek_issues_that_belong_to_an_epic_newest_update_first() {
    assert_eq!(
        search(r#"epic: notEmpty() Queue: TREK "Sort by": Updated DESC"#),
        ["TREK-2", "TREK-3"]
    );
}

#[test]
fn an_author_list_matches_either_author() {
    assert_eq!(
        search(r#"author: "bob","ivan""#),
        [
            "TEST-1", "TEST-5", "TEST-8", "TEST-9", "DEVS-1", "DEVS-2", "DEVS-5", "DEVS-6",
            "TREK-4"
        ]
    );
}

#[test]
fn active_issues_i_reported() {
    assert_eq!(
        search("Author: me() Resolution: empty()"),
        ["TEST-2", "TEST-6", "TEST-7", "TEST-10", "TREK-1", "TREK-2"]
    );
}

#[test]
fn active_issues_assigned_to_me() {
    assert_eq!(
        search("Assignee: me() Resolution: empty()"),
        ["TEST-1", "TEST-2", "DEVS-2", "TREK-1"]
    );
}

#[test]
fn active_issues_i_follow() {
    assert_eq!(
        search("Followers: me() Resolution: empty()"),
        ["TEST-4", "TEST-6", "DEVS-4"]
    );
}

#[test]
fn my_issues_due_this_week() {
    assert_eq!(
        search("Assignee: me() Deadline: week()"),
        ["TEST-2", "DEVS-2"]
    );
}

#[test]
fn my_unresolved_blockers_and_criticals_in_any_role() {
    assert_eq!(
        search("(Followers: me() OR Assignee: me() OR Author: me()) AND Resolution: empty() AND Priority: Blocker, Critical"),
        ["TEST-1", "TEST-2", "TEST-6", "DEVS-2", "DEVS-4"]
    );
}

#[test]
fn deadline_between_today_and_three_days_ahead_inclusive() {
    assert_eq!(
        search("Deadline: <= today() +3d and deadline: >= today()"),
        ["TEST-1", "TEST-2", "TEST-7", "DEVS-6"]
    );
}

#[test]
fn deadline_today() {
    assert_eq!(search("Deadline: today()"), ["TEST-2"]);
}

#[test]
fn created_today_and_in_the_last_twelve_hours() {
    assert_eq!(search("Created: today()"), ["TEST-1", "TEST-6", "DEVS-2"]);
    assert_eq!(
        search("Created: >now()-12h"),
        ["TEST-1", "TEST-6", "DEVS-2"]
    );
}

#[test]
fn created_this_week_includes_monday_midnight() {
    assert_eq!(
        search("Created: week()"),
        ["TEST-1", "TEST-2", "TEST-4", "TEST-6", "TEST-9", "TEST-10", "DEVS-2", "DEVS-6"]
    );
}

#[test]
fn created_this_month() {
    assert_eq!(
        search("Created: month()"),
        [
            "TEST-1", "TEST-2", "TEST-4", "TEST-6", "TEST-8", "TEST-9", "TEST-10", "DEVS-2",
            "DEVS-4", "DEVS-6"
        ]
    );
}

#[test]
fn created_this_year_and_quarter_exclude_last_years_issues() {
    let want = all_but(&["TEST-5", "DEVS-3"]);
    assert_eq!(search("Created: year()"), want);
    assert_eq!(search("Created: quarter()"), want);
}

#[test]
fn created_after_a_week_and_a_day_ago() {
    assert_eq!(
        search(r#"Created: > today() - "1w 1d""#),
        [
            "TEST-1", "TEST-2", "TEST-4", "TEST-6", "TEST-9", "TEST-10", "DEVS-2", "DEVS-4",
            "DEVS-6"
        ]
    );
}

#[test]
fn a_quoted_date_range_includes_both_end_days() {
    assert_eq!(
        search(r#""Created": "2024-01-01".."2024-02-01""#),
        ["TEST-3", "DEVS-5", "TREK-1", "TREK-2", "TREK-4"]
    );
}

#[test]
fn updated_after_a_day_means_from_the_next_day_on() {
    assert_eq!(
        search(r#""Updated": >2024-03-14"#),
        ["TEST-1", "TEST-2", "TEST-6", "DEVS-2", "TREK-2"]
    );
}

#[test]
fn exact_summary_matches_the_whole_name_only() {
    assert_eq!(search(r##"Summary: #"Version 2.0""##), ["TEST-2"]);
    assert_eq!(
        search(r#"Summary: "Version 2.0""#),
        ["TEST-2", "TEST-3", "TEST-9"]
    );
}

#[test]
fn exact_with_double_bar_needs_more_words_after_the_prefix() {
    assert_eq!(search(r##"Description: #"Make ||""##), ["TEST-2", "TEST-6"]);
}

#[test]
fn bang_excludes_summaries_containing_the_fragment() {
    assert_eq!(
        search(r#"Summary: !"UI""#),
        all_but(&["TEST-4", "TEST-5", "TREK-4"])
    );
}

#[test]
fn tilde_excludes_only_the_exact_summary() {
    assert_eq!(search(r#"Summary: ~"UI Update 2.0""#), all_but(&["TEST-4"]));
}

#[test]
fn users_by_login_full_name_and_first_name() {
    assert_eq!(search("Assignee: user3370@"), ["TEST-6", "DEVS-5"]);
    assert_eq!(search(r#"Author: "Ivan Ivanov""#), ["TEST-5", "TEST-9"]);
    // "Ivanka" is not "Ivan": a bare name must equal a part of the full name.
    assert_eq!(search("Followers: Ivan"), ["TEST-1"]);
    assert_eq!(search("Followers: ivan"), ["TEST-1"]);
}

#[test]
fn local_fields_by_key_and_by_name() {
    assert_eq!(search("DEVS.tester: user3370@"), ["DEVS-2"]);
    assert_eq!(search(r#"DEVS.Test engineer: "Ivan Ivanov""#), ["DEVS-1"]);
    assert_eq!(
        search(r#"DEVS."Lead test engineer": "Petr Petrov""#),
        ["DEVS-2"]
    );
}

#[test]
fn status_changed_by_a_person_within_dates() {
    assert_eq!(
        search(
            r#"Status: changed(to: "In Progress" by: "Ivan Ivanov" date: 01.09.2017 .. 15.09.2017)"#
        ),
        ["DEVS-3"]
    );
    assert_eq!(
        search(r#"Status: changed(to: "In Progress" by: "Ivan Ivanov" date: >today()-1w)"#),
        ["DEVS-1", "DEVS-5"]
    );
    assert_eq!(
        search(r#"Status: changed(from: "In Progress" to: Closed by: alice@)"#),
        ["TEST-8"]
    );
}

#[test]
fn unresolved_means_no_resolution() {
    assert_eq!(
        search("Resolution: unresolved()"),
        all_but(&["TEST-3", "TEST-5", "TEST-8", "DEVS-3", "TREK-4"])
    );
}

#[test]
fn group_matches_its_members() {
    assert_eq!(
        search(r#"Assignee: group(value: "Sales department")"#),
        ["TEST-3", "TEST-6", "TEST-7", "DEVS-1", "DEVS-4", "DEVS-5", "DEVS-6", "TREK-2"]
    );
    assert_eq!(
        search(r#"Assignee: group(value: "Nobody")"#),
        Vec::<&str>::new()
    );
}

#[test]
fn numbers_compare_and_range_inclusively() {
    assert_eq!(
        search(r#""Story Points": >=5"#),
        ["TEST-1", "TEST-2", "DEVS-1"]
    );
    assert_eq!(search(r#""Votes": > 6"#), ["TEST-2", "DEVS-3"]);
    assert_eq!(
        search("Votes: 1 ... 5"),
        ["TEST-1", "TEST-4", "TEST-7", "TEST-8", "DEVS-1", "DEVS-4", "DEVS-5", "TREK-2"]
    );
    assert_eq!(search(r#""Story Points": 0.5"#), ["DEVS-6"]);
}

#[test]
fn durations_compare_by_length() {
    assert_eq!(search(r#""Time Spent": >"5d 2h 30m""#), Vec::<&str>::new());
    assert_eq!(search(r#""Time Spent": "5d 2h 30m""#), ["TEST-5"]);
    assert_eq!(search(r#""Original Estimate": <"5d""#), ["TEST-5"]);
}

#[test]
fn tags_versions_and_components_match_whole_names() {
    assert_eq!(
        search(r#""Tags": "Support", "wiki""#),
        ["TEST-2", "TEST-4", "TEST-7"]
    );
    assert_eq!(search(r#""Fix Version": "12.11.1986""#), ["TEST-7"]);
    assert_eq!(search(r#""Affected Version": "14.09.1978""#), ["TEST-7"]);
    assert_eq!(
        search(r#""Components": "backend", " frontend""#),
        ["TEST-8"]
    );
    assert_eq!(search(r#"Tags: wik"#), Vec::<&str>::new());
}

#[test]
fn negated_list_items_must_all_hold() {
    assert_eq!(
        search("Tags: !Support, !wiki"),
        all_but(&["TEST-2", "TEST-4", "TEST-7"])
    );
    assert_eq!(
        search("Priority: !Critical, !Blocker Queue: TEST"),
        ["TEST-3", "TEST-4", "TEST-5", "TEST-7", "TEST-9", "TEST-10"]
    );
}

#[test]
fn the_board_example_query() {
    assert_eq!(
        search("assignee: alice AND (priority: normal OR priority: critical)"),
        ["TEST-1", "TREK-1", "TREK-4"]
    );
}

#[test]
fn bare_words_search_summary_description_and_comments() {
    assert_eq!(search("login"), ["TEST-1", "DEVS-4"]);
    assert_eq!(search(r#""release notes""#), ["TEST-2", "TEST-10"]);
    assert_eq!(search(r#""Comment": "good job""#), ["TEST-2"]);
    assert_eq!(search(r##""Comment": #"great job""##), ["TEST-5"]);
}

#[test]
fn status_list_by_display_name_and_key() {
    let want = [
        "TEST-1", "TEST-2", "TEST-4", "TEST-6", "TEST-7", "TEST-9", "TEST-10", "DEVS-1", "DEVS-2",
        "DEVS-4", "DEVS-5", "DEVS-6", "TREK-1", "TREK-2", "TREK-3",
    ];
    assert_eq!(search(r#"Status: Open, "In Progress""#), want);
    assert_eq!(search("Status: open, inProgress"), want);
}

#[test]
fn keys_types_and_epics() {
    assert_eq!(search(r#"Key: "TEST-1", "DEVS-2""#), ["TEST-1", "DEVS-2"]);
    assert_eq!(search("Type: Epic"), ["TREK-1"]);
    assert_eq!(
        search("Epic: TREK-1"),
        ["DEVS-1", "DEVS-4", "TREK-2", "TREK-3"]
    );
}

#[test]
fn sorting_ascending_by_creation() {
    assert_eq!(
        search(r#"Queue: DEVS "Sort by": Created ASC"#),
        ["DEVS-3", "DEVS-5", "DEVS-1", "DEVS-4", "DEVS-6", "DEVS-2"]
    );
}

#[test]
fn empty_values_sort_last_ascending_and_first_descending() {
    assert_eq!(
        search(r#"Queue: TEST "Sort by": Deadline"#),
        [
            "TEST-3", "TEST-10", "TEST-2", "TEST-7", "TEST-1", "TEST-6", "TEST-4", "TEST-5",
            "TEST-8", "TEST-9"
        ]
    );
    assert_eq!(
        search(r#"Queue: TEST "Sort by": Deadline DESC"#),
        [
            "TEST-4", "TEST-5", "TEST-8", "TEST-9", "TEST-6", "TEST-1", "TEST-7", "TEST-2",
            "TEST-10", "TEST-3"
        ]
    );
}

#[test]
fn an_unknown_custom_field_matches_nothing_but_its_negation_matches_all() {
    assert_eq!(search(r#""no such field": x"#), Vec::<&str>::new());
    assert_eq!(search(r#""no such field": !x"#).len(), 20);
}

#[test]
fn extreme_dates_in_documents_or_the_clock_do_not_panic() {
    struct Extreme;
    impl Document for Extreme {
        fn values(&self, _: &Field) -> Vec<Value> {
            vec![
                Value::Date(NaiveDate::MAX),
                Value::Date(NaiveDate::MIN),
                Value::DateTime(DateTime::<Utc>::MAX_UTC),
                Value::DateTime(DateTime::<Utc>::MIN_UTC),
            ]
        }
    }
    for now in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let ctx = Context::new("alice", now);
        for q in [
            "Created: week()",
            "Created: >now()-12h",
            "Created: year() .. quarter()",
            "Created: <= today() + 999999999w",
            "Created: 2017-01-30",
            "Created: month(), quarter(), !today()",
        ] {
            let q = parse(q).unwrap();
            let _ = q.matches(&Extreme, &ctx);
            let _ = q.compare(&Extreme, &Extreme);
        }
    }
}
