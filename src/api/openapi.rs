//! The OpenAPI document, generated from the handlers' annotations; `openapi.yaml` is its committed copy.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::session::RefreshCookie;
use super::{
    advisories, audit, auth, campaigns, contacts, dispatch, health, incidents, messages, organizations, profile,
    reports, routing, session, stats, users, webhooks,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Operation ids must be unique: prefix each handler's name with its tag (`incidents_list`).
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
            {
                let tag = op.tags.as_ref().and_then(|t| t.first().cloned()).unwrap_or_default();
                if let Some(id) = op.operation_id.take() {
                    op.operation_id = Some(if id.starts_with(&tag) { id } else { format!("{tag}_{id}") });
                }
            }
        }
    }
}

const PROBLEM_JSON: &str = "application/problem+json";

/// What an error status means on any operation (used where a handler documents none of its own).
fn standard_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "No content",
        "400" => "Malformed request: the body is not JSON, or not a JSON object",
        "401" => "No valid access token (`WWW-Authenticate: Bearer`)",
        "403" => "Your role may not do this",
        "404" => "No such resource, or not visible to you",
        "409" => "Conflicts with the current state (already exists or decided, incident closed or withdrawn, ...)",
        "412" => "If-Match does not name the current version",
        "413" => "The body exceeds the size limit",
        "415" => "The body must be sent as `Content-Type: application/json`",
        "422" => "Validation failed: `errors` lists every invalid field (unknown fields included)",
        "428" => "If-Match is required",
        "429" => "Too many requests from this client: wait `Retry-After` seconds",
        "503" => "The database is unreachable: retry after `Retry-After` seconds",
        // Every response needs a description (OpenAPI 3.1 §4.8.17): the status's reason phrase.
        other => other
            .parse::<u16>()
            .ok()
            .and_then(|c| actix_web::http::StatusCode::from_u16(c).ok())
            .and_then(|c| c.canonical_reason())
            .unwrap_or("Response"),
    }
}

fn problem_response(status: &str) -> Response {
    let mut r = Response::new(standard_description(status));
    r.content.insert(PROBLEM_JSON.into(), RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))));
    r
}

fn string_header(description: &str) -> RefOr<Header> {
    let mut h = Header::new(ObjectBuilder::new().schema_type(Type::String));
    h.description = Some(description.into());
    RefOr::T(h)
}

fn integer_header(description: &str) -> RefOr<Header> {
    let mut h = Header::new(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)));
    h.description = Some(description.into());
    RefOr::T(h)
}

/// Makes the document say what the server does for every operation: errors are
/// `application/problem+json` (utoipa would say `application/json`), every response has a
/// description, and the statuses any request can meet (401 without a token, 400/413/415/422 for
/// a body, 404 for an unknown id, 422 for a bad query, 429 and 503) are listed everywhere.
struct StandardResponses;

impl StandardResponses {
    fn operation(path: &str, writes: bool, op: &mut Operation) {
        let api = path.starts_with("/api/");
        let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
        let has_body = op.request_body.is_some();
        let params = op.parameters.as_deref().unwrap_or_default();
        let in_path = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
        let in_query = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
        let mut wanted: Vec<&str> = Vec::new();
        if api {
            wanted.extend(["429", "503"]);
        }
        if api && writes {
            // Unique keys, decided requests, closed or withdrawn incidents, ...
            wanted.push("409");
        }
        if secured {
            wanted.push("401");
        }
        if has_body {
            wanted.extend(["400", "413", "415", "422"]);
        }
        if in_path {
            wanted.push("404");
        }
        if in_query {
            wanted.push("422");
        }
        let responses = &mut op.responses.responses;
        for status in wanted {
            responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(problem_response(status)));
        }
        for (status, r) in responses.iter_mut() {
            let RefOr::T(r) = r else { continue };
            if r.description.is_empty() {
                r.description = standard_description(status).to_owned();
            }
            if let Some(c) = r.content.shift_remove("application/json") {
                let is_problem = matches!(&c, RefOr::T(Content { schema: Some(RefOr::Ref(s)), .. })
                    if s.ref_location.ends_with("/Problem"));
                r.content.insert(if is_problem { PROBLEM_JSON } else { "application/json" }.to_owned(), c);
            }
            match status.as_str() {
                "401" => {
                    r.headers
                        .entry("WWW-Authenticate".into())
                        .or_insert_with(|| string_header("`Bearer realm=\"hikeshi\"`"));
                }
                "429" | "503" => {
                    r.headers.entry("Retry-After".into()).or_insert_with(|| integer_header("Seconds to wait"));
                }
                _ => {}
            }
        }
    }
}

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(op) = item.get.as_mut() {
                Self::operation(path, false, op);
            }
            for op in [&mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten() {
                Self::operation(path, true, op);
            }
        }
    }
}

/// Replaces the pattern placeholders of `#[schema(pattern = "@…")]` (utoipa only takes literals)
/// with the patterns the parser enforces, so the contract and the checks share one definition.
struct Patterns;

fn substitute_patterns(v: &mut serde_json::Value) {
    use crate::domain::parse::{EMAIL_PATTERN, LINE_PATTERN, NAME_PATTERN, PHONE_PATTERN, TEXT_PATTERN};
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(p)) = m.get_mut("pattern") {
                match p.as_str() {
                    "@text" => *p = TEXT_PATTERN.into(),
                    "@line" => *p = LINE_PATTERN.into(),
                    "@name" => *p = NAME_PATTERN.into(),
                    "@phone" => *p = PHONE_PATTERN.into(),
                    "@email" => *p = EMAIL_PATTERN.into(),
                    _ => {}
                }
            }
            m.values_mut().for_each(substitute_patterns);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(substitute_patterns),
        _ => {}
    }
}

impl Modify for Patterns {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, schema) in components.schemas.iter_mut() {
            let Ok(mut v) = serde_json::to_value(&*schema) else { continue };
            let before = v.clone();
            substitute_patterns(&mut v);
            if v != before {
                match serde_json::from_value(v) {
                    Ok(s) => *schema = s,
                    Err(e) => panic!("schema {name} does not round-trip through JSON: {e}"),
                }
            }
        }
    }
}

/// States the length limit of every string parameter that has none of its own: what
/// `api::input_bounds` enforces for path segments and query values, and what each header's reader
/// accepts.
struct ParameterBounds;

impl Modify for ParameterBounds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use super::{MAX_PATH_SEGMENT, MAX_QUERY_VALUE};
        for item in openapi.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                for p in op.parameters.iter_mut().flatten() {
                    let RefOr::T(p) = p else { continue };
                    let limit = match (&p.parameter_in, p.name.as_str()) {
                        (ParameterIn::Path, _) => MAX_PATH_SEGMENT,
                        (ParameterIn::Query, _) => MAX_QUERY_VALUE,
                        (ParameterIn::Header, "Idempotency-Key") => super::incidents::MAX_IDEMPOTENCY_KEY,
                        (ParameterIn::Header, _) => super::MAX_HEADER_PARAMETER,
                        _ => continue,
                    };
                    let Some(schema) = p.schema.as_mut() else { continue };
                    let Ok(mut v) = serde_json::to_value(&*schema) else { continue };
                    let is_string = v
                        .get("type")
                        .is_some_and(|t| t == "string" || t.as_array().is_some_and(|a| a.contains(&"string".into())));
                    if is_string && v.get("maxLength").is_none() && v.get("enum").is_none() && v.get("format").is_none()
                    {
                        v["maxLength"] = limit.into();
                        *schema = serde_json::from_value(v).expect("a parameter schema round-trips through JSON");
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "hikeshi API", version = "1.0.0",
        description = "Incident reporting and first-response coordination for hospital cyber incidents in Japan. \
            Errors are RFC 9457 problem+json. Unknown JSON fields in request bodies are refused (422), so a \
            misspelt field never silently loses data."),
    modifiers(&BearerAuth, &RefreshCookie, &UniqueOperationIds, &StandardResponses, &Patterns, &ParameterBounds),
    paths(
        health::healthz, health::readyz,
        auth::login, auth::refresh, auth::logout, auth::totp_setup, auth::totp_confirm, auth::totp_disable, auth::me,
        session::create, session::refresh, session::totp, session::delete,
        organizations::list, organizations::create, organizations::get, organizations::update,
        profile::get, profile::put,
        users::list, users::create, users::update, users::get_policy, users::put_policy,
        incidents::file, incidents::list, incidents::get, incidents::update, incidents::transition,
        incidents::stix, incidents::misp,
        incidents::list_updates, incidents::add_update, incidents::set_milestone,
        incidents::list_obligations, incidents::fulfil_obligation, incidents::list_notifications, incidents::resend_notification,
        reports::ppc, reports::nco, reports::nco_ddos_report, routing::preview, routing::rules, routing::vocabulary,
        contacts::list, contacts::create, contacts::update,
        dispatch::request_support, dispatch::list_support, dispatch::decide_support, dispatch::dispatch,
        dispatch::list_dispatches, dispatch::dispatch_status, dispatch::list_teams, dispatch::suggestions,
        dispatch::update_team, dispatch::update_responder,
        stats::stats, stats::export,
        audit::list,
        audit::reads,
        webhooks::list, webhooks::create, webhooks::update, webhooks::delete,
        messages::list, messages::send, messages::log_call, messages::inbox, messages::assign,
        messages::attachment, messages::inbox_attachment,
        campaigns::list, campaigns::get, campaigns::confirm, campaigns::dismiss, campaigns::situation,
        advisories::list, advisories::create, advisories::get, advisories::ack, advisories::remind,
        stats::stats_csv,
    ),
    components(schemas(crate::domain::Milestone, crate::db::incidents::Order, reports::ReportFormat)),
    tags((name = "auth"), (name = "organizations"), (name = "users"), (name = "incidents"), (name = "routing"), (name = "contacts"), (name = "dispatch"), (name = "stats"), (name = "audit"), (name = "webhooks"), (name = "correspondence"), (name = "campaigns"), (name = "advisories"), (name = "operations"))
)]
pub struct ApiDoc;

/// The methods the document lists for a request path (`None`: no such path), so that a known
/// path asked with another method answers 405 with `Allow` rather than 404.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    static TABLE: std::sync::OnceLock<Vec<(Vec<String>, String)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        ApiDoc::openapi()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_owned).collect();
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (segments, methods.join(", "))
            })
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    // A literal template (`/responder-teams/suggestions`) wins over a parameter (`/{id}`).
    let matches = |t: &Vec<String>, literal_only: bool| {
        t.len() == segments.len()
            && t.iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (!literal_only && t.starts_with('{') && t.ends_with('}') && !s.is_empty()))
    };
    table
        .iter()
        .find(|(t, _)| matches(t, true))
        .or_else(|| table.iter().find(|(t, _)| matches(t, false)))
        .map(|(_, m)| m.as_str())
}

/// The document as YAML (what `openapi.yaml` must contain).
pub fn yaml() -> String {
    quote_yaml11_words(&ApiDoc::openapi().to_yaml().unwrap_or_default())
}

/// Strings a YAML 1.1 parser (PyYAML, many generators) reads as a boolean although YAML 1.2, which
/// the emitter follows, reads them as strings: the enumeration value `off` would become `false`.
/// (`true`, `false` and `null` mean the same in both, so the emitter already quotes such strings.)
const YAML11_WORDS: &[&str] =
    &["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];

/// Quotes those words where the emitter left them plain: a sequence item (`- off`) or a mapping
/// value (`key: off`) ending its line. The test `the_yaml_reads_the_same_once_quoted` checks that
/// nothing else changed (the document parses to the same value before and after).
fn quote_yaml11_words(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 64);
    for line in yaml.lines() {
        let quoted = YAML11_WORDS.iter().find_map(|w| {
            let head = line.strip_suffix(w)?;
            (head.ends_with("- ") || head.ends_with(": ")).then(|| format!("{head}'{w}'"))
        });
        out.push_str(quoted.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// `GET /openapi.json`: the document, serialised once per process (not built per worker).
pub async fn json() -> actix_web::HttpResponse {
    static BODY: std::sync::OnceLock<actix_web::web::Bytes> = std::sync::OnceLock::new();
    let body = BODY.get_or_init(|| serde_json::to_vec(&ApiDoc::openapi()).unwrap_or_default().into());
    actix_web::HttpResponse::Ok().content_type("application/json").body(body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string a client sends has a length limit and every array a size limit (issue 18):
    /// request bodies (through their references) and parameters.
    #[test]
    fn every_input_string_and_array_is_bounded() {
        use serde_json::Value;
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("JSON");
        let schemas = doc["components"]["schemas"].clone();
        fn walk(s: &Value, path: &str, schemas: &Value, seen: &mut Vec<String>, gaps: &mut Vec<String>) {
            if let Some(r) = s.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().unwrap_or_default().to_owned();
                if !seen.contains(&name) {
                    seen.push(name.clone());
                    walk(&schemas[&name], &name, schemas, seen, gaps);
                }
                return;
            }
            for k in ["oneOf", "anyOf", "allOf"] {
                for x in s.get(k).and_then(Value::as_array).into_iter().flatten() {
                    walk(x, path, schemas, seen, gaps);
                }
            }
            let has = |t: &str| s["type"] == t || s["type"].as_array().is_some_and(|a| a.iter().any(|x| x == t));
            let formatted = matches!(s["format"].as_str(), Some("date-time" | "date" | "uuid"));
            if has("string") && s.get("enum").is_none() && s.get("maxLength").is_none() && !formatted {
                gaps.push(format!("{path}: string without maxLength"));
            }
            if has("array") {
                if s.get("maxItems").is_none() {
                    gaps.push(format!("{path}: array without maxItems"));
                }
                walk(&s["items"], &format!("{path}[]"), schemas, seen, gaps);
            }
            for (k, x) in s.get("properties").and_then(Value::as_object).into_iter().flatten() {
                walk(x, &format!("{path}.{k}"), schemas, seen, gaps);
            }
        }
        let mut gaps = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let at = format!("{method} {path}");
                for c in op["requestBody"]["content"].as_object().into_iter().flatten().map(|(_, c)| c) {
                    walk(&c["schema"], &format!("{at} body"), &schemas, &mut Vec::new(), &mut gaps);
                }
                for p in op["parameters"].as_array().into_iter().flatten() {
                    walk(&p["schema"], &format!("{at} {}", p["name"]), &schemas, &mut Vec::new(), &mut gaps);
                }
            }
        }
        assert!(gaps.is_empty(), "unbounded inputs:\n{}", gaps.join("\n"));
    }

    #[test]
    fn the_yaml_reads_the_same_once_quoted() {
        let plain = ApiDoc::openapi().to_yaml().expect("YAML");
        let quoted = yaml();
        let read = |s: &str| -> serde_json::Value { yaml_serde::from_str(s).expect("parses") };
        assert_eq!(read(&plain), read(&quoted));
        assert!(quoted.contains("- 'off'"), "the availability `off` is quoted");
        assert_eq!(quote_yaml11_words("a: off\n- no\nb: offer\n"), "a: 'off'\n- 'no'\nb: offer\n");
    }
}
