//! Every failure is RFC 9457 problem+json, including those actix raises before a handler runs.

use serde_json::json;

use crate::helpers::assert_problem;

db_test!(malformed_json_is_a_400_problem, |app| async move {
    let res = app
        .client
        .post(app.api("/auth/login"))
        .header("Content-Type", "application/json")
        .body(r#"{"email": "a@b.example", "password": "#)
        .send()
        .await
        .unwrap();
    let (_, body) = assert_problem(res, 400).await;
    assert!(body["type"].as_str().unwrap().ends_with("bad-request"), "{body}");
});

db_test!(a_body_that_is_not_json_is_a_415_problem, |app| async move {
    let res = app
        .client
        .post(app.api("/auth/login"))
        .header("Content-Type", "text/plain")
        .body(r#"{"email": "a@b.example", "password": "x"}"#)
        .send()
        .await
        .unwrap();
    let (_, body) = assert_problem(res, 415).await;
    assert!(body["type"].as_str().unwrap().ends_with("unsupported-media-type"), "{body}");
});

db_test!(a_body_over_256_kib_is_a_413_problem, |app| async move {
    let body = json!({"email": "a@b.example", "password": "x".repeat(300 * 1024)});
    let res = app.client.post(app.api("/auth/login")).json(&body).send().await.unwrap();
    let (_, body) = assert_problem(res, 413).await;
    assert!(body["type"].as_str().unwrap().ends_with("payload-too-large"), "{body}");
});

db_test!(unknown_routes_are_404_problems, |app| async move {
    for path in ["/no-such-thing", "/api/v1/no-such-thing", "/api/v2/me"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let (_, body) = assert_problem(res, 404).await;
        assert!(body["type"].as_str().unwrap().ends_with("not-found"), "{path}: {body}");
    }
});

db_test!(an_unknown_field_is_a_422_naming_it, |app| async move {
    let res = app.login_raw(&json!({"email": "a@b.example", "password": "x", "remember_me": true})).await;
    let (_, body) = assert_problem(res, 422).await;
    let errors = body["errors"].as_array().expect("errors[]");
    assert!(errors.iter().any(|e| e["field"] == "remember_me"), "{body}");
    assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())), "{body}");
});

db_test!(a_missing_field_is_a_422_naming_it, |app| async move {
    let (_, body) = assert_problem(app.login_raw(&json!({"email": "a@b.example"})).await, 422).await;
    let errors = body["errors"].as_array().expect("errors[]");
    assert!(errors.iter().any(|e| e["field"] == "password"), "{body}");
});
