#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! Time-bounded fuzzing: random hostile queries, large ones included, must
//! parse (or fail to) within a bound — not only without a panic. The known
//! quadratic shapes have their own tests (linear.rs); this looks for the ones
//! nobody thought of. A query of this size that parsed in quadratic time
//! would take far longer than the bound, so the bound separates the growth
//! rates, not the machine's speed.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use tracker_query::parse;

/// Per query of up to ~600 KB; linear parsing takes a small fraction of it.
const BOUND: Duration = Duration::from_secs(5);

/// Pieces of queries, well- and ill-formed.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Queue:".to_string()),
        Just("Queue: TEST".to_string()),
        Just("\"Story Points\": >3".to_string()),
        Just("DEVS.tester:".to_string()),
        Just("DEVS.\"Lead test engineer\":".to_string()),
        Just("Assignee: me(), empty(), !notEmpty()".to_string()),
        Just("Created: today()-1w..now()".to_string()),
        Just("changed(to: open by: me() date: >today()-1w)".to_string()),
        Just("group(value: \"a b\")".to_string()),
        Just("\"Sort by\": Created DESC,".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("((((".to_string()),
        Just("\"".to_string()),
        Just("\\\"".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("..".to_string()),
        Just("...".to_string()),
        Just("!".to_string()),
        Just("#".to_string()),
        Just("~".to_string()),
        Just(">=".to_string()),
        Just("AND".to_string()),
        Just("OR".to_string()),
        Just("or".to_string()),
        Just("Sort by:".to_string()),
        Just("2017-01-30".to_string()),
        Just("30.04.2017".to_string()),
        Just("\"1w 1d\"".to_string()),
        Just("TASK-123".to_string()),
        Just("задача".to_string()),
        "[a-zA-Z0-9_.@-]{1,8}",
        "[ -~]{1,6}",
        "\\PC{1,4}",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(" "),
        1 => Just(""),
        1 => Just(" AND "),
        1 => Just(" OR "),
        1 => Just(", "),
        1 => Just("\n"),
    ]
}

/// A query of `n` random pieces.
fn hostile(n: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec((fragment(), separator()), n).prop_map(|parts| {
        let mut q = String::new();
        for (f, s) in parts {
            q.push_str(&f);
            q.push_str(s);
        }
        q
    })
}

fn timed(q: &str) -> Duration {
    let started = Instant::now();
    let _ = parse(q);
    started.elapsed()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        // A slow case shrinks to a smaller slow case; that needs no more.
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    })]

    #[test]
    fn large_random_hostile_queries_parse_within_the_bound(q in hostile(20_000..40_000)) {
        let took = timed(&q);
        eprintln!("{} bytes parsed in {took:?}", q.len());
        prop_assert!(took < BOUND, "{} bytes took {took:?}", q.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn small_random_queries_parse_quickly(q in hostile(1..64)) {
        let took = timed(&q);
        prop_assert!(took < Duration::from_millis(500), "{q:?} took {took:?}");
    }
}
