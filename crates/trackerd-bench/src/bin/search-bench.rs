//! Benchmark: issue search through HTTP over a large dataset, on each
//! storage backend.
//!
//! Generates an organization of 200 people and 20 queues holding `--issues`
//! issues (default 1 000 000) with followers, tags, comments and a changelog
//! entry each, then measures a fixed set of representative searches
//! (`POST /v2/issues/_search`, first page of 50), `_count`s and full scrolls
//! of one queue of exactly 50 000 issues, against `GET /v2/myself` measured
//! in the same run as the baseline.
//!
//! Accounts, the organization and the queues (with their default grants) are
//! made through the store API, as the seed loader makes them. Issues and
//! what hangs off them are bulk-inserted with multi-row `INSERT`s (the API
//! would take hours for a million): the same tables, columns and encodings
//! `create_issue` and comment writes use (timestamps are bound as
//! `DateTime<Utc>` as the stores bind them), keys `QUEUE-1..n` per queue,
//! `queues.issue_seq` set to n at the end. Anything a migration maintains
//! from these tables (search indexes, triggers) sees ordinary inserts.
//!
//! The dataset is deterministic (a fixed seed), anchored at midnight (UTC)
//! of the day it is generated: when both backends' datasets share that day,
//! every query must find the same number of issues on both, and the run
//! says so when not. With `--data-dir` it is kept and measured again by later runs
//! instead of being generated anew (minutes at 1 000 000 issues); without,
//! it lives in a temporary SQLite file / a fresh PostgreSQL database dropped
//! at the end.
//!
//! Searches run as `user001`, a plain member (not an administrator) reading
//! through the queues' default grants, one request at a time over one
//! keep-alive connection, the server in this process on 127.0.0.1:0.
//!
//! This is a benchmark, not a test: missed targets never fail it, only a
//! broken setup (a non-2xx answer, a database that cannot be created).

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trackerd_bench::{
    backends, create_database, database_url, drop_database, micros, proc_ticks, rand_suffix,
    start_server, Backend, Concrete, Which,
};

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::Connection;
use tracker_domain::{Clock, Scopes, SystemClock};
use tracker_store::{NewOrganization, NewQueue, Store};
use trackerd::ops::{put_user, UserSpec};

const ORG_ID: &str = "7000005";
/// The account the searches run as: a plain member, the most frequent
/// assignee (so `Assignee: me()` has plenty to find).
const BENCH_USER: &str = "user001";
const USERS: usize = 200;
/// Queue keys (1 to 15 Latin letters) and names, the biggest first except
/// [`SCROLL_QUEUE`], whose size is fixed.
const QUEUES: [(&str, &str); 20] = [
    ("SUPPORT", "Customer support"),
    ("BACKEND", "Backend"),
    ("FRONTEND", "Web frontend"),
    ("MOBILE", "Mobile apps"),
    ("INFRA", "Infrastructure"),
    ("BILLING", "Billing"),
    ("SEARCH", "Search"),
    ("DATA", "Data platform"),
    ("SECURITY", "Security"),
    ("DESIGN", "Design"),
    ("QA", "Quality assurance"),
    ("RELEASE", "Release management"),
    ("PLATFORM", "Platform"),
    ("ANALYTICS", "Analytics"),
    ("DOCS", "Documentation"),
    ("SALES", "Sales engineering"),
    ("OPS", "Operations"),
    ("MARKETING", "Marketing"),
    ("LEGAL", "Legal"),
    ("HR", "People team"),
];
/// The queue that holds exactly [`SCROLL_SIZE`] issues, for the scroll.
const SCROLL_QUEUE: &str = "BILLING";
const SCROLL_SIZE: u64 = 50_000;
/// How far back issues were created.
const HISTORY_DAYS: i64 = 730;
const SEED: u64 = 0x7e5e_a5c4_0005;
/// Issues per multi-row statement, and statements per transaction.
const BATCH: usize = 1000;
const BATCHES_PER_TX: usize = 5;
/// Rows per statement for the other tables: within both drivers' limits on
/// bound parameters (SQLite 32 766, PostgreSQL 65 535).
const ROWS_PER_STATEMENT: usize = 2000;
const PAGE: usize = 50;
const PER_SCROLL: usize = 1000;
/// Measured scrolls of each kind (the median is reported).
const SCROLL_RUNS: usize = 3;

/// Issue search through HTTP over a generated dataset of issues, per backend.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Issues to generate (one queue gets min(50 000, issues / 20) of them).
    #[arg(long, default_value_t = 1_000_000)]
    issues: u64,
    /// Which backends; `all` is SQLite plus PostgreSQL when a URL is given.
    #[arg(long, value_enum, default_value_t = Which::All)]
    backend: Which,
    /// A PostgreSQL server URL with CREATEDB rights.
    #[arg(long, env = "TRACKERD_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Keep datasets here and reuse them: SQLite in
    /// DIR/search-bench-<issues>.db, PostgreSQL as the database
    /// trackerd_bench_search_<issues> on the server of --postgres-url. A
    /// complete dataset found there is measured without being generated
    /// again. Without this option datasets are temporary.
    #[arg(long, env = "TRACKERD_BENCH_DATA")]
    data_dir: Option<PathBuf>,
    /// Generate the kept datasets anew even if complete ones exist.
    #[arg(long)]
    regenerate: bool,
    /// Stop after generating (with --data-dir, to measure later).
    #[arg(long)]
    generate_only: bool,
    /// Measured runs per query.
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// Unmeasured runs per query before the measured ones.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Seconds of measured runs a query may take before it stops early
    /// (with at least one run): a slow search would otherwise take hours.
    #[arg(long, default_value_t = 120)]
    budget: u64,
    /// Skip the full scrolls.
    #[arg(long)]
    no_scroll: bool,
}

// ---------------------------------------------------------------- vocabulary

/// Common words of issue trackers, most frequent first: the head of the
/// vocabulary, so summaries read like summaries and the searched words are
/// real ones. The tail is made of generated words.
const REAL_WORDS: &str = "the to and a of in is on for not with when after it be error page user \
    fails login button does this from should server request can update data file list report \
    shows wrong missing crash timeout new add support field form issue test view api message \
    status sync export search load order account settings queue email notification mobile app \
    broken slow empty invalid response version release build deploy config database cache query \
    index table column value date time filter sort link image upload download save delete edit \
    create open close display screen menu dialog window tab text font color layout style icon \
    payment invoice customer price discount tax currency refund subscription plan billing card \
    checkout cart product catalog inventory stock warehouse shipping delivery address phone \
    profile password token session permission role group team project task ticket comment \
    attachment document template workflow approval review deadline priority estimate sprint \
    backlog milestone dashboard chart widget metric counter graph statistics analytics event \
    tracking log monitoring alert incident outage latency memory leak disk network proxy \
    gateway certificate encryption firewall backup restore migration schema upgrade downgrade \
    dependency library package module plugin extension integration webhook callback endpoint \
    timestamp timezone locale translation language keyboard shortcut scroll resize zoom \
    printer scanner camera microphone speaker headset bluetooth wireless battery charger \
    display monitor resolution brightness contrast theme background border margin padding \
    spacing alignment overflow truncated duplicate stale outdated deprecated legacy flaky \
    intermittent regression performance throughput bottleneck spike degradation recovery \
    failover replica cluster shard partition snapshot rollback hotfix patch workaround \
    reproduce investigate verify confirm reject assign escalate triage postpone schedule \
    weekly monthly quarterly annual nightly hourly morning evening weekend holiday vacation \
    contract vendor supplier partner reseller affiliate campaign newsletter survey feedback \
    onboarding tutorial walkthrough tooltip placeholder validation captcha redirect cookie \
    consent privacy compliance audit policy regulation retention archive purge quota limit \
    threshold overflow underflow rounding precision decimal fraction percentage ratio \
    spreadsheet calendar reminder invitation meeting conference recording transcript \
    subtitle thumbnail preview gallery carousel banner sidebar footer header breadcrumb \
    pagination infinite lazy skeleton spinner progress indicator badge avatar signature";

const SYLLABLE_ONSETS: [&str; 26] = [
    "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "cr",
    "dr", "fl", "gr", "pl", "pr", "st", "tr", "sh",
];
const SYLLABLE_VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
const SYLLABLE_CODAS: [&str; 12] = ["", "", "", "n", "r", "l", "s", "t", "m", "x", "nd", "st"];

fn pseudo_word(rng: &mut StdRng) -> String {
    let syllables = rng.gen_range(2..=3);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(SYLLABLE_ONSETS[rng.gen_range(0..SYLLABLE_ONSETS.len())]);
        w.push_str(SYLLABLE_VOWELS[rng.gen_range(0..SYLLABLE_VOWELS.len())]);
        w.push_str(SYLLABLE_CODAS[rng.gen_range(0..SYLLABLE_CODAS.len())]);
    }
    w
}

/// The words of summaries and descriptions (~2000) and the words only
/// comments use (200), each list most frequent first.
struct Vocabulary {
    words: Vec<String>,
    comment_words: Vec<String>,
}

impl Vocabulary {
    fn new() -> Self {
        let mut rng = StdRng::seed_from_u64(SEED ^ 0x0076_6f63_6162);
        let mut seen = HashSet::new();
        let mut words: Vec<String> = REAL_WORDS
            .split_whitespace()
            .filter(|w| seen.insert(w.to_string()))
            .map(str::to_owned)
            .collect();
        while words.len() < 2000 {
            let w = pseudo_word(&mut rng);
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        // Words that appear nowhere else, not even inside another word, so
        // a hit can only come from a comment.
        let mut comment_words = Vec::new();
        while comment_words.len() < 200 {
            let w = pseudo_word(&mut rng);
            if w.len() >= 6 && !words.iter().any(|x| x.contains(&w)) && seen.insert(w.clone()) {
                comment_words.push(w);
            }
        }
        Vocabulary {
            words,
            comment_words,
        }
    }

    /// The first word from `rank` on that is at least 5 letters, not inside
    /// any other word (a substring match would find more than the word) and
    /// not already taken.
    fn pick(&self, rank: usize, taken: &mut HashSet<String>) -> String {
        let all: Vec<&String> = self.words.iter().chain(&self.comment_words).collect();
        for w in self.words.iter().skip(rank) {
            if w.len() >= 5
                && !taken.contains(w)
                && !all.iter().any(|x| *x != w && x.contains(w.as_str()))
            {
                taken.insert(w.clone());
                return w.clone();
            }
        }
        self.words[rank].clone()
    }
}

/// Tags, most frequent first.
const TAGS: [&str; 60] = [
    "backend",
    "frontend",
    "ui",
    "api",
    "regression",
    "customer",
    "performance",
    "security",
    "mobile",
    "ios",
    "android",
    "web",
    "database",
    "infra",
    "auth",
    "docs",
    "design",
    "payments",
    "crash",
    "ux",
    "accessibility",
    "i18n",
    "analytics",
    "monitoring",
    "alerting",
    "ci",
    "build",
    "release",
    "hotfix",
    "tech-debt",
    "refactoring",
    "migration",
    "onboarding",
    "email",
    "notifications",
    "export",
    "import",
    "reporting",
    "dashboard",
    "admin",
    "permissions",
    "sso",
    "integration",
    "webhooks",
    "sdk",
    "cli",
    "cache",
    "storage",
    "network",
    "latency",
    "memory",
    "logging",
    "privacy",
    "compliance",
    "legal",
    "sales",
    "escalation",
    "flaky",
    "good-first-issue",
    "wontfix-candidate",
];
/// A tag of middling frequency (~1.4% of issues).
const QUERY_TAG: &str = TAGS[14];

const FIRST_NAMES: [&str; 25] = [
    "Anna", "Boris", "Clara", "Dmitry", "Elena", "Fyodor", "Galina", "Hugo", "Irina", "James",
    "Kira", "Leonid", "Maria", "Nikita", "Olga", "Pavel", "Quinn", "Roman", "Sofia", "Timur",
    "Ulyana", "Victor", "Wendy", "Xenia", "Yuri",
];
const LAST_NAMES: [&str; 25] = [
    "Ivanova",
    "Smirnov",
    "Kuznetsova",
    "Popov",
    "Vasilieva",
    "Petrov",
    "Sokolova",
    "Mikhailov",
    "Novikova",
    "Fedorov",
    "Morozova",
    "Volkov",
    "Alekseeva",
    "Lebedev",
    "Semenova",
    "Egorov",
    "Pavlova",
    "Kozlov",
    "Stepanova",
    "Nikolaev",
    "Orlova",
    "Andreev",
    "Makarova",
    "Zakharov",
    "Baker",
];

fn login(i: usize) -> String {
    format!("user{:03}", i + 1)
}

// ---------------------------------------------------------------- sampling

/// Draws ranks 0..n with probability proportional to 1 / (rank + 1)^s.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut acc = 0.0;
        let cdf = (0..n)
            .map(|r| {
                acc += 1.0 / ((r + 1) as f64).powf(s);
                acc
            })
            .collect();
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let u = rng.gen::<f64>() * self.cdf[self.cdf.len() - 1];
        self.cdf
            .partition_point(|c| *c <= u)
            .min(self.cdf.len() - 1)
    }
}

/// An index drawn from fixed weights.
fn weighted(rng: &mut StdRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Issues per queue, in [`QUEUES`] order: [`SCROLL_QUEUE`] gets
/// min(50 000, total / 20), the others share the rest by 1 / rank^0.8.
fn queue_sizes(total: u64) -> Vec<u64> {
    let scroll = SCROLL_SIZE.min(total / 20);
    let rest = total - scroll;
    let others: Vec<usize> = (0..QUEUES.len())
        .filter(|i| QUEUES[*i].0 != SCROLL_QUEUE)
        .collect();
    let weights: Vec<f64> = (0..others.len())
        .map(|r| 1.0 / ((r + 1) as f64).powf(0.8))
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut sizes = vec![0u64; QUEUES.len()];
    let mut given = 0;
    for (r, &q) in others.iter().enumerate() {
        sizes[q] = (rest as f64 * weights[r] / sum).floor() as u64;
        given += sizes[q];
    }
    // What rounding left over goes to the biggest queue.
    sizes[others[0]] += rest - given;
    for (i, (key, _)) in QUEUES.iter().enumerate() {
        if *key == SCROLL_QUEUE {
            sizes[i] = scroll;
        }
    }
    sizes
}

/// Creates a Tracker-style object id (24 hex digits, the first 8 the
/// creation second, as `trackerd::ops::object_id`) from the seeded RNG.
fn object_id(at: DateTime<Utc>, rng: &mut StdRng) -> String {
    let secs = at.timestamp().clamp(0, u32::MAX as i64) as u32;
    let tail: u64 = rng.gen();
    format!("{secs:08x}{tail:016x}")
}

// ---------------------------------------------------------------- generation

struct GenComment {
    id: String,
    text: String,
    author: i64,
    at: DateTime<Utc>,
}

struct GenIssue {
    id: String,
    queue_id: i64,
    key: String,
    summary: String,
    description: Option<String>,
    issue_type: &'static str,
    priority: &'static str,
    status: &'static str,
    previous_status: Option<&'static str>,
    resolution: Option<&'static str>,
    assignee: Option<i64>,
    author: i64,
    updated_by: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    status_start_time: DateTime<Utc>,
    last_comment_updated_at: Option<DateTime<Utc>>,
    followers: Vec<i64>,
    tags: Vec<&'static str>,
    comments: Vec<GenComment>,
    changelog_id: String,
    changelog_fields: String,
}

/// Issues in creation order, batch by batch, from one seeded RNG.
struct Generator {
    rng: StdRng,
    vocab: Arc<Vocabulary>,
    words: Zipf,
    comment_words: Zipf,
    assignees: Zipf,
    authors: Zipf,
    followers: Zipf,
    tags: Zipf,
    uids: Vec<i64>,
    queue_ids: Vec<i64>,
    queue_keys: Vec<String>,
    remaining: Vec<u64>,
    next_number: Vec<u64>,
    total: u64,
    made: u64,
    anchor: DateTime<Utc>,
}

const DAY: i64 = 86_400;

/// Each role draws people with its own skew.
#[derive(Clone, Copy)]
enum Who {
    Assignee,
    Author,
    Follower,
}

impl Generator {
    fn new(
        vocab: Arc<Vocabulary>,
        uids: Vec<i64>,
        queues: Vec<(i64, String, u64)>,
        anchor: DateTime<Utc>,
    ) -> Self {
        let total = queues.iter().map(|q| q.2).sum();
        Generator {
            rng: StdRng::seed_from_u64(SEED),
            words: Zipf::new(vocab.words.len(), 1.0),
            comment_words: Zipf::new(vocab.comment_words.len(), 1.0),
            vocab,
            assignees: Zipf::new(uids.len(), 0.7),
            authors: Zipf::new(uids.len(), 0.5),
            followers: Zipf::new(uids.len(), 0.6),
            tags: Zipf::new(TAGS.len(), 1.0),
            uids,
            queue_ids: queues.iter().map(|q| q.0).collect(),
            queue_keys: queues.iter().map(|q| q.1.clone()).collect(),
            remaining: queues.iter().map(|q| q.2).collect(),
            next_number: vec![0; queues.len()],
            total,
            made: 0,
            anchor,
        }
    }

    fn text(&mut self, min: usize, max: usize) -> String {
        let n = self.rng.gen_range(min..=max);
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            let w = &self.vocab.words[self.words.sample(&mut self.rng)];
            if i == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_uppercase());
                    out.push_str(c.as_str());
                }
            } else {
                out.push_str(w);
            }
        }
        out
    }

    fn comment_text(&mut self) -> String {
        let n = self.rng.gen_range(5..=20);
        let vocab = self.vocab.clone();
        let words: Vec<&str> = (0..n)
            .map(|_| {
                if self.rng.gen_bool(0.3) {
                    vocab.comment_words[self.comment_words.sample(&mut self.rng)].as_str()
                } else {
                    vocab.words[self.words.sample(&mut self.rng)].as_str()
                }
            })
            .collect();
        format!("{}.", words.join(" "))
    }

    fn user(&mut self, who: Who) -> i64 {
        let r = match who {
            Who::Assignee => self.assignees.sample(&mut self.rng),
            Who::Author => self.authors.sample(&mut self.rng),
            Who::Follower => self.followers.sample(&mut self.rng),
        };
        self.uids[r]
    }

    fn between(&mut self, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
        let span = (b - a).num_milliseconds();
        if span <= 0 {
            return a;
        }
        a + TimeDelta::milliseconds(self.rng.gen_range(0..=span))
    }

    fn next_batch(&mut self, size: usize) -> Vec<GenIssue> {
        let n = size.min((self.total - self.made) as usize);
        (0..n).map(|_| self.next_issue()).collect()
    }

    fn next_issue(&mut self) -> GenIssue {
        let i = self.made;
        self.made += 1;
        // Queue: drawn without replacement, so every queue ends at its size
        // and each queue's issues spread over the whole history.
        let left: u64 = self.remaining.iter().sum();
        let mut x = self.rng.gen_range(0..left);
        let mut q = 0;
        while x >= self.remaining[q] {
            x -= self.remaining[q];
            q += 1;
        }
        self.remaining[q] -= 1;
        self.next_number[q] += 1;
        let key = format!("{}-{}", self.queue_keys[q], self.next_number[q]);

        // Created uniformly over the history, in order.
        let span_ms = HISTORY_DAYS * DAY * 1000;
        let start = self.anchor - TimeDelta::milliseconds(span_ms);
        let frac = (i as f64 + self.rng.gen::<f64>()) / self.total as f64;
        let created_at = start + TimeDelta::milliseconds((span_ms as f64 * frac) as i64);
        let age_days = (self.anchor - created_at).num_seconds() as f64 / DAY as f64;

        // Older issues are mostly done.
        let weights: [u32; 6] = if age_days < 14.0 {
            [45, 25, 5, 10, 10, 5]
        } else if age_days < 90.0 {
            [25, 15, 5, 5, 20, 30]
        } else {
            [10, 4, 3, 2, 21, 60]
        };
        let statuses = [
            "open",
            "inProgress",
            "needInfo",
            "inReview",
            "resolved",
            "closed",
        ];
        let status = statuses[weighted(&mut self.rng, &weights)];
        let previous_status = match status {
            "open" => None,
            "inProgress" => Some("open"),
            "needInfo" | "inReview" => Some("inProgress"),
            _ => Some(["inReview", "inProgress", "open"][weighted(&mut self.rng, &[5, 3, 2])]),
        };
        let done = matches!(status, "resolved" | "closed");

        // Updated some time after creation (work takes longer than triage);
        // a few old issues were touched in the last week.
        let mean_days = if status == "open" { 3.0 } else { 20.0 };
        let delay_days = -mean_days * (1.0 - self.rng.gen::<f64>()).ln();
        let delay_ms = (delay_days.min(age_days) * DAY as f64 * 1000.0) as i64;
        let mut updated_at = created_at + TimeDelta::milliseconds(delay_ms);
        if age_days > 7.0 && self.rng.gen_bool(0.03) {
            updated_at = self.between(self.anchor - TimeDelta::days(7), self.anchor);
        }
        let updated_at = updated_at.min(self.anchor);
        let status_start_time = if status == "open" {
            created_at
        } else {
            self.between(created_at, updated_at)
        };
        let resolution = done.then(|| {
            [
                "fixed",
                "wontFix",
                "duplicate",
                "invalid",
                "later",
                "cantReproduce",
            ][weighted(&mut self.rng, &[60, 12, 10, 8, 5, 5])]
        });
        let resolved_at = done.then_some(status_start_time);

        let issue_type = ["bug", "task", "improvement", "newFeature", "story", "epic"]
            [weighted(&mut self.rng, &[35, 35, 12, 8, 7, 3])];
        let priority = ["trivial", "minor", "normal", "critical", "blocker"]
            [weighted(&mut self.rng, &[5, 20, 55, 15, 5])];
        let assignee = if self.rng.gen_bool(0.15) {
            None
        } else {
            Some(self.user(Who::Assignee))
        };
        let author = self.user(Who::Author);
        let updated_by = assignee.unwrap_or(author);

        let mut followers = Vec::new();
        for _ in 0..weighted(&mut self.rng, &[40, 30, 20, 10]) {
            let u = self.user(Who::Follower);
            if !followers.contains(&u) {
                followers.push(u);
            }
        }
        followers.sort_unstable();
        let mut tags = Vec::new();
        for _ in 0..weighted(&mut self.rng, &[35, 35, 20, 10]) {
            let t = TAGS[self.tags.sample(&mut self.rng)];
            if !tags.contains(&t) {
                tags.push(t);
            }
        }

        let summary = self.text(5, 10);
        let description = if self.rng.gen_bool(0.9) {
            Some(format!("{}.", self.text(15, 40)))
        } else {
            None
        };

        // 0.55 comments an issue on average, between creation and update.
        let count = [0, 1, 2, 3, 5][weighted(&mut self.rng, &[72, 14, 7, 4, 3])];
        let mut times: Vec<DateTime<Utc>> = (0..count)
            .map(|_| self.between(created_at, updated_at))
            .collect();
        times.sort_unstable();
        let mut comments = Vec::with_capacity(count);
        for at in times {
            let author = if self.rng.gen_bool(0.5) {
                assignee.unwrap_or(author)
            } else {
                self.user(Who::Author)
            };
            comments.push(GenComment {
                id: object_id(at, &mut self.rng),
                text: self.comment_text(),
                author,
                at,
            });
        }
        let last_comment_updated_at = comments.last().map(|c| c.at);

        // What `create` records: the initial status, then the fields the
        // request set, in the order of the request body's (sorted) keys;
        // the type and priority only when they differ from the queue's
        // defaults.
        let mut fields = vec![json!({"field": "status", "from": null, "to": "open"})];
        if let Some(a) = assignee {
            fields.push(json!({"field": "assignee", "from": null, "to": a}));
        }
        if let Some(d) = &description {
            fields.push(json!({"field": "description", "from": null, "to": d}));
        }
        if !followers.is_empty() {
            fields.push(json!({"field": "followers", "from": [], "to": followers}));
        }
        if priority != tracker_domain::dictionaries::DEFAULT_PRIORITY {
            fields.push(json!({"field": "priority", "from": "normal", "to": priority}));
        }
        fields.push(json!({"field": "summary", "from": "", "to": summary}));
        if !tags.is_empty() {
            fields.push(json!({"field": "tags", "from": [], "to": tags}));
        }
        if issue_type != tracker_domain::dictionaries::DEFAULT_TYPE {
            fields.push(json!({"field": "type", "from": "task", "to": issue_type}));
        }

        GenIssue {
            id: object_id(created_at, &mut self.rng),
            queue_id: self.queue_ids[q],
            key,
            summary,
            description,
            issue_type,
            priority,
            status,
            previous_status,
            resolution,
            assignee,
            author,
            updated_by,
            created_at,
            updated_at,
            resolved_at,
            status_start_time,
            last_comment_updated_at,
            followers,
            tags,
            comments,
            changelog_id: object_id(created_at, &mut self.rng),
            changelog_fields: Value::Array(fields).to_string(),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct RowCounts {
    issues: u64,
    followers: u64,
    tags: u64,
    comments: u64,
    changelog: u64,
}

impl RowCounts {
    fn total(&self) -> u64 {
        self.issues + self.followers + self.tags + self.comments + self.changelog
    }
}

/// Inserts one batch of issues and what hangs off them on a connection
/// inside a transaction; `$db` is the sqlx database type.
macro_rules! insert_batch {
    ($conn:expr, $db:ty, $org:expr, $batch:expr, $counts:expr) => {{
        let batch: &[GenIssue] = $batch;
        let org: i64 = $org;
        let counts: &mut RowCounts = $counts;
        let mut qb = sqlx::QueryBuilder::<$db>::new(
            "INSERT INTO issues (id, org, queue_id, key, version, summary, description, \
               issue_type, priority, status, previous_status, resolution, assignee, author, \
               updated_by, parent_pk, unique_key, created_at, updated_at, resolved_at, \
               status_start_time, last_comment_updated_at, comment_count, votes, extra) ",
        );
        qb.push_values(batch, |mut r, i| {
            r.push_bind(&i.id)
                .push_bind(org)
                .push_bind(i.queue_id)
                .push_bind(&i.key)
                .push_bind(1_i64)
                .push_bind(&i.summary)
                .push_bind(&i.description)
                .push_bind(i.issue_type)
                .push_bind(i.priority)
                .push_bind(i.status)
                .push_bind(i.previous_status)
                .push_bind(i.resolution)
                .push_bind(i.assignee)
                .push_bind(i.author)
                .push_bind(i.updated_by)
                .push_bind(None::<i64>)
                .push_bind(None::<String>)
                .push_bind(i.created_at)
                .push_bind(i.updated_at)
                .push_bind(i.resolved_at)
                .push_bind(i.status_start_time)
                .push_bind(i.last_comment_updated_at)
                .push_bind(i.comments.len() as i64)
                .push_bind(0_i64)
                .push_bind("{}");
        });
        // The order of RETURNING rows is not promised: match them by key.
        qb.push(" RETURNING pk, key");
        let rows: Vec<(i64, String)> = qb.build_query_as().fetch_all(&mut *$conn).await?;
        let pks: HashMap<String, i64> = rows.into_iter().map(|(pk, k)| (k, pk)).collect();
        let pk = |i: &GenIssue| -> anyhow::Result<i64> {
            pks.get(&i.key)
                .copied()
                .with_context(|| format!("no pk returned for {}", i.key))
        };
        counts.issues += batch.len() as u64;

        let mut followers = Vec::new();
        let mut tags = Vec::new();
        let mut comments = Vec::new();
        let mut changelog = Vec::new();
        for i in batch {
            let p = pk(i)?;
            followers.extend(i.followers.iter().map(|u| (p, *u)));
            tags.extend(i.tags.iter().map(|t| (p, *t)));
            comments.extend(i.comments.iter().map(|c| (p, c)));
            changelog.push((p, i));
        }
        for chunk in followers.chunks(ROWS_PER_STATEMENT) {
            let mut qb =
                sqlx::QueryBuilder::<$db>::new("INSERT INTO issue_followers (issue_pk, uid) ");
            qb.push_values(chunk, |mut r, (p, u)| {
                r.push_bind(*p).push_bind(*u);
            });
            qb.build().execute(&mut *$conn).await?;
        }
        for chunk in tags.chunks(ROWS_PER_STATEMENT) {
            let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO issue_tags (issue_pk, tag) ");
            qb.push_values(chunk, |mut r, (p, t)| {
                r.push_bind(*p).push_bind(*t);
            });
            qb.build().execute(&mut *$conn).await?;
        }
        for chunk in comments.chunks(ROWS_PER_STATEMENT) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO comments (id, issue_pk, text, summonees, author, updated_by, \
                   created_at, updated_at, version) ",
            );
            qb.push_values(chunk, |mut r, (p, c)| {
                r.push_bind(&c.id)
                    .push_bind(*p)
                    .push_bind(&c.text)
                    .push_bind("")
                    .push_bind(c.author)
                    .push_bind(c.author)
                    .push_bind(c.at)
                    .push_bind(c.at)
                    .push_bind(1_i64);
            });
            qb.build().execute(&mut *$conn).await?;
        }
        for chunk in changelog.chunks(ROWS_PER_STATEMENT) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO changelog (id, issue_pk, kind, updated_by, updated_at, fields, data) ",
            );
            qb.push_values(chunk, |mut r, (p, i)| {
                r.push_bind(&i.changelog_id)
                    .push_bind(*p)
                    .push_bind("IssueCreated")
                    .push_bind(i.author)
                    .push_bind(i.created_at)
                    .push_bind(&i.changelog_fields)
                    .push_bind("{}");
            });
            qb.build().execute(&mut *$conn).await?;
        }
        counts.followers += followers.len() as u64;
        counts.tags += tags.len() as u64;
        counts.comments += comments.len() as u64;
        counts.changelog += changelog.len() as u64;
        anyhow::Ok(())
    }};
}

/// Opens the store as trackerd does ([`Concrete::connect`]) and brings its
/// schema up to date.
async fn open(dsn: &str) -> anyhow::Result<(Concrete, Arc<dyn Store>)> {
    let (c, store) = Concrete::connect(dsn).await?;
    let started = Instant::now();
    store.migrate().await.context(
        "migrating (a kept dataset migrated by a since-changed migration needs --regenerate)",
    )?;
    // A kept dataset meets new migrations here, as a deployment does at
    // start-up: what they cost over its rows is worth knowing.
    if started.elapsed() > Duration::from_secs(1) {
        println!(
            "[{}] schema brought up to date in {:.1} s",
            store.backend(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok((c, store))
}

/// Evaluates `$body` with `$pool` bound to the driver's pool of either
/// backend: the two pools' types differ, so no one closure takes both.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Concrete::Sqlite(s) => {
                let $pool = s.pool();
                $body
            }
            Concrete::Postgres(s) => {
                let $pool = s.pool();
                $body
            }
        }
    };
}

/// `(key, issue_seq)` of the organization's queues, biggest first.
async fn queue_seqs(db: &Concrete, org: i64) -> anyhow::Result<Vec<(String, i64)>> {
    let sql = "SELECT key, issue_seq FROM queues WHERE org = $1 ORDER BY issue_seq DESC, key";
    Ok(with_pool!(db, pool => sqlx::query_as(sql).bind(org).fetch_all(pool).await?))
}

/// The number of issues and the newest creation time (the last generated
/// issue's).
async fn issue_facts(db: &Concrete, org: i64) -> anyhow::Result<(i64, Option<DateTime<Utc>>)> {
    let count = "SELECT COUNT(*) FROM issues WHERE org = $1";
    let newest = "SELECT created_at FROM issues WHERE org = $1 ORDER BY pk DESC LIMIT 1";
    Ok(with_pool!(db, pool => {
        let n = sqlx::query_scalar(count).bind(org).fetch_one(pool).await?;
        let at = sqlx::query_scalar(newest).bind(org).fetch_optional(pool).await?;
        (n, at)
    }))
}

/// Creates the people, the organization and the queues through the store
/// API; returns the uids (in login order) and `(id, key, size)` per queue.
async fn setup_org(
    store: &dyn Store,
    total: u64,
) -> anyhow::Result<(i64, Vec<i64>, Vec<(i64, String, u64)>)> {
    let clock = SystemClock;
    let org = store
        .upsert_organization(&NewOrganization {
            org_id: ORG_ID.into(),
            cloud_id: None,
            name: "Search bench".into(),
            created_at: clock.now(),
        })
        .await?;
    let mut uids = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
        let last = LAST_NAMES[(i * 7 + i / FIRST_NAMES.len()) % LAST_NAMES.len()];
        let user = put_user(
            store,
            &clock,
            &org,
            &UserSpec {
                login: login(i),
                first_name: first.into(),
                last_name: last.into(),
                email: format!("{}@bench.test", login(i)),
                admin: false,
                password: None,
            },
        )
        .await
        .with_context(|| format!("user {}", login(i)))?;
        uids.push(user.uid);
    }
    let sizes = queue_sizes(total);
    let mut queues = Vec::new();
    for (i, (key, name)) in QUEUES.iter().enumerate() {
        let q = store
            .upsert_queue(
                org.id,
                &NewQueue {
                    key: (*key).into(),
                    name: (*name).into(),
                    description: None,
                    // Leads are not the benchmark user: it reads as a member.
                    lead_uid: uids[i + 1],
                    default_type: tracker_domain::dictionaries::DEFAULT_TYPE.to_owned(),
                    default_priority: tracker_domain::dictionaries::DEFAULT_PRIORITY.to_owned(),
                    created_at: clock.now(),
                    issue_types: String::new(),
                },
            )
            .await
            .with_context(|| format!("queue {key}"))?;
        queues.push((q.id, q.key, sizes[i]));
    }
    Ok((org.id, uids, queues))
}

fn progress_bar(name: &str, total: u64) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(total);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "[{prefix}] {elapsed_precise} {wide_bar} {human_pos}/{human_len} issues \
             {per_sec:>12} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb.set_prefix(name.to_owned());
    pb
}

/// Generates the whole dataset into a freshly migrated database.
async fn generate(
    backend: Backend,
    db: &Concrete,
    store: &dyn Store,
    total: u64,
    vocab: Arc<Vocabulary>,
) -> anyhow::Result<()> {
    let name = backend.name();
    let started = Instant::now();
    let (org, uids, queues) = setup_org(store, total).await?;
    // Midnight (UTC) of the day: both backends' datasets made the same day
    // are then identical, and their answers must be too.
    let anchor = Utc::now().date_naive().and_time(NaiveTime::MIN).and_utc();
    let queue_numbers: Vec<(i64, u64)> = queues.iter().map(|q| (q.0, q.2)).collect();

    // The rows are made on a thread of their own while the database takes
    // the previous batches: two cores, two stages.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<GenIssue>>(4);
    let producer = std::thread::spawn(move || {
        let mut g = Generator::new(vocab, uids, queues, anchor);
        loop {
            let batch = g.next_batch(BATCH);
            if batch.is_empty() || tx.blocking_send(batch).is_err() {
                break;
            }
        }
    });

    let pb = progress_bar(name, total);
    let tty = std::io::stderr().is_terminal();
    if !tty {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut counts = RowCounts::default();
    let mut next_note = total / 10;
    let mut done = false;
    macro_rules! load {
        ($conn:expr, $db:ty) => {{
            while !done {
                let mut t = $conn.begin().await?;
                for _ in 0..BATCHES_PER_TX {
                    let Some(batch) = rx.recv().await else {
                        done = true;
                        break;
                    };
                    insert_batch!(&mut *t, $db, org, &batch, &mut counts)?;
                    pb.set_position(counts.issues);
                }
                t.commit().await?;
                if !tty && counts.issues >= next_note && counts.issues < total {
                    eprintln!(
                        "[{name}] {} / {total} issues, {:.0} s",
                        counts.issues,
                        started.elapsed().as_secs_f64()
                    );
                    next_note += total / 10;
                }
            }
            // The queues' counters, so new issues continue the numbering.
            let mut t = $conn.begin().await?;
            for (id, n) in &queue_numbers {
                sqlx::query(&format!(
                    "UPDATE queues SET issue_seq = {} WHERE id = {}",
                    n, id
                ))
                .execute(&mut *t)
                .await?;
            }
            t.commit().await?;
            anyhow::Ok(())
        }};
    }
    match db {
        Concrete::Sqlite(s) => {
            let mut conn = s.pool().acquire().await?;
            // A bigger page cache for this connection only: the unique
            // indexes of a million rows do not fit the default 2 MB.
            sqlx::query("PRAGMA cache_size = -524288")
                .execute(&mut *conn)
                .await?;
            load!(conn, sqlx::Sqlite)?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await?;
            // Back to the default, as the pool hands the connection on.
            sqlx::query("PRAGMA cache_size = -2000")
                .execute(&mut *conn)
                .await?;
        }
        Concrete::Postgres(s) => {
            let mut conn = s.pool().acquire().await?;
            // This session only: the loss of the last commits on a crash is
            // no loss for a generated dataset.
            sqlx::query("SET synchronous_commit = off")
                .execute(&mut *conn)
                .await?;
            load!(conn, sqlx::Postgres)?;
            sqlx::query("RESET synchronous_commit")
                .execute(&mut *conn)
                .await?;
            drop(conn);
            // What autovacuum would do shortly after such a load anyway.
            eprintln!("[{name}] VACUUM ANALYZE");
            sqlx::query("VACUUM ANALYZE").execute(s.pool()).await?;
        }
    }
    pb.finish();
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    if counts.issues != total {
        bail!("generated {} issues, expected {total}", counts.issues);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "[{name}] generated {} issues, {} followers, {} tags, {} comments, {} changelog rows \
         in {:.1} s: {:.0} issues/s, {:.0} rows/s",
        counts.issues,
        counts.followers,
        counts.tags,
        counts.comments,
        counts.changelog,
        secs,
        counts.issues as f64 / secs,
        counts.total() as f64 / secs
    );
    Ok(())
}

// ---------------------------------------------------------------- datasets

/// Where one backend's dataset lives, and whether it is dropped at the end.
struct Dataset {
    dsn: String,
    /// The PostgreSQL server URL and database name, to drop or recreate it.
    pg: Option<(String, String)>,
    keep: bool,
    sqlite_file: Option<PathBuf>,
}

impl Dataset {
    fn locate(
        args: &Args,
        backend: Backend,
        tmp: &Path,
        pg_url: Option<&str>,
    ) -> anyhow::Result<Dataset> {
        let keep = args.data_dir.is_some();
        match backend {
            Backend::Sqlite => {
                let dir = args.data_dir.as_deref().unwrap_or(tmp);
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let file = dir.join(format!("search-bench-{}.db", args.issues));
                Ok(Dataset {
                    dsn: format!("sqlite://{}", file.display()),
                    pg: None,
                    keep,
                    sqlite_file: Some(file),
                })
            }
            Backend::Postgres => {
                let admin = pg_url.context("no PostgreSQL URL")?;
                let db = if keep {
                    format!("trackerd_bench_search_{}", args.issues)
                } else {
                    format!("trackerd_bench_search_tmp_{}", rand_suffix())
                };
                Ok(Dataset {
                    dsn: database_url(admin, &db)?,
                    pg: Some((admin.to_owned(), db)),
                    keep,
                    sqlite_file: None,
                })
            }
        }
    }

    async fn exists(&self) -> anyhow::Result<bool> {
        if let Some(f) = &self.sqlite_file {
            return Ok(f.exists());
        }
        let Some((admin, db)) = &self.pg else {
            return Ok(false);
        };
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .context("connecting to PostgreSQL")?;
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(db)
            .fetch_optional(&mut conn)
            .await?;
        conn.close().await.ok();
        Ok(found.is_some())
    }

    /// Removes what is there and makes an empty database.
    async fn recreate(&self) -> anyhow::Result<()> {
        self.remove().await?;
        if let Some((admin, db)) = &self.pg {
            create_database(admin, db).await?;
        }
        Ok(())
    }

    async fn remove(&self) -> anyhow::Result<()> {
        if let Some(f) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = f.clone().into_os_string();
                p.push(suffix);
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("removing {p:?}")),
                }
            }
        }
        if let Some((admin, db)) = &self.pg {
            drop_database(admin, db).await?;
        }
        Ok(())
    }

    async fn size(&self) -> anyhow::Result<u64> {
        if let Some(f) = &self.sqlite_file {
            let mut total = 0;
            for suffix in ["", "-wal"] {
                let mut p = f.clone().into_os_string();
                p.push(suffix);
                total += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            }
            return Ok(total);
        }
        let Some((admin, db)) = &self.pg else {
            return Ok(0);
        };
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        let n: i64 = sqlx::query_scalar("SELECT pg_database_size($1)")
            .bind(db)
            .fetch_one(&mut conn)
            .await?;
        conn.close().await.ok();
        Ok(n as u64)
    }
}

/// What the queries need to know about a dataset, read from it (so a kept
/// one is measured with the right values).
struct Facts {
    issues: i64,
    /// `(key, size)`, biggest first.
    queues: Vec<(String, i64)>,
    newest: DateTime<Utc>,
}

async fn facts(db: &Concrete, store: &dyn Store) -> anyhow::Result<Option<Facts>> {
    let Some(org) = store.organization_by_org_id(ORG_ID).await? else {
        return Ok(None);
    };
    let queues = queue_seqs(db, org.id).await?;
    let (issues, newest) = issue_facts(db, org.id).await?;
    let numbered: i64 = queues.iter().map(|q| q.1).sum();
    // issue_seq is set last: a load that stopped half-way leaves it at 0.
    match newest {
        Some(newest) if issues > 0 && numbered == issues && queues.len() == QUEUES.len() => {
            Ok(Some(Facts {
                issues,
                queues,
                newest,
            }))
        }
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------- measurement

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Indexed,
    FullText,
    Count,
    Baseline,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Indexed => "indexed",
            Kind::FullText => "full-text",
            Kind::Count => "_count",
            Kind::Baseline => "baseline",
        }
    }

    fn target_ms(self) -> Option<f64> {
        match self {
            Kind::Indexed => Some(10.0),
            Kind::FullText | Kind::Count => Some(50.0),
            Kind::Baseline => None,
        }
    }
}

struct QuerySpec {
    label: String,
    kind: Kind,
    body: Value,
    /// Also measured as `_count`.
    count: bool,
}

fn q(label: &str, kind: Kind, count: bool) -> QuerySpec {
    QuerySpec {
        label: label.to_owned(),
        kind,
        body: json!({ "query": label }),
        count,
    }
}

struct Plan {
    queries: Vec<QuerySpec>,
    /// The word only comments use, to explain a miss.
    comment_word: String,
}

fn plan(f: &Facts, vocab: &Vocabulary) -> Plan {
    let big = &f.queues[0].0;
    // A middling queue for the queue-scoped queries.
    let mid = &f.queues[f.queues.len().min(5) - 1].0;
    let month_ago = (f.newest - TimeDelta::days(30)).format("%Y-%m-%d");
    let mut taken = HashSet::new();
    let summary_word = vocab.pick(60, &mut taken);
    let pair = (vocab.pick(80, &mut taken), vocab.pick(110, &mut taken));
    let word = vocab.pick(200, &mut taken);
    let comment_word = vocab.comment_words[10].clone();
    let mut queries = vec![
        q(&format!("Queue: {big}"), Kind::Indexed, true),
        q(&format!("Queue: {mid} Status: open"), Kind::Indexed, true),
        q("Assignee: user007", Kind::Indexed, true),
        q(
            "Author: user003 \"Sort by\": Updated DESC",
            Kind::Indexed,
            false,
        ),
        q("Followers: user010", Kind::Indexed, false),
        q(&format!("Tags: {QUERY_TAG}"), Kind::Indexed, true),
        q(
            &format!("Created: >= \"{month_ago}\""),
            Kind::Indexed,
            false,
        ),
        q("Updated: today() - 1w .. today()", Kind::Indexed, false),
        q(
            &format!("Queue: {mid} Status: !closed \"Sort by\": Updated DESC"),
            Kind::Indexed,
            false,
        ),
        q("Assignee: me() Status: inProgress", Kind::Indexed, false),
    ];
    queries.push(QuerySpec {
        label: format!("filter {{queue: {mid}, priority: critical}} order -createdAt"),
        kind: Kind::Indexed,
        body: json!({"filter": {"queue": mid, "priority": "critical"}, "order": ["-createdAt"]}),
        count: false,
    });
    queries.extend([
        q("Priority: critical, blocker Type: bug", Kind::Indexed, true),
        q(&word, Kind::FullText, true),
        q(&format!("{} {}", pair.0, pair.1), Kind::FullText, false),
        q(&comment_word, Kind::FullText, false),
        q(
            &format!("Summary: \"{summary_word}\""),
            Kind::FullText,
            false,
        ),
    ]);
    Plan {
        queries,
        comment_word,
    }
}

/// Latencies of one row of the table.
#[derive(Debug, Default, Clone)]
struct Row {
    label: String,
    kind: Option<Kind>,
    hits: Option<i64>,
    lat_us: Vec<u32>,
    /// Cores other processes used meanwhile (PostgreSQL's own excepted).
    others: f64,
    note: Option<String>,
}

impl Row {
    fn pct(&self, p: f64) -> f64 {
        let mut v = self.lat_us.clone();
        v.sort_unstable();
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        f64::from(v[i]) / 1000.0
    }
}

fn client(token: &str) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Authorization", format!("OAuth {token}").parse()?);
    headers.insert("X-Org-ID", ORG_ID.parse()?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(1)
        .no_proxy()
        .timeout(Duration::from_secs(1800))
        .build()?)
}

#[derive(Clone, Copy)]
enum Call<'a> {
    Search(&'a Value),
    Count(&'a Value),
    Myself,
}

/// One request; returns the hits (X-Total-Count, the `_count` answer).
async fn call(http: &reqwest::Client, base: &str, c: Call<'_>) -> anyhow::Result<Option<i64>> {
    let (what, r) = match c {
        Call::Search(body) => (
            "_search",
            http.post(format!("{base}/v2/issues/_search?perPage={PAGE}"))
                .json(body)
                .send()
                .await?,
        ),
        Call::Count(body) => (
            "_count",
            http.post(format!("{base}/v2/issues/_count"))
                .json(body)
                .send()
                .await?,
        ),
        Call::Myself => (
            "myself",
            http.get(format!("{base}/v2/myself")).send().await?,
        ),
    };
    let status = r.status();
    let total = r
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let body = r.bytes().await?;
    if !status.is_success() {
        bail!(
            "{what} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    match c {
        Call::Search(_) => {
            let items: Vec<Value> = serde_json::from_slice(&body)?;
            let total = total.context("_search answered without X-Total-Count")?;
            let expected = total.clamp(0, PAGE as i64) as usize;
            if items.len() != expected {
                bail!(
                    "_search answered {} issues on the first page for X-Total-Count {total}",
                    items.len()
                );
            }
            Ok(Some(total))
        }
        Call::Count(_) => Ok(Some(serde_json::from_slice::<i64>(&body)?)),
        Call::Myself => Ok(None),
    }
}

struct Runs {
    iterations: usize,
    warmup: usize,
    budget: Duration,
}

async fn measure(
    http: &reqwest::Client,
    base: &str,
    c: Call<'_>,
    runs: &Runs,
    cpu: &CpuWatch,
) -> anyhow::Result<Row> {
    let started = Instant::now();
    let mut hits = None;
    for _ in 0..runs.warmup {
        hits = call(http, base, c).await?;
        if started.elapsed() > runs.budget / 4 {
            break;
        }
    }
    let mut row = Row::default();
    let before = cpu.others();
    let measured = Instant::now();
    while row.lat_us.len() < runs.iterations {
        let t = Instant::now();
        let h = call(http, base, c).await?;
        row.lat_us.push(micros(t.elapsed()));
        if hits.is_some() && h != hits {
            row.note = Some(format!("hits changed between runs: {hits:?} then {h:?}"));
        }
        hits = h;
        if measured.elapsed() >= runs.budget {
            break;
        }
    }
    row.others = cpu.cores_since(before, measured.elapsed());
    row.hits = hits;
    Ok(row)
}

struct ScrollResult {
    sorted: bool,
    issues: usize,
    total: Option<i64>,
    pages: usize,
    elapsed: Duration,
    others: f64,
}

/// Reads every issue of the query through a scroll of `PER_SCROLL` pages.
async fn scroll(
    http: &reqwest::Client,
    base: &str,
    body: &Value,
    sorted: bool,
    cpu: &CpuWatch,
) -> anyhow::Result<ScrollResult> {
    let before = cpu.others();
    let started = Instant::now();
    let url = format!("{base}/v2/issues/_search");
    let kind = if sorted { "sorted" } else { "unsorted" };
    let per = PER_SCROLL.to_string();
    let mut req = http
        .post(&url)
        .query(&[("scrollType", kind), ("perScroll", per.as_str())])
        .json(body);
    let mut issues = 0;
    let mut pages = 0;
    let mut total = None;
    loop {
        let r = req.send().await?;
        let status = r.status();
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = header("x-scroll-id").zip(header("x-scroll-token"));
        if total.is_none() {
            total = header("x-total-count").and_then(|v| v.parse().ok());
        }
        let bytes = r.bytes().await?;
        if !status.is_success() {
            bail!(
                "{kind} scroll page {} answered {status}: {}",
                pages + 1,
                String::from_utf8_lossy(&bytes)
            );
        }
        let items: Vec<serde::de::IgnoredAny> = serde_json::from_slice(&bytes)?;
        issues += items.len();
        pages += 1;
        let Some((id, token)) = next else {
            break;
        };
        req = http
            .post(&url)
            .query(&[
                ("scrollId", id.as_str()),
                ("scrollToken", token.as_str()),
                ("perScroll", per.as_str()),
            ])
            .json(body);
    }
    let elapsed = started.elapsed();
    Ok(ScrollResult {
        sorted,
        issues,
        total,
        pages,
        elapsed,
        others: cpu.cores_since(before, elapsed),
    })
}

struct Report {
    backend: Backend,
    issues: i64,
    scroll_queue: (String, i64),
    rows: Vec<Row>,
    baseline: Row,
    scrolls: Vec<ScrollResult>,
    comment_word: String,
    /// The newest issue's creation: datasets with the same one are the same.
    newest: DateTime<Utc>,
}

async fn run_backend(
    args: &Args,
    backend: Backend,
    tmp: &Path,
    vocab: &Arc<Vocabulary>,
    cpu: &CpuWatch,
) -> anyhow::Result<Option<Report>> {
    let name = backend.name();
    let ds = Dataset::locate(args, backend, tmp, args.postgres_url.as_deref())?;
    let r = run_on(args, backend, &ds, vocab, cpu).await;
    if !ds.keep {
        if let Err(e) = ds.remove().await {
            eprintln!("[{name}] could not remove the temporary dataset: {e:#}");
        }
    }
    r
}

async fn run_on(
    args: &Args,
    backend: Backend,
    ds: &Dataset,
    vocab: &Arc<Vocabulary>,
    cpu: &CpuWatch,
) -> anyhow::Result<Option<Report>> {
    let name = backend.name();
    let mut reuse = ds.keep && !args.regenerate && ds.exists().await?;
    if reuse {
        let (db, store) = open(&ds.dsn).await?;
        let f = facts(&db, store.as_ref()).await?;
        db.close().await;
        match f {
            Some(f) if f.issues as u64 == args.issues => {
                println!(
                    "[{name}] reusing the dataset at {} ({} issues, the newest created {} ago)",
                    redact(&ds.dsn),
                    f.issues,
                    age(Utc::now() - f.newest)
                );
            }
            _ => {
                eprintln!(
                    "[{name}] the dataset at {} is incomplete: generating it again",
                    redact(&ds.dsn)
                );
                reuse = false;
            }
        }
    }
    if !reuse {
        ds.recreate().await?;
        let (db, store) = open(&ds.dsn).await?;
        generate(backend, &db, store.as_ref(), args.issues, vocab.clone()).await?;
        drop(store);
        db.close().await;
    }
    println!(
        "[{name}] dataset size: {:.0} MB ({})",
        ds.size().await? as f64 / 1e6,
        redact(&ds.dsn)
    );
    if args.generate_only {
        return Ok(None);
    }

    // Measured over a store opened afresh, as a starting trackerd opens it.
    let (db, store) = open(&ds.dsn).await?;
    let f = facts(&db, store.as_ref())
        .await?
        .context("the dataset is incomplete")?;
    let user = store
        .user_by_login(BENCH_USER)
        .await?
        .context("the benchmark user")?;
    let (token, _) = trackerd::ops::issue_oauth_token(
        store.as_ref(),
        &SystemClock,
        user.uid,
        Scopes::READ_WRITE,
        Some(Utc::now() + TimeDelta::days(1)),
        "search-bench",
    )
    .await?;
    let server = start_server(store.clone(), &ds.dsn).await?;
    let http = client(&token)?;
    let base = server.base.clone();
    let runs = Runs {
        iterations: args.iterations.max(1),
        warmup: args.warmup,
        budget: Duration::from_secs(args.budget),
    };
    let plan = plan(&f, vocab);

    eprintln!("[{name}] GET /v2/myself");
    let mut baseline = measure(
        &http,
        &base,
        Call::Myself,
        &Runs {
            iterations: runs.iterations.max(200),
            ..runs
        },
        cpu,
    )
    .await?;
    baseline.label = "GET /v2/myself".into();
    baseline.kind = Some(Kind::Baseline);

    let mut rows = Vec::new();
    let mut counts = Vec::new();
    for (n, spec) in plan.queries.iter().enumerate() {
        eprintln!("[{name}] {:>2}. {}", n + 1, spec.label);
        let mut row = measure(&http, &base, Call::Search(&spec.body), &runs, cpu).await?;
        row.label = format!("{:>2}. {}", n + 1, spec.label);
        row.kind = Some(spec.kind);
        if spec.count {
            eprintln!("[{name}] {:>2}. _count", n + 1);
            let mut c = measure(&http, &base, Call::Count(&spec.body), &runs, cpu).await?;
            c.label = format!("{:>2}. _count: {}", n + 1, spec.label);
            c.kind = Some(Kind::Count);
            if c.hits != row.hits {
                c.note = Some(format!(
                    "_count {:?} differs from _search's X-Total-Count {:?}",
                    c.hits, row.hits
                ));
            }
            counts.push(c);
        }
        rows.push(row);
    }
    rows.extend(counts);

    let scroll_queue = f
        .queues
        .iter()
        .find(|q| q.0 == SCROLL_QUEUE)
        .cloned()
        .context("the scroll queue")?;
    let mut scrolls = Vec::new();
    if !args.no_scroll {
        let body = json!({ "query": format!("Queue: {SCROLL_QUEUE}") });
        for sorted in [false, true] {
            eprintln!(
                "[{name}] {} scroll over {SCROLL_QUEUE} ({} issues)",
                if sorted { "sorted" } else { "unsorted" },
                scroll_queue.1
            );
            // A single scroll, the first over its queue's rows since the
            // searches, measured how warm the cache happened to be (the
            // unsorted one, run first, read 0.77 of an older build's rate
            // there and 0.92-1.1 of it when repeated): one unmeasured
            // scroll, then the median of a few.
            scroll(&http, &base, &body, sorted, cpu).await?;
            let mut runs = Vec::with_capacity(SCROLL_RUNS);
            for _ in 0..SCROLL_RUNS {
                runs.push(scroll(&http, &base, &body, sorted, cpu).await?);
            }
            runs.sort_by_key(|s| s.elapsed);
            scrolls.push(runs.swap_remove(SCROLL_RUNS / 2));
        }
    }
    drop(http);
    server.stop().await?;
    drop(store);
    db.close().await;
    Ok(Some(Report {
        backend,
        issues: f.issues,
        scroll_queue,
        rows,
        baseline,
        scrolls,
        comment_word: plan.comment_word,
        newest: f.newest,
    }))
}

fn redact(dsn: &str) -> String {
    match url::Url::parse(dsn) {
        Ok(mut u) if u.password().is_some() => {
            u.set_password(Some("***")).ok();
            u.to_string()
        }
        _ => dsn.to_owned(),
    }
}

fn age(d: TimeDelta) -> String {
    if d.num_days() >= 1 {
        format!("{} d", d.num_days())
    } else if d.num_hours() >= 1 {
        format!("{} h", d.num_hours())
    } else {
        format!("{} min", d.num_minutes())
    }
}

// ---------------------------------------------------------------- CPU of others

/// Tracks how much CPU other processes take while we measure (all busy
/// time less this process's and PostgreSQL's): on a shared 2-core machine a
/// neighbour's compile moves latencies by tens of percent.
struct CpuWatch {
    /// Clock ticks (1/100 s) of other processes since start.
    ticks: Arc<AtomicU64>,
}

impl CpuWatch {
    fn start() -> Self {
        let ticks = Arc::new(AtomicU64::new(0));
        let acc = ticks.clone();
        std::thread::spawn(move || {
            let mut last = cpu_sample();
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let now = cpu_sample();
                let busy = now.0.saturating_sub(last.0);
                let ours = (now.1 + now.2).saturating_sub(last.1 + last.2);
                acc.fetch_add(busy.saturating_sub(ours), Ordering::Relaxed);
                last = now;
            }
        });
        CpuWatch { ticks }
    }

    fn others(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// Average cores other processes used since `before`.
    fn cores_since(&self, before: u64, elapsed: Duration) -> f64 {
        let ticks = self.others().saturating_sub(before);
        // The sampler lags by up to one interval: short phases read as
        // their surroundings.
        ticks as f64 / 100.0 / elapsed.as_secs_f64().max(0.5)
    }
}

/// Busy ticks of the whole machine, this process's, and PostgreSQL's.
fn cpu_sample() -> (u64, u64, u64) {
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal …
            let total: u64 = f.iter().take(8).sum();
            Some(total - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    let ours = proc_ticks(Path::new("/proc/self/stat")).unwrap_or(0);
    let mut pg = 0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let p = e.path();
            if std::fs::read_to_string(p.join("comm")).is_ok_and(|c| c.trim() == "postgres") {
                pg += proc_ticks(&p.join("stat")).unwrap_or(0);
            }
        }
    }
    (busy, ours, pg)
}

// ---------------------------------------------------------------- the table

fn print_report(r: &Report, args: &Args) {
    let b = r.baseline.pct(0.5);
    println!();
    println!(
        "search-bench {}: {} issues in {} queues, {} people; {} measured runs per query \
         (at most {} s each) after {} warm-up; first page of {PAGE}; {} cores",
        r.backend.name(),
        r.issues,
        QUEUES.len(),
        USERS,
        args.iterations,
        args.budget,
        args.warmup,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<66} {:<9} {:>8} {:>5} {:>9} {:>9} {:>9} {:>8} {:>7} {:<7}",
        "query", "kind", "hits", "runs", "p50 ms", "p95 ms", "max ms", "×myself", "target", ""
    );
    let mut warnings = Vec::new();
    for row in &r.rows {
        let kind = row.kind.unwrap_or(Kind::Indexed);
        let p50 = row.pct(0.5);
        let target = kind.target_ms();
        let verdict = match target {
            Some(t) if p50 <= t => "met",
            Some(_) => "MISSED",
            None => "",
        };
        let mut flags = String::new();
        if row.hits == Some(0) {
            flags.push_str(" ZERO-HITS");
            warnings.push(format!("{}: no hits", row.label.trim()));
        }
        if row.others > 0.3 {
            flags.push_str(&format!(" busy({:.1})", row.others));
        }
        if row.lat_us.len() < args.iterations {
            flags.push_str(" budget");
        }
        if let Some(n) = &row.note {
            warnings.push(format!("{}: {n}", row.label.trim()));
        }
        println!(
            "{:<66} {:<9} {:>8} {:>5} {:>9.1} {:>9.1} {:>9.1} {:>8.0} {:>7} {:<7}{}",
            truncate(&row.label, 66),
            kind.label(),
            row.hits.map_or("-".into(), |h| h.to_string()),
            row.lat_us.len(),
            p50,
            row.pct(0.95),
            row.pct(1.0),
            p50 / b,
            target.map_or(String::new(), |t| format!("≤ {t:.0}")),
            verdict,
            flags
        );
    }
    for s in &r.scrolls {
        let rate = s.issues as f64 / s.elapsed.as_secs_f64();
        println!(
            "scroll {:<8} Queue: {} ({} issues): {} issues in {} pages of {PER_SCROLL}, {:.2} s, \
             {:.0} issues/s (target ≥ 20000: {}){}",
            if s.sorted { "sorted" } else { "unsorted" },
            r.scroll_queue.0,
            r.scroll_queue.1,
            s.issues,
            s.pages,
            s.elapsed.as_secs_f64(),
            rate,
            if rate >= 20_000.0 { "met" } else { "MISSED" },
            if s.others > 0.3 {
                format!(" busy({:.1})", s.others)
            } else {
                String::new()
            }
        );
        if s.issues as i64 != r.scroll_queue.1 || s.total != Some(r.scroll_queue.1) {
            warnings.push(format!(
                "{} scroll: read {} issues, X-Total-Count {:?}, the queue holds {}",
                if s.sorted { "sorted" } else { "unsorted" },
                s.issues,
                s.total,
                r.scroll_queue.1
            ));
        }
    }
    println!("{}", summary(r));
    println!(
        "baseline GET /v2/myself: p50 {:.2} ms, p95 {:.2} ms ({} runs){}",
        b,
        r.baseline.pct(0.95),
        r.baseline.lat_us.len(),
        if r.baseline.others > 0.3 {
            format!(" busy({:.1})", r.baseline.others)
        } else {
            String::new()
        }
    );
    println!(
        "×myself = p50 / the baseline's p50; busy(x) = other processes used x cores meanwhile \
         (PostgreSQL excepted); budget = stopped before {} runs",
        args.iterations
    );
    let dataset_age = Utc::now() - r.newest;
    if dataset_age > TimeDelta::days(6) {
        warnings.push(format!(
            "the dataset is {} old: `Updated: today() - 1w .. today()` finds little",
            age(dataset_age)
        ));
    }
    for w in warnings {
        if w.contains(&r.comment_word) {
            println!(
                "WARNING: {w} ({:?} appears only in comments: a search that ignores comments \
                 finds nothing)",
                r.comment_word
            );
        } else {
            println!("WARNING: {w}");
        }
    }
}

/// One line per backend: how many targets of each kind were met, so two
/// runs (before and after a change, or the two engines) compare at a glance.
fn summary(r: &Report) -> String {
    let mut parts = Vec::new();
    for kind in [Kind::Indexed, Kind::FullText, Kind::Count] {
        let rows: Vec<&Row> = r.rows.iter().filter(|row| row.kind == Some(kind)).collect();
        let met = rows
            .iter()
            .filter(|row| kind.target_ms().is_some_and(|t| row.pct(0.5) <= t))
            .count();
        parts.push(format!("{} {met} of {}", kind.label(), rows.len()));
    }
    let scrolls_met = r
        .scrolls
        .iter()
        .filter(|s| s.issues as f64 / s.elapsed.as_secs_f64() >= 20_000.0)
        .count();
    parts.push(format!("scrolls {scrolls_met} of {}", r.scrolls.len()));
    format!("targets met on {}: {}", r.backend.name(), parts.join(", "))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// The shipped server's allocator (crates/trackerd/src/main.rs): the server
/// measured here runs in this process, and with the C library's allocator it
/// was not the server that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.issues < 1000 {
        bail!("--issues must be at least 1000");
    }
    let backends = backends("search-bench", args.backend, &mut args.postgres_url)?;
    let tmp = tempfile::tempdir()?;
    let vocab = Arc::new(Vocabulary::new());
    let cpu = CpuWatch::start();
    let mut reports = Vec::new();
    for b in backends {
        let r = run_backend(&args, b, tmp.path(), &vocab, &cpu)
            .await
            .with_context(|| format!("benchmarking {}", b.name()))?;
        reports.extend(r);
    }
    for r in &reports {
        print_report(r, &args);
    }
    compare_hits(&reports);
    Ok(())
}

/// Same data, same query: the backends must agree on every count.
fn compare_hits(reports: &[Report]) {
    let [a, b] = reports else {
        return;
    };
    if a.newest != b.newest {
        println!(
            "\nhits not compared across backends: their datasets were not generated the same \
             day (UTC), so their data differ"
        );
        return;
    }
    let mut differ = 0;
    for (x, y) in a.rows.iter().zip(&b.rows) {
        if x.label == y.label && x.hits != y.hits {
            differ += 1;
            println!(
                "WARNING: {}: {} finds {:?}, {} finds {:?}",
                x.label.trim(),
                a.backend.name(),
                x.hits,
                b.backend.name(),
                y.hits
            );
        }
    }
    if differ == 0 {
        println!(
            "\nhits: {} and {} agree on all {} rows (identical datasets)",
            a.backend.name(),
            b.backend.name(),
            a.rows.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_sizes_add_up_and_the_scroll_queue_has_exactly_its_size() {
        for total in [20_000, 1_000_000, 1_234_567] {
            let s = queue_sizes(total);
            assert_eq!(s.iter().sum::<u64>(), total);
            let scroll = QUEUES.iter().position(|q| q.0 == SCROLL_QUEUE).unwrap();
            assert_eq!(s[scroll], SCROLL_SIZE.min(total / 20));
        }
    }

    #[test]
    fn comment_words_appear_in_no_other_word() {
        let v = Vocabulary::new();
        assert_eq!(v.words.len(), 2000);
        for c in &v.comment_words {
            assert!(!v.words.iter().any(|w| w.contains(c.as_str())));
        }
    }
}
