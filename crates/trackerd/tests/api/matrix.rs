//! The permission matrix: every routed endpoint × every kind of caller, with
//! the exact status each must get. The endpoints come from the router's own
//! table (`trackerd::router::endpoints`: the Tracker API and the
//! authorization server's and IAM's JSON APIs), so a new endpoint joins the
//! matrix the moment it is routed — and fails it until its access rule is
//! stated.

use std::collections::HashMap;
use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{json, Value};
use tracker_domain::Scopes;
use trackerd::ops::{issue_oauth_token, put_user, UserSpec};
use trackerd::router::Mount;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(every_endpoint_answers_every_caller_exactly_as_the_model_says);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Who {
    NoToken,
    OtherOrg,
    ReadOnlyToken,
    NoQueueAccess,
    Reader,
    Writer,
    QueueAdmin,
    OrgAdmin,
}

const EVERYONE: [Who; 8] = [
    Who::NoToken,
    Who::OtherOrg,
    Who::ReadOnlyToken,
    Who::NoQueueAccess,
    Who::Reader,
    Who::Writer,
    Who::QueueAdmin,
    Who::OrgAdmin,
];

/// What an endpoint needs, stated once per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Any member of the organization.
    Member,
    /// Organization administrators only.
    OrgAdmin,
    /// Read the restricted queue.
    QueueRead,
    /// Administer the restricted queue.
    QueueGrant,
    /// Read the restricted issue.
    IssueRead,
    /// Change the restricted issue.
    IssueWrite,
    /// Create issues in the restricted queue.
    IssueCreate,
    /// Read the issue and create in another (open) queue.
    Clone,
    /// Only the comment's author (the org admin here) or an org admin.
    CommentAuthor,
    /// Any member whose token may write.
    MemberWrite,
    /// Read the application frank registered (or the bulk change he
    /// asked for): its owner or an org admin; to anyone else it does not
    /// exist.
    AppOwnerRead,
    /// Change that application: its owner or an org admin.
    AppOwnerWrite,
    /// Anyone: the body carries the credential the endpoint checks.
    Open,
    /// Read the saved filter: its owner (the org admin here); to anyone
    /// else it does not exist.
    FilterOwnerRead,
    /// Change that filter: its owner.
    FilterOwnerWrite,
}

fn rule(method: &Method, path: &str) -> Rule {
    use Rule::*;
    let m = method.as_str();
    match (m, path) {
        ("GET", "/oauth/v1/apps") => Member,
        ("POST", "/oauth/v1/apps") => MemberWrite,
        ("GET", "/oauth/v1/apps/{client_id}") => AppOwnerRead,
        ("PATCH" | "DELETE", "/oauth/v1/apps/{client_id}") => AppOwnerWrite,
        (
            _,
            "/oauth/v1/audit" | "/iam/v1/serviceAccounts" | "/iam/v1/keys" | "/iam/v1/keys/{id}",
        ) => OrgAdmin,
        ("POST", "/iam/v1/tokens") => Open,
        (_, p) if p.starts_with("/oauth/") || p.starts_with("/iam/") => {
            panic!("no access rule for {m} {path}: state one in matrix.rs")
        }
        ("POST", "/groups") | ("PATCH", "/groups/{id}") | ("POST", "/queues") => OrgAdmin,
        ("PATCH" | "DELETE", "/queues/{key}")
        | ("POST", "/queues/{key}/_restore" | "/queues/{key}/tags/_remove")
        | ("PATCH", "/queues/{key}/permissions") => QueueGrant,
        ("POST", "/queues/{key}/localFields") | ("PATCH", "/queues/{key}/localFields/{field}") => {
            QueueGrant
        }
        ("POST", "/fields" | "/fields/categories") | ("PATCH", "/fields/{id}") => OrgAdmin,
        ("GET", "/localFields/{id}") => QueueRead,
        // Triggers and auto-actions (their webhooks may carry credentials)
        // are the queue administrators'; its macros are read by its readers.
        (_, p)
            if p.starts_with("/queues/{key}/triggers")
                || p.starts_with("/queues/{key}/autoactions") =>
        {
            QueueGrant
        }
        (_, p) if p.starts_with("/queues/{key}/macros") && m != "GET" => QueueGrant,
        (_, p) if p.starts_with("/queues/{key}") => QueueRead,
        ("POST", "/issues") => IssueCreate,
        // The reference: import is for administrators.
        ("POST", "/issues/_import" | "/entities/{kind}/_import") => OrgAdmin,
        // The probed templates belong to PRIV.
        ("GET", "/issueTemplates/{id}" | "/commentTemplates/{id}") => QueueRead,
        ("POST", "/issueTemplates" | "/commentTemplates")
        | ("PATCH" | "DELETE", "/issueTemplates/{id}" | "/commentTemplates/{id}") => QueueGrant,
        // Boards: any member reads and creates; the probed board is the org
        // admin's, and only its creator or an org admin changes it and its
        // columns and sprints.
        ("POST", "/boards" | "/filters") => MemberWrite,
        ("PATCH" | "DELETE", "/boards/{id}")
        | (_, "/boards/{id}/columns" | "/boards/{id}/columns/{column}")
            if m != "GET" =>
        {
            OrgAdmin
        }
        ("POST", "/sprints") => OrgAdmin,
        ("GET", "/filters/{id}") => FilterOwnerRead,
        (_, "/filters/{id}") => FilterOwnerWrite,
        ("POST", "/issues/_findByUnique") => IssueRead,
        // Open to every member; what they find is filtered (checked below).
        ("POST", "/issues/_search" | "/issues/_count" | "/system/search/scroll/_clear") => Member,
        ("POST", "/worklog/_search") => Member,
        // Any member may ask for a bulk change; each issue is then checked
        // as the author's own edit (bulkchange.rs tests the refusals).
        ("POST", "/bulkchange/_update" | "/bulkchange/_transition" | "/bulkchange/_move")
        | ("POST", "/entities/{kind}/bulkchange/_update") => MemberWrite,
        // The probed bulk change is frank's: its author and the org admin
        // see it; to anyone else it does not exist.
        ("GET", "/bulkchange/{id}" | "/bulkchange/{id}/issues") => AppOwnerRead,
        // A queue's components and versions are its settings.
        ("POST", "/components" | "/versions")
        | ("PATCH" | "DELETE", "/components/{id}" | "/versions/{id}") => QueueGrant,
        ("GET", "/components/{id}" | "/versions/{id}") => QueueRead,
        ("POST", "/issues/{key}/_clone") => Clone,
        ("PATCH" | "DELETE", "/issues/{key}/comments/{id}" | "/issues/{key}/worklog/{id}") => {
            CommentAuthor
        }
        // Temporary uploads: any member may upload. The world's attachment
        // is attached to the restricted issue, so reading it by id is
        // reading that issue.
        ("POST", "/attachments") => MemberWrite,
        ("GET", "/attachments/{id}" | "/attachments/{id}/{filename}") => IssueRead,
        // The world's project: the reader follows it, the writer is on its
        // team, the queue admin leads it, the no-access member has no role
        // and its team alone may see it (`teamAccess`). Creating is for any
        // member; deleting is for the author and the lead.
        ("POST", "/entities/{kind}" | "/projects") => MemberWrite,
        ("POST", "/entities/{kind}/_search") | ("GET", "/projects") => Member,
        ("DELETE", "/entities/{kind}/{id}" | "/projects/{id}") => QueueGrant,
        ("PATCH" | "DELETE", "/entities/{kind}/{id}/comments/{comment}") => CommentAuthor,
        ("GET", p) if p.starts_with("/entities/{kind}/{id}") || p.starts_with("/projects/{id}") => {
            IssueRead
        }
        (_, p) if p.starts_with("/entities/{kind}/{id}") || p.starts_with("/projects/{id}") => {
            IssueWrite
        }
        ("GET", p) if p.starts_with("/issues/{key}") => IssueRead,
        (_, p) if p.starts_with("/issues/{key}") => IssueWrite,
        ("GET", _) => Member,
        _ => panic!("no access rule for {m} {path}: state one in matrix.rs"),
    }
}

/// Whether the rule is about changing something (so a read-only token is
/// refused before the handler runs).
fn writes(rule: Rule) -> bool {
    !matches!(
        rule,
        Rule::Member
            | Rule::QueueRead
            | Rule::IssueRead
            | Rule::AppOwnerRead
            | Rule::Open
            | Rule::FilterOwnerRead
    )
}

fn allowed(rule: Rule, who: Who) -> bool {
    use Who::*;
    if rule == Rule::Open {
        return true;
    }
    if matches!(who, NoToken | OtherOrg) || (who == ReadOnlyToken && writes(rule)) {
        return false;
    }
    match rule {
        Rule::Member | Rule::MemberWrite | Rule::Open => true,
        // frank holds both the writer's and the read-only token.
        Rule::AppOwnerRead => matches!(who, ReadOnlyToken | Writer | OrgAdmin),
        Rule::AppOwnerWrite => matches!(who, Writer | OrgAdmin),
        Rule::OrgAdmin | Rule::CommentAuthor => who == OrgAdmin,
        Rule::FilterOwnerRead | Rule::FilterOwnerWrite => who == OrgAdmin,
        Rule::QueueRead | Rule::IssueRead => {
            matches!(who, ReadOnlyToken | Reader | Writer | QueueAdmin | OrgAdmin)
        }
        Rule::QueueGrant => matches!(who, QueueAdmin | OrgAdmin),
        Rule::IssueWrite | Rule::IssueCreate => matches!(who, Writer | QueueAdmin | OrgAdmin),
        Rule::Clone => matches!(who, Reader | Writer | QueueAdmin | OrgAdmin),
    }
}

/// The status a refused caller gets: `401` without a token, `404` where the
/// endpoint hides what the caller may not manage, `403` otherwise.
fn refusal(rule: Rule, who: Who) -> u16 {
    match who {
        Who::NoToken => 401,
        Who::OtherOrg => 403,
        Who::ReadOnlyToken if writes(rule) => 403,
        _ if matches!(
            rule,
            Rule::AppOwnerRead
                | Rule::AppOwnerWrite
                | Rule::FilterOwnerRead
                | Rule::FilterOwnerWrite
        ) =>
        {
            404
        }
        _ => 403,
    }
}

const BOUNDARY: &str = "matrixboundary";

/// A multipart body holding a small PNG in the field `file`.
fn png_upload() -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// An RSA public key for the worlds' authorized keys, made once: making one
/// per world would cost more than the rest of the world.
fn public_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .unwrap()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    })
}

/// A fresh organization with a restricted queue PRIV:
/// read → group "readers" (erin); create, write → frank; grant → grace.
/// frank has registered an application; the organization has a service
/// account with one authorized key.
struct World {
    app: TestApp,
    tokens: HashMap<Who, String>,
    ids: HashMap<&'static str, String>,
}

async fn world(backend: Backend) -> Option<World> {
    let app = spawn_app(backend).await?;
    let store = app.state.store.clone();
    let org = store.organization_by_org_id(ACME).await.unwrap().unwrap();
    let mut tokens = HashMap::new();
    for (who, login, scopes) in [
        (Who::NoQueueAccess, "dave", Scopes::READ_WRITE),
        (Who::Reader, "erin", Scopes::READ_WRITE),
        (Who::Writer, "frank", Scopes::READ_WRITE),
        (Who::QueueAdmin, "grace", Scopes::READ_WRITE),
    ] {
        let spec = UserSpec {
            login: login.into(),
            first_name: login.into(),
            last_name: String::new(),
            email: String::new(),
            admin: false,
            password: None,
        };
        let user = put_user(store.as_ref(), &app.clock, &org, &spec)
            .await
            .unwrap();
        let (t, _) =
            issue_oauth_token(store.as_ref(), &app.clock, user.uid, scopes, None, "matrix")
                .await
                .unwrap();
        tokens.insert(who, t);
        if who == Who::Writer {
            let (ro, _) = issue_oauth_token(
                store.as_ref(),
                &app.clock,
                user.uid,
                Scopes::READ_ONLY,
                None,
                "matrix",
            )
            .await
            .unwrap();
            tokens.insert(Who::ReadOnlyToken, ro);
        }
    }
    tokens.insert(Who::OtherOrg, MALLORY.into());
    tokens.insert(Who::OrgAdmin, ALICE.into());
    let mut w = World {
        app,
        tokens,
        ids: HashMap::new(),
    };

    let group = w
        .create(
            Who::OrgAdmin,
            "group",
            "/v2/groups",
            json!({"name": "readers", "members": ["erin"]}),
        )
        .await;
    w.call(
        Who::OrgAdmin,
        Method::POST,
        "/v2/queues",
        Some(json!({"key": "PRIV", "name": "Private", "lead": "alice"})),
    )
    .await;
    w.call(
        Who::OrgAdmin,
        Method::PATCH,
        "/v2/queues/PRIV/permissions",
        Some(json!({
            "create": {"users": ["frank"], "groups": [], "roles": []},
            "write": {"users": ["frank"], "groups": [], "roles": []},
            "read": {"users": [], "groups": [group["id"]], "roles": []},
            "grant": {"users": ["grace"], "groups": [], "roles": []},
        })),
    )
    .await;
    for issue in [
        json!({"queue": "PRIV", "summary": "secret", "unique": "priv-unique", "tags": ["hush"]}),
        json!({"queue": "PRIV", "summary": "linked"}),
        json!({"queue": "PRIV", "summary": "spare"}),
        json!({"queue": "TEST", "summary": "open issue"}),
    ] {
        w.call(Who::OrgAdmin, Method::POST, "/v2/issues", Some(issue))
            .await;
    }
    let field = json!({
        "name": {"en": "Matrix"},
        "id": "matrixField",
        "category": "000000000000000000000001",
        "type": "ru.yandex.startrek.core.fields.StringFieldType",
    });
    w.call(
        Who::OrgAdmin,
        Method::POST,
        "/v2/fields",
        Some(field.clone()),
    )
    .await;
    let mut local = field;
    local["id"] = json!("stage");
    // What PRIV holds, by the org admin: each object's id is kept under the
    // name the probes' paths take it by.
    for (name, path, body) in [
        (
            "comment",
            "/v2/issues/PRIV-1/comments",
            json!({"text": "hush"}),
        ),
        (
            "worklog",
            "/v2/issues/PRIV-1/worklog",
            json!({"start": "2026-01-15T10:00:00.000+0000", "duration": "PT1H"}),
        ),
        (
            "link",
            "/v2/issues/PRIV-1/links",
            json!({"relationship": "relates", "issue": "PRIV-2"}),
        ),
        (
            "component",
            "/v2/components",
            json!({"queue": "PRIV", "name": "core"}),
        ),
        (
            "version",
            "/v2/versions",
            json!({"queue": "PRIV", "name": "1.0"}),
        ),
        ("localField", "/v2/queues/PRIV/localFields", local),
        // PRIV's automation: a macro, an inactive trigger, an auto-action.
        (
            "macro",
            "/v2/queues/PRIV/macros",
            json!({"name": "priv", "fieldChanges": [{"field": "tags", "value": "macro"}]}),
        ),
        (
            "trigger",
            "/v2/queues/PRIV/triggers",
            json!({"name": "priv", "active": false,
                   "actions": [{"type": "CreateComment", "text": "t"}]}),
        ),
        (
            "autoaction",
            "/v2/queues/PRIV/autoactions",
            json!({"name": "priv", "query": "Queue: PRIV",
                   "actions": [{"type": "CreateComment", "text": "t"}]}),
        ),
        (
            "issueTemplate",
            "/v2/issueTemplates",
            json!({"name": "priv", "queue": "PRIV"}),
        ),
        (
            "commentTemplate",
            "/v2/commentTemplates",
            json!({"name": "priv", "template": "t", "queue": "PRIV"}),
        ),
        // A board of PRIV's issues, one with a sprint, and a saved filter.
        (
            "board",
            "/v2/boards",
            json!({"name": "priv", "defaultQueue": "PRIV",
                   "columns": [{"name": "Open", "statuses": ["open"]}]}),
        ),
        (
            "sprintBoard",
            "/v2/boards",
            json!({"name": "sprints", "defaultQueue": "TEST"}),
        ),
        (
            "filter",
            "/v2/filters",
            json!({"name": "priv", "query": "Queue: PRIV"}),
        ),
        (
            "remotelink",
            "/v2/issues/PRIV-1/remotelinks",
            json!({"relationship": "relates", "key": "PR-1", "origin": BITBUCKET}),
        ),
        (
            "sa",
            "/iam/v1/serviceAccounts",
            json!({"name": "matrix-robot"}),
        ),
    ] {
        w.create(Who::OrgAdmin, name, path, body).await;
    }
    let issue = w
        .call(
            Who::OrgAdmin,
            Method::POST,
            "/v2/issues/PRIV-1/checklistItems",
            Some(json!([{"text": "first"}, {"text": "second"}])),
        )
        .await;
    w.keep_items(&issue["checklistItems"], ["item", "item2"]);
    let sprint = json!({"name": "S1", "board": {"id": w.ids["sprintBoard"]},
                        "startDate": "2026-01-01", "endDate": "2026-01-14"});
    w.create(Who::OrgAdmin, "sprint", "/v2/sprints", sprint)
        .await;
    let key = json!({"serviceAccountId": w.ids["sa"], "publicKey": public_key()});
    w.create(Who::OrgAdmin, "key", "/iam/v1/keys", key).await;
    let attachment = w
        .upload("/v2/issues/PRIV-1/attachments?filename=a.png")
        .await;
    w.ids.insert("attachment", id_text(&attachment["id"]));
    let app = w
        .call(
            Who::Writer,
            Method::POST,
            "/oauth/v1/apps",
            Some(json!({"name": "frank's app", "redirectUris": ["https://frank.test/cb"]})),
        )
        .await;
    w.ids.insert("app", id_text(&app["clientId"]));
    w.create(
        Who::Writer,
        "bulk",
        "/v2/bulkchange/_update",
        json!({"issues": ["PRIV-2"], "values": {"tags": {"add": ["bulk"]}}}),
    )
    .await;
    w.call(
        Who::OrgAdmin,
        Method::POST,
        "/v2/issues/TEST-1/links",
        Some(json!({"relationship": "depends on", "issue": "PRIV-1"})),
    )
    .await;
    let project = w
        .create(
            Who::OrgAdmin,
            "project",
            "/v2/entities/project",
            json!({"fields": {
                "summary": "hidden project",
                "queues": "TEST",
                "teamAccess": true,
                "lead": "grace",
                "teamUsers": ["frank"],
                "followers": ["erin"],
            }}),
        )
        .await;
    w.ids.insert("projectShort", project["shortId"].to_string());
    let project_path = format!("/v2/entities/project/{}", w.ids["project"]);
    w.create(
        Who::OrgAdmin,
        "entityComment",
        &format!("{project_path}/comments"),
        json!({"text": "team only"}),
    )
    .await;
    let project = w
        .call(
            Who::OrgAdmin,
            Method::POST,
            &format!("{project_path}/checklistItems"),
            Some(json!([{"text": "first"}, {"text": "second"}])),
        )
        .await;
    w.keep_items(
        &project["fields"]["checklistItems"],
        ["entityItem", "entityItem2"],
    );
    for name in ["linkedProject", "spareProject"] {
        let fields = json!({"fields": {"summary": name, "queues": "TEST"}});
        w.create(Who::OrgAdmin, name, "/v2/entities/project", fields)
            .await;
    }
    w.call(
        Who::OrgAdmin,
        Method::POST,
        &format!("{project_path}/links"),
        Some(json!({"relationship": "depends on", "entity": w.ids["linkedProject"]})),
    )
    .await;
    let upload = w.upload("/v2/attachments?filename=a.png").await;
    let file = id_text(&upload["id"]);
    w.call(
        Who::OrgAdmin,
        Method::POST,
        &format!("{project_path}/attachments/{file}"),
        None,
    )
    .await;
    w.ids.insert("entityFile", file);
    Some(w)
}

/// An id as the probes' paths name it: a number's digits, a string as it is.
fn id_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

impl World {
    /// A setup object `who` creates at `path`, its id kept under `name`.
    async fn create(&mut self, who: Who, name: &'static str, path: &str, body: Value) -> Value {
        let v = self.call(who, Method::POST, path, Some(body)).await;
        self.ids.insert(name, id_text(&v["id"]));
        v
    }

    /// Keeps the ids of the first checklist items under `names`.
    fn keep_items<const N: usize>(&mut self, items: &Value, names: [&'static str; N]) {
        for (i, name) in names.into_iter().enumerate() {
            self.ids.insert(name, id_text(&items[i]["id"]));
        }
    }

    /// A PNG the org admin uploads to `path`.
    async fn upload(&self, path: &str) -> Value {
        let resp = self
            .request(Who::OrgAdmin, Method::POST, path)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(png_upload())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "setup: an upload to {path}");
        resp.json().await.unwrap()
    }
}

impl World {
    fn request(&self, who: Who, method: Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.app.request(method, path).header("X-Org-ID", ACME);
        match self.tokens.get(&who) {
            Some(t) => r.header("Authorization", format!("OAuth {t}")),
            None => r,
        }
    }

    /// A setup call that must succeed.
    async fn call(&self, who: Who, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self.request(who, method.clone(), path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(
            status.is_success(),
            "setup {method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The request the matrix sends for an endpoint: concrete path, body
    /// and headers that an allowed caller would succeed with.
    fn probe(
        &self,
        who: Who,
        method: &Method,
        mount: Mount,
        template: &str,
    ) -> reqwest::RequestBuilder {
        let id = |k: &str| self.ids.get(k).cloned().unwrap_or_default();
        let mut path = template.to_owned();
        let key = if template.starts_with("/queues/") {
            "PRIV".to_owned()
        } else {
            "PRIV-1".to_owned()
        };
        path = path.replace("{key}", &key);
        path = path.replace("{kind}", "project");
        let param = match template {
            t if t.starts_with("/entities/") => id("project"),
            t if t.starts_with("/projects/") => id("projectShort"),
            t if t.starts_with("/users/") => "bob".to_owned(),
            t if t.starts_with("/groups/") => id("group"),
            t if t.contains("/macros/") => id("macro"),
            t if t.contains("/triggers/") => id("trigger"),
            t if t.contains("/autoactions/") => id("autoaction"),
            t if t.contains("/comments/") => id("comment"),
            t if t.contains("/links/") => id("link"),
            t if t.contains("/worklog/") => id("worklog"),
            t if t.contains("/remotelinks/") => id("remotelink"),
            t if t.contains("attachments/") || t.contains("/thumbnails/") => id("attachment"),
            t if t.starts_with("/applications/") => BITBUCKET.to_owned(),
            t if t.contains("/checklistItems/") => id("item"),
            t if t.contains("/transitions/") => "start_progress".to_owned(),
            t if t.contains("/checkPermissions/") => "read".to_owned(),
            t if t.starts_with("/statuses/") => "open".to_owned(),
            t if t.starts_with("/priorities/") => "normal".to_owned(),
            t if t.starts_with("/issuetypes/") => "bug".to_owned(),
            t if t.starts_with("/resolutions/") => "fixed".to_owned(),
            t if t.starts_with("/fields/categories/") => "000000000000000000000001".to_owned(),
            t if t.starts_with("/fields/") => "matrixField".to_owned(),
            t if t.starts_with("/localFields/") => id("localField"),
            t if t.starts_with("/iam/v1/keys/") => id("key"),
            t if t.starts_with("/components/") => id("component"),
            t if t.starts_with("/versions/") => id("version"),
            t if t.starts_with("/issueTemplates/") => id("issueTemplate"),
            t if t.starts_with("/bulkchange/") => id("bulk"),
            t if t.starts_with("/commentTemplates/") => id("commentTemplate"),
            t if t.starts_with("/boards/") => id("board"),
            t if t.starts_with("/sprints/") => id("sprint"),
            t if t.starts_with("/filters/") => id("filter"),
            _ => String::new(),
        };
        path = path
            .replace("{id}", &param)
            .replace("{code}", &param)
            .replace("{filename}", "a.png")
            .replace("{field}", "stage")
            .replace("{comment}", &id("entityComment"))
            .replace("{item}", &id("entityItem"))
            // Only its uploader attaches a temporary upload: every caller
            // allowed to change the entity is told the same of a made-up one.
            .replace(
                "{file}",
                &if *method == Method::POST {
                    "0".to_owned()
                } else {
                    id("entityFile")
                },
            )
            .replace("{column}", "1")
            .replace("{client_id}", &id("app"));
        let query = match template {
            "/issues/_findByUnique" => "?unique=priv-unique".to_owned(),
            "/issues/{key}/_move" => "?queue=TEST".to_owned(),
            "/issues/{key}/_clone" => "?queues=TEST".to_owned(),
            "/iam/v1/keys" => format!("?serviceAccountId={}", id("sa")),
            "/entities/{kind}/{id}/links" => format!("?right={}", id("linkedProject")),
            // The world's issues were made at the start time, and changed since.
            t if t.ends_with("/attachments/_import") => {
                "?filename=a.png&createdAt=2026-01-15T12:00:00.000%2B0000&createdBy=alice"
                    .to_owned()
            }
            _ => String::new(),
        };
        let body = match (method.as_str(), template) {
            ("POST", "/groups") => Some(json!({"name": "new group", "members": ["dave"]})),
            ("PATCH", "/groups/{id}") => Some(json!({"members": {"add": ["dave"]}})),
            ("POST", "/queues") => Some(json!({"key": "NEWQ", "name": "New", "lead": "alice"})),
            ("PATCH", "/queues/{key}") => Some(json!({"name": "Renamed"})),
            ("PATCH", "/queues/{key}/permissions") => {
                Some(json!({"read": {"users": {"add": ["bob"]}}}))
            }
            ("POST", "/issues") => Some(json!({"queue": "PRIV", "summary": "new"})),
            ("POST", "/issues/_import") => Some(json!({"queue": "PRIV", "summary": "old",
                "createdAt": "2020-01-01T00:00:00.000+0000", "createdBy": "alice"})),
            ("POST", "/entities/{kind}/_import") => Some(json!({
                "fields": {"summary": "old", "teamAccess": true},
                "createdAt": "2020-01-01T00:00:00.000+0000", "createdBy": "alice"})),
            // The world's issues all live at the clock's start.
            ("POST", "/issues/{key}/comments/_import") => Some(json!({"text": "old",
                "createdAt": "2026-01-15T12:00:00.000+0000", "createdBy": "alice"})),
            ("POST", "/issues/{key}/links/_import") => Some(json!({"relationship": "relates",
                "issue": "PRIV-3", "createdAt": "2026-01-15T12:00:00.000+0000", "createdBy": "alice"})),
            ("POST", "/issues/{key}/worklogs/_import" | "/issues/{key}/worklog/_import") => Some(
                json!({"start": "2026-01-15T10:00:00.000+0000", "duration": "PT1H",
                    "createdAt": "2026-01-15T12:00:00.000+0000", "createdBy": "alice"}),
            ),
            ("POST", "/issueTemplates") => Some(json!({"name": "new", "queue": "PRIV"})),
            ("POST", "/commentTemplates") => {
                Some(json!({"name": "new", "template": "t", "queue": "PRIV"}))
            }
            ("PATCH", "/issueTemplates/{id}" | "/commentTemplates/{id}") => {
                Some(json!({"name": "renamed"}))
            }
            ("PATCH", "/issues/{key}") => Some(json!({"summary": "changed"})),
            ("POST", "/boards") => Some(json!({"name": "new board", "defaultQueue": "TEST"})),
            ("PATCH", "/boards/{id}" | "/boards/{id}/columns/{column}" | "/filters/{id}") => {
                Some(json!({"name": "renamed"}))
            }
            ("POST", "/boards/{id}/columns") => {
                Some(json!({"name": "Done", "statuses": ["closed"]}))
            }
            ("POST", "/sprints") => Some(json!({"name": "S2", "board": {"id": id("board")},
                "startDate": "2026-02-01", "endDate": "2026-02-14"})),
            ("POST", "/filters") => Some(json!({"name": "mine", "query": "Queue: TEST"})),
            ("POST", "/issues/{key}/transitions/{id}/_execute") => Some(json!({})),
            ("POST", "/issues/{key}/comments") => Some(json!({"text": "hi"})),
            ("POST", "/issues/{key}/worklog") => {
                Some(json!({"start": "2026-01-15T10:00:00.000+0000", "duration": "PT1H"}))
            }
            ("PATCH", "/issues/{key}/worklog/{id}") => Some(json!({"duration": "PT2H"})),
            ("POST", "/issues/{key}/remotelinks") => {
                Some(json!({"relationship": "relates", "key": "PR-2", "origin": BITBUCKET}))
            }
            ("POST", "/queues/{key}/tags/_remove") => Some(json!({"tag": "hush"})),
            ("POST", "/worklog/_search") => Some(json!({})),
            ("POST", "/bulkchange/_update") => {
                Some(json!({"issues": ["PRIV-1"], "values": {"tags": {"add": ["bulk"]}}}))
            }
            ("POST", "/bulkchange/_transition") => {
                Some(json!({"issues": ["PRIV-2"], "transition": "start_progress"}))
            }
            ("POST", "/bulkchange/_move") => Some(json!({"issues": ["PRIV-3"], "queue": "TEST"})),
            ("POST", "/entities/{kind}/bulkchange/_update") => Some(json!({
                "metaEntities": [id("project")],
                "values": {"fields": {"entityStatus": "at_risk"}},
            })),
            ("POST", "/components") => Some(json!({"queue": "PRIV", "name": "new component"})),
            ("PATCH", "/components/{id}") => Some(json!({"name": "renamed component"})),
            ("POST", "/versions") => Some(json!({"queue": "PRIV", "name": "2.0"})),
            ("PATCH", "/versions/{id}") => Some(json!({"released": true})),
            ("POST", "/issues/{key}/checklistItems") => Some(json!({"text": "third"})),
            ("PATCH", "/issues/{key}/checklistItems") => {
                Some(json!([{"id": id("item2"), "text": "only"}]))
            }
            ("PATCH", "/issues/{key}/checklistItems/{id}") => Some(json!({"checked": true})),
            ("POST", "/issues/{key}/checklistItems/{id}/_move") => Some(json!({})),
            ("PATCH", "/issues/{key}/comments/{id}") => Some(json!({"text": "edited"})),
            ("POST", "/issues/{key}/links") => {
                Some(json!({"relationship": "relates", "issue": "PRIV-3"}))
            }
            ("PATCH", "/issues/{key}/permissions") => {
                Some(json!({"access": {"users": {"add": ["bob"]}}}))
            }
            ("POST", "/issues/_search" | "/issues/_count") => Some(json!({"query": "Queue: PRIV"})),
            ("POST", "/entities/{kind}") => {
                Some(json!({"fields": {"summary": "new", "teamAccess": true}}))
            }
            ("POST", "/entities/{kind}/_search") => Some(json!({})),
            ("POST", "/entities/{kind}/{id}/comments") => Some(json!({"text": "hi"})),
            ("POST", "/entities/{kind}/{id}/links") => {
                Some(json!({"relationship": "relates", "entity": id("spareProject")}))
            }
            ("POST", "/entities/{kind}/{id}/checklistItems") => Some(json!({"text": "third"})),
            ("PATCH", "/entities/{kind}/{id}/checklistItems") => {
                Some(json!([{"id": id("entityItem2"), "text": "only"}]))
            }
            ("PATCH", "/entities/{kind}/{id}/checklistItems/{item}") => {
                Some(json!({"checked": true}))
            }
            ("POST", "/entities/{kind}/{id}/checklistItems/{item}/_move") => Some(json!({})),
            ("PATCH", "/entities/{kind}/{id}/comments/{comment}") => {
                Some(json!({"text": "edited"}))
            }
            ("PATCH", "/entities/{kind}/{id}") => Some(json!({"fields": {"summary": "renamed"}})),
            ("POST", "/projects") => Some(json!({"name": "new", "queues": "TEST"})),
            ("PUT" | "PATCH", "/projects/{id}") => Some(json!({"name": "renamed"})),
            ("POST", "/system/search/scroll/_clear") => Some(json!({"nosuch": "token"})),
            ("POST", "/oauth/v1/apps") => {
                Some(json!({"name": "new app", "redirectUris": ["https://new.test/cb"]}))
            }
            ("PATCH", "/oauth/v1/apps/{client_id}") => Some(json!({"name": "renamed app"})),
            ("POST", "/iam/v1/serviceAccounts") => Some(json!({"name": "new-robot"})),
            ("POST", "/queues/{key}/macros") => Some(json!({"name": "probe"})),
            ("POST", "/queues/{key}/triggers") => Some(json!({"name": "probe", "active": false,
                "actions": [{"type": "CreateComment", "text": "t"}]})),
            ("POST", "/queues/{key}/autoactions") => Some(json!({"name": "probe",
                "query": "Queue: PRIV", "actions": [{"type": "CreateComment", "text": "t"}]})),
            (
                "PATCH",
                "/queues/{key}/macros/{id}"
                | "/queues/{key}/triggers/{id}"
                | "/queues/{key}/autoactions/{id}",
            ) => Some(json!({"name": "renamed"})),
            ("POST", "/fields" | "/queues/{key}/localFields") => Some(json!({
                "name": {"en": "Probe"},
                "id": "probeField",
                "category": "000000000000000000000001",
                "type": "ru.yandex.startrek.core.fields.StringFieldType",
            })),
            ("POST", "/fields/categories") => Some(json!({"name": {"en": "Probe"}, "order": 1})),
            ("PATCH", "/fields/{id}" | "/queues/{key}/localFields/{field}") => {
                Some(json!({"name": {"en": "Renamed"}}))
            }
            ("POST", "/iam/v1/keys") => {
                Some(json!({"serviceAccountId": id("sa"), "publicKey": public_key()}))
            }
            // Whoever calls, the body names a live token of the organization.
            ("POST", "/iam/v1/tokens") => Some(json!({"yandexPassportOauthToken": ALICE})),
            _ => None,
        };
        let prefix = match mount {
            Mount::Api => "/v2",
            Mount::Root => "",
        };
        let mut r = self.request(who, method.clone(), &format!("{prefix}{path}{query}"));
        if let Some(b) = body {
            r = r.json(&b);
        }
        if method == Method::POST
            && matches!(
                template,
                "/attachments"
                    | "/issues/{key}/attachments"
                    | "/issues/{key}/attachments/_import"
                    | "/issues/{key}/comments/{id}/attachments/_import"
            )
        {
            r = r
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(png_upload());
        }
        match method.as_str() {
            "LINK" => r.header("Link", "<PRIV-3>; rel=\"relates\""),
            "UNLINK" => r.header("Link", "<PRIV-2>; rel=\"relates\""),
            _ => r,
        }
    }
}

async fn every_endpoint_answers_every_caller_exactly_as_the_model_says(app: TestApp) {
    let backend = if app.dsn.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    drop(app);
    let endpoints: Vec<(Method, Mount, &'static str)> = trackerd::router::endpoints()
        .into_iter()
        .map(|e| (e.method, e.mount, e.path))
        .collect();
    let mut checks = 0;
    let mut leaks = Vec::new();
    for (method, mount, path) in &endpoints {
        let mount = *mount;
        let rule = rule(method, path);
        // Member-level POSTs (search, count) change nothing either, nor does
        // exchanging a token.
        let reads = method == Method::GET || matches!(rule, Rule::Member | Rule::Open);
        // Callers who must be refused never change anything, so they share one world.
        let denied_world = world(backend).await.unwrap();
        for who in EVERYONE.into_iter().filter(|w| !allowed(rule, *w)) {
            let want = refusal(rule, who);
            let got = denied_world
                .probe(who, method, mount, path)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            checks += 1;
            if got != want {
                leaks.push(format!("{method} {path} as {who:?}: {got}, want {want}"));
            }
        }
        // The administrator's answer on a fresh world is the answer every
        // allowed caller must get on an identical one.
        let reference_world = world(backend).await.unwrap();
        let reference = reference_world
            .probe(Who::OrgAdmin, method, mount, path)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(
            reference < 500 && reference != 401 && reference != 403,
            "{method} {path} as the admin: {reference}"
        );
        checks += 1;
        let shared = if reads { Some(reference_world) } else { None };
        for who in EVERYONE
            .into_iter()
            .filter(|w| allowed(rule, *w) && *w != Who::OrgAdmin)
        {
            let fresh;
            let w = match &shared {
                Some(w) => w,
                None => {
                    fresh = world(backend).await.unwrap();
                    &fresh
                }
            };
            let got = w
                .probe(who, method, mount, path)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            checks += 1;
            if got != reference {
                leaks.push(format!(
                    "{method} {path} as {who:?}: {got}, the admin got {reference}"
                ));
            }
        }
    }

    // Lists leave out what the caller may not read.
    let w = world(backend).await.unwrap();
    // A bulk change changes an issue only if its author may: asked by a
    // member without access to PRIV, PRIV-1 fails and stays as it was, and
    // a query names none of PRIV's issues.
    let bulk = w
        .call(
            Who::NoQueueAccess,
            Method::POST,
            "/v2/bulkchange/_update",
            Some(json!({"issues": ["PRIV-1"], "values": {"summary": "bulk leak"}})),
        )
        .await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        let op: Value = w
            .request(
                Who::NoQueueAccess,
                Method::GET,
                &format!("/v2/bulkchange/{}", bulk["id"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if op["status"] == "COMPLETE" || op["status"] == "FAILED" {
            break op["status"].clone();
        }
        assert!(
            std::time::Instant::now() < until,
            "the bulk change did not finish: {op}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let priv1 = w
        .call(Who::OrgAdmin, Method::GET, "/v2/issues/PRIV-1", None)
        .await;
    if status != "FAILED" || priv1["summary"] != "secret" {
        leaks.push(format!(
            "a bulk change by a member without access changed PRIV-1: {status}, {}",
            priv1["summary"]
        ));
    }
    let by_query = w
        .request(Who::NoQueueAccess, Method::POST, "/v2/bulkchange/_update")
        .json(&json!({"issues": "Queue: PRIV", "values": {"summary": "bulk leak"}}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    if by_query != 422 {
        leaks.push(format!(
            "a bulk change by query names PRIV's issues to a member without access: {by_query}"
        ));
    }
    let worklog: Value = w
        .request(Who::NoQueueAccess, Method::POST, "/v2/worklog/_search")
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if !worklog.as_array().unwrap().is_empty() {
        leaks.push(format!(
            "the worklog search shows PRIV-1's records to a member without access: {worklog}"
        ));
    }
    for (method, path) in [
        (Method::POST, "/v2/entities/project/_search"),
        (Method::GET, "/v2/projects"),
    ] {
        let mut r = w.request(Who::NoQueueAccess, method.clone(), path);
        if method == Method::POST {
            r = r.json(&json!({}));
        }
        let seen: Value = r.send().await.unwrap().json().await.unwrap();
        if seen.to_string().contains("hidden project")
            || seen.to_string().contains(&w.ids["project"])
        {
            leaks.push(format!(
                "{method} {path} shows the team's project to a member without a role: {seen}"
            ));
        }
    }
    let keys = |v: Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|q| q["key"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let queues = |who| w.probe(who, &Method::GET, Mount::Api, "/queues").send();
    let seen: Vec<String> = keys(
        queues(Who::NoQueueAccess)
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    if seen.contains(&"PRIV".to_owned()) {
        leaks.push("GET /queues shows PRIV to a member without access".into());
    }
    let seen: Vec<String> = keys(queues(Who::Reader).await.unwrap().json().await.unwrap());
    assert!(seen.contains(&"PRIV".to_owned()), "a reader sees the queue");
    let components = |who| w.probe(who, &Method::GET, Mount::Api, "/components").send();
    let seen: Value = components(Who::NoQueueAccess)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if !seen.as_array().unwrap().is_empty() {
        leaks.push(format!(
            "GET /components shows PRIV's components to a member without access: {seen}"
        ));
    }
    // A board shows only the issues of queues the caller may read.
    let board_issues = |who| {
        w.request(who, Method::POST, "/v2/issues/_search")
            .json(&json!({"filter": {"boards": w.ids["board"]}}))
            .send()
    };
    let seen: Value = board_issues(Who::NoQueueAccess)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if !seen.as_array().unwrap().is_empty() {
        leaks.push(format!(
            "the PRIV board shows its issues to a member without access: {seen}"
        ));
    }
    let board = |who| {
        w.request(who, Method::GET, &format!("/v2/boards/{}", w.ids["board"]))
            .send()
    };
    let seen: Value = board(Who::NoQueueAccess)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if !seen["defaultQueue"].is_null() {
        leaks.push(format!(
            "the PRIV board names its queue to a member without access: {seen}"
        ));
    }
    let seen: Value = board(Who::Reader).await.unwrap().json().await.unwrap();
    assert_eq!(
        seen["defaultQueue"]["key"], "PRIV",
        "a reader sees the board's queue"
    );
    let seen: Value = board_issues(Who::Reader)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !seen.as_array().unwrap().is_empty(),
        "a reader sees the PRIV board's issues"
    );
    let seen: Value = components(Who::Reader).await.unwrap().json().await.unwrap();
    assert_eq!(
        seen.as_array().unwrap().len(),
        1,
        "a reader sees PRIV's component"
    );
    let links: Value = w
        .request(Who::NoQueueAccess, Method::GET, "/v2/issues/TEST-1/links")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if !links.as_array().unwrap().is_empty() {
        leaks.push(format!(
            "TEST-1's links show PRIV-1 to a member without access: {links}"
        ));
    }
    let links: Value = w
        .request(Who::Reader, Method::GET, "/v2/issues/TEST-1/links")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(links.as_array().unwrap().len(), 1, "a reader sees the link");
    let everything = json!({"query": "Queue: PRIV OR Queue: TEST"});
    let search = |who| {
        w.request(who, Method::POST, "/v2/issues/_search")
            .json(&everything)
            .send()
    };
    let count = |who| {
        w.request(who, Method::POST, "/v2/issues/_count")
            .json(&everything)
            .send()
    };
    let found = keys(
        search(Who::NoQueueAccess)
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    if found.iter().any(|k| k.starts_with("PRIV-")) {
        leaks.push(format!(
            "_search shows PRIV issues to a member without access: {found:?}"
        ));
    }
    let n: i64 = count(Who::NoQueueAccess)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if n != 1 {
        leaks.push(format!(
            "_count counts {n} issues for a member without access to PRIV, want 1"
        ));
    }
    let found = keys(search(Who::Reader).await.unwrap().json().await.unwrap());
    assert_eq!(found.len(), 4, "a reader finds PRIV's issues: {found:?}");
    let n: i64 = count(Who::Reader).await.unwrap().json().await.unwrap();
    assert_eq!(n, 4, "a reader counts PRIV's issues");
    checks += 8;

    // The exchange checks the token in the body, whatever the headers say.
    for (body, want) in [
        (json!({"yandexPassportOauthToken": "y0_no_such_token"}), 401),
        (json!({"yandexPassportOauthToken": MALLORY}), 200),
        (json!({}), 400),
    ] {
        let got = w
            .request(Who::OrgAdmin, Method::POST, "/iam/v1/tokens")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        checks += 1;
        if got != want {
            leaks.push(format!(
                "POST /iam/v1/tokens with {body}: {got}, want {want}"
            ));
        }
    }
    // Another member's application stays out of their list.
    let apps: Value = w
        .request(Who::NoQueueAccess, Method::GET, "/oauth/v1/apps")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    checks += 1;
    if !apps.as_array().unwrap().is_empty() {
        leaks.push(format!(
            "GET /oauth/v1/apps shows frank's app to dave: {apps}"
        ));
    }

    eprintln!(
        "permission matrix ({backend:?}): {} endpoints × {} principals, {checks} checks, {} leaks",
        endpoints.len(),
        EVERYONE.len(),
        leaks.len()
    );
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
