//! Webhooks: subscriptions (admins), signed deliveries through the outbox to a real HTTP receiver,
//! retries while it is down, the owner's need-to-know, secret rotation with an overlap.

use std::time::Duration;

use hikeshi::config::Settings;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, assert_signed, eventually, parts, spawn_app_with, TestApp, WebhookReceiver};
use crate::incidents::{
    file_ok, quiet_filing, ransomware_filing, ADMIN, MINAMI_REPORTER, OFFICER, PPC_LIAISON, TOKYO_REPORTER,
};

/// Waits up to 20 seconds for `f` to find something.
async fn until<T>(what: &str, f: impl Fn() -> Option<T>) -> T {
    eventually(Duration::from_secs(20), what, || {
        let found = f();
        async move { found.ok_or_else(|| "nothing yet".to_owned()) }
    })
    .await
}

/// A user's id, as `/me` gives it.
async fn user_id(app: &TestApp, email: &str) -> String {
    let token = app.login(email).await;
    let me: Value = app.get("/me", &token).await.json().await.unwrap();
    me["id"].as_str().expect("an id").to_owned()
}

fn quick_retries(s: &mut Settings) {
    s.worker.poll_ms = 50;
    s.worker.backoff_base_seconds = 1;
    s.worker.backoff_max_seconds = 1;
}

backend_test!(subscriptions_are_for_admins_checked_and_their_secret_is_shown_once, |backend| async move {
    let Some(app) = spawn_app_with(backend, quick_retries).await else { return };
    let admin = app.login(ADMIN).await;
    let reporter = app.login(TOKYO_REPORTER).await;
    let body = json!({"url": "https://siem.hospital.example/hook", "events": ["incident.filed"]});
    assert_problem(app.post("/webhooks", &reporter, &body).await, 403).await;
    for (bad, field) in [
        (json!({"url": "http://siem.hospital.example/hook", "events": ["incident.filed"]}), "url"),
        (json!({"url": "https://siem.hospital.example/hook", "events": []}), "events"),
    ] {
        let (_, p) = assert_problem(app.post("/webhooks", &admin, &bad).await, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    assert_problem(
        app.post("/webhooks", &admin, &json!({"url": "https://a.example/h", "events": ["incident.eaten"]})).await,
        422,
    )
    .await;
    // A liaison's need-to-know is not one a subscription can carry (yet): refused, not widened.
    let liaison_id = user_id(&app, PPC_LIAISON).await;
    let with_liaison = json!({"url": "https://a.example/h", "events": ["incident.filed"], "owner_id": liaison_id});
    let (_, p) = assert_problem(app.post("/webhooks", &admin, &with_liaison).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "owner_id");

    let (status, _, created) = parts(app.post("/webhooks", &admin, &body).await).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("the secret, once").to_owned();
    assert!(secret.starts_with("whsec_"));
    let listed: Value = app.get("/webhooks", &admin).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("secret").is_none() && !listed.to_string().contains(&secret[6..]), "never listed");
    let id = created["id"].as_str().unwrap();
    let res = app.delete(&format!("/webhooks/{id}"), &admin).await;
    assert_eq!(res.status(), 204);
    let listed: Value = app.get("/webhooks", &admin).await.json().await.unwrap();
    assert_eq!(listed, json!([]));
});

backend_test!(a_receiver_gets_each_event_signed_and_one_that_was_down_gets_it_afterwards, |backend| async move {
    let Some(app) = spawn_app_with(backend, quick_retries).await else { return };
    let receiver = WebhookReceiver::start().await;
    let admin = app.login(ADMIN).await;
    let body = json!({"url": receiver.url(), "events": ["incident.filed", "incident.updated"]});
    let (status, _, hook) = parts(app.post("/webhooks", &admin, &body).await).await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();
    // A hospital's own subscription: only its own incidents.
    let tokyo_reporter_id = user_id(&app, TOKYO_REPORTER).await;
    let own_receiver = WebhookReceiver::start().await;
    let own = json!({"url": own_receiver.url(), "events": ["incident.filed"], "owner_id": tokyo_reporter_id});
    let (_, _, own_hook) = parts(app.post("/webhooks", &admin, &own).await).await;
    let own_secret = own_hook["secret"].as_str().unwrap().to_owned();

    let tokyo = app.login(TOKYO_REPORTER).await;
    let minami = app.login(MINAMI_REPORTER).await;
    let filed = file_ok(&app, &tokyo, &ransomware_filing()).await;
    let other = file_ok(&app, &minami, &quiet_filing("他院の事案")).await;
    let officer = app.login(OFFICER).await;
    let id = filed["id"].as_str().unwrap();
    let res =
        app.patch(&format!("/incidents/{id}"), &officer, filed["version"].as_i64(), &json!({"tlp": "green"})).await;
    assert_eq!(res.status(), 200);

    let got = until("three deliveries", || {
        let d = receiver.delivered();
        (d.len() >= 3).then_some(d)
    })
    .await;
    let kinds: Vec<(String, String)> = got
        .iter()
        .map(|d| {
            (
                d.json()["type"].as_str().unwrap().to_owned(),
                d.json()["data"]["incident"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(kinds.contains(&("incident.filed".into(), id.to_owned())));
    assert!(kinds.contains(&("incident.filed".into(), other["id"].as_str().unwrap().to_owned())));
    assert!(kinds.contains(&("incident.updated".into(), id.to_owned())));
    assert_signed(&got, &secret);

    // The hospital's subscription hears of its own incident only.
    let own_got = until("the hospital's delivery", || {
        let d = own_receiver.delivered();
        (!d.is_empty()).then_some(d)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let own_got = own_receiver.delivered().into_iter().chain(own_got).collect::<Vec<_>>();
    assert!(own_got.iter().all(|d| d.json()["data"]["incident"]["id"] == id), "another hospital's incident leaked");
    assert!(!own_receiver.all().iter().any(|d| d.body.contains(other["id"].as_str().unwrap())));
    assert_signed(&own_got[..1], &own_secret);

    // Down: the receiver answers 503; a filing's delivery is retried with the same webhook-id and
    // arrives once it is back.
    receiver.status.store(503, std::sync::atomic::Ordering::SeqCst);
    let late = file_ok(&app, &tokyo, &quiet_filing("受信側停止中の事案")).await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    let refused = until("two refused attempts", || {
        let r: Vec<_> = receiver.all().into_iter().filter(|d| d.answered == 503).collect();
        (r.len() >= 2).then_some(r)
    })
    .await;
    receiver.status.store(200, std::sync::atomic::Ordering::SeqCst);
    let arrived = until("the delivery after the receiver is back", || {
        receiver.delivered().into_iter().find(|d| d.body.contains(&late_id))
    })
    .await;
    assert!(refused.iter().all(|r| r.id == arrived.id), "every attempt carries the same webhook-id");
    assert_signed(&[arrived], &secret);
});

db_test!(a_rotated_secret_signs_beside_the_old_one_for_a_day, |app| async move {
    let receiver = WebhookReceiver::start().await;
    let admin = app.login(ADMIN).await;
    let body = json!({"url": receiver.url(), "events": ["incident.filed"]});
    let (_, headers, hook) = parts(app.post("/webhooks", &admin, &body).await).await;
    let old = hook["secret"].as_str().unwrap().to_owned();
    let version = headers["etag"].to_str().unwrap().trim_matches('"').parse::<i64>().ok();
    let res = app
        .patch(&format!("/webhooks/{}", hook["id"].as_str().unwrap()), &admin, version, &json!({"rotate_secret": true}))
        .await;
    let (status, _, rotated) = parts(res).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().expect("the new secret, once").to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_until"].is_string());
    let tokyo = app.login(TOKYO_REPORTER).await;
    file_ok(&app, &tokyo, &quiet_filing("鍵更新後の事案")).await;
    let got = until("a delivery", || {
        let d = receiver.delivered();
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(got[0].signature.split(' ').count(), 2, "signed with both secrets during the overlap");
    assert_signed(&got, &new);
    assert_signed(&got, &old);
});

backend_test!(
    a_delivery_that_never_gets_through_is_dead_officers_are_told_and_a_resend_delivers_it,
    |backend| async move {
        let Some(app) = spawn_app_with(backend, |s| {
            quick_retries(s);
            s.worker.max_attempts = 2;
        })
        .await
        else {
            return;
        };
        let receiver = WebhookReceiver::start().await;
        receiver.status.store(500, std::sync::atomic::Ordering::SeqCst);
        let admin = app.login(ADMIN).await;
        let (_, _, hook) =
            parts(app.post("/webhooks", &admin, &json!({"url": receiver.url(), "events": ["incident.filed"]})).await)
                .await;
        let secret = hook["secret"].as_str().unwrap().to_owned();
        let tokyo = app.login(TOKYO_REPORTER).await;
        let filed = file_ok(&app, &tokyo, &quiet_filing("連携先が応答しない事案")).await;
        let (id, reference) =
            (filed["id"].as_str().unwrap().to_owned(), filed["reference"].as_str().unwrap().to_owned());
        let officer = app.login(OFFICER).await;
        let mut list: Vec<Value> = Vec::new();
        for _ in 0..200 {
            list = app.get(&format!("/incidents/{id}/notifications"), &officer).await.json().await.unwrap();
            let dead = list.iter().any(|n| n["kind"] == "webhook" && n["status"] == "dead");
            let alerted = list.iter().any(|n| n["kind"] == "dead_letter");
            if dead && alerted {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let delivery =
            list.iter().find(|n| n["kind"] == "webhook").unwrap_or_else(|| panic!("no delivery in {list:?}"));
        assert_eq!(delivery["status"], "dead", "{delivery}");
        assert_eq!(delivery["attempts"], 2);
        let alert = list.iter().find(|n| n["kind"] == "dead_letter").unwrap_or_else(|| panic!("no alert in {list:?}"));
        let subject = alert["subject"].as_str().unwrap();
        assert!(
            subject.contains(&reference) && subject.contains("Webhook") && subject.contains("incident.filed"),
            "{subject}"
        );
        assert_eq!(alert["recipients"], json!([OFFICER]));
        // Back up: an officer resends, and it arrives with the webhook-id it always had.
        receiver.status.store(200, std::sync::atomic::Ordering::SeqCst);
        let path = format!("/incidents/{id}/notifications/{}/resend", delivery["id"].as_str().unwrap());
        let (status, _, _) = parts(app.post(&path, &officer, &json!({})).await).await;
        assert_eq!(status, 202);
        let arrived = until("the resent delivery", || receiver.delivered().into_iter().next()).await;
        assert!(receiver.all().iter().all(|d| d.id == arrived.id), "one webhook-id for every attempt and the resend");
        assert_signed(&[arrived], &secret);
    }
);

backend_test!(a_receiver_down_for_a_minute_gets_everything_afterwards, |backend| async move {
    // The production policy scaled down (first retry after 30 s there): 2 s doubling to 16 s with
    // ±20 % jitter, so the seventh retry comes after 62 to 94 seconds.
    let Some(app) = spawn_app_with(backend, |s| {
        s.worker.poll_ms = 50;
        s.worker.backoff_base_seconds = 2;
        s.worker.backoff_max_seconds = 16;
        s.worker.max_attempts = 10;
    })
    .await
    else {
        return;
    };
    let receiver = WebhookReceiver::start().await;
    let admin = app.login(ADMIN).await;
    let (_, _, hook) =
        parts(app.post("/webhooks", &admin, &json!({"url": receiver.url(), "events": ["incident.filed"]})).await).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    receiver.status.store(503, std::sync::atomic::Ordering::SeqCst);
    let tokyo = app.login(TOKYO_REPORTER).await;
    let minami = app.login(MINAMI_REPORTER).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let token = if n % 2 == 0 { &tokyo } else { &minami };
        ids.push(
            file_ok(&app, token, &quiet_filing(&format!("停止中の事案 {n}"))).await["id"].as_str().unwrap().to_owned(),
        );
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(receiver.delivered().is_empty());
    receiver.status.store(200, std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let got = receiver.delivered();
        if ids.iter().all(|id| got.iter().any(|d| d.body.contains(id.as_str()))) {
            assert_eq!(got.len(), ids.len(), "each event once");
            assert_signed(&got, &secret);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{} of {} arrived", got.len(), ids.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
});
