#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! Property tests: printing a parsed query gives text that parses to the same meaning, and no
//! input whatsoever makes the parser panic or report a position outside the query.

use proptest::prelude::*;
use tracker_query::parse;

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Queue".to_string()),
        Just("\"Assignee\"".to_string()),
        Just("assignee".to_string()),
        Just("Affected Version".to_string()),
        Just("\"Story Points\"".to_string()),
        Just("Created".to_string()),
        Just("deadline".to_string()),
        Just("DEVS.tester".to_string()),
        Just("DEVS.\"Lead test engineer\"".to_string()),
        Just("DEVS.Test engineer".to_string()),
        Just("\"my field\"".to_string()),
        Just("customKey".to_string()),
    ]
}

fn quoted() -> impl Strategy<Value = String> {
    "[a-zA-Zа-я0-9 :,()!#~<>.\\\\\"|@-]{0,12}".prop_map(|s| tracker_query::quote(&s))
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,6}".prop_filter("keywords", |w| {
            !["and", "or", "asc", "desc"].contains(&w.to_lowercase().as_str())
        }),
        "[a-z]{1,6}[0-9]{0,4}@",
        Just("2017-01-30".to_string()),
        Just("30.04.2017".to_string()),
        Just("04/30/2017".to_string()),
        "[0-9]{1,4}(\\.[0-9]{1,2})?",
        Just("12h".to_string()),
        Just("TASK-123".to_string()),
    ]
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![quoted(), word()]
}

fn function() -> impl Strategy<Value = String> {
    let temporal = prop_oneof![
        Just("now()"),
        Just("today()"),
        Just("week()"),
        Just("month()"),
        Just("quarter()"),
        Just("year()"),
    ];
    let shift = prop_oneof![
        Just(""),
        Just(" - 1w"),
        Just("+3d"),
        Just(" - \"1w 1d\""),
        Just("-12h"),
        Just(" + \"3d 5h 32m\" - 1s"),
    ];
    prop_oneof![
        (temporal, shift).prop_map(|(f, s)| format!("{f}{s}")),
        Just("me()".to_string()),
        quoted().prop_map(|g| format!("group(value: {g})")),
    ]
}

fn operand() -> impl Strategy<Value = String> {
    prop_oneof![3 => literal(), 1 => function()]
}

fn predicate() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => operand(),
        1 => operand().prop_map(|o| format!("!{o}")),
        1 => literal().prop_map(|l| format!("#{l}")),
        1 => literal().prop_map(|l| format!("~{l}")),
        1 => (prop_oneof![Just(">"), Just(">="), Just("<"), Just("<= ")], operand())
            .prop_map(|(op, o)| format!("{op}{o}")),
        1 => (operand(), prop_oneof![Just(".."), Just(" .. "), Just("...")], operand())
            .prop_map(|(a, r, b)| format!("{a}{r}{b}")),
        1 => prop_oneof![Just("empty()"), Just("notEmpty()"), Just("unresolved()"), Just("!empty()")]
            .prop_map(str::to_string),
        1 => (operand(), operand())
            .prop_map(|(a, b)| format!("changed(to: {a} by: {b} date: >today()-1w)")),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    (field(), prop::collection::vec(predicate(), 1..4))
        .prop_map(|(f, ps)| format!("{f}: {}", ps.join(", ")))
}

fn term() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => condition(),
        1 => prop_oneof![Just("login"), Just("crash"), Just("alpha")].prop_map(str::to_string),
        1 => quoted(),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    term().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop_oneof![Just(" "), Just(" AND "), Just(" or "), Just(" OR ")],
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a}{op}{b}")),
            inner.prop_map(|e| format!("({e})")),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    (
        expr(),
        prop::option::of(prop_oneof![
            Just(r#""Sort by": Created"#),
            Just(r#""Sort By": Updated DESC, Queue asc"#),
            Just(r#"Sort by: DEVS."Lead test engineer" DESC"#),
        ]),
    )
        .prop_map(|(e, s)| match s {
            Some(s) => format!("{e} {s}"),
            None => e,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printing_a_parsed_query_parses_back_to_the_same_meaning(q in query()) {
        let first = parse(&q).map_err(|e| TestCaseError::fail(format!("{q:?}: {e}")))?;
        let printed = first.to_string();
        let second = parse(&printed)
            .map_err(|e| TestCaseError::fail(format!("{q:?} printed as {printed:?}: {e}")))?;
        prop_assert_eq!(first.describe(), second.describe(), "printed as {:?}", printed);
        prop_assert_eq!(printed, second.to_string());
    }

    #[test]
    fn any_text_parses_or_fails_at_a_position_inside_it(q in "\\PC{0,40}") {
        if let Err(e) = parse(&q) {
            prop_assert!(e.position() <= q.len());
            prop_assert!(q.is_char_boundary(e.position()));
        }
    }

    #[test]
    fn query_like_noise_parses_or_fails_at_a_position_inside_it(
        q in "[ a-zA-Z0-9:,()!#~<>=.\"\\\\@+-]{0,60}"
    ) {
        if let Err(e) = parse(&q) {
            prop_assert!(e.position() <= q.len());
        }
    }
}
