#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The tree itself, spans included, for the shapes the server will translate.

use tracker_query::{
    parse, CompareOp, Condition, Duration, Expr, Field, FieldRef, Function, FunctionCall, Literal,
    LiteralKind, Operand, Predicate, Shift, Span,
};

fn word(text: &str, start: usize) -> Literal {
    Literal {
        text: text.into(),
        quoted: false,
        kind: LiteralKind::Text,
        span: Span::new(start, start + text.len()),
    }
}

#[test]
fn conditions_fields_and_values_carry_their_byte_spans() {
    let q = parse("Queue: TEST AND Status: !Closed").unwrap();
    let want = Expr::And(vec![
        Expr::Condition(Condition {
            field: FieldRef {
                field: Field::Known("queue"),
                span: Span::new(0, 5),
            },
            predicates: vec![Predicate::Equals(Operand::Literal(word("TEST", 7)))],
            span: Span::new(0, 11),
        }),
        Expr::Condition(Condition {
            field: FieldRef {
                field: Field::Known("status"),
                span: Span::new(16, 22),
            },
            predicates: vec![Predicate::NotEquals(Operand::Literal(word("Closed", 25)))],
            span: Span::new(16, 31),
        }),
    ]);
    assert_eq!(q.filter, Some(want));
    assert!(q.sort.is_empty());
}

#[test]
fn date_arithmetic_is_a_function_call_with_shifts() {
    let q = parse(r#"Created: > today() - "1w 1d""#).unwrap();
    let Some(Expr::Condition(c)) = q.filter else {
        panic!("not a condition")
    };
    assert_eq!(
        c.predicates,
        vec![Predicate::Compare(
            CompareOp::Gt,
            Operand::Function(FunctionCall {
                function: Function::Today,
                shifts: vec![Shift {
                    negative: true,
                    by: Duration {
                        weeks: 1,
                        days: 1,
                        ..Duration::default()
                    },
                    span: Span::new(19, 28),
                }],
                span: Span::new(11, 28),
            })
        )]
    );
}

#[test]
fn a_quoted_value_keeps_its_text_and_its_date_reading() {
    let q = parse(r#"Deadline: "2017-01-30""#).unwrap();
    let Some(Expr::Condition(c)) = q.filter else {
        panic!("not a condition")
    };
    let Predicate::Equals(Operand::Literal(lit)) = &c.predicates[0] else {
        panic!("not equals")
    };
    assert_eq!(lit.text, "2017-01-30");
    assert!(lit.quoted);
    assert_eq!(lit.span, Span::new(10, 22));
    assert_eq!(
        lit.kind,
        LiteralKind::Date(chrono::NaiveDate::from_ymd_opt(2017, 1, 30).unwrap())
    );
}

#[test]
fn local_and_custom_fields_are_kept_apart_from_known_ones() {
    let q = parse(r#"DEVS."Lead test engineer": x "my field": y priority: z"#).unwrap();
    let Some(Expr::And(items)) = q.filter else {
        panic!("not and")
    };
    let fields: Vec<(Field, Span)> = items
        .iter()
        .map(|e| match e {
            Expr::Condition(c) => (c.field.field.clone(), c.field.span),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            (
                Field::Local {
                    queue: "DEVS".into(),
                    name: "Lead test engineer".into()
                },
                Span::new(0, 25)
            ),
            (Field::Custom("my field".into()), Span::new(29, 39)),
            (Field::Known("priority"), Span::new(43, 51)),
        ]
    );
    assert_eq!(items[2].describe(), "(priority z)");
    assert_eq!(
        Field::Known("priority").kind(),
        Some(tracker_query::FieldKind::Entity)
    );
    assert_eq!(Field::Custom("x".into()).kind(), None);
}

#[test]
fn sort_keys_keep_the_field_span_and_direction() {
    let q = parse(r#"Queue: TEST "Sort by": Updated DESC, key"#).unwrap();
    assert_eq!(q.sort.len(), 2);
    assert_eq!(
        q.sort[0].field,
        FieldRef {
            field: Field::Known("updatedAt"),
            span: Span::new(23, 30)
        }
    );
    assert!(q.sort[0].descending);
    assert_eq!(q.sort[1].field.field, Field::Known("key"));
    assert!(!q.sort[1].descending);
}

/// Each query parses to the meaning next to it.
fn assert_meanings(cases: &[(&str, &str)]) {
    for (query, meaning) in cases {
        assert_eq!(parse(query).unwrap().describe(), *meaning, "{query}");
    }
}

#[test]
fn keywords_and_function_names_ignore_case() {
    assert_meanings(&[
        (
            "queue: a and status: b OR priority: c",
            "(or (and (queue a) (status b)) (priority c))",
        ),
        ("Assignee: ME()", "(assignee me())"),
        ("Deadline: NOTEMPTY()", "(deadline notEmpty)"),
    ]);
}

#[test]
fn a_word_before_a_known_field_is_full_text_but_a_known_two_word_name_is_a_field() {
    assert_meanings(&[
        (
            "crash Affected Version: 1.0",
            "(and (text crash) (affectedVersions num:1))",
        ),
        (
            "crash report Status: Open",
            "(and (text crash) (text report) (status Open))",
        ),
    ]);
}

#[test]
fn a_bare_function_name_without_parentheses_is_an_ordinary_word() {
    assert_meanings(&[
        ("Summary: today", "(summary today)"),
        (
            "Summary: today (Status: Open)",
            "(and (summary today) (status Open))",
        ),
    ]);
}
