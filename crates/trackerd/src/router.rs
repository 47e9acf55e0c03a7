//! The endpoint table, the router built from it, and `serve`. This is the
//! one module that knows every handler; handlers know nothing of it.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;
use tracker_domain::Scope;

use crate::auth::Needs;
use crate::error::ApiError;
use crate::openapi::{Answer, Body, Caller, Errors, Op};
use crate::state::AppState;
use crate::{oauth, observe, routes};

/// Where an endpoint is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// The Tracker API: below `/v2` and `/v3` alike.
    Api,
    /// At its path as written (the authorization server's and IAM's JSON APIs).
    Root,
}

/// One JSON endpoint: its method, where it is mounted, what a caller needs
/// to reach it, and its handler. The router is built from this table, and
/// the permission matrix test walks the same table, so a new endpoint is
/// tested as soon as it is routed.
pub struct Endpoint {
    pub method: Method,
    pub mount: Mount,
    pub path: &'static str,
    pub needs: Needs,
    /// What a request carries and what it answers (for the OpenAPI document).
    pub body: Body,
    pub answer: Answer,
    pub route: MethodRouter<AppState>,
}

impl Endpoint {
    /// The row's operations in the OpenAPI document: one per path.
    pub fn ops(&self) -> Vec<Op> {
        self.paths()
            .into_iter()
            .map(|path| Op {
                tag: match self.mount {
                    Mount::Api if path.starts_with("/v2") => "Tracker API v2",
                    Mount::Api => "Tracker API v3",
                    Mount::Root if path.starts_with("/iam") => "IAM",
                    Mount::Root => "Authorization server",
                },
                method: self.method.clone(),
                path,
                caller: match (self.mount, self.needs) {
                    (_, Needs::Nothing) => Caller::Anyone,
                    (Mount::Api, Needs::Token(scope)) => Caller::TokenInOrg(scope),
                    (Mount::Root, Needs::Token(scope)) => Caller::Token(scope),
                },
                body: self.body,
                answer: self.answer,
                errors: Errors::Envelope,
            })
            .collect()
    }

    /// The paths the router serves this endpoint at.
    pub fn paths(&self) -> Vec<String> {
        match self.mount {
            Mount::Api => vec![format!("/v2{}", self.path), format!("/v3{}", self.path)],
            Mount::Root => vec![self.path.to_owned()],
        }
    }
}

/// The methods the official client uses for links on an issue.
pub fn link_methods() -> [Method; 2] {
    [
        Method::from_bytes(b"LINK").unwrap_or(Method::POST),
        Method::from_bytes(b"UNLINK").unwrap_or(Method::POST),
    ]
}

/// Every JSON endpoint, a row each: method, path, the scope a token needs
/// (stated per row rather than guessed from the method: `_search` and
/// `_count` are POSTs that only read) and the handler.
#[rustfmt::skip]
pub fn endpoints() -> Vec<Endpoint> {
    use oauth::{apps, audit_trail, iam_token, service_accounts as sa};
    use routes::{
        agile, attachments as attach, automation as auto, bulkchange as bulk, catalog, changelog, checklists, comments,
        dictionaries as dict, entities, entity_attachments as efiles,
        entity_checklists as echecklists, entity_comments as ecomments, entity_links as elinks,
        fields, import, issues, links, permissions as perms, projects, queues,
        remote_links as remote, search, templates, users, worklog,
    };
    use Needs::{Nothing, Token};
    use Scope::{Read, Write};
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    const DELETE: Method = Method::DELETE;
    const PUT: Method = Method::PUT;
    use auto::{AUTOACTIONS as AA, MACROS as MA, TRIGGERS as TR};
    use templates::{COMMENT as CT, ISSUE as IT};
    use agile::{BOARDS as BO, FILTERS as FI};
    use dict::{ISSUE_TYPES as ITY, PRIORITIES as PRI, RESOLUTIONS as RES};
    let [link, unlink] = link_methods();
    vec![
        api(GET, "/myself", Read, users::myself),
        api(GET, "/users", Read, users::list),
        api(GET, "/users/{id}", Read, users::get),
        api(GET, "/groups", Read, perms::list_groups),
        api(POST, "/groups", Write, perms::create_group),
        api(GET, "/groups/{id}", Read, perms::get_group),
        api(PATCH, "/groups/{id}", Write, perms::patch_group),
        api(GET, "/queues", Read, queues::list),
        api(POST, "/queues", Write, queues::create),
        api(GET, "/queues/{key}", Read, queues::get),
        api(PATCH, "/queues/{key}", Write, queues::update),
        api(DELETE, "/queues/{key}", Write, queues::delete),
        api(POST, "/queues/{key}/_restore", Write, queues::restore),
        api(GET, "/queues/{key}/tags", Read, queues::tags),
        api(POST, "/queues/{key}/tags/_remove", Write, queues::remove_tag),
        api(GET, "/queues/{key}/fields", Read, queues::queue_fields),
        api(GET, "/queues/{key}/workflows", Read, queues::workflows),
        api(GET, "/queues/{key}/permissions", Read, perms::get_queue),
        api(PATCH, "/queues/{key}/permissions", Write, perms::patch_queue),
        api(GET, "/queues/{key}/checkPermissions/{code}", Read, perms::check_queue),
        api(GET, "/statuses", Read, dict::statuses),
        api(GET, "/statuses/{id}", Read, dict::status),
        api(GET, "/priorities", Read, dict::plain_list::<PRI>),
        api(GET, "/priorities/{id}", Read, dict::plain_one::<PRI>),
        api(GET, "/issuetypes", Read, dict::plain_list::<ITY>),
        api(GET, "/issuetypes/{id}", Read, dict::plain_one::<ITY>),
        api(GET, "/resolutions", Read, dict::plain_list::<RES>),
        api(GET, "/resolutions/{id}", Read, dict::plain_one::<RES>),
        api(GET, "/linktypes", Read, dict::link_types),
        api(GET, "/fields", Read, fields::list),
        api(POST, "/fields", Write, fields::create),
        api(GET, "/fields/categories", Read, fields::list_categories),
        api(POST, "/fields/categories", Write, fields::create_category),
        api(GET, "/fields/categories/{id}", Read, fields::get_category),
        api(GET, "/fields/{id}", Read, fields::get),
        api(PATCH, "/fields/{id}", Write, fields::update),
        api(GET, "/queues/{key}/localFields", Read, fields::list_local),
        api(POST, "/queues/{key}/localFields", Write, fields::create_local),
        api(GET, "/queues/{key}/localFields/{field}", Read, fields::get_local),
        api(PATCH, "/queues/{key}/localFields/{field}", Write, fields::update_local),
        api(GET, "/localFields/{id}", Read, fields::get_local_by_id),
        api(GET, "/workflows", Read, dict::workflows),
        api(POST, "/issues", Write, issues::create),
        api(POST, "/issues/_search", Read, search::search),
        api(POST, "/issues/_count", Read, search::count),
        api(POST, "/system/search/scroll/_clear", Read, search::clear_scroll),
        api(POST, "/issues/_findByUnique", Read, issues::find_by_unique),
        // Import: issues, comments and links with the authors and dates
        // they had elsewhere.
        api(POST, "/issues/_import", Write, import::issue),
        api(POST, "/issues/{key}/comments/_import", Write, import::comment),
        api(POST, "/issues/{key}/links/_import", Write, import::link),
        api(POST, "/issues/{key}/worklogs/_import", Write, import::worklog),
        api(POST, "/issues/{key}/worklog/_import", Write, import::worklog),
        api(GET, "/issues/{key}", Read, issues::get),
        api(PATCH, "/issues/{key}", Write, issues::update),
        // LINK and UNLINK are not methods axum routes by name: one fallback
        // serves both, and answers 405 to anything else before the caller
        // is even looked at (no row states what another method needs).
        link_row(link),
        Endpoint { route: MethodRouter::new(), ..link_row(unlink) },
        api(POST, "/issues/{key}/_move", Write, issues::move_issue),
        api(POST, "/issues/{key}/_clone", Write, issues::clone_issue),
        api(GET, "/issues/{key}/transitions", Read, issues::transitions),
        api(GET, "/issues/{key}/transitions/{id}", Read, issues::transition),
        api(POST, "/issues/{key}/transitions/{id}/_execute", Write, issues::execute_transition),
        api(GET, "/issues/{key}/comments", Read, comments::list),
        api(POST, "/issues/{key}/comments", Write, comments::create),
        api(GET, "/issues/{key}/comments/{id}", Read, comments::get),
        api(PATCH, "/issues/{key}/comments/{id}", Write, comments::update),
        api(DELETE, "/issues/{key}/comments/{id}", Write, comments::delete),
        api(GET, "/issues/{key}/checklistItems", Read, checklists::list),
        api(POST, "/issues/{key}/checklistItems", Write, checklists::add),
        api(PATCH, "/issues/{key}/checklistItems", Write, checklists::replace),
        api(DELETE, "/issues/{key}/checklistItems", Write, checklists::clear),
        api(PATCH, "/issues/{key}/checklistItems/{id}", Write, checklists::change),
        api(DELETE, "/issues/{key}/checklistItems/{id}", Write, checklists::remove),
        api(POST, "/issues/{key}/checklistItems/{id}/_move", Write, checklists::move_item),
        api(GET, "/issues/{key}/worklog", Read, worklog::list),
        api(POST, "/issues/{key}/worklog", Write, worklog::create),
        api(PATCH, "/issues/{key}/worklog/{id}", Write, worklog::update),
        api(DELETE, "/issues/{key}/worklog/{id}", Write, worklog::delete),
        api(GET, "/worklog", Read, worklog::search_get),
        // A search: it only reads.
        api(POST, "/worklog/_search", Read, worklog::search),
        api(GET, "/issues/{key}/links", Read, links::list),
        api(POST, "/issues/{key}/links", Write, links::create),
        api(GET, "/issues/{key}/links/{id}", Read, links::get),
        api(DELETE, "/issues/{key}/links/{id}", Write, links::delete),
        // Remote links and applications.
        api(GET, "/issues/{key}/remotelinks", Read, remote::list),
        api(POST, "/issues/{key}/remotelinks", Write, remote::create),
        api(DELETE, "/issues/{key}/remotelinks/{id}", Write, remote::delete),
        api(GET, "/applications", Read, remote::applications),
        api(GET, "/applications/{id}", Read, remote::application),
        // Attachments: uploads stream past the JSON body limit (`upload`).
        upload(api(POST, "/attachments", Write, attach::upload_temporary)),
        api(GET, "/attachments/{id}", Read, attach::get),
        file(api(GET, "/attachments/{id}/{filename}", Read, attach::download_by_id)),
        api(GET, "/issues/{key}/attachments", Read, attach::list),
        upload(api(POST, "/issues/{key}/attachments", Write, attach::upload_to_issue)),
        file(api(GET, "/issues/{key}/attachments/{id}/{filename}", Read, attach::download)),
        api(DELETE, "/issues/{key}/attachments/{id}", Write, attach::delete),
        file(api(GET, "/issues/{key}/thumbnails/{id}", Read, attach::thumbnail)),
        upload(api(POST, "/issues/{key}/attachments/_import", Write, attach::import_to_issue)),
        upload(api(POST, "/issues/{key}/comments/{id}/attachments/_import", Write, attach::import_to_comment)),
        api(GET, "/issues/{key}/changelog", Read, changelog::list),
        // Bulk changes: created at once, applied by the background worker.
        api(POST, "/bulkchange/_update", Write, bulk::update),
        api(POST, "/bulkchange/_transition", Write, bulk::transition),
        api(POST, "/bulkchange/_move", Write, bulk::move_issues),
        api(GET, "/bulkchange/{id}", Read, bulk::get),
        api(GET, "/bulkchange/{id}/issues", Read, bulk::failed_issues),
        api(POST, "/entities/{kind}/bulkchange/_update", Write, bulk::update_entities),
        api(GET, "/issues/{key}/permissions", Read, perms::get_issue),
        api(PATCH, "/issues/{key}/permissions", Write, perms::patch_issue),
        // Components and versions.
        api(GET, "/queues/{key}/versions", Read, queues::versions),
        api(GET, "/queues/{key}/components", Read, queues::components),
        api(GET, "/components", Read, catalog::list_components),
        api(POST, "/components", Write, catalog::create_component),
        api(GET, "/components/{id}", Read, catalog::get_component),
        api(PATCH, "/components/{id}", Write, catalog::update_component),
        api(DELETE, "/components/{id}", Write, catalog::delete_component),
        api(POST, "/versions", Write, catalog::create_version),
        api(GET, "/versions/{id}", Read, catalog::get_version),
        api(PATCH, "/versions/{id}", Write, catalog::update_version),
        // Issue and comment templates, of the organization and of queues.
        api(GET, "/issueTemplates", Read, templates::list::<IT>),
        api(POST, "/issueTemplates", Write, templates::create::<IT>),
        api(GET, "/issueTemplates/{id}", Read, templates::get::<IT>),
        api(PATCH, "/issueTemplates/{id}", Write, templates::update::<IT>),
        api(DELETE, "/issueTemplates/{id}", Write, templates::delete::<IT>),
        api(GET, "/queues/{key}/issueTemplates", Read, templates::list_of_queue::<IT>),
        api(GET, "/commentTemplates", Read, templates::list::<CT>),
        api(POST, "/commentTemplates", Write, templates::create::<CT>),
        api(GET, "/commentTemplates/{id}", Read, templates::get::<CT>),
        api(PATCH, "/commentTemplates/{id}", Write, templates::update::<CT>),
        api(DELETE, "/commentTemplates/{id}", Write, templates::delete::<CT>),
        api(GET, "/queues/{key}/commentTemplates", Read, templates::list_of_queue::<CT>),
        // Queue automation: macros, triggers, auto-actions.
        api(GET, "/queues/{key}/macros", Read, auto::list::<MA>),
        api(POST, "/queues/{key}/macros", Write, auto::create::<MA>),
        api(GET, "/queues/{key}/macros/{id}", Read, auto::get::<MA>),
        api(PATCH, "/queues/{key}/macros/{id}", Write, auto::update::<MA>),
        api(DELETE, "/queues/{key}/macros/{id}", Write, auto::delete::<MA>),
        api(POST, "/issues/{key}/macros/{id}/_execute", Write, auto::execute_macro),
        api(GET, "/queues/{key}/triggers", Read, auto::list::<TR>),
        api(POST, "/queues/{key}/triggers", Write, auto::create::<TR>),
        api(GET, "/queues/{key}/triggers/{id}", Read, auto::get::<TR>),
        api(PATCH, "/queues/{key}/triggers/{id}", Write, auto::update::<TR>),
        api(DELETE, "/queues/{key}/triggers/{id}", Write, auto::delete::<TR>),
        api(GET, "/queues/{key}/triggers/{id}/deliveries", Read, auto::deliveries::<TR>),
        api(GET, "/queues/{key}/autoactions", Read, auto::list::<AA>),
        api(POST, "/queues/{key}/autoactions", Write, auto::create::<AA>),
        api(GET, "/queues/{key}/autoactions/{id}", Read, auto::get::<AA>),
        // The reference's request block reads an auto-action with POST.
        api(POST, "/queues/{key}/autoactions/{id}", Read, auto::get::<AA>),
        api(PATCH, "/queues/{key}/autoactions/{id}", Write, auto::update::<AA>),
        api(DELETE, "/queues/{key}/autoactions/{id}", Write, auto::delete::<AA>),
        api(GET, "/queues/{key}/autoactions/{id}/deliveries", Read, auto::deliveries::<AA>),
        // Projects, portfolios and goals ("entities").
        api(POST, "/entities/{kind}", Write, entities::create),
        api(POST, "/entities/{kind}/_import", Write, import::entity),
        // A search: it only reads.
        api(POST, "/entities/{kind}/_search", Read, entities::search),
        api(GET, "/entities/{kind}/{id}", Read, entities::get),
        api(PATCH, "/entities/{kind}/{id}", Write, entities::update),
        api(DELETE, "/entities/{kind}/{id}", Write, entities::delete),
        api(GET, "/entities/{kind}/{id}/events/_relative", Read, entities::events),
        api(GET, "/entities/{kind}/{id}/comments", Read, ecomments::list),
        api(POST, "/entities/{kind}/{id}/comments", Write, ecomments::create),
        api(GET, "/entities/{kind}/{id}/comments/_relative", Read, ecomments::relative_list),
        api(GET, "/entities/{kind}/{id}/comments/{comment}", Read, ecomments::get),
        api(PATCH, "/entities/{kind}/{id}/comments/{comment}", Write, ecomments::update),
        api(DELETE, "/entities/{kind}/{id}/comments/{comment}", Write, ecomments::delete),
        api(GET, "/entities/{kind}/{id}/attachments", Read, efiles::list),
        api(GET, "/entities/{kind}/{id}/attachments/{file}", Read, efiles::get),
        api(POST, "/entities/{kind}/{id}/attachments/{file}", Write, efiles::attach),
        api(DELETE, "/entities/{kind}/{id}/attachments/{file}", Write, efiles::delete),
        api(GET, "/entities/{kind}/{id}/links", Read, elinks::list),
        api(POST, "/entities/{kind}/{id}/links", Write, elinks::create),
        api(DELETE, "/entities/{kind}/{id}/links", Write, elinks::delete),
        api(POST, "/entities/{kind}/{id}/checklistItems", Write, echecklists::add),
        api(PATCH, "/entities/{kind}/{id}/checklistItems", Write, echecklists::change_many),
        api(DELETE, "/entities/{kind}/{id}/checklistItems", Write, echecklists::clear),
        api(PATCH, "/entities/{kind}/{id}/checklistItems/{item}", Write, echecklists::change),
        api(DELETE, "/entities/{kind}/{id}/checklistItems/{item}", Write, echecklists::remove),
        api(POST, "/entities/{kind}/{id}/checklistItems/{item}/_move", Write, echecklists::move_item),
        // The older projects API: the same projects.
        api(GET, "/projects", Read, projects::list),
        api(POST, "/projects", Write, projects::create),
        api(GET, "/projects/{id}", Read, projects::get),
        api(PUT, "/projects/{id}", Write, projects::update),
        api(PATCH, "/projects/{id}", Write, projects::update),
        api(DELETE, "/projects/{id}", Write, projects::delete),
        api(GET, "/projects/{id}/queues", Read, projects::queues),
        // Agile boards, their columns and sprints; saved filters.
        api(GET, "/boards", Read, agile::list::<BO>),
        api(POST, "/boards", Write, agile::create::<BO>),
        api(GET, "/boards/{id}", Read, agile::get::<BO>),
        api(PATCH, "/boards/{id}", Write, agile::update::<BO>),
        api(DELETE, "/boards/{id}", Write, agile::delete::<BO>),
        api(GET, "/boards/{id}/columns", Read, agile::list_columns),
        api(POST, "/boards/{id}/columns", Write, agile::create_column),
        api(GET, "/boards/{id}/columns/{column}", Read, agile::get_column),
        api(PATCH, "/boards/{id}/columns/{column}", Write, agile::update_column),
        api(DELETE, "/boards/{id}/columns/{column}", Write, agile::delete_column),
        api(GET, "/boards/{id}/sprints", Read, agile::list_board_sprints),
        api(GET, "/sprints", Read, agile::list_sprints),
        api(POST, "/sprints", Write, agile::create_sprint),
        api(GET, "/sprints/{id}", Read, agile::get_sprint),
        api(GET, "/filters", Read, agile::list::<FI>),
        api(POST, "/filters", Write, agile::create::<FI>),
        api(GET, "/filters/{id}", Read, agile::get::<FI>),
        api(PATCH, "/filters/{id}", Write, agile::update::<FI>),
        api(DELETE, "/filters/{id}", Write, agile::delete::<FI>),
        // The authorization server's and IAM's JSON APIs.
        root(GET, "/oauth/v1/apps", Token(Read), apps::list),
        root(POST, "/oauth/v1/apps", Token(Write), apps::create),
        root(GET, "/oauth/v1/apps/{client_id}", Token(Read), apps::get),
        root(PATCH, "/oauth/v1/apps/{client_id}", Token(Write), apps::update),
        root(DELETE, "/oauth/v1/apps/{client_id}", Token(Write), apps::delete),
        root(GET, "/oauth/v1/audit", Token(Read), audit_trail::audit_list),
        // The body carries the credential being exchanged.
        root(POST, "/iam/v1/tokens", Nothing, iam_token::create_token),
        root(GET, "/iam/v1/serviceAccounts", Token(Read), sa::list_service_accounts),
        root(POST, "/iam/v1/serviceAccounts", Token(Write), sa::create_service_account),
        root(GET, "/iam/v1/keys", Token(Read), sa::list_keys),
        root(POST, "/iam/v1/keys", Token(Write), sa::create_key),
        root(DELETE, "/iam/v1/keys/{id}", Token(Write), sa::delete_key),
    ]
}

/// A Tracker API row: served below `/v2` and `/v3`, for a token with `scope`.
fn api<H, T>(method: Method, path: &'static str, scope: Scope, handler: H) -> Endpoint
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Endpoint {
        mount: Mount::Api,
        needs: Needs::Token(scope),
        ..root(method, path, Needs::Nothing, handler)
    }
}

/// A row served at its path as written.
fn root<H, T>(method: Method, path: &'static str, needs: Needs, handler: H) -> Endpoint
where
    H: Handler<T, AppState>,
    T: 'static,
{
    // Every method a row names by constant has a filter; LINK and UNLINK
    // rows are built by `link_row`.
    let route = MethodFilter::try_from(method.clone())
        .map_or_else(|_| MethodRouter::new(), |filter| on(filter, handler));
    Endpoint {
        body: if [Method::POST, Method::PATCH, Method::PUT].contains(&method) {
            Body::Json
        } else {
            Body::None
        },
        method,
        mount: Mount::Root,
        path,
        needs,
        answer: Answer::Json,
        route,
    }
}

/// An upload row: `limits.body_bytes` is for JSON bodies, not files; the
/// handler streams the file and enforces `attachments.max_size_bytes`.
fn upload(ep: Endpoint) -> Endpoint {
    Endpoint {
        route: ep.route.layer(axum::extract::DefaultBodyLimit::disable()),
        body: Body::Upload,
        ..ep
    }
}

/// A download row: it answers a file's bytes in the file's own type.
fn file(ep: Endpoint) -> Endpoint {
    Endpoint {
        answer: Answer::File,
        ..ep
    }
}

fn link_row(method: Method) -> Endpoint {
    let route = MethodRouter::new().fallback(
        |State(state): State<AppState>, req: axum::extract::Request| async move {
            match req.method().as_str() {
                "LINK" | "UNLINK" => Handler::call(routes::links::link_methods, req, state).await,
                _ => ApiError::MethodNotAllowed.into_response(),
            }
        },
    );
    Endpoint {
        method,
        mount: Mount::Api,
        path: "/issues/{key}",
        needs: Needs::Token(Scope::Write),
        body: Body::Json,
        answer: Answer::Json,
        route,
    }
}

/// A route outside the endpoint table: it checks its own caller (a
/// browser session, client credentials, a token of the node's settings,
/// or nobody) rather than through `Principal`.
pub struct Route {
    pub op: Op,
    pub route: MethodRouter<AppState>,
}

/// Every route outside the endpoint table, a table per source: the
/// authorization server's and the node's own. The control plane
/// (`/_trackerd/…`) adds its own table here; the router, the OpenAPI
/// document and the metrics' route labels all read this list.
pub fn routes() -> Vec<Route> {
    let mut routes = authorization_server();
    routes.extend(node_routes());
    routes
}

/// A row of [`routes`]' tables.
fn route<H, T>(
    method: Method,
    path: &'static str,
    (tag, caller, body, answer, errors): (&'static str, Caller, Body, Answer, Errors),
    handler: H,
) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let route = MethodFilter::try_from(method.clone())
        .map_or_else(|_| MethodRouter::new(), |filter| on(filter, handler));
    Route {
        op: Op {
            method,
            path: path.to_owned(),
            tag,
            caller,
            body,
            answer,
            errors,
        },
        route,
    }
}

/// The authorization server's pages and its RFC endpoints: forms and
/// redirects rather than JSON resources, each checking its own caller
/// (a browser session, client credentials, or nobody).
#[rustfmt::skip]
fn authorization_server() -> Vec<Route> {
    use oauth::{account, apps, authorize, device, federation, token};
    const TAG: &str = "Authorization server";
    // A JSON answer, RFC 6749's errors; a form in, or nothing.
    let rfc = (TAG, Caller::Anyone, Body::Form, Answer::Json, Errors::OAuth);
    let page = (TAG, Caller::Anyone, Body::None, Answer::Html, Errors::Html);
    let form = (TAG, Caller::Anyone, Body::Form, Answer::Html, Errors::Html);
    let (get, post) = (Method::GET, Method::POST);
    vec![
        route(get.clone(), "/.well-known/oauth-authorization-server", (TAG, Caller::Anyone, Body::None, Answer::Json, Errors::OAuth), apps::metadata),
        route(get.clone(), "/authorize", page, authorize::authorize_get),
        route(post.clone(), "/authorize", form, authorize::authorize_post),
        route(post.clone(), "/token", rfc, token::token),
        route(post.clone(), "/revoke_token", rfc, token::revoke),
        route(post.clone(), "/introspect", rfc, token::introspect),
        route(post.clone(), "/device/code", rfc, device::device_code),
        route(get.clone(), "/device", page, device::page),
        route(post.clone(), "/device", form, device::decide),
        route(get.clone(), "/signin", page, authorize::signin_page),
        route(post.clone(), "/signin", form, authorize::signin_submit),
        route(post.clone(), "/signout", form, authorize::signout),
        route(get.clone(), "/federation/{id}/start", page, federation::start),
        route(get.clone(), "/federation/callback", page, federation::callback),
        route(get.clone(), "/password", page, authorize::password_page),
        route(post.clone(), "/password", form, authorize::password_submit),
        route(get.clone(), "/my", page, account::page),
        route(post.clone(), "/my/tokens/{id}/revoke", form, account::revoke_token),
        route(post.clone(), "/my/consents/{client_id}/withdraw", form, account::withdraw_consent),
        route(get.clone(), "/my/apps/new", page, account::new_app_page),
        route(post, "/my/apps/new", form, account::new_app_submit),
    ]
}

/// The node's own routes: liveness, readiness, metrics, this document.
#[rustfmt::skip]
fn node_routes() -> Vec<Route> {
    const TAG: &str = "Operations";
    let json = (TAG, Caller::Anyone, Body::None, Answer::Json, Errors::Envelope);
    vec![
        route(Method::GET, "/_trackerd/health", (TAG, Caller::Anyone, Body::None, Answer::Text, Errors::Envelope), observe::health),
        route(Method::GET, "/readyz", json, observe::readyz),
        route(Method::GET, "/metrics", (TAG, Caller::MetricsToken, Body::None, Answer::Text, Errors::Envelope), observe::metrics),
        route(Method::GET, "/openapi.json", json, openapi_json),
    ]
}

/// Every operation the router serves, from every table.
pub fn operations() -> Vec<Op> {
    let mut ops: Vec<Op> = endpoints().iter().flat_map(Endpoint::ops).collect();
    ops.extend(routes().into_iter().map(|r| r.op));
    ops.extend(control_operations());
    ops
}

/// The control plane's routes (`crate::control::ROUTES`), served only when
/// `control_token` is set but always documented: JSON in and out, the
/// plane's own token as the caller.
pub fn control_operations() -> impl Iterator<Item = Op> {
    crate::control::ROUTES.iter().map(|(method, path)| Op {
        method: method.clone(),
        path: (*path).to_owned(),
        tag: "control plane",
        caller: crate::openapi::Caller::ControlToken,
        body: crate::openapi::Body::Json,
        answer: crate::openapi::Answer::Json,
        errors: crate::openapi::Errors::Envelope,
    })
}

/// `GET /openapi.json`: the document of [`operations`], made once.
async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: std::sync::LazyLock<Value> =
        std::sync::LazyLock::new(|| crate::openapi::document(&operations()));
    axum::Json(&*DOCUMENT)
}

type Value = serde_json::Value;

/// The route pattern `path` matches (`/v2/issues/{key}`), or `unmatched`:
/// the metrics' `route` label, bounded by the tables whatever clients send.
fn route_pattern(path: &str) -> &'static str {
    struct Patterns {
        /// The patterns without parameters (`/v2/myself`): a path equal to
        /// one is that route, as matchit puts static routes first. One hash
        /// lookup instead of a walk of the route tree: ~100 instructions
        /// instead of ~370 for `GET /v2/myself` (callgrind). The table is
        /// fixed at start and never grows with what clients send, so a fast
        /// hasher is safe here.
        fixed: std::collections::HashSet<String, foldhash::fast::FixedState>,
        routes: matchit::Router<String>,
    }
    static PATTERNS: std::sync::LazyLock<Patterns> = std::sync::LazyLock::new(|| {
        let mut patterns = Patterns {
            fixed: Default::default(),
            routes: matchit::Router::new(),
        };
        for op in operations() {
            if !op.path.contains('{') {
                patterns.fixed.insert(op.path.clone());
            }
            // The same pattern under several methods: inserted once.
            let _ = patterns.routes.insert(op.path.clone(), op.path);
        }
        patterns
    });
    if let Some(fixed) = PATTERNS.fixed.get(path) {
        return fixed.as_str();
    }
    PATTERNS
        .routes
        .at(path)
        .map_or("unmatched", |found| found.value.as_str())
}

/// What the endpoint at `path` (a route as the router matched it, e.g.
/// `/v2/issues/{key}`) needs for `method`, from the endpoint table. Looked
/// up rather than attached to each route as an extension: a layer on every
/// route costs a boxed service and a boxed future on every request.
pub fn needs(method: &Method, path: &str) -> Option<Needs> {
    // Keyed by the router's own patterns, never a client's string: a fast
    // hasher is safe (SipHash was a visible share of every request).
    type Table =
        std::collections::HashMap<String, Vec<(Method, Needs)>, foldhash::fast::FixedState>;
    static TABLE: std::sync::LazyLock<Table> = std::sync::LazyLock::new(|| {
        let mut table = Table::default();
        for ep in endpoints() {
            for path in ep.paths() {
                table
                    .entry(path)
                    .or_default()
                    .push((ep.method.clone(), ep.needs));
            }
        }
        table
    });
    // axum answers HEAD with the GET handler.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    TABLE
        .get(path)?
        .iter()
        .find(|(m, _)| m == method)
        .map(|(_, needs)| *needs)
}

/// The API's routes (`/v2` and `/v3` served by the same handlers) and the
/// authorization server's. [`serve`] wraps it in the edge and the body limit.
pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(String, MethodRouter<AppState>)> = Vec::new();
    let mut add = |path: String, route: MethodRouter<AppState>| match by_path
        .iter_mut()
        .find(|(p, _)| *p == path)
    {
        Some((_, r)) => *r = std::mem::take(r).merge(route),
        None => by_path.push((path, route)),
    };
    for ep in endpoints() {
        // Each route is registered under both versions rather than nested:
        // nesting strips and restores the prefix on every request.
        for path in ep.paths() {
            add(path, ep.route.clone());
        }
    }
    for r in routes() {
        add(r.op.path, r.route);
    }
    let mut router = Router::new();
    for (path, route) in by_path {
        router = router.route(&path, route);
    }
    if state.control.is_some() {
        router = router.merge(crate::control::router(&state));
    }
    let control = state.control.is_some().then(|| state.clone());
    let router = router
        // Never the body of a missing object: a client must not read "issue
        // not found" where the endpoint itself is what is missing.
        .fallback(|method: Method, uri: axum::http::Uri| async move {
            ApiError::not_served(&method, uri.path())
        })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state);
    // Request spans cost even when no subscriber wants them: add the layer
    // only when its events would be recorded (TRACKERD_LOG=tower_http=debug).
    let router = if tracing::enabled!(target: "tower_http::trace::on_request", tracing::Level::DEBUG)
    {
        router.layer(TraceLayer::new_for_http())
    } else {
        router
    };
    // Fault injection and the journal, around everything, only while the
    // control plane is on (a layer costs every request).
    match control {
        Some(state) => router.layer(axum::middleware::from_fn_with_state(
            state,
            crate::control::intercept,
        )),
        None => router,
    }
}

/// Which error body a path's clients read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    /// Tracker's envelope.
    Api,
    /// RFC 6749's `{"error": …}`.
    OAuth,
    /// An HTML page.
    Page,
}

fn surface(path: &str) -> Surface {
    if ["/v2/", "/v3/", "/iam/", "/oauth/v1/", "/_trackerd/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        Surface::Api
    } else if matches!(
        path,
        "/token" | "/revoke_token" | "/introspect" | "/device/code"
    ) {
        Surface::OAuth
    } else {
        Surface::Page
    }
}

/// What the edge remembers of a request to shape and count its answer.
#[derive(Clone)]
struct Meta {
    surface: Surface,
    no_store: bool,
    /// The node, when it counts requests (`metrics.enabled`).
    counted: Option<Counted>,
}

#[derive(Clone)]
struct Counted {
    state: AppState,
    method: &'static str,
    route: &'static str,
    started: std::time::Instant,
}

/// A method as a label: the methods the tables name, or `other` (a label
/// of bounded cardinality whatever clients send).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "LINK", "UNLINK",
    ];
    KNOWN
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("other")
}

/// The one layer every request passes: NUL refused, writes run to
/// completion, security headers, and the one place that guarantees an error
/// is in its surface's format: axum's own rejections (a path segment that is
/// not valid UTF-8, a malformed query or form) answer `text/plain`, which no
/// Tracker or OAuth client can read. A service of its own around the whole
/// router, not a `from_fn` layer on it: that would box a future and a
/// service on every request, `GET /v2/myself` included.
#[derive(Clone)]
struct Edge<S, P> {
    /// The router under the body limit: requests with a body, and
    /// anything not safe.
    inner: S,
    /// The same router without it, for the reads without a body polled in
    /// place (nearly all requests). The limit is an extension put into
    /// every request it sees, and only a body's extractors read it: about
    /// 640 instructions of a `GET /v2/myself`'s 26 000 (callgrind, with the
    /// map growing to hold it).
    plain: P,
    /// The node, when it counts requests.
    metered: Option<AppState>,
    /// How long a request body may stall between chunks.
    body_timeout: std::time::Duration,
    /// The largest body read whole (`limits.body_bytes`).
    body_limit: usize,
}

type Response = axum::response::Response;
type BoxResponse = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

impl<S, P> tower::Service<axum::extract::Request> for Edge<S, P>
where
    S: tower::Service<axum::extract::Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    P: tower::Service<axum::extract::Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<P::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        // Both are the router, which is always ready.
        std::task::ready!(self.inner.poll_ready(cx))?;
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        // What the answer needs to know of the request, taken without
        // copying it.
        let path = req.uri().path();
        let meta = Meta {
            surface: surface(path),
            no_store: matches!(path, "/token" | "/iam/v1/tokens" | "/device/code"),
            counted: self.metered.as_ref().map(|state| Counted {
                state: state.clone(),
                method: method_label(req.method()),
                route: route_pattern(path),
                started: std::time::Instant::now(),
            }),
        };
        // Searches are reads with a body: nothing is half-done if one is
        // dropped, and its statement is worth calling off (see
        // `tracker_store_sql::Cancellable`) once its client has gone.
        let abandonable = path.ends_with("/_search") || path.ends_with("/_count");
        // NUL is refused before any handler sees it, whatever the surface:
        // the databases disagree about it (PostgreSQL cannot store it in text).
        let has_nul = |s: &str| s.contains("%00");
        let nul = has_nul(path) || req.uri().query().is_some_and(has_nul);
        // Only a request with a body gets the body's read timeout: a
        // `tower_http` layer would arm a timer for every request, a GET
        // without a body included (a tenth of `GET /v2/myself`'s cost).
        let bodiless = axum::body::HttpBody::is_end_stream(req.body());
        let req = if bodiless {
            req
        } else {
            let timeout = self.body_timeout;
            req.map(|body| {
                axum::body::Body::new(tower_http::timeout::TimeoutBody::new(timeout, body))
            })
        };
        if nul {
            let refused = (
                axum::http::StatusCode::BAD_REQUEST,
                "The URL must not contain NUL characters",
            )
                .into_response();
            let body_limit = self.body_limit;
            return EdgeFuture::Shaping {
                fut: Box::pin(async move {
                    // Read (and drop) the body first, as for every request
                    // (see `read_whole`).
                    let _ = read_whole(req, body_limit).await;
                    shape(refused, meta).await
                }),
            };
        }
        // Reads without a body (nearly all) are polled in place; anything
        // else runs in a task of its own: writes to completion whatever the
        // client does, and any body is read whole before the handler.
        if bodiless && req.method().is_safe() {
            EdgeFuture::Inner {
                fut: self.plain.call(req),
                meta,
            }
        } else {
            // The ready service goes to the task; a clone waits for the next
            // request (the router is always ready).
            let mut inner = self.inner.clone();
            std::mem::swap(&mut inner, &mut self.inner);
            let body_limit = self.body_limit;
            let handle = tokio::spawn(async move {
                let req = match read_whole(req, body_limit).await {
                    Ok(req) => req,
                    Err(refused) => return Ok(refused),
                };
                inner.call(req).await
            });
            let call_off = abandonable.then(|| CallOff(handle.abort_handle()));
            EdgeFuture::Spawned {
                handle,
                meta,
                call_off,
            }
        }
    }
}

/// A request's body read to its end before the handler runs (JSON and
/// form bodies are read whole anyway). A handler that refuses a request early
/// (a bad query, a missing issue) otherwise answers before the client has
/// sent its body, and the connection is closed under the client's feet:
/// it sees a broken pipe instead of the answer. Uploads (multipart, octet
/// streams) are left to stream to their handlers.
async fn read_whole(
    req: axum::extract::Request,
    limit: usize,
) -> Result<axum::extract::Request, Response> {
    use axum::body::HttpBody;
    let streamed = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/") || t.starts_with("application/octet-stream"));
    if streamed || req.body().is_end_stream() {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(axum::extract::Request::from_parts(
            parts,
            axum::body::Body::from(bytes),
        )),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(err) = source {
                if err.is::<http_body_util::LengthLimitError>() {
                    // Plain text, as axum's own rejections: the edge shapes
                    // it into the caller's surface (envelope, RFC 6749, page).
                    return Err((
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "The request body is larger than the limit of {limit} bytes \
                             (limits.body_bytes)"
                        ),
                    )
                        .into_response());
                }
                source = err.source();
            }
            Err((
                axum::http::StatusCode::BAD_REQUEST,
                format!("Could not read the request body: {e}"),
            )
                .into_response())
        }
    }
}

pin_project_lite::pin_project! {
    /// A connection's task: everything serving one connection costs, in one
    /// function that is never inlined, so a profiler can count it and
    /// nothing else (scripts/instructions-myself collects only inside it,
    /// leaving out the background loops).
    struct ServingConnection<F> {
        head_watch: crate::head_deadline::Watch,
        #[pin]
        inner: F,
    }
}

impl<F: std::future::Future> std::future::Future for ServingConnection<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        // First, so a header-read deadline it finds passed is seen by the
        // connection in this same turn.
        this.head_watch.poll(cx);
        this.inner.poll(cx)
    }
}

/// Aborts a request's task when dropped: a search whose client has gone
/// stops (and its statement is called off) rather than running on.
struct CallOff(tokio::task::AbortHandle);

impl Drop for CallOff {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pin_project_lite::pin_project! {
    /// [`Edge`]'s answer: the handler's future, polled in place for reads and
    /// in a task of its own for writes, then shaped.
    #[project = EdgeState]
    enum EdgeFuture<F> {
        Inner { #[pin] fut: F, meta: Meta },
        Spawned {
            handle: tokio::task::JoinHandle<Result<Response, Infallible>>,
            meta: Meta,
            // Aborts the task if the answer is no longer wanted (a search).
            call_off: Option<CallOff>,
        },
        Shaping { fut: BoxResponse },
    }
}

impl<F> std::future::Future for EdgeFuture<F>
where
    F: std::future::Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let (response, meta) = match self.as_mut().project() {
            EdgeState::Inner { fut, meta } => match fut.poll(cx) {
                Poll::Ready(Ok(response)) => (response, meta.clone()),
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => return Poll::Pending,
            },
            EdgeState::Spawned { handle, meta, .. } => match std::pin::Pin::new(handle).poll(cx) {
                Poll::Ready(Ok(Ok(response))) => (response, meta.clone()),
                Poll::Ready(Ok(Err(never))) => match never {},
                Poll::Ready(Err(e)) => (
                    ApiError::internal(anyhow::anyhow!(e).context("a write's task failed"))
                        .into_response(),
                    meta.clone(),
                ),
                Poll::Pending => return Poll::Pending,
            },
            EdgeState::Shaping { fut } => return fut.as_mut().poll(cx).map(Ok),
        };
        if needs_shaping(&response) {
            // Rare (an error axum answered in text): boxing is fine here.
            let fut: BoxResponse = Box::pin(shape(response, meta));
            self.set(EdgeFuture::Shaping { fut });
            return self.poll(cx);
        }
        Poll::Ready(Ok(with_headers(response, meta)))
    }
}

/// An error whose body is not in a format a client of the surface reads.
fn needs_shaping(response: &Response) -> bool {
    let status = response.status();
    (status.is_client_error() || status.is_server_error())
        && response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.starts_with("text/plain"))
}

/// Rewrites a `text/plain` error into the surface's format, keeping its
/// status, message and headers.
async fn shape(mut response: Response, meta: Meta) -> Response {
    let status = response.status();
    let body = std::mem::take(response.body_mut());
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = if status.is_server_error() {
        "Internal server error".to_owned()
    } else if text.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("Bad request")
            .to_owned()
    } else {
        text.trim().to_owned()
    };
    let kept = std::mem::take(response.headers_mut());
    let mut shaped = match meta.surface {
        Surface::Api => (
            status,
            axum::Json(tracker_api::ErrorEnvelope::new(status.as_u16(), message)),
        )
            .into_response(),
        Surface::OAuth => (
            status,
            axum::Json(serde_json::json!({
                "error": "invalid_request",
                "error_description": message,
            })),
        )
            .into_response(),
        Surface::Page => oauth::html::error_page(status, "Bad request", &message),
    };
    for (name, value) in kept.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    with_headers(shaped, meta)
}

/// The answer's last step, whatever made it: headers, and its count.
fn with_headers(mut response: Response, meta: Meta) -> Response {
    use axum::http::header::{HeaderValue, CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
    if let Some(c) = &meta.counted {
        if let Some(metrics) = &c.state.metrics {
            metrics.request(
                c.method,
                c.route,
                response.status().as_u16(),
                c.started.elapsed(),
            );
        }
    }
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Authorization codes and device codes travel in page URLs.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Token answers must not be kept by any cache (RFC 6749 section 5.1).
    if meta.no_store {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

// Writes run in a task of their own ([`Edge`]) so a client that hangs up
// (or times out) cannot cut a handler in half: hyper drops a handler's
// future when its connection closes, and a change made of several steps (an
// issue and its link, a token and its audit entry) would otherwise stop
// between them. Reads keep being dropped with their client, which frees
// their database connection at once.

/// Serves `state` on `listener` until `shutdown` resolves. Trailing slashes
/// are trimmed before routing: Tracker accepts `/v2/users/` as `/v2/users`.
///
/// The accept loop is trackerd's own rather than `axum::serve`, which has no
/// connection limits: headers must arrive within
/// `connections.header_read_timeout_secs` (which also closes idle keep-alive
/// connections), a body may not stall longer than
/// `body_read_timeout_secs`, at most `max_connections` are open, and a
/// shutdown waits at most `shutdown_deadline_secs` for requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use std::time::Duration;
    use tower::ServiceExt;

    let limits = state.config.connections.clone();
    let control = state.control.is_some();
    if control {
        // The test clock as stored (set before a restart, or by another
        // node), and the state `reset` returns to.
        if let Err(e) = crate::control::clock::refresh(&state).await {
            tracing::warn!(error = %e, "could not read the test clock");
        }
        if let Err(e) = crate::control::state::snapshot_at_start(&state, false).await {
            return Err(std::io::Error::other(e.context("taking the seed snapshot")));
        }
    }
    let body_limit = state.config.limits.body_bytes;
    let header_timeout = Duration::from_secs(limits.header_read_timeout_secs);
    // The auth epoch is read once before the first request: the watcher's
    // first reading would otherwise empty the cache of the authentications
    // the first requests made (their first reading differs from none),
    // and a body kept with one would be rendered again mid-conversation.
    match state.store.auth_epoch().await {
        Ok(epoch) => state.auth.observe_epoch(epoch),
        Err(e) => tracing::warn!(error = %e, "could not read the auth epoch at start"),
    }
    // Aborted on drop, so the watcher ends with the server even when the
    // server's own task is cancelled rather than shut down.
    let watcher = AbortOnDrop(crate::auth::spawn_epoch_watcher(state.clone()));
    let sweeper = crate::sweep::spawn(state.clone()).map(AbortOnDrop);
    let folder = AbortOnDrop(crate::kept_counts::spawn(state.clone()));
    let automation = crate::automation::spawn(state.clone()).map(AbortOnDrop);
    // Stopped after the requests in flight (below), or, should this future
    // be dropped, asked to stop as it goes.
    let worker = crate::jobs::Worker::spawn(state.clone());
    let upkeep = observe::spawn_upkeep(state.clone()).map(AbortOnDrop);
    let metered = state.metrics.is_some().then(|| state.clone());
    let routes = router(state);
    let app = NormalizePathLayer::trim_trailing_slash().layer(Edge {
        metered,
        inner: tower::ServiceBuilder::new()
            .layer(axum::extract::DefaultBodyLimit::max(body_limit))
            .service(routes.clone()),
        plain: routes,
        body_timeout: Duration::from_secs(limits.body_read_timeout_secs),
        body_limit,
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // Each connection gets its own HTTP/1 timer (below), which keeps the
    // header-read timeout with one tokio timer per connection rather than
    // one per request (see `head_deadline`).
    builder.http1().header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than
                    // spin, and go on serving the connections already open.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many connections: closing a new one");
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The source address feeds the per-address sign-in lock and the
        // audit trail, as axum's `ConnectInfo`.
        // A dropped-connection fault closes the connection through this.
        let drop_signal = control.then(|| Arc::new(tokio::sync::Notify::new()));
        let dropper = drop_signal.clone();
        let service = app
            .clone()
            .map_request(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                if let Some(signal) = &dropper {
                    req.extensions_mut()
                        .insert(crate::control::DropConnection(signal.clone()));
                }
                req
            });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let mut builder = builder.clone();
        let (timer, head_watch) = crate::head_deadline::for_connection(header_timeout);
        builder.http1().timer(timer);
        let watcher = graceful.watcher();
        tokio::spawn(ServingConnection {
            head_watch,
            inner: async move {
                // A client that connects and sends nothing is not yet under
                // hyper's header timeout (that starts once the protocol is
                // known): it gets as long to send its first byte.
                // (A peek, not `readable()`: tokio takes a new socket to be
                // readable until a read says otherwise.)
                let mut first = [0u8; 1];
                if !matches!(
                    tokio::time::timeout(header_timeout, stream.peek(&mut first)).await,
                    Ok(Ok(n)) if n > 0
                ) {
                    return;
                }
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                match drop_signal {
                    Some(signal) => {
                        tokio::select! {
                            _ = watcher.watch(conn) => {}
                            () = signal.notified() => {}
                        }
                    }
                    None => {
                        let _ = watcher.watch(conn).await;
                    }
                }
                drop(slot);
            },
        });
    }
    drop(listener);
    drop(watcher);
    drop(sweeper);
    drop(folder);
    drop(automation);
    drop(upkeep);
    let deadline = Duration::from_secs(limits.shutdown_deadline_secs);
    if tokio::time::timeout(deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight at the shutdown deadline: closing them");
    }
    if let Some(worker) = worker {
        worker.stop(deadline).await;
    }
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed table answers what the route tree would, for every route
    /// without parameters, and a path it lacks still goes to the tree.
    #[test]
    fn a_route_without_parameters_is_labelled_as_the_route_tree_labels_it() {
        let mut tree = matchit::Router::new();
        for op in operations() {
            let _ = tree.insert(op.path.clone(), op.path);
        }
        let mut fixed = 0;
        for op in operations().iter().filter(|op| !op.path.contains('{')) {
            fixed += 1;
            let expected = tree.at(&op.path).map(|m| m.value.as_str()).ok();
            assert_eq!(Some(route_pattern(&op.path)), expected, "{}", op.path);
        }
        assert!(fixed > 20, "only {fixed} routes without parameters");
        assert_eq!(route_pattern("/v2/issues/TEST-1"), "/v2/issues/{key}");
        assert_eq!(route_pattern("/v2/myself/"), "unmatched");
        assert_eq!(route_pattern("/nowhere"), "unmatched");
    }

    #[test]
    fn reads_need_read_changes_need_write_and_no_row_is_routed_twice() {
        let table = endpoints();
        for (i, e) in table.iter().enumerate() {
            let needs = match e.method {
                Method::GET => Some(Needs::Token(Scope::Read)),
                Method::PATCH | Method::DELETE => Some(Needs::Token(Scope::Write)),
                _ => None,
            };
            if let Some(needs) = needs {
                assert_eq!(e.needs, needs, "{} {}", e.method, e.path);
            }
            assert!(
                !table[..i]
                    .iter()
                    .any(|o| o.method == e.method && o.paths() == e.paths()),
                "{} {} is in the table twice",
                e.method,
                e.path
            );
        }
        let need = |m: Method, p: &str| {
            table
                .iter()
                .find(|e| e.method == m && e.path == p)
                .map(|e| e.needs)
        };
        assert_eq!(
            need(Method::POST, "/issues/_search"),
            Some(Needs::Token(Scope::Read))
        );
        assert_eq!(
            need(Method::POST, "/issues/_count"),
            Some(Needs::Token(Scope::Read))
        );
        assert_eq!(
            need(Method::POST, "/queues"),
            Some(Needs::Token(Scope::Write))
        );
        assert_eq!(need(Method::POST, "/iam/v1/tokens"), Some(Needs::Nothing));
    }
}
