//! The committed `openapi.yaml` is exactly what the code generates, so the contract cannot drift.
//! Regenerate with `hikeshi openapi > openapi.yaml` (or `UPDATE_OPENAPI=1 cargo test --test api contract`).

#[test]
fn the_committed_openapi_yaml_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let generated = hikeshi::api::openapi::yaml();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).expect("write openapi.yaml");
    }
    let committed = std::fs::read_to_string(path).expect("openapi.yaml at the repository root");
    assert!(committed == generated, "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml` and commit it");
}

#[test]
fn every_operation_has_a_unique_id_and_documents_its_errors() {
    let doc: serde_json::Value =
        serde_json::to_value(<hikeshi::api::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            // Public: signing in, and the vocabulary the sign-in page is labelled with.
            let public = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/vocabulary"];
            if path.starts_with("/api/v1") && !public.contains(&path.as_str()) {
                assert!(op["responses"].get("401").is_some(), "{method} {path} does not document 401");
                assert!(op["security"].is_array(), "{method} {path} does not declare bearer security");
            }
        }
    }
    assert!(ids.len() >= 45, "only {} operations documented", ids.len());
}

/// A body built from a schema of the contract: every property present, nested objects and array
/// items too, each with a value of its documented type (the first of an enumeration).
fn sample(doc: &serde_json::Value, schema: &serde_json::Value, depth: usize) -> serde_json::Value {
    use serde_json::{json, Value};
    if depth > 8 {
        return Value::Null;
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return sample(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[key].as_array() {
            if key == "allOf" {
                let mut merged = serde_json::Map::new();
                for o in options {
                    if let Value::Object(m) = sample(doc, o, depth + 1) {
                        merged.extend(m);
                    }
                }
                return Value::Object(merged);
            }
            let first = options.iter().find(|o| o["type"] != "null").unwrap_or(&options[0]);
            return sample(doc, first, depth + 1);
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null);
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types.iter().find(|t| *t != "null").and_then(Value::as_str).unwrap_or("null").to_owned(),
        Value::String(t) => t.clone(),
        _ if schema["properties"].is_object() => "object".into(),
        _ => "null".into(),
    };
    match ty.as_str() {
        "object" => Value::Object(
            schema["properties"]
                .as_object()
                .map(|props| props.iter().map(|(k, v)| (k.clone(), sample(doc, v, depth + 1))).collect())
                .unwrap_or_default(),
        ),
        "array" => json!([sample(doc, &schema["items"], depth + 1)]),
        "string" if schema["format"] == "date-time" => json!("2026-01-05T09:00:00+09:00"),
        "string" => json!("x"),
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

// The request bodies read field by field (`domain::parse::Reader`, every error at once) are
// described to clients by a separate schema struct. This keeps the two from drifting: a body with
// every documented property, nested ones included, is never answered "is not a known field".
db_test!(every_documented_body_field_is_known_to_its_reader, |app| async move {
    use crate::incidents::{file_ok, ransomware_filing, ADMIN, OFFICER, TOKYO_REPORTER};
    use serde_json::{json, Value};
    let doc: Value = serde_json::to_value(<hikeshi::api::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let admin = app.login(ADMIN).await;
    let incident = file_ok(&app, &reporter, &ransomware_filing()).await;
    let id = incident["id"].as_str().unwrap().to_owned();
    let teams: Value = app.get("/responder-teams", &officer).await.json().await.unwrap();
    let team = teams[0]["id"].as_str().unwrap().to_owned();
    let orgs: Value = app.get("/organizations", &admin).await.json().await.unwrap();
    let org_json = &orgs["items"][0];
    let org = org_json["id"].as_str().unwrap().to_owned();
    let etag = |v: &Value| format!("\"{}\"", v["version"].as_i64().unwrap_or(1));
    // (method, path in the contract, path called, who, the schema of the body, If-Match)
    let cases = [
        ("post", "/api/v1/incidents", "/incidents".to_owned(), &reporter, "IncidentInput", None),
        (
            "patch",
            "/api/v1/incidents/{id}",
            format!("/incidents/{id}"),
            &officer,
            "IncidentPatch",
            Some(etag(&incident)),
        ),
        ("post", "/api/v1/routing/preview", "/routing/preview".to_owned(), &reporter, "RoutingDraft", None),
        ("post", "/api/v1/organizations", "/organizations".to_owned(), &admin, "OrganizationInput", None),
        (
            "patch",
            "/api/v1/organizations/{id}",
            format!("/organizations/{org}"),
            &admin,
            "OrganizationInput",
            Some(etag(org_json)),
        ),
        ("post", "/api/v1/contacts", "/contacts".to_owned(), &admin, "ContactInput", None),
        (
            "patch",
            "/api/v1/responder-teams/{id}",
            format!("/responder-teams/{team}"),
            &officer,
            "TeamPatch",
            Some(etag(&teams[0])),
        ),
        ("post", "/api/v1/incidents/{id}/updates", format!("/incidents/{id}/updates"), &officer, "NewUpdate", None),
    ];
    for (method, contract_path, path, token, schema_name, if_match) in cases {
        let op = &doc["paths"][contract_path][method];
        let documented = op["requestBody"]["content"]["application/json"]["schema"].to_string();
        assert!(documented.contains(schema_name), "{method} {contract_path} documents {documented}, not {schema_name}");
        let schema = &doc["components"]["schemas"][schema_name];
        // A tagged union (the timeline's note or status report): every variant.
        let variants: Vec<&Value> =
            schema["oneOf"].as_array().map(|v| v.iter().collect()).unwrap_or_else(|| vec![schema]);
        for variant in variants {
            let body = sample(&doc, variant, 0);
            assert!(body.as_object().is_some_and(|b| !b.is_empty()), "{schema_name}: no properties sampled");
            let url = app.api(&path);
            let req = match &if_match {
                None => app.client.post(url),
                Some(v) => app.client.patch(url).header("If-Match", v),
            };
            let res = req.bearer_auth(token).json(&body).send().await.unwrap();
            let status = res.status().as_u16();
            let answer: Value = res.json().await.unwrap_or(json!({}));
            let unknown: Vec<&Value> = answer["errors"]
                .as_array()
                .map(|e| e.iter().filter(|e| e["message"] == "is not a known field").collect())
                .unwrap_or_default();
            assert!(
                unknown.is_empty(),
                "{method} {path}: documented fields refused as unknown: {unknown:?}\nbody {body}"
            );
            assert!(
                ![403, 404, 412, 428].contains(&status),
                "{method} {path}: {status} {answer} (the reader was not reached)"
            );
        }
    }
});
