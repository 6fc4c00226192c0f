//! Browser sessions (`/auth/session`): the refresh token only in an HttpOnly SameSite=Strict cookie,
//! rotation with reuse detection, sign-out, the CSRF defence; and the web interface's own responses
//! (served at `/` with a strict Content-Security-Policy).

use hikeshi::domain::Role;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, parts, spawn_app_with, Backend, TestApp};

const CSRF: (&str, &str) = ("X-Hikeshi-CSRF", "1");

/// The `Set-Cookie` header for `hikeshi_refresh`, if any.
fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hikeshi_refresh="))
        .map(str::to_owned)
}

/// The cookie's value (what a browser would send back).
fn value_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or("").trim_start_matches("hikeshi_refresh=").to_owned()
}

async fn session_login(app: &TestApp, role: Role) -> (u16, HeaderMap, Value) {
    let email = app.email_of(role);
    let res = app
        .client
        .post(app.api("/auth/session"))
        .header(CSRF.0, CSRF.1)
        .json(&json!({"email": email, "password": app.password_of(&email)}))
        .send()
        .await
        .expect("session login");
    parts(res).await
}

async fn session_refresh(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client
        .post(app.api("/auth/session/refresh"))
        .header(CSRF.0, CSRF.1)
        .header("Cookie", format!("hikeshi_refresh={cookie}"))
        .send()
        .await
        .expect("session refresh")
}

db_test!(browser_sign_in_keeps_the_refresh_token_out_of_the_body_in_an_httponly_strict_cookie, |app| async move {
    let (status, headers, body) = session_login(&app, Role::Reporter).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "refresh token in the body: {body}");
    let token = body["access_token"].as_str().expect("access_token");
    assert_eq!(body["token_type"], "Bearer");
    let cookie = refresh_cookie(&headers).expect("Set-Cookie hikeshi_refresh");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth/session", "Max-Age="] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    // The test server's public URL is http://127.0.0.1: the only case without Secure.
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(value_of(&cookie).len() >= 32);
    let (status, _, me) = parts(app.get("/me", token).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["role"], "reporter");
});

db_test!(refreshing_rotates_the_cookie_and_a_replayed_cookie_ends_the_session, |app| async move {
    let (_, headers, _) = session_login(&app, Role::DutyOfficer).await;
    let first = value_of(&refresh_cookie(&headers).unwrap());
    let (status, headers, body) = parts(session_refresh(&app, &first).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].as_str().is_some() && body.get("refresh_token").is_none(), "{body}");
    let second = value_of(&refresh_cookie(&headers).expect("a rotated cookie"));
    assert_ne!(first, second);
    // The old cookie again: reuse, the whole family is revoked and the cookie cleared.
    let res = session_refresh(&app, &first).await;
    let cleared = refresh_cookie(res.headers()).expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_problem(res, 401).await;
    assert_problem(session_refresh(&app, &second).await, 401).await;
});

db_test!(refresh_without_a_cookie_is_401, |app| async move {
    let res = app.client.post(app.api("/auth/session/refresh")).header(CSRF.0, CSRF.1).send().await.unwrap();
    let (_, body) = assert_problem(res, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("session"), "{body}");
});

db_test!(cookie_endpoints_refuse_requests_another_site_could_send, |app| async move {
    let (_, headers, _) = session_login(&app, Role::Reporter).await;
    let cookie = format!("hikeshi_refresh={}", value_of(&refresh_cookie(&headers).unwrap()));
    let url = app.api("/auth/session/refresh");
    // No custom header (a plain cross-site form or fetch without preflight).
    let res = app.client.post(&url).header("Cookie", &cookie).send().await.unwrap();
    assert_problem(res, 403).await;
    // A foreign Origin.
    let res = app
        .client
        .post(&url)
        .header("Cookie", &cookie)
        .header(CSRF.0, CSRF.1)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    // The browser says another site sent it.
    let res = app
        .client
        .post(&url)
        .header("Cookie", &cookie)
        .header(CSRF.0, CSRF.1)
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    // Sign-in is protected too (login CSRF).
    let email = app.email_of(Role::Reporter);
    let res = app
        .client
        .post(app.api("/auth/session"))
        .json(&json!({"email": email, "password": app.password_of(&email)}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    // The service's own page: accepted.
    let res = app
        .client
        .post(&url)
        .header("Cookie", &cookie)
        .header(CSRF.0, CSRF.1)
        .header("Origin", &app.address)
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
});

db_test!(browser_sign_out_revokes_the_session_and_clears_the_cookie, |app| async move {
    let (_, headers, _) = session_login(&app, Role::Responder).await;
    let value = value_of(&refresh_cookie(&headers).unwrap());
    let res = app
        .client
        .delete(app.api("/auth/session"))
        .header(CSRF.0, CSRF.1)
        .header("Cookie", format!("hikeshi_refresh={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let cleared = refresh_cookie(res.headers()).expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_problem(session_refresh(&app, &value).await, 401).await;
    // Signing out without a session is harmless.
    let res = app.client.delete(app.api("/auth/session")).header(CSRF.0, CSRF.1).send().await.unwrap();
    assert_eq!(res.status(), 204);
});

db_test!(a_wrong_password_sets_no_cookie, |app| async move {
    let email = app.email_of(Role::Reporter);
    let res = app
        .client
        .post(app.api("/auth/session"))
        .header(CSRF.0, CSRF.1)
        .json(&json!({"email": email, "password": "not-the-password-at-all"}))
        .send()
        .await
        .unwrap();
    assert!(refresh_cookie(res.headers()).is_none());
    assert_problem(res, 401).await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_secure_when_the_service_is_public() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.public_url = "https://hikeshi.example".into())
        .await
        .expect("a SQLite app");
    let (status, headers, body) = session_login(&app, Role::Reporter).await;
    assert_eq!(status, 200, "{body}");
    let cookie = refresh_cookie(&headers).unwrap();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

db_test!(the_web_interface_is_served_with_a_strict_content_security_policy, |app| async move {
    for path in ["/", "/login", "/file", "/queue", "/stats", "/dispatches", "/incidents", "/incidents/some-id"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        for part in
            ["script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]
        {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        let html = res.text().await.unwrap();
        assert!(html.contains("/assets/app.js") && html.contains("lang=\"ja\""), "{path}");
    }
    let res = app.client.get(app.url("/assets/app.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app.client.get(app.url("/assets/app.js")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 304);
    let res = app.client.get(app.url("/assets/nope.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // The API is untouched: unknown API paths are still problem+json 404.
    let res = app.client.get(app.api("/nope")).send().await.unwrap();
    assert_problem(res, 404).await;
});

db_test!(enrolling_a_second_factor_in_the_browser_moves_the_cookie_to_the_new_session, |app| async move {
    let (_, headers, body) = session_login(&app, Role::Reporter).await;
    let old_cookie = value_of(&refresh_cookie(&headers).unwrap());
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (status, _, setup) = parts(app.post("/auth/totp/setup", &token, &json!({})).await).await;
    assert_eq!(status, 200, "{setup}");
    let code = hikeshi::auth::totp::current_code(setup["secret"].as_str().unwrap()).unwrap();
    let confirm = |csrf: bool| {
        let mut req = app.client.post(app.api("/auth/session/totp")).bearer_auth(&token).json(&json!({"code": code}));
        if csrf {
            req = req.header(CSRF.0, CSRF.1);
        }
        req.send()
    };
    // Without the CSRF header: refused, nothing enrolled.
    assert_problem(confirm(false).await.unwrap(), 403).await;
    let (status, headers, body) = parts(confirm(true).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let new_cookie = value_of(&refresh_cookie(&headers).expect("the cookie of the new session"));
    assert_ne!(new_cookie, old_cookie);
    // The password-only session is over; the new cookie carries on.
    assert_eq!(session_refresh(&app, &old_cookie).await.status(), 401);
    assert_eq!(app.get("/me", &token).await.status(), 401);
    let (status, _, body) = parts(session_refresh(&app, &new_cookie).await).await;
    assert_eq!(status, 200, "{body}");
    let (_, _, me) = parts(app.get("/me", body["access_token"].as_str().unwrap()).await).await;
    assert_eq!(me["totp_enabled"], true, "{me}");
});
