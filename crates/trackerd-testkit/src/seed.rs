//! The one seed every test and benchmark starts from, and its constants.

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use tracker_domain::Clock;
use tracker_store::Store;
use trackerd::seed::SeedFile;

/// alice: Acme's administrator, read and write, never expires.
pub const ALICE: &str = "y0_alice_rw_token_for_tests_only_0001";
/// bob: a plain Acme member with a read-only token.
pub const BOB_RO: &str = "y0_bob_read_only_token_for_tests_0001";
/// carol: a plain Acme member whose write-only token expires on
/// [`CAROL_EXPIRES_AT`].
pub const CAROL_EXPIRING: &str = "y0_carol_token_expiring_mid_2026_0001";
/// When [`CAROL_EXPIRING`] expires.
pub const CAROL_EXPIRES_AT: &str = "2026-06-01T00:00:00Z";
/// mallory: the administrator of the other organization.
pub const MALLORY: &str = "y0_mallory_other_org_token_0001";
/// Acme's organization id (`X-Org-ID`).
pub const ACME: &str = "7000001";
/// Acme's cloud organization id (`X-Cloud-Org-ID`).
pub const ACME_CLOUD: &str = "bpf1acme";
/// The other organization's id.
pub const OTHER: &str = "7000002";
/// Acme's external application whose type is its id.
pub const BITBUCKET: &str = "ru.yandex.bitbucket";
/// The other organization's external application.
pub const OTHER_APP: &str = "secret-wiki";
/// The other organization's cloud id.
pub const OTHER_CLOUD: &str = "bpf2other";

/// The seed: two organizations that must never see each other.
///
/// Acme (`ACME`): alice (admin), bob, carol, dave, erin; queues TEST (lead
/// alice) and OPS (lead bob); external applications [`BITBUCKET`] and `ci`
/// (type `build`). Other (`OTHER`): mallory (admin); queue SECRET;
/// application [`OTHER_APP`].
/// Nobody has a password (hashing one for every test would cost them all):
/// [`crate::TestApp::set_password`] gives one.
pub const SEED: &str = r#"
organizations:
  - id: "7000001"
    cloud_id: "bpf1acme"
    name: Acme
    users:
      - login: alice
        first_name: Alice
        last_name: Archer
        email: alice@acme.test
        admin: true
        tokens:
          - token: "y0_alice_rw_token_for_tests_only_0001"
            scopes: [tracker:read, tracker:write]
      - login: bob
        first_name: Bob
        last_name: Baker
        email: bob@acme.test
        tokens:
          - token: "y0_bob_read_only_token_for_tests_0001"
            scopes: [tracker:read]
      - login: carol
        first_name: Carol
        tokens:
          - token: "y0_carol_token_expiring_mid_2026_0001"
            scopes: [tracker:write]
            expires_at: "2026-06-01T00:00:00Z"
      - login: dave
        first_name: Dave
      - login: erin
        first_name: Erin
    queues:
      - key: TEST
        name: Test queue
        lead: alice
      - key: OPS
        name: Operations
        lead: bob
    applications:
      - id: ru.yandex.bitbucket
        name: Bitbucket
      - id: ci
        type: build
        name: Build server
  - id: "7000002"
    cloud_id: "bpf2other"
    name: Other
    users:
      - login: mallory
        first_name: Mallory
        admin: true
        tokens:
          - token: "y0_mallory_other_org_token_0001"
            scopes: [tracker:read, tracker:write]
    queues:
      - key: SECRET
        name: Other org's queue
        lead: mallory
    applications:
      - id: secret-wiki
        name: Other org's wiki
"#;

/// The seed's logins in Acme, in the order trackerd lists them.
pub const ACME_LOGINS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// The time a test's manual clock starts at: 2026-01-15 12:00:00 UTC.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// [`SEED`], parsed and validated.
pub fn seed_file() -> anyhow::Result<SeedFile> {
    let seed: SeedFile = serde_yaml_ng::from_str(SEED).context("parsing the test seed")?;
    seed.validate().context("checking the test seed")?;
    Ok(seed)
}

/// Writes [`SEED`] into `store` (idempotent, as every seed).
pub async fn apply_seed(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    seed_file()?.apply(store, clock).await?;
    Ok(())
}

/// The seed of one seeded user alone, with `password`: applying it gives the
/// user a password and leaves the rest as the seed has it.
pub(crate) fn with_password(login: &str, password: &str) -> anyhow::Result<SeedFile> {
    for mut org in seed_file()?.organizations {
        if let Some(i) = org.users.iter().position(|u| u.login == login) {
            let mut user = org.users.swap_remove(i);
            user.password = Some(password.to_owned());
            org.users = vec![user];
            org.queues.clear();
            org.applications.clear();
            return Ok(SeedFile {
                organizations: vec![org],
            });
        }
    }
    anyhow::bail!("{login} is not a user of the test seed")
}
