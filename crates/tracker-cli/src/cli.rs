//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  usage or configuration error (bad arguments, no token, unreadable config)
  2  not authenticated: the token was refused (401), or sign-in failed
  3  forbidden (403): valid token, but no access to the organization or object
  4  not found (404)
  5  any other error answer from the API (409, 422, 429, 5xx, unreadable body)
  6  the server could not be reached

Environment: TRACKER_TOKEN (OAuth token), TRACKER_IAM_TOKEN, TRACKER_ORG_ID,
TRACKER_CLOUD_ORG_ID, TRACKER_BASE_URL, TRACKER_IAM_URL, TRACKER_PROFILE,
TRACKER_CONFIG_DIR (default: the platform's config dir, e.g. ~/.config/tracker).
Flags beat the environment, which beats the profile.";

#[derive(Debug, Parser)]
#[command(
    name = "tracker",
    version,
    about = "The Yandex Tracker API from a terminal: api.tracker.yandex.net or a trackerd",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The profile to read settings and the stored token from.
    #[arg(
        long,
        global = true,
        env = "TRACKER_PROFILE",
        default_value = "default"
    )]
    pub profile: String,
    /// The Tracker API (default https://api.tracker.yandex.net).
    #[arg(long, global = true, env = "TRACKER_BASE_URL")]
    pub base_url: Option<String>,
    /// The organization id, sent as X-Org-ID.
    #[arg(
        long,
        global = true,
        env = "TRACKER_ORG_ID",
        conflicts_with = "cloud_org_id"
    )]
    pub org_id: Option<String>,
    /// The Yandex Cloud organization id, sent as X-Cloud-Org-ID.
    #[arg(long, global = true, env = "TRACKER_CLOUD_ORG_ID")]
    pub cloud_org_id: Option<String>,
    /// An OAuth token (prefer the environment: flags show in `ps`).
    #[arg(long, global = true, env = "TRACKER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// An IAM token, used as it is.
    #[arg(long, global = true, env = "TRACKER_IAM_TOKEN", hide_env_values = true)]
    pub iam_token: Option<String>,
    /// A service account's key file: IAM tokens are obtained with it.
    #[arg(long, global = true, env = "TRACKER_SERVICE_ACCOUNT_KEY")]
    pub service_account_key: Option<PathBuf>,
    /// Exchange the OAuth token for IAM tokens and send those.
    #[arg(long, global = true)]
    pub use_iam: bool,
    /// Where IAM tokens are exchanged (default: the real IAM for the real
    /// Tracker, otherwise the base URL).
    #[arg(long, global = true, env = "TRACKER_IAM_URL")]
    pub iam_url: Option<String>,
    /// Table for people, JSON for scripts.
    #[arg(short, long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with the OAuth device flow and store the token for the profile.
    Login(Login),
    /// Forget the profile's stored token.
    Logout,
    /// Show or change the profile's settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// IAM tokens.
    #[command(subcommand)]
    Iam(IamCommand),
    /// The account the token belongs to.
    Myself,
    /// Users of the organization.
    #[command(subcommand)]
    User(UserCommand),
    /// Queues.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Issues.
    #[command(subcommand)]
    Issue(IssueCommand),
    /// Shell completions: `tracker completions bash > /etc/bash_completion.d/tracker`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct Login {
    /// The OAuth server (default: oauth.yandex.ru for the real Tracker,
    /// otherwise the base URL).
    #[arg(long, env = "TRACKER_OAUTH_URL")]
    pub oauth_url: Option<String>,
    /// The application's client id.
    #[arg(long, env = "TRACKER_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The scopes to ask for.
    #[arg(long, default_value = "tracker:read tracker:write")]
    pub scope: String,
    /// Only print the address; do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in through the organization's identity provider with this id
    /// (a federated account, like `yc init --federation-id`): the
    /// verification page goes straight to the provider.
    #[arg(long, value_parser = federation_id)]
    pub federation: Option<String>,
}

/// A federation id as trackerd's admin gives it: letters, digits, `.`, `-`, `_`.
fn federation_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("a federation id is letters, digits, '.', '-' and '_'".into())
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the profile's settings (never the token).
    Show,
    /// Set a setting: base-url, org-id, cloud-org-id, iam-url, oauth-url,
    /// client-id, use-iam (true/false), service-account-key.
    Set { key: String, value: String },
    /// Remove a setting.
    Unset { key: String },
    /// Print where the settings and tokens live.
    Path,
}

#[derive(Debug, Subcommand)]
pub enum IamCommand {
    /// Print a fresh IAM token (like `yc iam create-token`).
    CreateToken,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Items per request.
    #[arg(long, default_value_t = 100)]
    pub per_page: u32,
    /// Stop after this many items.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl ListArgs {
    /// The paging the client asks for.
    pub fn options(&self) -> tracker_client::ListOptions {
        tracker_client::ListOptions {
            per_page: Some(self.per_page),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Every user of the organization.
    List(ListArgs),
    /// One user by uid or login.
    Get { id: String },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Every queue.
    List(ListArgs),
    /// One queue by key or id.
    Get { key: String },
    /// Create a queue (organization administrators only).
    Create {
        #[arg(long)]
        key: String,
        #[arg(long)]
        name: String,
        /// The lead's login or uid.
        #[arg(long)]
        lead: String,
        #[arg(long)]
        description: Option<String>,
    },
}

/// `key=value`; the value is read as JSON when it is JSON (`5`, `true`,
/// `["a","b"]`, `{"add":["x"]}`), otherwise as a string.
pub fn parse_field(s: &str) -> Result<(String, serde_json::Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected key=value, got {s:?}"))?;
    if k.is_empty() {
        return Err(format!("expected key=value, got {s:?}"));
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
    Ok((k.to_owned(), value))
}

#[derive(Debug, Subcommand)]
pub enum IssueCommand {
    /// One issue by key or id.
    Get { key: String },
    /// Issues matching a query in Tracker's query language, e.g. "Queue: TEST Assignee: me()".
    Find {
        query: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Create an issue.
    Create {
        #[arg(long)]
        queue: String,
        #[arg(long)]
        summary: String,
        #[arg(long)]
        description: Option<String>,
        /// Issue type key, e.g. task, bug.
        #[arg(long = "type")]
        issue_type: Option<String>,
        #[arg(long)]
        priority: Option<String>,
        /// The assignee's login.
        #[arg(long)]
        assignee: Option<String>,
        /// A value unique in the organization: makes the create safe to
        /// retry and to run twice.
        #[arg(long)]
        unique: Option<String>,
        /// Any other field, as key=value (repeatable).
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(String, serde_json::Value)>,
    },
    /// Change fields of an issue.
    Update {
        key: String,
        #[arg(long)]
        summary: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Any field, as key=value (repeatable); `tags={"add":["x"]}` works.
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(String, serde_json::Value)>,
        /// Only change this version of the issue (else exit code 5, 409).
        #[arg(long)]
        version: Option<i64>,
    },
    /// The transitions available from the issue's status.
    Transitions { key: String },
    /// Move the issue along its workflow.
    Transition {
        key: String,
        /// The transition id (see `tracker issue transitions KEY`).
        transition: String,
        #[arg(long)]
        comment: Option<String>,
        /// A field to set on the way, as key=value (repeatable), e.g. resolution=fixed.
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(String, serde_json::Value)>,
    },
    /// Add a comment.
    Comment { key: String, text: String },
    /// The issue's comments, oldest first.
    Comments {
        key: String,
        #[command(flatten)]
        list: ListArgs,
    },
}
