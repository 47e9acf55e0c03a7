//! The OpenAPI 3.1 document of what this server routes, generated from the
//! route tables themselves (the endpoint table, the authorization server's
//! and the node's own routes, and any other table that describes its rows
//! as [`Op`]s), so it cannot drift from the router. Served at
//! `/openapi.json`.

use axum::http::Method;
use serde_json::{json, Map, Value};
use tracker_domain::Scope;

/// What a request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// An optional JSON body (most writes; some take none).
    Json,
    /// `application/x-www-form-urlencoded` (the RFC 6749 endpoints, pages' forms).
    Form,
    /// A file: `multipart/form-data`.
    Upload,
}

/// What a successful answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Json,
    /// A file's bytes, of the file's own type.
    File,
    /// An HTML page (or a redirect to one).
    Html,
    /// Plain text (`/metrics`, the health check).
    Text,
}

/// Which error body the route's clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// Tracker's envelope.
    Envelope,
    /// RFC 6749's `{"error": …, "error_description": …}`.
    OAuth,
    /// An HTML page.
    Html,
}

/// Who may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone (or the route checks a credential of its own in the body or
    /// a form: client credentials, a browser session).
    Anyone,
    /// An OAuth or IAM token with the scope, and an organization header.
    TokenInOrg(Scope),
    /// An OAuth or IAM token with the scope (the authorization server's and
    /// IAM's JSON APIs: no organization).
    Token(Scope),
    /// `metrics.token` as a bearer token, when it is set.
    MetricsToken,
    /// `control_token` as a bearer token, when it is set (the control plane).
    ControlToken,
}

/// One operation: a method on a concrete path (`/v2/issues/{key}`).
#[derive(Debug, Clone)]
pub struct Op {
    pub method: Method,
    pub path: String,
    /// The group it is listed under (OpenAPI tag).
    pub tag: &'static str,
    pub caller: Caller,
    pub body: Body,
    pub answer: Answer,
    pub errors: Errors,
}

/// The methods an OpenAPI 3.1 path item names; others (LINK, UNLINK) go
/// under the path item's `x-trackerd-methods`.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document of `ops`.
pub fn document(ops: &[Op]) -> Value {
    let mut paths = Map::new();
    for op in ops {
        let item = paths
            .entry(op.path.clone())
            .or_insert_with(|| json!({}))
            .as_object_mut();
        let Some(item) = item else { continue };
        let method = op.method.as_str().to_ascii_lowercase();
        let operation = operation(op);
        if OPENAPI_METHODS.contains(&method.as_str()) {
            item.insert(method, operation);
        } else if let Some(other) = item
            .entry("x-trackerd-methods")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            other.insert(op.method.as_str().to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "trackerd",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Yandex Tracker API as trackerd serves it (below /v2 and /v3 alike), \
                its authorization server and IAM, and the node's own routes. Generated from the \
                server's route tables. Query parameters are not listed: see the Tracker API reference.",
        },
        "paths": paths,
        "components": components(),
    })
}

fn operation(op: &Op) -> Value {
    let mut o = Map::new();
    o.insert(
        "operationId".into(),
        json!(format!("{} {}", op.method, op.path)),
    );
    o.insert("tags".into(), json!([op.tag]));
    let parameters: Vec<Value> = path_parameters(&op.path)
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect();
    if !parameters.is_empty() {
        o.insert("parameters".into(), Value::Array(parameters));
    }
    let security = match op.caller {
        Caller::Anyone => json!([]),
        Caller::TokenInOrg(scope) => {
            let role = json!([scope.as_str()]);
            json!([
                {"OAuthToken": role, "OrgId": []},
                {"OAuthToken": role, "CloudOrgId": []},
                {"IamToken": role, "OrgId": []},
                {"IamToken": role, "CloudOrgId": []},
            ])
        }
        Caller::Token(scope) => {
            let role = json!([scope.as_str()]);
            json!([{"OAuthToken": role}, {"IamToken": role}])
        }
        // Optional: without the setting, anyone may call.
        Caller::MetricsToken => json!([{"MetricsToken": []}, {}]),
        Caller::ControlToken => json!([{"ControlToken": []}, {}]),
    };
    o.insert("security".into(), security);
    let body = match op.body {
        Body::None => None,
        Body::Json => Some(json!({"application/json": {"schema": {}}})),
        Body::Form => Some(json!({"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "additionalProperties": {"type": "string"}}
        }})),
        Body::Upload => Some(json!({"multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}}
        }})),
    };
    if let Some(content) = body {
        o.insert(
            "requestBody".into(),
            json!({"required": false, "content": content}),
        );
    }
    o.insert("responses".into(), responses(op));
    Value::Object(o)
}

/// Success as a class (`2XX`): the table states no status per row, and a
/// row may answer 200, 201 or 204 by what it did. Errors as `4XX` in the
/// route's error format; `5XX` is never documented: it is a bug.
fn responses(op: &Op) -> Value {
    let success = match op.answer {
        Answer::Json => {
            json!({"description": "Success", "content": {"application/json": {"schema": {}}}})
        }
        Answer::File => json!({"description": "The file", "content": {"*/*": {"schema": {}}}}),
        Answer::Html => {
            json!({"description": "A page", "content": {"text/html": {"schema": {"type": "string"}}}})
        }
        Answer::Text => {
            json!({"description": "Text", "content": {"text/plain": {"schema": {"type": "string"}}}})
        }
    };
    let error = match op.errors {
        Errors::Envelope => json!({"$ref": "#/components/responses/Error"}),
        Errors::OAuth => json!({"$ref": "#/components/responses/OAuthError"}),
        Errors::Html => {
            json!({"description": "An error page", "content": {"text/html": {"schema": {"type": "string"}}}})
        }
    };
    let mut responses = Map::new();
    responses.insert("2XX".into(), success);
    if op.answer == Answer::Html {
        // Pages redirect (sign-in, consent, back to the client).
        responses.insert("3XX".into(), json!({"description": "A redirect"}));
    }
    responses.insert("4XX".into(), error);
    if op.path == "/readyz" {
        responses.insert(
            "503".into(),
            json!({"$ref": "#/components/responses/Error"}),
        );
    }
    Value::Object(responses)
}

fn components() -> Value {
    json!({
        "schemas": {
            "ErrorEnvelope": {
                "type": "object",
                "description": "Tracker's error body",
                "required": ["errors", "errorMessages", "statusCode"],
                "properties": {
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                    "errorsData": {"type": "object"},
                    "errorMessages": {"type": "array", "items": {"type": "string"}},
                    "statusCode": {"type": "integer"},
                },
            },
            "OAuthError": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                },
            },
        },
        "responses": {
            "Error": {
                "description": "An error in Tracker's envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
            },
            "OAuthError": {
                "description": "An RFC 6749 error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
            },
        },
        "securitySchemes": {
            "OAuthToken": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`OAuth <token>`; roles: the scope the operation needs",
            },
            "IamToken": {
                "type": "http", "scheme": "bearer",
                "description": "An IAM token (`POST /iam/v1/tokens`)",
            },
            "OrgId": {"type": "apiKey", "in": "header", "name": "X-Org-ID"},
            "CloudOrgId": {"type": "apiKey", "in": "header", "name": "X-Cloud-Org-ID"},
            "MetricsToken": {"type": "http", "scheme": "bearer", "description": "`metrics.token`, when set"},
            "ControlToken": {"type": "http", "scheme": "bearer", "description": "`control_token`, when set"},
        },
    })
}

/// The `{name}`s of a route pattern.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_the_braced_segments() {
        let names: Vec<_> = path_parameters("/v2/issues/{key}/comments/{id}").collect();
        assert_eq!(names, ["key", "id"]);
    }
}
