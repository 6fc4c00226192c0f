//! Operations endpoints: liveness, readiness, metrics and the API documentation.

use serde_json::json;

use crate::helpers::{content_type, parts};

db_test!(healthz_answers_while_the_process_lives, |app| async move {
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("x-content-type-options").unwrap(), "nosniff");
});

db_test!(readyz_reports_a_reachable_migrated_database, |app| async move {
    let (status, _, body) = parts(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"database": true, "migrations": true}));
});

db_test!(readyz_fails_with_retry_after_when_the_database_is_gone, |app| async move {
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.remove_database().await;
    let (status, headers, body) = parts(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, 503, "{body}");
    assert!(headers.get("retry-after").is_some(), "503 without Retry-After");
    assert_ne!(body, json!({"database": true, "migrations": true}), "{body}");
    // The process itself is still alive.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
});

db_test!(metrics_count_http_requests, |app| async move {
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("hikeshi_http_requests_total"), "{text}");
});

db_test!(the_openapi_document_and_swagger_ui_are_served, |app| async move {
    let res = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains(r#""openapi":"3.1"#), "{}", &text[..text.len().min(200)]);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert!(doc["paths"]["/api/v1/auth/login"].is_object(), "login is documented");

    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = content_type(res.headers());
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(res.text().await.unwrap().to_lowercase().contains("swagger"));
});
