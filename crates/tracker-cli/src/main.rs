//! `tracker`: the Yandex Tracker API from a terminal. See `tracker --help`.

mod cli;
mod config;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use tracker_api::CreateQueueRequest;
use tracker_client::oauth::{DeviceFlow, DEFAULT_OAUTH_URL};
use tracker_client::{
    Auth, Client, IssueSearch, NewComment, NewIssue, ServiceAccountKey, DEFAULT_BASE_URL,
};

use cli::{
    Cli, Command, ConfigCommand, Global, IamCommand, IssueCommand, Output, QueueCommand,
    UserCommand,
};
use config::{Profile, Store};

/// The client id `tracker login` presents unless told otherwise.
const DEFAULT_CLIENT_ID: &str = "tracker-cli";

/// A usage or configuration problem found by the CLI itself: exit code 1.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(1),
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tracker: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

fn report(e: &anyhow::Error) {
    eprintln!("tracker: {e:#}");
    if let Some(tracker_client::Error::Api { errors, .. }) = e.downcast_ref() {
        for (field, message) in errors {
            eprintln!("  {field}: {message}");
        }
    }
}

/// The documented exit codes (see `cli::EXIT_CODES`).
fn exit_code(e: &anyhow::Error) -> u8 {
    use tracker_client::Error;
    match e.downcast_ref::<Error>() {
        Some(Error::Api { status: 401, .. }) | Some(Error::OAuth { .. }) => 2,
        Some(Error::Api { status: 403, .. }) => 3,
        Some(Error::Api { status: 404, .. }) => 4,
        Some(Error::Transport(_)) => 6,
        Some(Error::Config(_)) | Some(Error::ServiceAccountKey(_)) => 1,
        Some(_) => 5,
        // Everything that is not the API's answer is ours to fix: settings,
        // missing token, unreadable files.
        None => 1,
    }
}

/// Settings after flags, environment and profile are merged.
struct Settings {
    profile_name: String,
    profile: Profile,
    global: Global,
    store: Store,
}

impl Settings {
    fn base_url(&self) -> String {
        self.global
            .base_url
            .clone()
            .or_else(|| self.profile.base_url.clone())
            .unwrap_or_else(|| DEFAULT_BASE_URL.into())
    }

    fn oauth_url(&self, flag: Option<String>) -> String {
        flag.or_else(|| self.profile.oauth_url.clone())
            .unwrap_or_else(|| {
                let base = self.base_url();
                // trackerd serves OAuth next to the API; Yandex does not.
                if base.trim_end_matches('/') == DEFAULT_BASE_URL {
                    DEFAULT_OAUTH_URL.into()
                } else {
                    base
                }
            })
    }

    fn auth(&self) -> anyhow::Result<Option<Auth>> {
        let g = &self.global;
        if let Some(t) = &g.iam_token {
            return Ok(Some(Auth::Iam(t.clone())));
        }
        if let Some(path) = &g.service_account_key {
            return Ok(Some(Auth::ServiceAccount(ServiceAccountKey::from_file(
                path,
            )?)));
        }
        let use_iam = g.use_iam || self.profile.use_iam.unwrap_or(false);
        let oauth = |t: String| {
            if use_iam {
                Auth::IamFromOAuth(t)
            } else {
                Auth::OAuth(t)
            }
        };
        if let Some(t) = &g.token {
            return Ok(Some(oauth(t.clone())));
        }
        if let Some(path) = &self.profile.service_account_key {
            return Ok(Some(Auth::ServiceAccount(ServiceAccountKey::from_file(
                path,
            )?)));
        }
        Ok(self.store.token(&self.profile_name)?.map(oauth))
    }

    fn client_with(&self, auth: Auth) -> anyhow::Result<Client> {
        let mut b = Client::builder()
            .base_url(self.base_url())
            .auth(auth)
            .user_agent(concat!("tracker-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(u) = self.global.iam_url.clone().or(self.profile.iam_url.clone()) {
            b = b.iam_url(u);
        }
        // Organization flags replace the profile's organization as a whole.
        let (org, cloud) = if self.global.org_id.is_some() || self.global.cloud_org_id.is_some() {
            (self.global.org_id.clone(), self.global.cloud_org_id.clone())
        } else {
            (
                self.profile.org_id.clone(),
                self.profile.cloud_org_id.clone(),
            )
        };
        if let Some(o) = org {
            b = b.org_id(o);
        }
        if let Some(o) = cloud {
            b = b.cloud_org_id(o);
        }
        Ok(b.build()?)
    }

    fn client(&self) -> anyhow::Result<Client> {
        let Some(auth) = self.auth()? else {
            return Err(UsageError(format!(
                "not signed in (profile {:?}): run `tracker login`, or set TRACKER_TOKEN",
                self.profile_name
            ))
            .into());
        };
        self.client_with(auth)
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let output = cli.global.output;
    if let Command::Completions { shell } = cli.command {
        let mut cmd = Cli::command();
        clap_complete::generate(shell, &mut cmd, "tracker", &mut std::io::stdout());
        return Ok(());
    }
    let store = Store::open()?;
    // Validates the profile name before any file is touched.
    store.token_path(&cli.global.profile)?;
    let profile = store.profile(&cli.global.profile)?;
    let settings = Settings {
        profile_name: cli.global.profile.clone(),
        profile,
        global: cli.global,
        store,
    };
    match cli.command {
        Command::Completions { .. } => Ok(()),
        Command::Login(args) => login(&settings, args).await,
        Command::Logout => {
            if settings.store.remove_token(&settings.profile_name)? {
                eprintln!("Signed out of profile {:?}.", settings.profile_name);
            } else {
                eprintln!("Profile {:?} had no stored token.", settings.profile_name);
            }
            Ok(())
        }
        Command::Config(c) => config_command(settings, c),
        Command::Iam(IamCommand::CreateToken) => {
            let client = settings.client()?;
            let token = client.iam_token().await?;
            match output {
                Output::Table => println!("{}", token.token),
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "iamToken": token.token,
                        "expiresAt": token.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                    }))?
                ),
            }
            Ok(())
        }
        Command::Myself => {
            let me = settings.client()?.myself().await?;
            output::object(output, &me, output::user_rows(&me))
        }
        Command::User(UserCommand::Get { id }) => {
            let u = settings.client()?.users().get(&id).await?;
            output::object(output, &u, output::user_rows(&u))
        }
        Command::User(UserCommand::List(l)) => {
            let items = settings.client()?.users().list(&l.options());
            output::list(output, items, l.limit).await
        }
        Command::Queue(QueueCommand::Get { key }) => {
            let q = settings.client()?.queues().get(&key).await?;
            output::object(output, &q, output::queue_rows(&q))
        }
        Command::Queue(QueueCommand::List(l)) => {
            let items = settings.client()?.queues().list(&l.options());
            output::list(output, items, l.limit).await
        }
        Command::Issue(c) => issue_command(&settings, output, c).await,
        Command::Queue(QueueCommand::Create {
            key,
            name,
            lead,
            description,
        }) => {
            let q = settings
                .client()?
                .queues()
                .create(&CreateQueueRequest {
                    key,
                    name,
                    lead,
                    description,
                })
                .await?;
            output::object(output, &q, output::queue_rows(&q))
        }
    }
}

async fn issue_command(settings: &Settings, output: Output, c: IssueCommand) -> anyhow::Result<()> {
    let issues = settings.client()?.issues();
    match c {
        IssueCommand::Get { key } => {
            let i = issues.get(&key).await?;
            output::object(output, &i, output::issue_rows(&i))
        }
        IssueCommand::Find { query, list } => {
            let items = issues.search(&IssueSearch::query(query), &list.options());
            output::list(output, items, list.limit).await
        }
        IssueCommand::Create {
            queue,
            summary,
            description,
            issue_type,
            priority,
            assignee,
            unique,
            fields,
        } => {
            let i = issues
                .create(&NewIssue {
                    queue,
                    summary,
                    description,
                    issue_type,
                    priority,
                    assignee,
                    parent: None,
                    unique,
                    fields: fields.into_iter().collect(),
                })
                .await?;
            output::object(output, &i, output::issue_rows(&i))
        }
        IssueCommand::Update {
            key,
            summary,
            description,
            fields,
            version,
        } => {
            let mut changes: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().collect();
            if let Some(s) = summary {
                changes.insert("summary".into(), s.into());
            }
            if let Some(d) = description {
                changes.insert("description".into(), d.into());
            }
            if changes.is_empty() {
                return Err(UsageError(
                    "nothing to change: give --summary, --description or --field".into(),
                )
                .into());
            }
            let i = issues.update(&key, &changes, version).await?;
            output::object(output, &i, output::issue_rows(&i))
        }
        IssueCommand::Transitions { key } => {
            let ts = issues.transitions(&key).await?;
            output::rows(output, &ts)
        }
        IssueCommand::Transition {
            key,
            transition,
            comment,
            fields,
        } => {
            let mut body: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
            if let Some(c) = comment {
                body.insert("comment".into(), c.into());
            }
            issues.execute_transition(&key, &transition, &body).await?;
            let i = issues.get(&key).await?;
            output::object(output, &i, output::issue_rows(&i))
        }
        IssueCommand::Comment { key, text } => {
            let c = issues
                .add_comment(
                    &key,
                    &NewComment {
                        text,
                        ..NewComment::default()
                    },
                )
                .await?;
            output::object(
                output,
                &c,
                vec![("id", c.id.to_string()), ("text", c.text.clone())],
            )
        }
        IssueCommand::Comments { key, list } => {
            let items = issues.comments(&key, &list.options());
            output::list(output, items, list.limit).await
        }
    }
}

fn config_command(settings: Settings, c: ConfigCommand) -> anyhow::Result<()> {
    let Settings {
        profile_name,
        mut profile,
        store,
        ..
    } = settings;
    match c {
        ConfigCommand::Show => {
            println!(
                "# profile {profile_name:?} in {}",
                store.config_path().display()
            );
            print!("{}", toml::to_string_pretty(&profile)?);
            let token = store.token_path(&profile_name)?;
            println!(
                "# token: {}",
                if token.exists() {
                    format!("stored in {}", token.display())
                } else {
                    "none stored".into()
                }
            );
        }
        ConfigCommand::Set { key, value } => {
            profile.set(&key, Some(&value)).map_err(usage)?;
            store.save_profile(&profile_name, profile)?;
        }
        ConfigCommand::Unset { key } => {
            profile.set(&key, None).map_err(usage)?;
            store.save_profile(&profile_name, profile)?;
        }
        ConfigCommand::Path => println!("{}", store.dir().display()),
    }
    Ok(())
}

fn usage(e: anyhow::Error) -> anyhow::Error {
    UsageError(format!("{e:#}")).into()
}

async fn login(settings: &Settings, args: cli::Login) -> anyhow::Result<()> {
    let oauth_url = settings.oauth_url(args.oauth_url.clone());
    let client_id = args
        .client_id
        .clone()
        .or_else(|| settings.profile.client_id.clone())
        .unwrap_or_else(|| DEFAULT_CLIENT_ID.into());
    let flow = DeviceFlow::new(&oauth_url, &client_id)?;
    let auth = match flow.start(Some(&args.scope)).await {
        Ok(auth) => auth,
        // A trackerd knows only the applications registered with it.
        Err(e @ tracker_client::Error::OAuth { .. }) if matches!(&e, tracker_client::Error::OAuth { error, .. } if error == "invalid_client") => {
            return Err(anyhow::Error::new(e).context(format!(
                "{oauth_url} does not know the client id {client_id:?}: register a public \
                 application there (sign in at /my, \"Register an application\") and pass its \
                 client id with --client-id"
            )))
        }
        Err(e) => return Err(anyhow::Error::new(e).context("starting the device flow")),
    };
    // A federated account's page names its identity provider, so trackerd
    // sends the browser there instead of to its own sign-in form.
    let with_federation = |page: &str| match &args.federation {
        Some(id) => {
            let joint = if page.contains('?') { '&' } else { '?' };
            format!("{page}{joint}federation={id}")
        }
        None => page.to_owned(),
    };
    let complete = auth
        .verification_uri_complete
        .as_deref()
        .map(with_federation);
    eprintln!(
        "To sign in, open {} and enter the code: {}",
        with_federation(&auth.verification_uri),
        auth.user_code
    );
    if let Some(complete) = &complete {
        eprintln!("(or open {complete})");
    }
    // Only for a person at a terminal: scripts and tests get the text alone.
    if !args.no_browser && std::io::stderr().is_terminal() {
        let page = complete.unwrap_or_else(|| with_federation(&auth.verification_uri));
        if opener::open_browser(&page).is_err() {
            eprintln!("(no browser could be opened here; use the address above on any device)");
        }
    }
    eprintln!("Waiting for approval…");
    let token = flow.wait(&auth).await?;

    // What was given on this command line becomes the profile's setting,
    // so the next command needs no flags.
    let g = &settings.global;
    let mut profile = settings.profile.clone();
    let given = [
        ("base-url", g.base_url.as_deref()),
        ("org-id", g.org_id.as_deref()),
        ("cloud-org-id", g.cloud_org_id.as_deref()),
        ("iam-url", g.iam_url.as_deref()),
        ("oauth-url", args.oauth_url.as_deref()),
        ("client-id", args.client_id.as_deref()),
    ];
    for (key, value) in given {
        if value.is_some() {
            profile.set(key, value)?;
        }
    }
    settings
        .store
        .save_profile(&settings.profile_name, profile.clone())?;
    let path = settings
        .store
        .save_token(&settings.profile_name, &token.access_token)?;

    let verify = Settings {
        profile_name: settings.profile_name.clone(),
        profile,
        global: settings.global.clone(),
        store: Store::open()?,
    };
    if verify.profile.org_id.is_none() && verify.profile.cloud_org_id.is_none() {
        eprintln!(
            "Signed in; the token is in {}. Set the organization next: \
             `tracker config set org-id ID` (or cloud-org-id).",
            path.display()
        );
        return Ok(());
    }
    let me = verify
        .client_with(Auth::OAuth(token.access_token))?
        .myself()
        .await
        .context("the new token does not work")?;
    eprintln!(
        "Signed in as {} ({}); the token is in {}.",
        me.login,
        me.display,
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn api_statuses_map_to_the_documented_exit_codes() {
        let api = |status| {
            anyhow::Error::from(tracker_client::Error::Api {
                status,
                error_messages: vec![],
                errors: Default::default(),
                retry_after: None,
            })
        };
        assert_eq!(exit_code(&api(401)), 2);
        assert_eq!(exit_code(&api(403)), 3);
        assert_eq!(exit_code(&api(404)), 4);
        assert_eq!(exit_code(&api(422)), 5);
        assert_eq!(exit_code(&api(503)), 5);
        assert_eq!(exit_code(&anyhow::anyhow!("bad settings")), 1);
    }

    #[test]
    fn field_values_are_json_when_they_parse_and_strings_otherwise() {
        use serde_json::json;
        assert_eq!(
            cli::parse_field("storyPoints=5").unwrap(),
            ("storyPoints".into(), json!(5))
        );
        assert_eq!(
            cli::parse_field("tags={\"add\":[\"x\"]}").unwrap().1,
            json!({"add": ["x"]})
        );
        assert_eq!(cli::parse_field("summary=a=b c").unwrap().1, json!("a=b c"));
        assert!(cli::parse_field("novalue").is_err());
        assert!(cli::parse_field("=x").is_err());
    }
}
