//! Configuration: defaults, then a TOML file, then `TRACKERD_…` environment
//! variables (`__` separates nested keys), then command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A database DSN. Its `Debug`/`Display` hide any password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Dsn(pub String);

impl Dsn {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.0.clone(),
        }
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dsn({})", self.redacted())
    }
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://PATH` (the embedded default) or `postgres://…`.
    pub database: Dsn,
    /// Base of the absolute `self` links; derived from `Host` when unset.
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax, e.g. `info,sqlx=warn` (env `TRACKERD_LOG`).
    pub log: String,
    /// Lifetime of IAM tokens in seconds; at most 12 hours.
    pub iam_token_lifetime_secs: u64,
    /// How often a node checks whether another node (or an admin command)
    /// revoked access, in milliseconds.
    pub auth_cache_refresh_ms: u64,
    /// A seed file applied at start-up.
    pub seed: Option<PathBuf>,
    /// The OAuth authorization server: token lifetimes, sign-in limits.
    #[serde(default)]
    pub oauth: crate::oauth::OAuthConfig,
    /// How long connections may take and how many there may be.
    #[serde(default)]
    pub connections: Connections,
    /// Where attached files are kept, and how large one may be.
    #[serde(default)]
    pub attachments: Attachments,
    /// Background jobs (bulk changes): how this node works on them.
    #[serde(default)]
    pub jobs: Jobs,
    /// `/metrics`: whether it is served, and who may read it.
    #[serde(default)]
    pub metrics: Metrics,
    /// Signing in through organizations' OpenID Connect identity providers.
    #[serde(default)]
    pub federation: crate::oauth::federation::FederationConfig,
    /// Queue automation: triggers' webhooks, auto-actions' schedule.
    #[serde(default)]
    pub automation: Automation,
    /// The admin token of the emulator's control plane (`/_trackerd/…`,
    /// docs/emulator.md); the plane is off without it.
    pub control_token: Option<ControlToken>,
    /// The control plane's request journal.
    #[serde(default)]
    pub control: Control,
    /// How large requests may be: every limit below what the engines or the
    /// machine would fail on, so the answer is a `4xx` naming the limit.
    #[serde(default)]
    pub limits: Limits,
    /// Issue answers kept between reads (`GET /v2/issues/{key}`).
    #[serde(default)]
    pub answers: Answers,
}

/// Issue answers kept between reads, each served only while the database
/// says nothing changed since it was rendered (src/answers.rs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Answers {
    /// How many bytes of answers a node keeps; 0 keeps none.
    pub max_bytes: u64,
}

impl Default for Answers {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Queue automation (triggers, auto-actions, their webhook deliveries).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Automation {
    /// Whether webhook actions may call loopback, private, link-local and
    /// other non-public addresses (checked on the addresses the host name
    /// resolves to at delivery time). Off: a trigger cannot be turned into
    /// a probe of the network trackerd runs in.
    pub allow_private_webhook_targets: bool,
    /// How long one webhook request may take, in milliseconds.
    pub webhook_timeout_ms: u64,
    /// Attempts per delivery before it is recorded as failed.
    pub webhook_max_attempts: u32,
    /// The pause before the second attempt, in milliseconds; doubled for
    /// each one after.
    pub webhook_backoff_ms: u64,
    /// How often a node looks for due deliveries and auto-actions, in
    /// milliseconds.
    pub tick_ms: u64,
    /// How deep triggers may set off triggers (a trigger's change firing
    /// another, or itself): a change this many steps from a person's is made
    /// without firing more.
    pub max_chain_depth: u32,
}

impl Default for Automation {
    fn default() -> Self {
        Self {
            allow_private_webhook_targets: false,
            webhook_timeout_ms: 10_000,
            webhook_max_attempts: 5,
            webhook_backoff_ms: 1_000,
            tick_ms: 1_000,
            max_chain_depth: 5,
        }
    }
}

/// The Prometheus endpoint. Served by default, to anyone: it tells request
/// counts by route, never paths, tokens or organizations. A token guards it
/// where the port is reachable by those who should not see even that.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Metrics {
    /// Whether `/metrics` is served (and requests are counted).
    pub enabled: bool,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            enabled: true,
            token: None,
        }
    }
}

/// The control plane's admin token. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ControlToken(pub String);

impl ControlToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ControlToken(***)")
    }
}

/// The control plane's request journal (kept by each node for itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Control {
    /// Requests kept; the oldest go first.
    pub journal_size: usize,
    /// Bytes of each request and answer body kept; the rest is cut.
    pub journal_body_bytes: usize,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            journal_size: 1000,
            journal_body_bytes: 16 * 1024,
        }
    }
}

/// Limits on what one request may ask, each refused with a `4xx` that
/// names its setting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A request body (JSON or form; not uploads), in bytes: `413`.
    pub body_bytes: usize,
    /// Parameters of a form (`/token`, `/signin`, …): `400 invalid_request`.
    pub form_params: usize,
    /// Characters of a query-language text (`query` of a search, a saved
    /// filter, a board's query): `400`.
    pub query_chars: usize,
    /// Terms of a search, once parsed: each condition value and each
    /// free-text word counts one: `400`.
    pub query_terms: usize,
    /// Items of one list in a search body (`keys`, a `filter` field's
    /// values): `400`.
    pub search_list_items: usize,
    /// Distinct fields a search sorts by (`order`, `"Sort by"`): `400`.
    pub sort_keys: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 2 * 1024 * 1024,
            form_params: 100,
            query_chars: 100_000,
            query_terms: 10_000,
            search_list_items: 10_000,
            sort_keys: 32,
        }
    }
}

/// The background worker every node runs: it claims items of bulk changes
/// from the database under a lease and applies them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Jobs {
    /// Whether this node runs the worker (a node that only serves requests
    /// leaves the jobs to the others).
    pub worker: bool,
    /// How often an idle worker looks for work, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a claim on an item lasts, in milliseconds: a node that dies
    /// holding items leaves them to another node (or itself, restarted)
    /// this long after its last renewal.
    pub lease_ms: u64,
    /// Items claimed at once.
    pub batch_size: u64,
    /// The most issues one bulk change may name (Tracker's limit: 10 000).
    pub max_bulk_issues: usize,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            worker: true,
            poll_interval_ms: 500,
            lease_ms: 30_000,
            batch_size: 25,
            max_bulk_issues: 10_000,
        }
    }
}

/// Tracker's documented limit for one file: 1024 MB.
pub const DEFAULT_ATTACHMENT_MAX_BYTES: u64 = 1024 * 1024 * 1024;

/// The blob store of attached files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Attachments {
    /// The largest file accepted, in bytes.
    pub max_size_bytes: u64,
    /// `local` (a directory of this node) or `s3` (any S3-compatible store,
    /// which several nodes share).
    pub store: BlobStoreKind,
    /// The local directory; by default `attachments` next to the SQLite
    /// file, or `data/attachments` with PostgreSQL.
    pub dir: Option<PathBuf>,
    /// The S3 bucket (`store = "s3"`). Credentials come from the standard
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`)
    /// environment variables, never from the file.
    pub s3_bucket: Option<String>,
    /// The S3 endpoint, e.g. `https://storage.yandexcloud.net`; AWS's when unset.
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    /// A key prefix inside the bucket.
    pub s3_prefix: Option<String>,
    /// Allows a plain `http://` endpoint (a store on the same host or in tests).
    pub s3_allow_http: bool,
    /// A temporary upload never attached is forgotten this long after it was made.
    pub temporary_ttl_secs: u64,
    /// How often one node sweeps expired temporary uploads and blobs no row
    /// names; `0` never.
    pub sweep_interval_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    Local,
    S3,
}

impl Default for Attachments {
    fn default() -> Self {
        Self {
            max_size_bytes: DEFAULT_ATTACHMENT_MAX_BYTES,
            store: BlobStoreKind::Local,
            dir: None,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: None,
            s3_prefix: None,
            s3_allow_http: false,
            temporary_ttl_secs: 7 * 24 * 3600,
            sweep_interval_secs: 3600,
        }
    }
}

impl Config {
    /// The local attachments directory this configuration names.
    pub fn attachments_dir(&self) -> PathBuf {
        if let Some(dir) = &self.attachments.dir {
            return dir.clone();
        }
        match self.database.expose().strip_prefix("sqlite://") {
            Some(file) => Path::new(file)
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
                .join("attachments"),
            None => PathBuf::from("data/attachments"),
        }
    }
}

/// Limits on client connections, so slow or idle clients cannot hold the
/// server: every one below what the operating system would run out of.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Connections {
    /// A request's headers must arrive within this many seconds of the
    /// connection opening or of the previous answer; an idle keep-alive
    /// connection is closed after as long.
    pub header_read_timeout_secs: u64,
    /// A request body may pause at most this long between chunks.
    pub body_read_timeout_secs: u64,
    /// Open connections at most; more are closed as they arrive. Below the
    /// usual limit of 1 024 open files, leaving room for the database.
    pub max_connections: usize,
    /// On SIGTERM, how long requests in flight may take before their
    /// connections are closed anyway.
    pub shutdown_deadline_secs: u64,
    /// Searches (`_search`, `_count`, scrolls) run at once on this node at
    /// most; more wait their turn. Below the database pool's size, so writes
    /// always find a connection, and a bound on the memory searches hold.
    pub max_concurrent_searches: usize,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 30,
            max_connections: 768,
            shutdown_deadline_secs: 30,
            max_concurrent_searches: 4,
        }
    }
}

pub const MAX_IAM_LIFETIME_SECS: u64 = 12 * 60 * 60;

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: Dsn("sqlite://data/trackerd.db".into()),
            public_url: None,
            log_format: LogFormat::Text,
            log: "info,sqlx=warn".into(),
            iam_token_lifetime_secs: MAX_IAM_LIFETIME_SECS,
            auth_cache_refresh_ms: 1000,
            seed: None,
            oauth: crate::oauth::OAuthConfig::default(),
            connections: Connections::default(),
            attachments: Attachments::default(),
            jobs: Jobs::default(),
            metrics: Metrics::default(),
            federation: Default::default(),
            automation: Automation::default(),
            control_token: None,
            control: Control::default(),
            limits: Limits::default(),
            answers: Answers::default(),
        }
    }
}

/// Settings given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Figment(#[from] Box<figment::Error>),
    #[error(
        "configuration: iam_token_lifetime_secs must be between 1 and {MAX_IAM_LIFETIME_SECS}"
    )]
    IamLifetime,
    #[error("configuration: {0}")]
    OAuth(String),
    #[error("configuration: connections.{0} must be at least 1")]
    Connections(&'static str),
    #[error("configuration: database must start with sqlite:// or postgres://, got {0}")]
    Dsn(Dsn),
    #[error("configuration: attachments.{0}")]
    Attachments(&'static str),
    #[error("configuration: jobs.{0} must be at least 1")]
    Jobs(&'static str),
    #[error("configuration: {0}")]
    Control(&'static str),
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            // Only the variables that name a setting: the others (a wrapper's
            // TRACKERD_PID, a test suite's own) are reported by
            // `unknown_environment`, not fatal, unlike unknown file keys.
            .merge(
                Env::prefixed("TRACKERD_")
                    .split("__")
                    .filter(|k| env_key(k.as_str()) == EnvKey::Setting),
            )
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// The `TRACKERD_…` environment variables that name no setting, for
    /// the server to warn about once its logging is up: a wrapper script's
    /// `TRACKERD_PID` must not stop `trackerd serve`, and a misspelt
    /// `TRACKERD_LISTNE` must not pass unnoticed either.
    pub fn unknown_environment() -> Vec<String> {
        let mut names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| {
                name.get(..9)
                    .is_some_and(|p| p.eq_ignore_ascii_case("TRACKERD_"))
                    && env_key(&name[9..]) == EnvKey::Unknown
            })
            .collect();
        names.sort();
        names
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_IAM_LIFETIME_SECS).contains(&self.iam_token_lifetime_secs) {
            return Err(ConfigError::IamLifetime);
        }
        self.oauth.validate().map_err(ConfigError::OAuth)?;
        let c = &self.connections;
        for (name, value) in [
            ("header_read_timeout_secs", c.header_read_timeout_secs),
            ("body_read_timeout_secs", c.body_read_timeout_secs),
            ("max_connections", c.max_connections as u64),
            ("shutdown_deadline_secs", c.shutdown_deadline_secs),
            ("max_concurrent_searches", c.max_concurrent_searches as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Connections(name));
            }
        }
        let dsn = self.database.expose();
        if !(dsn.starts_with("sqlite:")
            || dsn.starts_with("postgres:")
            || dsn.starts_with("postgresql:"))
        {
            return Err(ConfigError::Dsn(self.database.clone()));
        }
        let j = &self.jobs;
        for (name, value) in [
            ("poll_interval_ms", j.poll_interval_ms),
            ("lease_ms", j.lease_ms),
            ("batch_size", j.batch_size),
            ("max_bulk_issues", j.max_bulk_issues as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Jobs(name));
            }
        }
        if self
            .control_token
            .as_ref()
            .is_some_and(|t| t.expose().trim().len() < 16)
        {
            return Err(ConfigError::Control(
                "control_token must be at least 16 characters",
            ));
        }
        if self.control.journal_size == 0 {
            return Err(ConfigError::Control(
                "control.journal_size must be at least 1",
            ));
        }
        if self.attachments.max_size_bytes == 0 {
            return Err(ConfigError::Attachments(
                "max_size_bytes must be at least 1",
            ));
        }
        if self.attachments.store == BlobStoreKind::S3 && self.attachments.s3_bucket.is_none() {
            return Err(ConfigError::Attachments(
                "s3_bucket is required with store = \"s3\"",
            ));
        }
        Ok(())
    }
}

/// What a `TRACKERD_<KEY>` variable is to the server.
#[derive(Debug, PartialEq, Eq)]
enum EnvKey {
    /// A configuration key (`__` or `.` between nested keys).
    Setting,
    /// `TRACKERD_CONFIG` (the file itself, read by the command line), and
    /// the test suite's and the benchmarks' own `TRACKERD_TEST_*` and
    /// `TRACKERD_BENCH_*`: not settings, and expected.
    Other,
    /// Nothing trackerd reads.
    Unknown,
}

fn env_key(key: &str) -> EnvKey {
    static DEFAULTS: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(|| {
        serde_json::to_value(Config::default()).unwrap_or(serde_json::Value::Null)
    });
    let key = key.to_ascii_lowercase().replace("__", ".");
    if key == "config" || key.starts_with("test_") || key.starts_with("bench_") {
        return EnvKey::Other;
    }
    // The defaults name every key: an unset `Option` is there as `null`.
    let mut at = &*DEFAULTS;
    for part in key.split('.') {
        match at.get(part) {
            Some(next) => at = next,
            None => return EnvKey::Unknown,
        }
    }
    EnvKey::Setting
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_passwords_never_show_in_debug_or_display() {
        let dsn = Dsn("postgres://trackerd:hunter2@localhost/trackerd".into());
        assert!(!format!("{dsn:?}").contains("hunter2"));
        assert!(!dsn.to_string().contains("hunter2"));
    }

    #[test]
    fn flags_override_the_file_and_unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trackerd.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            &Overrides {
                listen: Some("127.0.0.1:9100".parse().unwrap()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.log_format, LogFormat::Json);

        std::fs::write(&file, "listne = \"127.0.0.1:9000\"\n").unwrap();
        assert!(Config::load(Some(&file), &Overrides::default()).is_err());
    }

    #[test]
    fn environment_names_are_settings_expected_extras_or_unknown() {
        assert_eq!(env_key("LISTEN"), EnvKey::Setting);
        assert_eq!(env_key("log"), EnvKey::Setting);
        assert_eq!(env_key("OAUTH__CODE_LIFETIME_SECS"), EnvKey::Setting);
        assert_eq!(env_key("ATTACHMENTS__DIR"), EnvKey::Setting);
        assert_eq!(env_key("CONFIG"), EnvKey::Other);
        assert_eq!(env_key("TEST_POSTGRES_URL"), EnvKey::Other);
        assert_eq!(env_key("PID"), EnvKey::Unknown);
        assert_eq!(env_key("LISTNE"), EnvKey::Unknown);
        assert_eq!(env_key("OAUTH__NO_SUCH_KEY"), EnvKey::Unknown);
        assert_eq!(env_key("LISTEN__PORT"), EnvKey::Unknown);
    }

    #[test]
    fn a_short_control_token_is_refused_and_none_is_ever_shown() {
        let c = Config {
            control_token: Some(ControlToken("short".into())),
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::Control(_))));
        let c = Config {
            control_token: Some(ControlToken("a-long-enough-secret-token".into())),
            ..Config::default()
        };
        c.validate().unwrap();
        assert!(!format!("{c:?}").contains("a-long-enough-secret-token"));
    }

    #[test]
    fn iam_lifetimes_over_twelve_hours_are_refused() {
        let c = Config {
            iam_token_lifetime_secs: MAX_IAM_LIFETIME_SECS + 1,
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::IamLifetime)));
    }
}
