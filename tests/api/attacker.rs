//! An attacker who already has one hospital's password (issue 16). Each case is something that got
//! through before, reproduced and refused here.
//!
//! Sessions: every access token belongs to a session (its refresh-token family); logout, a password
//! reset, disabling the account, enrolling or removing a second factor and refresh-token reuse end
//! the session, and its access tokens are refused on the very next request, on every instance.

use hikeshi::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_unauthorized, parts, spawn_app_on_same_database, Backend, TestApp};
use crate::incidents::{file_ok, ransomware_filing};

/// The id and version of a user, as the admin's user list shows them.
async fn user_row(app: &TestApp, admin: &str, email: &str) -> Value {
    let (status, _, page) = parts(app.get("/users?limit=200", admin).await).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").iter().find(|u| u["email"] == email).expect("the user").clone()
}

/// An admin's change to a user.
async fn admin_patch_user(app: &TestApp, email: &str, patch: Value) {
    let admin = app.token_for(Role::Admin).await;
    let row = user_row(app, &admin, email).await;
    let id = row["id"].as_str().unwrap();
    let res = app.patch(&format!("/users/{id}"), &admin, row["version"].as_i64(), &patch).await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
}

/// What the session's holder can still do: read `/me`, and exchange its refresh token.
async fn assert_session_ended(app: &TestApp, tokens: &Value, what: &str) {
    let access = tokens["access_token"].as_str().unwrap();
    let body = assert_unauthorized(app.get("/me", access).await).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("session"), "{what}: {body}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_unauthorized(
        app.client.post(app.api("/auth/refresh")).json(&json!({"refresh_token": refresh})).send().await.unwrap(),
    )
    .await;
}

db_test!(after_logout_the_access_token_is_refused_at_once_and_writes_nothing, |app| async move {
    let email = app.email_of(Role::Reporter);
    let tokens = app.login_tokens(&email).await;
    let access = tokens["access_token"].as_str().unwrap();
    let incident = file_ok(&app, access, &ransomware_filing()).await;
    let id = incident["id"].as_str().unwrap();
    // Another session of the same user is not touched by this one's logout.
    let other = app.login(&email).await;

    assert_eq!(app.post("/auth/logout", access, &json!({})).await.status(), 204);
    let note = json!({"kind": "note", "body": "written after logout"});
    assert_unauthorized(app.post(&format!("/incidents/{id}/updates"), access, &note).await).await;
    assert_session_ended(&app, &tokens, "logout").await;

    let (status, _, page) = parts(app.get(&format!("/incidents/{id}/updates?limit=200"), &other).await).await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.to_string().contains("written after logout"), "a note was posted after logout: {page}");
});

db_test!(reusing_a_refresh_token_ends_the_session_and_its_access_tokens, |app| async move {
    let tokens = app.login_tokens(&app.email_of(Role::Reporter)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = app.client.post(app.api("/auth/refresh")).json(&json!({"refresh_token": refresh})).send().await.unwrap();
    let (status, _, rotated) = parts(res).await;
    assert_eq!(status, 200, "{rotated}");
    // The thief replays the old refresh token: the whole session ends, the rotated tokens too.
    let res = app.client.post(app.api("/auth/refresh")).json(&json!({"refresh_token": refresh})).send().await.unwrap();
    assert_unauthorized(res).await;
    assert_session_ended(&app, &rotated, "refresh reuse").await;
    assert_unauthorized(app.get("/me", tokens["access_token"].as_str().unwrap()).await).await;
});

db_test!(a_password_reset_or_disabling_ends_every_session_of_the_account, |app| async move {
    let email = app.email_of(Role::Reporter);
    let first = app.login_tokens(&email).await;
    let second = app.login_tokens(&email).await;
    admin_patch_user(&app, &email, json!({"password": "A-completely-new-pass-42"})).await;
    assert_session_ended(&app, &first, "password reset").await;
    assert_session_ended(&app, &second, "password reset").await;
    // The new password opens a new session.
    let res = app.login_raw(&json!({"email": email, "password": "A-completely-new-pass-42"})).await;
    let (status, _, fresh) = parts(res).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(app.get("/me", fresh["access_token"].as_str().unwrap()).await.status(), 200);

    // Disabling the account ends that session as well.
    let officer_email = app.email_of(Role::DutyOfficer);
    let officer = app.login_tokens(&officer_email).await;
    admin_patch_user(&app, &officer_email, json!({"active": false})).await;
    assert_session_ended(&app, &officer, "disabled").await;
    // Only the changes that concern credentials end sessions: a new name does not.
    let responder_email = app.email_of(Role::Responder);
    let responder = app.login_tokens(&responder_email).await;
    admin_patch_user(&app, &responder_email, json!({"name": "新しい名前"})).await;
    assert_eq!(app.get("/me", responder["access_token"].as_str().unwrap()).await.status(), 200);
});

db_test!(enrolling_a_second_factor_ends_the_sessions_opened_with_the_password_alone, |app| async move {
    let email = app.email_of(Role::Reporter);
    let stolen = app.login_tokens(&email).await; // the attacker's session, opened with the password
    let own = app.login_tokens(&email).await;
    let token = own["access_token"].as_str().unwrap();
    let (status, _, setup) = parts(app.post("/auth/totp/setup", token, &json!({})).await).await;
    assert_eq!(status, 200, "{setup}");
    let code = hikeshi::auth::totp::current_code(setup["secret"].as_str().unwrap()).unwrap();
    let (status, _, fresh) = parts(app.post("/auth/totp/confirm", token, &json!({"code": code})).await).await;
    assert_eq!(status, 200, "{fresh}");
    assert_session_ended(&app, &stolen, "totp enrolment").await;
    assert_session_ended(&app, &own, "totp enrolment").await;
    // The tokens issued with both factors work.
    assert_eq!(app.get("/me", fresh["access_token"].as_str().unwrap()).await.status(), 200);
});

/// Two instances on one PostgreSQL database: a logout at one is refused at the other on the next
/// request (no instance keeps a session's validity to itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_at_one_instance_is_refused_at_another_on_the_next_request() {
    let Some(a) = crate::helpers::spawn_app(Backend::Postgres).await else { return };
    let b = spawn_app_on_same_database(&a, |_| {}).await;
    let tokens = a.login_tokens(&a.email_of(Role::Reporter)).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(a.get("/me", access).await.status(), 200);
    assert_eq!(b.get("/me", access).await.status(), 200);
    assert_eq!(b.post("/auth/logout", access, &json!({})).await.status(), 204);
    assert_unauthorized(a.get("/me", access).await).await;
    assert_unauthorized(b.get("/me", access).await).await;
}
