//! Hardening found while fuzzing the contract: 405 with `Allow`, security headers, CORS and the
//! per-client rate limit (behind a trusted proxy too).

use crate::helpers::{assert_problem, spawn_app_with, Backend};

db_test!(a_known_path_asked_with_another_method_is_a_405_listing_the_allowed_ones, |app| async move {
    let res = app.client.delete(app.api("/auth/login")).send().await.unwrap();
    let allow = res.headers().get("allow").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_problem(res, 405).await;
    assert_eq!(allow.as_deref(), Some("POST"));
    let res = app.client.put(app.api("/incidents/01a20143-8105-727b-8278-589968cb064e")).send().await.unwrap();
    let allow = res.headers().get("allow").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_problem(res, 405).await;
    assert_eq!(allow.as_deref(), Some("GET, PATCH"));
    let res = app.client.get(app.api("/no-such-thing")).send().await.unwrap();
    assert_problem(res, 404).await;
});

#[tokio::test]
async fn an_invented_method_is_refused_and_adds_no_metrics_series() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        let res = app.client.request(method, app.api("/incidents")).send().await.unwrap();
        assert_problem(res, 405).await;
    }
    app.client.get(app.url("/healthz")).send().await.unwrap();
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("INVENTED"), "each invented method would be a series of its own");
    assert!(metrics.contains("method=\"GET\""), "the known methods are still counted");
}

#[tokio::test]
async fn api_responses_forbid_rendering_and_framing() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let res = app.client.get(app.api("/me")).send().await.unwrap();
    let h = res.headers();
    assert_eq!(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.get("access-control-allow-origin").is_none(), "no CORS unless configured");
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.cors_allowed_origins = vec!["https://portal.example.jp".into()])
        .await
        .unwrap();
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.api("/incidents"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
            .send()
    };
    let res = preflight("https://portal.example.jp").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://portal.example.jp");
    let res = preflight("https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn each_client_has_its_own_allowance_and_behind_a_proxy_a_spoofed_address_does_not_help() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limit_per_minute = 3;
        s.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    .unwrap();
    let me = |xff: &'static str| app.client.get(app.api("/me")).header("X-Forwarded-For", xff).send();
    for spoof in ["1.1.1.1, 203.0.113.9", "2.2.2.2, 203.0.113.9", "3.3.3.3, 203.0.113.9"] {
        assert_eq!(me(spoof).await.unwrap().status(), 401);
    }
    let res = me("4.4.4.4, 203.0.113.9").await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429).await;
    assert_eq!(me("203.0.113.10").await.unwrap().status(), 401, "another client is not limited");
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200, "only /api is limited");
}

db_test!(inputs_beyond_their_stated_limits_are_refused_before_any_work, |app| async move {
    let token = app.login(crate::incidents::OFFICER).await;
    // A path segment longer than any id names nothing.
    let long_id = "a".repeat(hikeshi::api::MAX_PATH_SEGMENT + 1);
    crate::helpers::assert_problem(app.get(&format!("/incidents/{long_id}"), &token).await, 404).await;
    // A query value beyond the limit is a 422 naming the parameter.
    let cursor = "c".repeat(hikeshi::api::MAX_QUERY_VALUE + 1);
    let (_, problem) =
        crate::helpers::assert_problem(app.get(&format!("/incidents?cursor={cursor}"), &token).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "cursor");
    // At the limit it is read (and refused for what it says, not for its length).
    let cursor = "c".repeat(hikeshi::api::MAX_QUERY_VALUE);
    let (_, problem) =
        crate::helpers::assert_problem(app.get(&format!("/incidents?cursor={cursor}"), &token).await, 422).await;
    assert!(!problem["errors"][0]["message"].as_str().unwrap_or_default().contains("at most"));
    // A security policy naming more roles than exist is refused, and nothing changes.
    let admin = app.login(crate::incidents::ADMIN).await;
    let before: serde_json::Value = app.get("/security-policy", &admin).await.json().await.unwrap();
    let roles: Vec<&str> = std::iter::repeat_n("admin", 6).collect();
    let res = app.put("/security-policy", &admin, &serde_json::json!({"totp_required_roles": roles})).await;
    crate::helpers::assert_problem(res, 422).await;
    let after: serde_json::Value = app.get("/security-policy", &admin).await.json().await.unwrap();
    assert_eq!(before, after);
});
