//! Sign-in, tokens, two-factor authentication, password policy and admin-only access.

use std::time::{Duration, Instant};

use base64::Engine;
use hikeshi::auth::jwt::{Claims, AUDIENCE, ISSUER};
use hikeshi::domain::Role;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, assert_unauthorized, next_step_code, parts, TestApp, JWT_SECRET};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a JWT, unverified.
fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON payload")
}

/// Claims of a valid session for the user `/me` describes.
async fn claims_of(app: &TestApp, token: &str) -> Claims {
    let (status, _, me) = parts(app.get("/me", token).await).await;
    assert_eq!(status, 200, "{me}");
    Claims {
        sub: me["id"].as_str().unwrap().to_owned(),
        org: me["org"]["id"].as_str().unwrap().to_owned(),
        role: me["role"].as_str().unwrap().parse().unwrap(),
        iat: now(),
        exp: now() + 600,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        jti: uuid::Uuid::now_v7().to_string(),
        // The session of `token`: a token is accepted only while its session is live.
        fam: payload_of(token)["fam"].as_str().expect("fam").to_owned(),
        enrol: false,
    }
}

/// A token signed with the service's secret under `alg`. hikeshi's crypto provider signs HS256
/// only, so the other HMAC algorithms are computed here with the `hmac` crate.
fn sign(alg: Algorithm, claims: &Claims) -> String {
    use hmac::Mac;
    if alg == Algorithm::HS256 {
        return encode(&Header::new(alg), claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).expect("jwt");
    }
    let header = serde_json::to_vec(&Header::new(alg)).unwrap();
    let signing_input = format!("{}.{}", b64(&header), b64(&serde_json::to_vec(claims).unwrap()));
    let key = JWT_SECRET.as_bytes();
    let signature = match alg {
        Algorithm::HS384 => hmac::Hmac::<sha2::Sha384>::new_from_slice(key)
            .unwrap()
            .chain_update(&signing_input)
            .finalize()
            .into_bytes()
            .to_vec(),
        Algorithm::HS512 => hmac::Hmac::<sha2::Sha512>::new_from_slice(key)
            .unwrap()
            .chain_update(&signing_input)
            .finalize()
            .into_bytes()
            .to_vec(),
        other => panic!("no test signer for {other:?}"),
    };
    format!("{signing_input}.{}", b64(&signature))
}

/// The id and version of a user, as the admin's user list shows them.
async fn user_row(app: &TestApp, admin: &str, email: &str) -> Value {
    let (status, _, page) = parts(app.get("/users?limit=200", admin).await).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {page}"))
        .clone()
}

db_test!(login_returns_an_access_token_a_refresh_token_and_their_lifetime, |app| async move {
    let email = app.email_of(Role::Reporter);
    let res = app.login_raw(&json!({"email": email, "password": app.password_of(&email)})).await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["totp_enrolment_required"], false);
    let access = body["access_token"].as_str().expect("access_token");
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    assert!(body["refresh_token"].as_str().is_some_and(|r| r.len() >= 32), "{body}");
    // The e-mail matches case-insensitively and the token opens /me.
    let (status, _, me) = parts(app.get("/me", access).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], email);
    assert_eq!(me["role"], "reporter");
});

db_test!(wrong_password_and_unknown_email_fail_alike_and_both_verify_a_hash, |app| async move {
    let email = app.email_of(Role::Reporter);
    // What one argon2 verification costs on this machine (the fastest of three).
    let verify_cost = tokio::task::spawn_blocking(|| {
        let hash = hikeshi::auth::passwords::hash("Some-password-1!").unwrap();
        (0..3)
            .map(|_| {
                let t = Instant::now();
                assert!(!hikeshi::auth::passwords::verify("Other-password-2!", &hash));
                t.elapsed()
            })
            .min()
            .unwrap()
    })
    .await
    .unwrap();

    // The fastest of three attempts each (below the lockout threshold of five).
    let mut bodies = Vec::new();
    let mut took = Vec::new();
    for target in [email.as_str(), "nobody@nowhere.example"] {
        let mut fastest = Duration::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let res = app.login_raw(&json!({"email": target, "password": "Wrong-password-1!"})).await;
            fastest = fastest.min(started.elapsed());
            bodies.push(assert_unauthorized(res).await);
        }
        took.push(fastest);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the failures must be indistinguishable: {bodies:?}");
    let (wrong_took, unknown_took) = (took[0], took[1]);
    // An unknown e-mail still costs an argon2 verification (against a dummy hash).
    let floor = (verify_cost / 2).max(Duration::from_millis(5));
    for (what, t) in [("wrong password", wrong_took), ("unknown e-mail", unknown_took)] {
        assert!(t >= floor, "{what} answered in {t:?}, under {floor:?} (one verification takes {verify_cost:?})");
    }
    let (fast, slow) = if wrong_took < unknown_took { (wrong_took, unknown_took) } else { (unknown_took, wrong_took) };
    assert!(slow < fast * 10, "timings differ by an order of magnitude: {wrong_took:?} vs {unknown_took:?}");
});

db_test!(unlocking_needs_if_match_and_lifts_every_wait_on_the_account, |app| async move {
    let admin = app.token_for(Role::Admin).await;
    let email = app.email_of(Role::Reporter);
    let password = app.password_of(&email);
    for _ in 0..5 {
        assert_unauthorized(app.login_raw(&json!({"email": email, "password": "Not-the-password-9"})).await).await;
    }
    // This client waits: even the right password is not checked, and nothing is given away.
    let (_, waiting) = assert_problem(app.login_raw(&json!({"email": email, "password": password})).await, 429).await;
    assert!(waiting["type"].as_str().unwrap().ends_with("/too-many-requests"), "{waiting}");

    let user = user_row(&app, &admin, &email).await;
    let id = user["id"].as_str().unwrap();
    let version = user["version"].as_i64().expect("version");
    // PATCH needs If-Match.
    assert_problem(app.patch(&format!("/users/{id}"), &admin, None, &json!({"unlock": true})).await, 428).await;
    assert_problem(app.patch(&format!("/users/{id}"), &admin, Some(version + 7), &json!({"unlock": true})).await, 412)
        .await;
    let res = app.patch(&format!("/users/{id}"), &admin, Some(version), &json!({"unlock": true})).await;
    let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(etag.as_deref(), Some(format!("\"{}\"", version + 1).as_str()));

    let (status, _, body) = parts(app.login_raw(&json!({"email": email, "password": password})).await).await;
    assert_eq!(status, 200, "after unlock the user cannot sign in: {body}");
});

db_test!(forged_expired_and_foreign_tokens_are_refused_with_www_authenticate, |app| async move {
    let real = app.token_for(Role::Reporter).await;
    let claims = claims_of(&app, &real).await;

    // Baseline: a token built here the way the server builds it is accepted, so every refusal
    // below is caused by the one thing that differs.
    let good = sign(Algorithm::HS256, &claims);
    let (status, _, body) = parts(app.get("/me", &good).await).await;
    assert_eq!(status, 200, "the baseline token must work: {body}");

    let expired = sign(Algorithm::HS256, &Claims { iat: now() - 3600, exp: now() - 120, ..claims.clone() });
    let wrong_aud = sign(Algorithm::HS256, &Claims { aud: "someone-else".into(), ..claims.clone() });
    let wrong_iss = sign(Algorithm::HS256, &Claims { iss: "evil".into(), ..claims.clone() });
    let hs512 = sign(Algorithm::HS512, &claims);
    let hs384 = sign(Algorithm::HS384, &claims);

    // Tampered payload: the real token with its role raised to admin, signature kept.
    let mut parts_ = real.split('.').map(str::to_owned).collect::<Vec<_>>();
    let mut payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts_[1]).expect("base64url payload"),
    )
    .expect("JSON payload");
    payload["role"] = json!("admin");
    parts_[1] = b64(payload.to_string().as_bytes());
    let tampered = parts_.join(".");

    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(serde_json::to_string(&claims).unwrap().as_bytes())
    );

    let cases = [
        ("expired", expired),
        ("tampered payload", tampered),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("alg none", none),
        ("HS512", hs512),
        ("HS384", hs384),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (what, token) in cases {
        let res = app.get("/me", &token).await;
        assert_eq!(res.status(), 401, "{what} token was not refused");
        assert_unauthorized(res).await;
    }
    // No token at all.
    assert_unauthorized(app.client.get(app.api("/me")).send().await.unwrap()).await;
});

db_test!(refresh_rotates_and_reusing_an_old_token_revokes_the_whole_family, |app| async move {
    let tokens = app.login_tokens(&app.email_of(Role::Reporter)).await;
    let refresh = |t: String| {
        let app = &app;
        async move { app.client.post(app.api("/auth/refresh")).json(&json!({"refresh_token": t})).send().await.unwrap() }
    };
    let r1 = tokens["refresh_token"].as_str().unwrap().to_owned();

    let (status, _, second) = parts(refresh(r1.clone()).await).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "refresh rotates the token");
    assert_eq!(app.get("/me", second["access_token"].as_str().unwrap()).await.status(), 200);

    // The new one works once.
    let (status, _, third) = parts(refresh(r2.clone()).await).await;
    assert_eq!(status, 200, "{third}");
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();

    // Reusing r2 is detected: 401, and the family is revoked, so the newest token r3 fails too.
    assert_unauthorized(refresh(r2).await).await;
    assert_unauthorized(refresh(r3).await).await;
    assert_unauthorized(refresh(r1).await).await;
    assert_unauthorized(refresh("never-issued".into()).await).await;
});

db_test!(logout_revokes_the_refresh_family, |app| async move {
    let tokens = app.login_tokens(&app.email_of(Role::DutyOfficer)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = app.client.post(app.api("/auth/logout")).bearer_auth(access).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = app.client.post(app.api("/auth/refresh")).json(&json!({"refresh_token": refresh})).send().await.unwrap();
    assert_unauthorized(res).await;
    // Logging out needs a token.
    assert_unauthorized(app.client.post(app.api("/auth/logout")).send().await.unwrap()).await;
});

db_test!(an_enrolled_user_needs_a_fresh_one_time_password_to_sign_in, |app| async move {
    let email = app.email_of(Role::Reporter);
    let password = app.password_of(&email);
    let token = app.login(&email).await;

    let (status, _, setup) = parts(app.post("/auth/totp/setup", &token, &json!({})).await).await;
    assert_eq!(status, 200, "{setup}");
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    assert!(setup["otpauth_url"].as_str().is_some_and(|u| u.starts_with("otpauth://totp/")), "{setup}");

    // A wrong code does not enrol.
    assert_problem(app.post("/auth/totp/confirm", &token, &json!({"code": "000000"})).await, 422).await;
    let code = hikeshi::auth::totp::current_code(&secret).unwrap();
    let (status, _, confirmed) = parts(app.post("/auth/totp/confirm", &token, &json!({"code": code})).await).await;
    assert_eq!(status, 200, "{confirmed}");
    assert!(confirmed["access_token"].is_string());

    // Without a code: 401 otp-required.
    let body = assert_unauthorized(app.login_raw(&json!({"email": email, "password": password})).await).await;
    assert!(body["type"].as_str().unwrap().ends_with("otp-required"), "{body}");

    // With a valid, unused code: 200.
    let code = next_step_code(&secret);
    let (status, _, body) =
        parts(app.login_raw(&json!({"email": email, "password": password, "otp": code})).await).await;
    assert_eq!(status, 200, "{body}");
    let (_, _, me) = parts(app.get("/me", body["access_token"].as_str().unwrap()).await).await;
    assert_eq!(me["totp_enabled"], true, "{me}");

    // The same code again: replay, refused.
    let body =
        assert_unauthorized(app.login_raw(&json!({"email": email, "password": password, "otp": code})).await).await;
    assert!(!body["type"].as_str().unwrap().ends_with("otp-required"), "{body}");
});

db_test!(a_role_that_requires_two_factor_can_only_enrol_until_it_has, |app| async move {
    let admin = app.token_for(Role::Admin).await;
    let (status, _, policy) =
        parts(app.put("/security-policy", &admin, &json!({"totp_required_roles": ["duty_officer"]})).await).await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["totp_required_roles"], json!(["duty_officer"]));
    let (_, _, read_back) = parts(app.get("/security-policy", &admin).await).await;
    assert_eq!(read_back["totp_required_roles"], json!(["duty_officer"]));

    let officer = app.login_tokens(&app.email_of(Role::DutyOfficer)).await;
    assert_eq!(officer["totp_enrolment_required"], true, "{officer}");
    let token = officer["access_token"].as_str().unwrap();
    let (_, body) = assert_problem(app.get("/organizations", token).await, 403).await;
    assert!(body["type"].as_str().unwrap().ends_with("forbidden"), "{body}");
    assert_eq!(app.get("/me", token).await.status(), 200);

    // Enrolling lifts the restriction.
    let (status, _, setup) = parts(app.post("/auth/totp/setup", token, &json!({})).await).await;
    assert_eq!(status, 200, "{setup}");
    let code = hikeshi::auth::totp::current_code(setup["secret"].as_str().unwrap()).unwrap();
    let (status, _, fresh) = parts(app.post("/auth/totp/confirm", token, &json!({"code": code})).await).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["totp_enrolment_required"], false);
    assert_eq!(app.get("/organizations", fresh["access_token"].as_str().unwrap()).await.status(), 200);

    // Roles outside the policy are not affected.
    let reporter = app.login_tokens(&app.email_of(Role::Reporter)).await;
    assert_eq!(reporter["totp_enrolment_required"], false);
});

db_test!(new_users_must_have_a_password_that_meets_the_policy, |app| async move {
    let admin = app.token_for(Role::Admin).await;
    let hospital = app.creds.hospitals[0].0.clone();
    let new_user = |password: &str| {
        json!({"email": "new.reporter@tokyo-chuo.example", "name": "新任 山本", "role": "reporter",
               "org_id": hospital, "password": password})
    };
    let (_, weak) = assert_problem(app.post("/users", &admin, &new_user("password")).await, 422).await;
    let fields: Vec<&str> =
        weak["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&"password"), "{weak}");

    let strong = "Kanto-2026-sec!";
    let res = app.post("/users", &admin, &new_user(strong)).await;
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, _, created) = parts(res).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(location, Some(format!("/api/v1/users/{}", created["id"].as_str().unwrap())));
    assert!(created.get("password_hash").is_none(), "secrets are never serialized: {created}");

    let (status, _, body) =
        parts(app.login_raw(&json!({"email": "new.reporter@tokyo-chuo.example", "password": strong})).await).await;
    assert_eq!(status, 200, "{body}");
});

db_test!(only_admins_manage_users, |app| async move {
    let reporter = app.token_for(Role::Reporter).await;
    assert_problem(app.get("/users", &reporter).await, 403).await;
    let officer = app.token_for(Role::DutyOfficer).await;
    assert_problem(app.get("/users", &officer).await, 403).await;
    let admin = app.token_for(Role::Admin).await;
    let (status, _, page) = parts(app.get("/users", &admin).await).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), app.creds.users.len());
});

db_test!(reporter_cannot_see_another_hospitals_organization, |app| async move {
    let reporter = app.token_for(Role::Reporter).await;
    let (_, _, me) = parts(app.get("/me", &reporter).await).await;
    let own = me["org"]["id"].as_str().unwrap().to_owned();
    let other = app.creds.hospitals.iter().map(|(id, _)| id.clone()).find(|id| *id != own).expect("another hospital");

    let res = app.get(&format!("/organizations/{own}"), &reporter).await;
    let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, _, org) = parts(res).await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["id"], own.as_str());
    assert_eq!(etag, Some(format!("\"{}\"", org["version"])));

    // Another hospital answers exactly like one that does not exist.
    let (_, hidden) = assert_problem(app.get(&format!("/organizations/{other}"), &reporter).await, 404).await;
    let (_, missing) =
        assert_problem(app.get(&format!("/organizations/{}", uuid::Uuid::now_v7()), &reporter).await, 404).await;
    assert_eq!(hidden, missing);

    // The list shows only its own organisation.
    let (_, _, page) = parts(app.get("/organizations", &reporter).await).await;
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids, vec![own.as_str()]);
});
