#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! Parse errors name the offending token and its byte position, as the 400 envelope will.

use tracker_query::{parse, ParseError, MAX_DEPTH};

fn error(q: &str) -> ParseError {
    match parse(q) {
        Ok(ok) => panic!("{q:?} parsed as {}", ok.describe()),
        Err(e) => e,
    }
}

#[test]
fn an_empty_pair_of_parentheses_points_at_the_closing_one() {
    let e = error("Queue: TEST AND ()");
    assert_eq!(e.to_string(), r#"Unexpected token ")" at position 17"#);
    assert_eq!(e.position(), 17);
}

#[test]
fn a_missing_value_after_the_colon_is_an_unexpected_end() {
    assert_eq!(error("Queue:"), ParseError::UnexpectedEnd { position: 6 });
    assert_eq!(
        error("Queue: TEST, "),
        ParseError::UnexpectedEnd { position: 13 }
    );
}

#[test]
fn an_unclosed_quote_points_at_where_the_string_starts() {
    assert_eq!(
        error(r#"Queue: "TEST"#),
        ParseError::UnterminatedString { position: 7 }
    );
    assert_eq!(
        error(r#"Queue: "TEST\"#),
        ParseError::UnterminatedString { position: 7 }
    );
}

#[test]
fn an_unclosed_parenthesis_is_an_unexpected_end() {
    assert_eq!(
        error("(Queue: TEST"),
        ParseError::UnexpectedEnd { position: 12 }
    );
}

#[test]
fn a_stray_closing_parenthesis_is_reported_where_it_stands() {
    assert_eq!(
        error("Queue: TEST)"),
        ParseError::UnexpectedToken {
            token: ")".into(),
            position: 11
        }
    );
}

#[test]
fn a_leading_or_doubled_and_is_an_unexpected_token() {
    assert_eq!(
        error("AND Queue: TEST"),
        ParseError::UnexpectedToken {
            token: "AND".into(),
            position: 0
        }
    );
    assert_eq!(
        error("Queue: TEST AND and Status: Open"),
        ParseError::UnexpectedToken {
            token: "and".into(),
            position: 16
        }
    );
    assert_eq!(
        error("Queue: TEST OR"),
        ParseError::UnexpectedEnd { position: 14 }
    );
}

#[test]
fn an_unknown_function_is_named_with_its_position() {
    let e = error("Created: > tomorrow()");
    assert_eq!(
        e,
        ParseError::UnknownFunction {
            name: "tomorrow".into(),
            position: 11
        }
    );
    assert_eq!(
        e.to_string(),
        r#"Unknown function "tomorrow()" at position 11"#
    );
}

#[test]
fn empty_cannot_be_compared() {
    assert_eq!(
        error("Created: > empty()"),
        ParseError::FunctionNotAllowed {
            name: "empty".into(),
            position: 11
        }
    );
}

#[test]
fn a_bad_interval_in_date_arithmetic_points_at_the_interval() {
    assert_eq!(
        error("Created: > today() - 1q"),
        ParseError::InvalidDuration {
            token: "1q".into(),
            position: 21
        }
    );
    assert_eq!(
        error("Created: > now()-12x"),
        ParseError::InvalidDuration {
            token: "-12x".into(),
            position: 16
        }
    );
}

#[test]
fn a_function_with_unexpected_arguments_points_at_them() {
    assert_eq!(
        error("Assignee: me(alice)"),
        ParseError::UnexpectedToken {
            token: "alice".into(),
            position: 13
        }
    );
}

#[test]
fn changed_rejects_an_unknown_argument_name() {
    assert_eq!(
        error("Status: changed(when: today())"),
        ParseError::UnexpectedToken {
            token: "when".into(),
            position: 16
        }
    );
}

#[test]
fn a_colon_without_a_field_is_an_unexpected_token() {
    assert_eq!(
        error(": TEST"),
        ParseError::UnexpectedToken {
            token: ":".into(),
            position: 0
        }
    );
}

#[test]
fn sort_by_needs_a_field() {
    assert_eq!(
        error(r#""Sort by":"#),
        ParseError::UnexpectedEnd { position: 10 }
    );
    assert_eq!(
        error(r#""Sort by": , Created"#),
        ParseError::UnexpectedToken {
            token: ",".into(),
            position: 11
        }
    );
}

#[test]
fn positions_are_byte_offsets_even_after_cyrillic_text() {
    // "Статус" is 6 letters but 12 bytes.
    assert_eq!(
        error(r#""Статус": )"#),
        ParseError::UnexpectedToken {
            token: ")".into(),
            position: 16
        }
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_refused_without_overflowing_the_stack() {
    let q = format!("{}Queue: TEST{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(
        error(&q),
        ParseError::TooDeep {
            position: MAX_DEPTH
        }
    );
    let ok = format!(
        "{}Queue: TEST{}",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert_eq!(parse(&ok).unwrap().describe(), "(queue TEST)");
}

#[test]
fn an_empty_query_matches_everything_rather_than_failing() {
    assert_eq!(parse("").unwrap().describe(), "(all)");
    assert_eq!(parse("   ").unwrap().describe(), "(all)");
}
