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
