#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! Every example query of the reference pages (user/query-filter.md, concepts/issues/search-issues.md,
//! post-board.md, concepts/queues/create-autoaction.md, concepts/bulkchange/bulk-update-issues.md),
//! each asserted to mean what its page says, via `Query::describe()`.
//!
//! Templates with placeholders (`<parameter_1>: "<value_1>"`, `{{ ui-key… }}`) are instantiated with
//! real names; the rest are verbatim.

use tracker_query::parse;

macro_rules! means {
    ($($name:ident: $query:expr => $meaning:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let q = parse($query).unwrap_or_else(|e| panic!("{:?} failed: {e}", $query));
                assert_eq!(q.describe(), $meaning, "query {:?}", $query);
            }
        )*
    };
}

// ---- Query format ---------------------------------------------------------------------------
means! {
    the_generic_format_is_a_quoted_parameter_and_a_quoted_value:
        r#""Queue": "TEST""# => r#"(queue "TEST")"#;
    assignee_ivan_ivanov_is_a_full_name_condition:
        r#""Assignee": "Ivan Ivanov""# => r#"(assignee "Ivan Ivanov")"#;
    two_statuses_after_one_parameter_are_alternatives:
        r#""Status": "Open", "In Progress""# => r#"(status "Open" "In Progress")"#;
    created_between_two_quoted_dates_is_a_date_range:
        r#""Created": "2017-01-01".."2017-01-30""# => "(createdAt date:2017-01-01..date:2017-01-30)";
}

// ---- Multiple values and conditions ---------------------------------------------------------
means! {
    author_with_two_logins_without_spaces_is_a_list:
        r#"author: "vpupkin","iivanov""# => r#"(createdBy "vpupkin" "iivanov")"#;
    and_joins_two_conditions:
        r#"Queue: "TEST" AND Status: "Open""# => r#"(and (queue "TEST") (status "Open"))"#;
    a_space_between_conditions_is_an_implicit_and:
        r#"Queue: "TEST" Status: "Open""# => r#"(and (queue "TEST") (status "Open"))"#;
    or_joins_two_conditions:
        r#"Queue: "TEST" OR Status: "Open""# => r#"(or (queue "TEST") (status "Open"))"#;
    and_is_applied_before_or:
        r#"Queue: "TEST" AND Status: "Open" OR Priority: "Critical""#
        => r#"(or (and (queue "TEST") (status "Open")) (priority "Critical"))"#;
    parentheses_change_the_order_of_actions:
        r#"Queue: "TEST" AND (Status: "Open" OR Priority: "Critical")"#
        => r#"(and (queue "TEST") (or (status "Open") (priority "Critical")))"#;
}

// ---- Searching by text ----------------------------------------------------------------------
means! {
    description_with_a_phrase_searches_its_words:
        r#"Description: "This area is familiar to me as the outskirts of China""#
        => r#"(description "This area is familiar to me as the outskirts of China")"#;
    summary_with_hash_is_an_exact_match:
        r##"Summary: #"Version 2.0""## => r##"(summary #"Version 2.0")"##;
    // The page prints "Description`: #"Make ||"" with a stray backtick (a Markdown slip); the
    // example is read without it.
    description_with_hash_and_double_bar_is_an_exact_prefix:
        r##"Description: #"Make ||""## => r##"(description #"Make ||")"##;
    summary_with_bang_excludes_a_fragment:
        r#"Summary: !"UI""# => r#"(summary !"UI")"#;
    summary_with_tilde_excludes_an_exact_name:
        r#"Summary: ~"UI Update 2.0""# => r#"(summary ~"UI Update 2.0")"#;
    a_bare_phrase_is_full_text_search:
        r#"login page "release notes""# => r#"(and (text login) (text page) (text "release notes"))"#;
}

// ---- Searching by user ----------------------------------------------------------------------
means! {
    a_login_with_trailing_at_is_an_exact_user:
        "Assignee: user3370@" => "(assignee login:user3370)";
    author_with_a_quoted_full_name:
        r#"Author: "Ivan Ivanov""# => r#"(createdBy "Ivan Ivanov")"#;
    followers_with_a_first_name:
        "Followers: Ivan" => "(followers Ivan)";
    followers_with_a_lowercase_login_or_name:
        "Followers: ivan" => "(followers ivan)";
}

// ---- Local fields ---------------------------------------------------------------------------
means! {
    a_local_field_with_an_unquoted_two_word_name:
        r#"DEVS.Test engineer: "Ivan Ivanov""# => r#"(DEVS."Test engineer" "Ivan Ivanov")"#;
    a_local_field_with_a_quoted_name:
        r#"DEVS."Lead test engineer": "Ivan Ivanov""# => r#"(DEVS."Lead test engineer" "Ivan Ivanov")"#;
    a_local_field_by_key_with_a_login:
        "DEVS.tester: user3370@" => r#"(DEVS."tester" login:user3370)"#;
}

// ---- Dates, times, intervals ----------------------------------------------------------------
means! {
    a_month_first_slash_date:
        "Created: 04/30/2017" => "(createdAt date:2017-04-30)";
    a_dotted_day_first_date:
        "Created: 30.04.2017" => "(createdAt date:2017-04-30)";
    a_dashed_day_first_date:
        "Created: 30-04-2017" => "(createdAt date:2017-04-30)";
    an_iso_date:
        "Created: 2017-04-30" => "(createdAt date:2017-04-30)";
    a_quoted_date_and_time:
        r#"Created: "2017-04-30 17:25:00""# => "(createdAt datetime:2017-04-30T17:25:00)";
    a_quoted_time_interval_of_days_hours_and_minutes:
        r#""Time Spent": "3d 5h 32m""# => "(spent dur:3d5h32m)";
    a_range_of_day_first_dates_with_spaces:
        "Created: 01-01-2017 .. 02-03-2017" => "(createdAt date:2017-01-01..date:2017-03-02)";
    created_after_today_minus_a_week_and_a_day:
        r#"Created: > today() - "1w 1d""# => "(createdAt >today()-1w1d)";
}

// ---- Comparison operators -------------------------------------------------------------------
means! {
    not_equal_to_a_quoted_value:
        r#"Status: !"Closed""# => r#"(status !"Closed")"#;
    greater_than_a_number:
        "Votes: >5" => "(votes >num:5)";
    less_than_a_number:
        "Votes: <5" => "(votes <num:5)";
    greater_or_equal_to_a_number:
        "Votes: >=5" => "(votes >=num:5)";
    less_or_equal_to_a_number:
        "Votes: <=5" => "(votes <=num:5)";
    a_numeric_range_with_three_dots:
        "Votes: 1 ... 5" => "(votes num:1..num:5)";
    deadline_within_three_days:
        "Deadline: <= today() +3d and deadline: >= today()"
        => "(and (deadline <=today()+3d) (deadline >=today()))";
    deadline_today:
        "Deadline: today()" => "(deadline today())";
}

// ---- Functions ------------------------------------------------------------------------------
means! {
    created_today:
        "Created: today()" => "(createdAt today())";
    no_assignee:
        "Assignee: empty()" => "(assignee empty)";
    a_deadline_is_set:
        "Deadline: notEmpty()" => "(deadline notEmpty)";
    created_by_me:
        "Author: me()" => "(createdBy me())";
    created_in_the_last_twelve_hours:
        "Created: >now()-12h" => "(createdAt >now()-12h)";
    created_this_week:
        "Created: week()" => "(createdAt week())";
    created_this_month:
        "Created: month()" => "(createdAt month())";
    created_this_quarter:
        "Created: quarter()" => "(createdAt quarter())";
    created_this_year:
        "Created: year()" => "(createdAt year())";
    no_resolution_is_an_empty_resolution:
        "Resolution: unresolved()" => "(resolution empty)";
    assignee_in_a_department:
        r#"Assignee: group(value: "Sales department")"# => r#"(assignee group("Sales department"))"#;
}

// ---- Parameter changes ----------------------------------------------------------------------
means! {
    changed_with_all_four_arguments:
        r#""Status": changed(from: "Open" to: "In Progress" by: "Ivan Ivanov" date: "2017-09-01")"#
        => r#"(status changed(from "Open" to "In Progress" by "Ivan Ivanov" date date:2017-09-01))"#;
    changed_to_in_progress_by_ivan_within_dates:
        r#"Status: changed(to: "In Progress" by: "Ivan Ivanov" date: 01.09.2017 .. 15.09.2017)"#
        => r#"(status changed(to "In Progress" by "Ivan Ivanov" date date:2017-09-01..date:2017-09-15))"#;
    changed_to_in_progress_by_ivan_in_the_last_week:
        r#"Status: changed(to: "In Progress" by: "Ivan Ivanov" date: >today()-1w)"#
        => r#"(status changed(to "In Progress" by "Ivan Ivanov" date >today()-1w))"#;
}

// ---- Sorting --------------------------------------------------------------------------------
means! {
    sort_by_created:
        r#""Sort By": Created"# => "(all) (sort createdAt asc)";
    sort_by_created_ascending:
        r#""Sort By": Created ASC"# => "(all) (sort createdAt asc)";
    sort_by_created_then_updated_descending:
        r#""Sort By": Created ASC, Updated DESC"# => "(all) (sort createdAt asc, updatedAt desc)";
}

// ---- Useful queries -------------------------------------------------------------------------
means! {
    active_issues_i_reported:
        "Author: me() Resolution: empty()" => "(and (createdBy me()) (resolution empty))";
    active_issues_assigned_to_me:
        "Assignee: me() Resolution: empty()" => "(and (assignee me()) (resolution empty))";
    active_issues_i_follow:
        "Followers: me() Resolution: empty()" => "(and (followers me()) (resolution empty))";
    my_issues_due_this_week:
        "Assignee: me() Deadline: week()" => "(and (assignee me()) (deadline week()))";
    my_critical_or_blocker_issues:
        "(Followers: me() OR Assignee: me() OR Author: me()) AND Resolution: empty() AND Priority: Blocker, Critical"
        => "(and (or (followers me()) (assignee me()) (createdBy me())) (resolution empty) (priority Blocker Critical))";
}

// ---- Filter parameters table ----------------------------------------------------------------
means! {
    param_access: r#""Access": user3370@, "Ivan Ivanov""# => r#"(access login:user3370 "Ivan Ivanov")"#;
    param_affected_version_is_a_name_that_also_reads_as_a_date:
        r#""Affected Version": "14.09.1978""# => "(affectedVersions date:1978-09-14)";
    param_assignee: r#""Assignee": user3370@, "Ivan Ivanov""# => r#"(assignee login:user3370 "Ivan Ivanov")"#;
    param_author: r#""Author": user3370@, "Ivan Ivanov""# => r#"(createdBy login:user3370 "Ivan Ivanov")"#;
    param_block_queue: r#""Block Queue": TEST"# => "(blockQueue TEST)";
    param_clone: r#""Clone": "TASK-123", "TASK-321""# => r#"(clone "TASK-123" "TASK-321")"#;
    param_clones_of_queue: r#""Clones Of Queue": TEST, DEVELOP"# => "(clonesOfQueue TEST DEVELOP)";
    param_comment_words: r#""Comment": "good job""# => r#"(comment "good job")"#;
    param_comment_exact: r##""Comment": #"great job""## => r##"(comment #"great job")"##;
    param_comment_author: r#""Comment Author": user3370@, "Ivan Ivanov""# => r#"(commentAuthor login:user3370 "Ivan Ivanov")"#;
    param_component_owner: r#""Component Owner": user3370@, "Ivan Ivanov""# => r#"(componentOwner login:user3370 "Ivan Ivanov")"#;
    param_components_keeps_the_leading_space_as_written:
        r#""Components": "backend", " frontend""# => r#"(components "backend" " frontend")"#;
    param_created: r#""Created": 2017-01-01..2017-01-30"# => "(createdAt date:2017-01-01..date:2017-01-30)";
    param_deadline: r#""Deadline": 2017-01-30"# => "(deadline date:2017-01-30)";
    param_depend_on_queue: r#""Depend On Queue": TEST"# => "(dependOnQueue TEST)";
    param_depends_on: r#""Depends On": "TASK-123", "TASK-321""# => r#"(dependsOn "TASK-123" "TASK-321")"#;
    param_description_words: r#""Description": "invent the wheel""# => r#"(description "invent the wheel")"#;
    param_description_exact: r##""Description": #"invent the wheel""## => r##"(description #"invent the wheel")"##;
    param_duplicated_in_queue: r#""Duplicated In Queue": TEST"# => "(duplicatedInQueue TEST)";
    // The page's example lost its field name to a line break; read as intended.
    param_duplicates: r#""Duplicates": "TASK-123", "TASK-321""# => r#"(duplicates "TASK-123" "TASK-321")"#;
    param_duplicates_in_queue: r#""Duplicates In Queue": TEST"# => "(duplicatesInQueue TEST)";
    param_end_date: r#""End Date": 2017-01-30"# => "(end date:2017-01-30)";
    // Same line-break slip as "Duplicates".
    param_epic: r#"Epic: "TASK-123", "TASK-321""# => r#"(epic "TASK-123" "TASK-321")"#;
    param_epics_for_queue: r#""Epics For Queue": TEST, DEVELOP"# => "(epicsForQueue TEST DEVELOP)";
    param_favorited_by: r#""Favorited by": me()"# => "(favoritedBy me())";
    param_filter: r#""Filter": "Issues of my department""# => r#"(filter "Issues of my department")"#;
    param_fix_version: r#""Fix Version": "12.11.1986""# => "(fixVersions date:1986-11-12)";
    param_followers: r#""Followers": user3370@, "Ivan Ivanov""# => r#"(followers login:user3370 "Ivan Ivanov")"#;
    param_has_epic: r#""Has Epic": TASK-123"# => "(hasEpic TASK-123)";
    param_have_links_to_queue: r#""Have Links To Queue": TEST"# => "(haveLinksToQueue TEST)";
    param_history: r#""History": "easy as pie""# => r#"(history "easy as pie")"#;
    param_in_epics_of_queue: r#""In Epics Of Queue": TEST"# => "(inEpicsOfQueue TEST)";
    param_is_dependent_by: r#""Is Dependent By": "TASK-123", "TASK-321""# => r#"(isDependentBy "TASK-123" "TASK-321")"#;
    param_is_duplicated_by: r#""Is Duplicated By": "TASK-123", "TASK-321""# => r#"(isDuplicatedBy "TASK-123" "TASK-321")"#;
    param_is_epic_of: r#""Is Epic Of": "TASK-123", "TASK-321""# => r#"(isEpicOf "TASK-123" "TASK-321")"#;
    param_is_parent_task_for: r#""Is Parent Task For": "TASK-123", "TASK-321""# => r#"(isParentTaskFor "TASK-123" "TASK-321")"#;
    param_is_subtask_for: r#""Is Subtask For": "TASK-123", "TASK-321""# => r#"(isSubtaskFor "TASK-123" "TASK-321")"#;
    param_key: r#""Key": "TASK-123", "TASK-321""# => r#"(key "TASK-123" "TASK-321")"#;
    param_last_comment: r#""Last Comment": < now()-1h"# => "(lastCommentUpdatedAt <now()-1h)";
    param_linked_to: r#""Linked to": "TASK-123", "TASK-321""# => r#"(linkedTo "TASK-123" "TASK-321")"#;
    param_modifier: r#""Modifier": user3370@, "Ivan Ivanov""# => r#"(updatedBy login:user3370 "Ivan Ivanov")"#;
    param_old_queue: r#""Old Queue": TEST"# => "(oldQueue TEST)";
    param_original: r#""Original": "TASK-123", "TASK-321""# => r#"(original "TASK-123" "TASK-321")"#;
    param_original_estimate: r#""Original Estimate": "5d 2h 30m""# => "(originalEstimation dur:5d2h30m)";
    param_originals_of_queue: r#""Originals Of Queue": TEST"# => "(originalsOfQueue TEST)";
    param_parent_tasks_for_queue: r#""Parent Tasks For Queue": TEST, DEVELOP"# => "(parentTasksForQueue TEST DEVELOP)";
    param_pending_reply_from: r#""Pending Reply From": user3370@, "Ivan Ivanov""# => r#"(pendingReplyFrom login:user3370 "Ivan Ivanov")"#;
    param_priority: r#""Priority": "Minor", "Normal""# => r#"(priority "Minor" "Normal")"#;
    param_project: r#""Project": "Perpetuum mobile""# => r#"(project "Perpetuum mobile")"#;
    param_queue: r#""Queue": TEST"# => "(queue TEST)";
    param_queue_owner: r#""Queue Owner": user3370@, "Ivan Ivanov""# => r#"(queueOwner login:user3370 "Ivan Ivanov")"#;
    param_related: r#""Related": user3370@, "Ivan Ivanov""# => r#"(related login:user3370 "Ivan Ivanov")"#;
    param_related_to_queue: r#""Related To Queue": Testing"# => "(relatedToQueue Testing)";
    param_relates: r#""Relates": "TASK-123", "TASK-321""# => r#"(relates "TASK-123" "TASK-321")"#;
    param_resolved: r#""Resolved": 2017-01-01..2017-01-30"# => "(resolvedAt date:2017-01-01..date:2017-01-30)";
    param_resolver: r#""Resolver": user3370@, "Ivan Ivanov""# => r#"(resolvedBy login:user3370 "Ivan Ivanov")"#;
    param_sprint: r#"Sprint: "TrackerSprint32""# => r#"(sprint "TrackerSprint32")"#;
    param_sprint_in_progress_by_board: r#""Sprint In Progress By Board": 87"# => "(sprintInProgressByBoard num:87)";
    param_sprints_by_board: r#""Sprints By Board": 87"# => "(sprintsByBoard num:87)";
    param_start_date: r#""Start Date": <2017-01-30"# => "(start <date:2017-01-30)";
    param_status: r#""Status": Open, Resolved, Closed"# => "(status Open Resolved Closed)";
    param_story_points: r#""Story Points": >=5"# => "(storyPoints >=num:5)";
    param_subtasks_for_queue: r#""Subtasks For Queue": TEST"# => "(subtasksForQueue TEST)";
    param_summary_words: r#""Summary": "invent the wheel""# => r#"(summary "invent the wheel")"#;
    param_summary_exact: r##""Summary": #"invent the wheel""## => r##"(summary #"invent the wheel")"##;
    param_tags: r#""Tags": "Support", "wiki""# => r#"(tags "Support" "wiki")"#;
    param_time_spent: r#""Time Spent": >"5d 2h 30m""# => "(spent >dur:5d2h30m)";
    param_type: r#""Type": Epic"# => "(type Epic)";
    param_updated: r#""Updated": >2017-01-30"# => "(updatedAt >date:2017-01-30)";
    param_voted_by: r#""Voted By": user3370@, "Ivan Ivanov""# => r#"(votedBy login:user3370 "Ivan Ivanov")"#;
    param_votes: r#""Votes": > 6"# => "(votes >num:6)";
}

// ---- Other pages ----------------------------------------------------------------------------
means! {
    search_issues_example_has_an_epic_in_trek_sorted_by_update_descending:
        r#"epic: notEmpty() Queue: TREK "Sort by": Updated DESC"#
        => "(and (epic notEmpty) (queue TREK)) (sort updatedAt desc)";
    board_example_assignee_and_either_priority:
        "assignee: user1 AND (priority: normal OR priority: critical)"
        => "(and (assignee user1) (or (priority normal) (priority critical)))";
    autoaction_example_status_in_progress_without_spaces:
        r#""Status":"In progress""# => r#"(status "In progress")"#;
    bulk_update_example_summary_word:
        "Summary: Test" => "(summary Test)";
    board_template_instantiated_with_unquoted_values:
        "Queue: TEST AND Status: open OR Priority: critical"
        => "(or (and (queue TEST) (status open)) (priority critical))";
    issue_five_headline_query:
        r#"Queue: TEST Assignee: me() Status: !Closed "Sort by": Updated DESC"#
        => "(and (queue TEST) (assignee me()) (status !Closed)) (sort updatedAt desc)";
}
