//! A stable-Rust fuzzer for the query parser, for machines without `cargo fuzz` (which needs
//! nightly). It mutates the reference examples and random bytes for a fixed time and checks,
//! for every input, that:
//! * parsing never panics;
//! * an error's position lies inside the query, on a character boundary;
//! * a parsed query prints as text that parses back to the same meaning;
//! * evaluating the query against a sample issue never panics.
//!
//! ```text
//! cargo run --release -p tracker-query --example fuzz_parser -- --seconds 60 [--seed 42]
//! ```
//! Prints runs, outcomes and any failing inputs; exits non-zero when something failed.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use tracker_query::{parse, Context, Document, Field, Value};

const SEEDS: &[&str] = &[
    r#""Queue": "TEST""#,
    r#""Status": "Open", "In Progress""#,
    r#""Created": "2017-01-01".."2017-01-30""#,
    r#"author: "vpupkin","iivanov""#,
    r#"Queue: "TEST" AND (Status: "Open" OR Priority: "Critical")"#,
    r##"Summary: #"Version 2.0""##,
    r##"Description: #"Make ||""##,
    r#"Summary: !"UI""#,
    r#"Summary: ~"UI Update 2.0""#,
    "Assignee: user3370@",
    r#"DEVS.Test engineer: "Ivan Ivanov""#,
    r#"DEVS."Lead test engineer": "Ivan Ivanov""#,
    r#"Created: "2017-04-30 17:25:00""#,
    "Created: 01-01-2017 .. 02-03-2017",
    r#"Created: > today() - "1w 1d""#,
    "Votes: 1 ... 5",
    "Deadline: <= today() +3d and deadline: >= today()",
    "Created: >now()-12h",
    "Resolution: unresolved()",
    r#"Assignee: group(value: "Sales department")"#,
    r#"Status: changed(to: "In Progress" by: "Ivan Ivanov" date: 01.09.2017 .. 15.09.2017)"#,
    r#"Status: changed(to: "In Progress" by: "Ivan Ivanov" date: >today()-1w)"#,
    r#""Sort By": Created ASC, Updated DESC"#,
    "(Followers: me() OR Assignee: me() OR Author: me()) AND Resolution: empty() AND Priority: Blocker, Critical",
    r#"epic: notEmpty() Queue: TREK "Sort by": Updated DESC"#,
    r#""Time Spent": >"5d 2h 30m""#,
    r#"login page "release notes" Affected Version: "14.09.1978""#,
];

const DICTIONARY: &[&str] = &[
    "(",
    ")",
    "\"",
    "\\",
    ":",
    ",",
    "!",
    "#",
    "~",
    ">",
    ">=",
    "<",
    "<=",
    "..",
    "...",
    " AND ",
    " OR ",
    " ",
    "today()",
    "now()",
    "me()",
    "empty()",
    "group(value: ",
    "changed(",
    "-",
    "+",
    "1w",
    "\"Sort by\": ",
    " DESC",
    "@",
    ".",
    "DEVS.",
    "||",
    "Статус",
    "é",
    "\u{0}",
    "\u{FFFD}",
    "9999999999",
];

/// xorshift64*: no dependency, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, corpus: &[String]) -> String {
    if rng.below(20) == 0 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let mut s: Vec<u8> = corpus[rng.below(corpus.len())].clone().into_bytes();
    for _ in 0..=rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 => {
                let tok = DICTIONARY[rng.below(DICTIONARY.len())];
                s.splice(at..at, tok.bytes());
            }
            1 if !s.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(s.len());
                s.drain(at.min(end)..end);
            }
            2 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] = rng.next() as u8;
            }
            3 => {
                let other = corpus[rng.below(corpus.len())].as_bytes();
                let from = rng.below(other.len() + 1);
                let to = (from + rng.below(24)).min(other.len());
                s.splice(at..at, other[from..to].iter().copied());
            }
            4 if !s.is_empty() => {
                let from = rng.below(s.len());
                let to = (from + rng.below(16)).min(s.len());
                let chunk: Vec<u8> = s[from..to].to_vec();
                s.splice(at..at, chunk);
            }
            _ => s.insert(at, b"(\")".as_slice()[rng.below(3)]),
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

struct Sample;

impl Document for Sample {
    fn values(&self, field: &Field) -> Vec<Value> {
        let at = Utc.with_ymd_and_hms(2024, 3, 15, 9, 0, 0).single();
        match field {
            Field::Known("summary" | "description" | "comment") => {
                vec![Value::Text("Login page crashes".into())]
            }
            Field::Known("assignee" | "createdBy" | "followers") => {
                vec![Value::user("ivan", "Ivan Ivanov")]
            }
            Field::Known("createdAt" | "updatedAt") => {
                at.map(Value::DateTime).into_iter().collect()
            }
            Field::Known("deadline") => at
                .map(|t| Value::Date(t.date_naive()))
                .into_iter()
                .collect(),
            Field::Known("votes" | "storyPoints") => vec![Value::Number(3.0)],
            Field::Known("spent") => vec![Value::Duration(3600)],
            Field::Known(_) | Field::Local { .. } => vec![Value::name("TEST")],
            Field::Custom(_) => vec![],
        }
    }
}

enum Outcome {
    Parsed,
    Rejected,
}

fn check(input: &str, ctx: &Context) -> Result<Outcome, String> {
    match parse(input) {
        Ok(q) => {
            let printed = q.to_string();
            match parse(&printed) {
                Ok(again) if again.describe() == q.describe() => {}
                Ok(again) => {
                    return Err(format!(
                        "round trip changed meaning: {} → {printed:?} → {}",
                        q.describe(),
                        again.describe()
                    ))
                }
                Err(e) => return Err(format!("printed form {printed:?} does not parse: {e}")),
            }
            let _ = q.matches(&Sample, ctx);
            Ok(Outcome::Parsed)
        }
        Err(e) => {
            let p = e.position();
            if p > input.len() || !input.is_char_boundary(p) {
                return Err(format!("error position {p} outside the input ({e})"));
            }
            Ok(Outcome::Rejected)
        }
    }
}

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() -> ExitCode {
    let seconds = arg("--seconds").unwrap_or(60);
    let seed = arg("--seed").unwrap_or(0x5EED_CAFE);
    let mut rng = Rng(seed | 1);
    let Some(now) = Utc.with_ymd_and_hms(2024, 3, 15, 12, 0, 0).single() else {
        return ExitCode::FAILURE;
    };
    let ctx = Context::new("ivan", now).with_group("Sales department", &["ivan"]);
    let mut corpus: Vec<String> = SEEDS.iter().map(|s| (*s).to_string()).collect();
    // Panics are counted and reported below; keep the default hook from flooding the terminal.
    panic::set_hook(Box::new(|_| {}));

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let (mut runs, mut parsed, mut rejected) = (0u64, 0u64, 0u64);
    let mut failures: Vec<(String, String)> = Vec::new();
    while Instant::now() < deadline {
        for _ in 0..256 {
            let input = mutate(&mut rng, &corpus);
            runs += 1;
            match panic::catch_unwind(AssertUnwindSafe(|| check(&input, &ctx))) {
                Ok(Ok(Outcome::Parsed)) => {
                    parsed += 1;
                    // Inputs that still parse are the interesting ones to mutate further.
                    if corpus.len() < 4096 && input.len() < 512 && rng.below(8) == 0 {
                        corpus.push(input);
                    }
                }
                Ok(Ok(Outcome::Rejected)) => rejected += 1,
                Ok(Err(why)) => failures.push((input, why)),
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_default();
                    failures.push((input, format!("panic: {msg}")));
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz_parser: {runs} runs in {secs:.1} s ({:.0}/s), seed {seed}: {parsed} parsed, {rejected} rejected with an error, {} failures; corpus grew to {}",
        runs as f64 / secs,
        failures.len(),
        corpus.len()
    );
    for (input, why) in failures.iter().take(10) {
        println!("FAIL {input:?}: {why}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
