//! An attacker who already has one hospital's password (issue 16). Each case is something that got
//! through before, reproduced and refused here.
//!
//! Sessions: every access token belongs to a session (its refresh-token family); logout, a password
//! reset, disabling the account, enrolling or removing a second factor and refresh-token reuse end
//! the session, and its access tokens are refused on the very next request, on every instance.
//!
//! Also here: sign-in throttling a stranger cannot turn into a lock-out, forwarded addresses
//! believed only from trusted proxies, the need-to-know matrix (role x field), dispatch access, CSV
//! formulas, names and titles, metrics and docs, secret values in errors. The attacker with
//! database access (altered, recomputed, truncated and deleted audit chains, deleted reads, a
//! changed extract, the append-only tables) is in `audit_trail.rs`.

use hikeshi::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_unauthorized, next_step_code, parts, spawn_app_on_same_database, Backend, TestApp};
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

db_test!(a_hospital_name_that_is_a_spreadsheet_formula_is_exported_as_text, |app| async move {
    let admin = app.token_for(Role::Admin).await;
    let tokyo = crate::incidents::hospital_id(&app, "東京中央");
    let (_, headers, _) = parts(app.get(&format!("/organizations/{tokyo}"), &admin).await).await;
    let version =
        headers["etag"].to_str().unwrap().trim_matches(|c| c == '"' || c == 'W' || c == '/').parse::<i64>().ok();
    let formula = "=cmd|' /C calc'!A0";
    let res = app.patch(&format!("/organizations/{tokyo}"), &admin, version, &json!({"name": formula})).await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    file_ok(&app, &app.token_for(Role::Reporter).await, &ransomware_filing()).await;
    let officer = app.token_for(Role::DutyOfficer).await;
    let res = app.client.get(app.api("/incidents/export.csv")).bearer_auth(&officer).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(csv.contains(",'=cmd|' /C calc'!A0,"), "the formula is neutralised: {csv}");
    assert!(!csv.contains(",=cmd"), "{csv}");
});

db_test!(names_and_titles_refuse_control_bidirectional_and_zero_width_characters, |app| async move {
    let token = app.token_for(Role::Reporter).await;
    for title in ["two\nlines", "tab\there", "evil\u{202E}gpj.exe", "zero\u{200B}width", "bell\u{7}"] {
        let mut body = ransomware_filing();
        body["title"] = json!(title);
        let (status, _, problem) = parts(app.post("/incidents", &token, &body).await).await;
        assert_eq!(status, 422, "{title:?}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "title", "{problem}");
    }
    // Free text keeps its line breaks but not a bidirectional override.
    let mut body = ransomware_filing();
    body["description"] = json!("一行目\n二行目");
    assert_eq!(app.post("/incidents", &token, &body).await.status(), 201);
    body["description"] = json!("請求書\u{202E}fdp.exe");
    assert_eq!(app.post("/incidents", &token, &body).await.status(), 422);
});

backend_test!(metrics_need_their_token_when_one_is_set_and_the_docs_carry_a_csp, |backend| async move {
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| {
        s.metrics_token = Some(hikeshi::config::Secret::new("metrics-token-0123456789"));
    })
    .await
    else {
        return;
    };
    let metrics = |auth: Option<&'static str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        req.send()
    };
    assert_unauthorized(metrics(None).await.unwrap()).await;
    assert_unauthorized(metrics(Some("Bearer wrong")).await.unwrap()).await;
    let ok = metrics(Some("Bearer metrics-token-0123456789")).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("# TYPE"), "Prometheus text");
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let csp = docs.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
});

db_test!(removing_the_second_factor_needs_the_password_and_an_unused_code, |app| async move {
    let email = app.email_of(Role::Reporter);
    let token = app.login(&email).await;
    let (_, _, setup) = parts(app.post("/auth/totp/setup", &token, &json!({})).await).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let used = hikeshi::auth::totp::current_code(&secret).unwrap();
    let (status, _, fresh) = parts(app.post("/auth/totp/confirm", &token, &json!({"code": used})).await).await;
    assert_eq!(status, 200, "{fresh}");
    let token = fresh["access_token"].as_str().unwrap().to_owned();
    let remove = |body: Value| app.client.delete(app.api("/auth/totp")).bearer_auth(&token).json(&body).send();
    let password = app.password_of(&email);
    // A stolen session alone: no password, refused before anything is checked.
    let (status, _, problem) = parts(remove(json!({"code": next_step_code(&secret)})).await.unwrap()).await;
    assert_eq!(status, 422, "{problem}");
    // The code that enrolled is not accepted again; a wrong password is refused; both count.
    assert_unauthorized(remove(json!({"password": password, "code": used})).await.unwrap()).await;
    let wrong = json!({"password": "Not-the-password-1!", "code": next_step_code(&secret)});
    assert_unauthorized(remove(wrong).await.unwrap()).await;
    let mut conn = app.conn();
    let stored = hikeshi::db::users::by_email(&mut conn, &email).unwrap().unwrap();
    let standing = hikeshi::db::sign_in::standing(&mut conn, &email, "127.0.0.1", chrono::Utc::now()).unwrap();
    drop(conn);
    assert_eq!(standing.account_failures_last_hour, 2, "each refusal counts as a failed sign-in");
    assert!(stored.totp_secret.is_some(), "still enrolled");
    // The password and a fresh code: removed, and every session of the account ends.
    let res = remove(json!({"password": password, "code": next_step_code(&secret)})).await.unwrap();
    assert_eq!(res.status(), 204);
    assert_unauthorized(app.get("/me", &token).await).await;
    let (status, _, me) = parts(app.get("/me", &app.login(&email).await).await).await;
    assert_eq!((status, me["totp_enabled"].clone()), (200, json!(false)), "{me}");
});

db_test!(a_password_sent_as_a_number_is_not_repeated_in_the_error, |app| async move {
    let email = app.email_of(Role::Reporter);
    let res = app.login_raw(&json!({"email": email, "password": 98765432109_i64})).await;
    let (status, _, problem) = parts(res).await;
    assert_eq!(status, 422, "{problem}");
    assert!(!problem.to_string().contains("98765432109"), "the value came back: {problem}");
    assert!(problem.to_string().contains("expected a string"), "{problem}");
    // A misspelt field is still named.
    let res = app.login_raw(&json!({"email": email, "passwrd": "x"})).await;
    let (status, _, problem) = parts(res).await;
    assert_eq!((status, problem["errors"][0]["field"].clone()), (422, json!("passwrd")), "{problem}");
});

/// A sign-in attempt from `client`, as the trusted proxy in front of the test server forwards it.
async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.api("/auth/login"))
        .header("X-Forwarded-For", client)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request")
}

fn retry_after(res: &reqwest::Response) -> i64 {
    res.headers()["retry-after"].to_str().unwrap().parse().expect("Retry-After in seconds")
}

/// Ends the current wait of `client` at `email`, as if its time had passed.
fn end_wait(app: &TestApp, email: &str, client: &str) {
    use diesel::prelude::*;
    use hikeshi::db::schema::sign_in_failures as f;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).naive_utc();
    let mut conn = app.conn();
    let n = diesel::update(f::table.filter(f::email.eq(email)).filter(f::client.eq(client)))
        .set(f::wait_until.eq(Some(past)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(n, 1, "one row for {email} from {client}");
}

backend_test!(a_stranger_cannot_lock_the_owner_out_and_the_owner_is_told, |backend| async move {
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| {
        // The test client plays a reverse proxy on loopback that forwards several clients.
        s.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    else {
        return;
    };
    let email = app.email_of(Role::DutyOfficer);
    let password = app.password_of(&email);
    let (stranger, owner) = ("203.0.113.9", "198.51.100.20");
    for _ in 0..5 {
        assert_unauthorized(login_from(&app, stranger, &email, "Guess-1234!").await).await;
    }
    // The stranger now waits, and during the wait even the right password is not checked.
    let res = login_from(&app, stranger, &email, &password).await;
    assert_eq!(res.status(), 429);
    let first = retry_after(&res);
    assert!((25..=30).contains(&first), "first wait {first} s");
    // The owner, from another client, is not kept out.
    assert_eq!(login_from(&app, owner, &email, &password).await.status(), 200);
    // Each further failure doubles the stranger's wait.
    end_wait(&app, &email, stranger);
    assert_unauthorized(login_from(&app, stranger, &email, "Guess-5678!").await).await;
    let second = retry_after(&login_from(&app, stranger, &email, "Guess-9012!").await);
    assert!((55..=60).contains(&second), "second wait {second} s after a first of {first} s");
    // An address with no account is throttled the same way: waits do not reveal which accounts exist.
    for _ in 0..5 {
        assert_unauthorized(login_from(&app, stranger, "nobody@nowhere.example", "Guess-1234!").await).await;
    }
    assert_eq!(login_from(&app, stranger, "nobody@nowhere.example", "Guess-1234!").await.status(), 429);
    // The owner was told once, by e-mail through the outbox, and the account was never locked.
    let mut conn = app.conn();
    let told: Vec<(String, String)> = {
        use diesel::prelude::*;
        use hikeshi::db::schema::notifications as n;
        n::table.filter(n::kind.eq("sign_in_throttled")).select((n::recipients, n::body_text)).load(&mut conn).unwrap()
    };
    drop(conn);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].0.contains(&email) && told[0].1.contains(stranger), "{told:?}");
    // An administrator can lift the wait at once.
    admin_patch_user(&app, &email, json!({"unlock": true})).await;
    assert_eq!(login_from(&app, stranger, &email, &password).await.status(), 200);
});

backend_test!(a_forwarded_address_from_an_untrusted_peer_is_not_believed, |backend| async move {
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| s.rate_limit_per_minute = 20).await else {
        return;
    };
    let email = app.email_of(Role::Reporter);
    // Without trusted proxies, a different X-Forwarded-For on every attempt is still one client.
    for i in 0..5 {
        assert_unauthorized(login_from(&app, &format!("192.0.2.{i}"), &email, "Guess-1234!").await).await;
    }
    assert_eq!(login_from(&app, "192.0.2.99", &email, "Guess-1234!").await.status(), 429);
    // And the API's allowance per client cannot be renewed by inventing addresses.
    let token = app.token_for(Role::Admin).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let res = app.client.get(app.api("/me")).bearer_auth(&token).header("X-Forwarded-For", format!("192.0.2.{i}"));
        statuses.push(res.send().await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
});

/// The text of a GET, whatever its status (for looking for values that must not be there).
async fn read_text(app: &TestApp, path: &str, token: &str) -> (u16, String) {
    let res = app.get(path, token).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

db_test!(need_to_know_matrix_every_role_against_every_personal_field, |app| async move {
    use crate::incidents::{EAST_RESPONDER, OFFICER, PPC_LIAISON, TOKYO_REPORTER};
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let mut filing = ransomware_filing();
    filing["contact"] =
        json!({"name": "情報システム室 佐藤", "phone": "03-1234-5678", "email": "it-desk@tokyo-chuo.example"});
    let incident = file_ok(&app, &reporter, &filing).await;
    let id = incident["id"].as_str().unwrap().to_owned();
    let (_, _, me) = parts(app.get("/me", &reporter).await).await;
    let reporter_name = me["name"].as_str().unwrap().to_owned();
    // The east team is dispatched and works on it.
    let (team, member) = team_and_member(&app, &officer, "東日本").await;
    let d = dispatch_to(&app, &officer, &id, &team, &member).await;
    let responder = app.login(EAST_RESPONDER).await;
    move_to(&app, &responder, &d, "accepted").await;
    let liaison = app.login(PPC_LIAISON).await;
    let admin = app.token_for(Role::Admin).await;
    // Correspondence: the officer logs a call with the hospital's contact, the hospital writes to the
    // ministry.
    let call =
        json!({"direction": "in", "with": "事務長 高橋", "at": crate::incidents::jst_ago(3), "summary": "状況確認"});
    assert_eq!(app.post(&format!("/incidents/{id}/calls"), &officer, &call).await.status(), 201);
    let note = json!({"to": "ministry", "subject": "院内の状況", "body": "電子カルテは停止中です。"});
    assert_eq!(app.post(&format!("/incidents/{id}/messages"), &reporter, &note).await.status(), 201);

    // What each role sees, field by field (auth::policy::Sight): contact phone, contact e-mail, the
    // filer, authors' names on the timeline, recipients' addresses, other authorities' mail, the
    // contact in the common-format report, the correspondence with the hospital.
    #[rustfmt::skip]
    let matrix = [
        ("reporter",  &reporter,  [true, true, true, true, true, true, true, true]),
        ("officer",   &officer,   [true, true, true, true, true, true, true, true]),
        ("admin",     &admin,     [true, true, true, true, true, true, true, true]),
        ("responder", &responder, [true, true, true, true, false, false, true, false]),
        ("liaison",   &liaison,   [false, false, false, false, false, false, false, false]),
    ];
    for (role, token, expected) in matrix {
        let (status, detail) = read_text(&app, &format!("/incidents/{id}"), token).await;
        assert_eq!(status, 200, "{role}: {detail}");
        let detail: Value = serde_json::from_str(&detail).unwrap();
        let (_, timeline) = read_text(&app, &format!("/incidents/{id}/updates"), token).await;
        let (n_status, notifications) = read_text(&app, &format!("/incidents/{id}/notifications"), token).await;
        let listed: Vec<Value> = if n_status == 200 { serde_json::from_str(&notifications).unwrap() } else { vec![] };
        let (_, report) = read_text(&app, &format!("/incidents/{id}/reports/nco-ransomware?format=text"), token).await;
        let (m_status, messages) = read_text(&app, &format!("/incidents/{id}/messages"), token).await;
        let seen = [
            detail.to_string().contains("03-1234-5678"),
            detail.to_string().contains("it-desk@tokyo-chuo.example"),
            detail.get("reported_by").is_some(),
            timeline.contains(&reporter_name),
            listed.iter().any(|n| n["recipients"].as_array().is_some_and(|r| !r.is_empty())),
            listed.iter().any(|n| n["authority"] != "ppc"),
            report.contains("03-1234-5678"),
            m_status == 200 && messages.contains("院内の状況") && messages.contains("状況確認"),
        ];
        assert_eq!(
            seen, expected,
            "{role}: [phone, e-mail, filer, authors, addresses, other mail, report contact, correspondence]"
        );
        // What a role may not read of the correspondence is not on its timeline either.
        if !expected[7] {
            assert!(!timeline.contains("院内の状況") && !timeline.contains("事務長 高橋"), "{role}: {timeline}");
        }
        // Nothing of the contact or the filer's name leaks anywhere in what a liaison reads.
        if role == "liaison" {
            for text in [&detail.to_string(), &timeline, &notifications, &report, &messages] {
                assert!(!text.contains("佐藤") && !text.contains(&reporter_name), "{text}");
            }
            assert!(listed.iter().all(|n| n["authority"] == "ppc"), "{notifications}");
        }
        if role == "responder" {
            assert_eq!((n_status, m_status), (403, 403), "{notifications} {messages}");
        }
        // The CSV export and the audit trail: officers and admins only; the CSV carries no contact
        // and no person at all, the audit names who acted (its purpose).
        let (csv_status, csv) = read_text(&app, "/incidents/export.csv", token).await;
        let (audit_status, audit) = read_text(&app, &format!("/audit?incident_id={id}"), token).await;
        let privileged = matches!(role, "officer" | "admin");
        assert_eq!((csv_status == 200, audit_status == 200), (privileged, privileged), "{role}: {csv} {audit}");
        if privileged {
            for secret in ["03-1234-5678", "it-desk@tokyo-chuo.example", "佐藤", reporter_name.as_str(), TOKYO_REPORTER]
            {
                assert!(!csv.contains(secret), "{role}: the CSV carries {secret}");
            }
            assert!(audit.contains(me["id"].as_str().unwrap()), "{role}: the audit names the filer: {audit}");
        }
    }
});

async fn team_and_member(app: &TestApp, officer: &str, part: &str) -> (String, String) {
    let (status, _, list) = parts(app.get("/responder-teams", officer).await).await;
    assert_eq!(status, 200, "{list}");
    let t = list.as_array().unwrap().iter().find(|t| t["name"].as_str().unwrap().contains(part)).unwrap().clone();
    (t["id"].as_str().unwrap().to_owned(), t["members"][0]["id"].as_str().unwrap().to_owned())
}

async fn dispatch_to(app: &TestApp, officer: &str, incident: &str, team: &str, member: &str) -> String {
    let order = json!({"team_id": team, "responder_ids": [member], "mode": "on_site"});
    let (status, _, d) = parts(app.post(&format!("/incidents/{incident}/dispatches"), officer, &order).await).await;
    assert_eq!(status, 201, "{d}");
    d["id"].as_str().unwrap().to_owned()
}

async fn move_to(app: &TestApp, token: &str, dispatch: &str, status: &str) {
    let res = app.post(&format!("/dispatches/{dispatch}/status"), token, &json!({"status": status})).await;
    let (code, _, body) = parts(res).await;
    assert_eq!(code, 200, "→ {status}: {body}");
}

db_test!(a_team_that_declined_or_was_cancelled_no_longer_reads_or_changes_the_incident, |app| async move {
    use crate::incidents::{EAST_RESPONDER, OFFICER, TOKYO_REPORTER};
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let responder = app.login(EAST_RESPONDER).await;
    let (team, member) = team_and_member(&app, &officer, "東日本").await;
    let note = json!({"kind": "note", "body": "ログを確認しました"});
    let fully_normal = json!({"at": chrono::Utc::now().to_rfc3339()});
    // What the team can do with an incident: read it, find it in its list, add a note, set a milestone.
    let can = |id: String| {
        let (app, responder, note, fully_normal) = (&app, &responder, &note, &fully_normal);
        async move {
            let read = app.get(&format!("/incidents/{id}"), responder).await.status().as_u16();
            let (_, _, page) = parts(app.get("/incidents", responder).await).await;
            let listed = page["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str());
            let noted = app.post(&format!("/incidents/{id}/updates"), responder, note).await.status().as_u16();
            let milestone = app
                .put(&format!("/incidents/{id}/milestones/fully_normal"), responder, fully_normal)
                .await
                .status()
                .as_u16();
            (read, listed, noted, milestone)
        }
    };
    let file = || async { file_ok(&app, &reporter, &ransomware_filing()).await["id"].as_str().unwrap().to_owned() };

    let declined = file().await;
    let d = dispatch_to(&app, &officer, &declined, &team, &member).await;
    // Assigned: the team reads it to decide, but cannot change it before accepting.
    assert_eq!(can(declined.clone()).await, (200, true, 403, 403));
    move_to(&app, &responder, &d, "declined").await;
    assert_eq!(can(declined).await, (404, false, 404, 404), "after declining");

    let cancelled = file().await;
    let d = dispatch_to(&app, &officer, &cancelled, &team, &member).await;
    move_to(&app, &responder, &d, "accepted").await;
    assert_eq!(can(cancelled.clone()).await, (200, true, 201, 200), "while working on it");
    move_to(&app, &officer, &d, "cancelled").await;
    assert_eq!(can(cancelled).await, (404, false, 404, 404), "after cancellation");

    let released = file().await;
    let d = dispatch_to(&app, &officer, &released, &team, &member).await;
    for status in ["accepted", "en_route", "on_site", "released"] {
        move_to(&app, &responder, &d, status).await;
    }
    assert_eq!(can(released).await, (200, true, 403, 403), "after release: its record, read only");
});
