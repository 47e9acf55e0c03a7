//! Profiles (`config.toml`) and stored tokens (`tokens/<profile>`, readable
//! only by the user) in the platform's config directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_iam: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_key: Option<PathBuf>,
}

impl Profile {
    pub const KEYS: &'static [&'static str] = &[
        "base-url",
        "org-id",
        "cloud-org-id",
        "iam-url",
        "oauth-url",
        "client-id",
        "use-iam",
        "service-account-key",
    ];

    /// Sets (`Some`) or clears (`None`) a setting by its CLI name.
    pub fn set(&mut self, key: &str, value: Option<&str>) -> anyhow::Result<()> {
        let s = || value.map(str::to_owned);
        match key {
            "base-url" => self.base_url = s(),
            "org-id" => {
                self.org_id = s();
                // One organization at a time, as the API wants.
                if value.is_some() {
                    self.cloud_org_id = None;
                }
            }
            "cloud-org-id" => {
                self.cloud_org_id = s();
                if value.is_some() {
                    self.org_id = None;
                }
            }
            "iam-url" => self.iam_url = s(),
            "oauth-url" => self.oauth_url = s(),
            "client-id" => self.client_id = s(),
            "use-iam" => {
                self.use_iam = match value {
                    None => None,
                    Some(v) => Some(
                        v.parse()
                            .with_context(|| format!("use-iam is true or false, not {v:?}"))?,
                    ),
                }
            }
            "service-account-key" => self.service_account_key = value.map(PathBuf::from),
            _ => bail!(
                "unknown setting {key:?}; settings are: {}",
                Self::KEYS.join(", ")
            ),
        }
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// The config directory: `TRACKER_CONFIG_DIR`, else the platform's
/// (`~/.config/tracker` on Linux, `~/Library/Application Support/tracker`
/// on macOS, `%APPDATA%\tracker\config` on Windows).
pub fn dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("TRACKER_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "tracker")
        .map(|p| p.config_dir().to_path_buf())
        .context("no home directory to keep settings in; set TRACKER_CONFIG_DIR")
}

pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn open() -> anyhow::Result<Self> {
        Ok(Self { dir: dir()? })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    pub fn token_path(&self, profile: &str) -> anyhow::Result<PathBuf> {
        if profile.is_empty()
            || !profile
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            bail!("profile names are letters, digits, '-' and '_'");
        }
        Ok(self.dir.join("tokens").join(profile))
    }

    pub fn load(&self) -> anyhow::Result<ConfigFile> {
        let path = self.config_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn profile(&self, name: &str) -> anyhow::Result<Profile> {
        Ok(self.load()?.profiles.remove(name).unwrap_or_default())
    }

    pub fn save_profile(&self, name: &str, profile: Profile) -> anyhow::Result<()> {
        let mut file = self.load()?;
        file.profiles.insert(name.to_owned(), profile);
        let text = toml::to_string_pretty(&file)?;
        create_private_dir(&self.dir)?;
        write_private(&self.config_path(), text.as_bytes())
    }

    pub fn token(&self, profile: &str) -> anyhow::Result<Option<String>> {
        let path = self.token_path(profile)?;
        match std::fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_owned())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save_token(&self, profile: &str, token: &str) -> anyhow::Result<PathBuf> {
        let path = self.token_path(profile)?;
        create_private_dir(&self.dir)?;
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        write_private(&path, token.as_bytes())?;
        Ok(path)
    }

    /// `true` when there was a token to forget.
    pub fn remove_token(&self, profile: &str) -> anyhow::Result<bool> {
        let path = self.token_path(profile)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes a file only its owner can read, replacing any previous one
/// atomically, so the secret is never readable by others, not even briefly.
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_one_organization_kind_clears_the_other() {
        let mut p = Profile::default();
        p.set("cloud-org-id", Some("bpf1")).unwrap();
        p.set("org-id", Some("7000001")).unwrap();
        assert_eq!(p.org_id.as_deref(), Some("7000001"));
        assert_eq!(p.cloud_org_id, None);
        assert!(p.set("colour", Some("red")).is_err());
        assert!(p.set("use-iam", Some("yes")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn tokens_are_stored_readable_only_by_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store {
            dir: dir.path().join("tracker"),
        };
        let path = store.save_token("default", "y0_secret").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(
            store.token("default").unwrap().as_deref(),
            Some("y0_secret")
        );
        assert!(store.remove_token("default").unwrap());
        assert_eq!(store.token("default").unwrap(), None);
        assert!(store.token_path("../etc").is_err());
    }
}
