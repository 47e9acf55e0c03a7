//! Hostile sizes: parsing and evaluating must stay linear in the input, so a
//! large query costs a request its own time and never stalls a worker.
//! Each case is sized so that a quadratic parser would take minutes while a
//! linear one takes well under a second; the bound is generous on purpose
//! (a loaded CI machine), it only has to separate the two growth rates.

use std::time::{Duration, Instant};

use tracker_query::parse;

const BOUND: Duration = Duration::from_secs(20);

fn parses_in_bound(what: &str, query: &str) {
    let started = Instant::now();
    let _ = parse(query);
    let took = started.elapsed();
    eprintln!("{what}: {} bytes parsed in {took:?}", query.len());
    assert!(took < BOUND, "{what}: {} bytes took {took:?}", query.len());
}

#[test]
fn parsing_is_linear_in_bare_words() {
    parses_in_bound("bare words", &"word ".repeat(200_000));
}

#[test]
fn parsing_is_linear_in_bare_words_before_a_field() {
    let q = format!("{}Queue: TEST", "word ".repeat(200_000));
    parses_in_bound("bare words then a field", &q);
}

#[test]
fn parsing_is_linear_in_or_terms_and_values() {
    parses_in_bound("or terms", &vec!["Status: open"; 25_000].join(" OR "));
    parses_in_bound(
        "comma values",
        &format!("Tags: {}", vec!["t"; 200_000].join(", ")),
    );
    parses_in_bound("quoted strings", &"\"quoted words\" ".repeat(100_000));
    parses_in_bound("unclosed quote", &format!("\"{}", "a ".repeat(200_000)));
}

#[test]
fn a_field_name_spans_at_most_the_word_limit() {
    let within = format!(
        "TEST.{}: x",
        vec!["w"; tracker_query::MAX_FIELD_WORDS - 1].join(" ")
    );
    let q = parse(&within).unwrap();
    assert!(q.describe().contains("TEST."), "{}", q.describe());
}
