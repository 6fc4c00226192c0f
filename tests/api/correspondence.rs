//! Correspondence: replies read from a real IMAP server (Dovecot) come back onto their incident,
//! answers written in hikeshi go out through a real SMTP server in the same thread, and what must
//! not be attached (a forged thread, a stranger), must not be lost (malformed MIME, a 30 MB
//! attachment, the server going away mid-fetch) or must not start a loop (auto-replies) is each
//! handled.

use std::time::{Duration, Instant};

use hikeshi::config::{Secret, Settings};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, eventually, parts, spawn_app_on_same_database, spawn_app_with, SmtpSink, TestApp,
};
use crate::imap_server::{CuttingRelay, Dovecot, USER};
use crate::incidents::{
    file_ok, quiet_filing, ransomware_filing, EAST_RESPONDER, MINAMI_REPORTER, OFFICER, PPC_LIAISON, TOKYO_REPORTER,
};

fn with_mail(sink: &SmtpSink, dovecot: &Dovecot) -> impl FnOnce(&mut Settings) {
    let (mail, inbox) = (sink.url(), dovecot.url());
    move |s: &mut Settings| {
        s.mail_url = Secret::new(mail);
        s.inbox_url = Some(Secret::new(inbox));
        s.inbox.reply_to = Some(USER.to_owned());
        s.inbox.poll_seconds = 1;
        s.inbox.lease_seconds = 6;
        s.worker.poll_ms = 50;
        s.rate_limit_per_minute = 0; // the tests poll
        s.inbox.trusted_authserv_id = Some("mx.inbox.example".into());
    }
}

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON")
}

/// The incident's messages as `token` sees them.
async fn messages(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    json_of(app.get(&format!("/incidents/{id}/messages"), token).await).await.as_array().cloned().unwrap_or_default()
}

/// Waits until the incident has `n` messages (as an officer sees them); returns them.
async fn until_messages(app: &TestApp, officer: &str, id: &str, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(30), "messages on the incident", || async {
        let list = messages(app, officer, id).await;
        if list.len() >= n {
            Ok(list)
        } else {
            Err(format!("{} of {n}", list.len()))
        }
    })
    .await
}

async fn until_inbox(app: &TestApp, officer: &str, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(30), "messages in the inbox", || async {
        let list = json_of(app.get("/inbox", officer).await).await.as_array().cloned().unwrap_or_default();
        if list.len() >= n {
            Ok(list)
        } else {
            Err(format!("{} of {n}", list.len()))
        }
    })
    .await
}

/// The police's initial report of an incident as it reached the SMTP server: (Message-ID, address).
async fn police_report(app: &TestApp, officer: &str, sink: &SmtpSink, id: &str) -> (String, String) {
    let notes = eventually(Duration::from_secs(30), "the police report sent", || async {
        let notes = json_of(app.get(&format!("/incidents/{id}/notifications"), officer).await).await;
        let police =
            notes.as_array().unwrap().iter().find(|n| n["authority"] == "police" && n["status"] == "sent").cloned();
        police.ok_or_else(|| format!("{notes}"))
    })
    .await;
    let mid = notes["message_id"].as_str().unwrap().to_owned();
    let arrived = sink.messages().into_iter().find(|m| m.message_id == mid).expect("the report reached the sink");
    // A statutory report must reach a person: it is not marked as machine mail.
    assert!(!arrived.raw.contains("Auto-Submitted"), "{}", arrived.raw);
    (mid, notes["recipients"][0].as_str().unwrap().to_owned())
}

fn mail(from: &str, message_id: &str, in_reply_to: Option<&str>, subject: &str, body: &str) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: {USER}\r\nMessage-ID: <{message_id}>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0900\r\n"
    );
    if let Some(parent) = in_reply_to {
        m += &format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n");
    }
    m += &format!(
        "Subject: =?UTF-8?B?{}?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        base64_of(subject.as_bytes())
    );
    m.into_bytes()
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A ransomware incident filed by the Tokyo hospital, its police report delivered, with a mailbox
/// and an SMTP server beside the app.
struct Filed {
    dovecot: Dovecot,
    sink: SmtpSink,
    app: TestApp,
    officer: String,
    reporter: String,
    id: String,
    reference: String,
    /// The Message-ID of the police report, and the police contact's address.
    report_id: String,
    police: String,
}

async fn filed(backend: crate::helpers::Backend) -> Option<Filed> {
    let dovecot = Dovecot::start()?;
    let sink = SmtpSink::start_new().await;
    let app = spawn_app_with(backend, with_mail(&sink, &dovecot)).await?;
    let officer = app.login(OFFICER).await;
    let reporter = app.login(TOKYO_REPORTER).await;
    let incident = file_ok(&app, &reporter, &ransomware_filing()).await;
    let id = incident["id"].as_str().unwrap().to_owned();
    let reference = incident["reference"].as_str().unwrap().to_owned();
    let (report_id, police) = police_report(&app, &officer, &sink, &id).await;
    Some(Filed { dovecot, sink, app, officer, reporter, id, reference, report_id, police })
}

backend_test!(a_reply_to_the_initial_report_comes_back_and_the_answer_goes_out_in_its_thread, |backend| async move {
    let Some(Filed { dovecot, sink, app, officer, reporter, id, reference, report_id, police }) = filed(backend).await
    else {
        return;
    };
    let (id, reference) = (id.as_str(), reference.as_str());

    // The police answer from their own mail client.
    let appended = Instant::now();
    dovecot
        .append(&mail(
            &police,
            "reply-1@police.example",
            Some(&report_id),
            &format!("Re: {reference} 初報"),
            "VPN 装置のログを保全してください。",
        ))
        .await;
    let list = until_messages(&app, &officer, id, 1).await;
    let took = appended.elapsed();
    assert!(took < Duration::from_secs(10), "the reply took {took:?} to reach the incident");
    let reply = &list[0];
    assert_eq!((reply["direction"].as_str(), reply["channel"].as_str()), (Some("in"), Some("email")), "{reply}");
    assert_eq!((reply["party"].as_str(), reply["authority"].as_str()), (Some("contact"), Some("police")), "{reply}");
    assert_eq!(reply["matched_by"], "in_reply_to");
    assert!(reply["body"].as_str().unwrap().contains("ログを保全"), "{reply}");
    let timeline = json_of(app.get(&format!("/incidents/{id}/updates"), &officer).await).await;
    let entry =
        timeline["items"].as_array().unwrap().iter().find(|e| e["kind"] == "message").expect("on the timeline").clone();
    assert_eq!(entry["data"]["direction"], "in");
    // Taken once, and marked so on the server only after it was stored.
    let flags = dovecot.flags().await;
    assert!(flags.iter().all(|(_, f)| f.iter().any(|x| x.contains("HikeshiTaken"))), "{flags:?}");

    // The officer answers the police: the e-mail continues the thread.
    let contact_id = reply["party_id"].as_str().unwrap();
    let (status, _, sent) = parts(
        app.post(
            &format!("/incidents/{id}/messages"),
            &officer,
            &json!({"to": contact_id, "subject": "Re: ログの保全", "body": "承知しました。本日中に保全します。"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let mid = sent["message_id"].as_str().unwrap().to_owned();
    let out = eventually(Duration::from_secs(20), "the answer at the SMTP server", || async {
        sink.messages().into_iter().find(|m| m.message_id == mid).ok_or_else(|| "not yet".to_owned())
    })
    .await;
    let headers = crate::helpers::headers_of(&out.raw);
    let header = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    assert_eq!(header("In-Reply-To").as_deref(), Some("<reply-1@police.example>"), "{}", out.raw);
    let refs = header("References").unwrap_or_default();
    assert!(refs.contains(&format!("<{report_id}>")) && refs.ends_with("<reply-1@police.example>"), "{refs}");
    assert_eq!(header("Reply-To").as_deref(), Some(USER));
    assert!(header("Auto-Submitted").is_none(), "a person's message is not automatic");
    assert!(out.subject.contains(reference), "{}", out.subject);
    assert_eq!(out.to, std::slice::from_ref(&police));

    // The hospital writes to the ministry, and only there.
    let (status, _, _) = parts(
        app.post(
            &format!("/incidents/{id}/messages"),
            &reporter,
            &json!({"to": "ministry", "subject": "復旧見込み", "body": "救急の再開は明日の見込みです。"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let (_, p) = assert_problem(
        app.post(
            &format!("/incidents/{id}/messages"),
            &reporter,
            &json!({"to": "hospital", "subject": "x", "body": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "to", "{p}");
    assert_problem(
        app.post(
            &format!("/incidents/{id}/messages"),
            &reporter,
            &json!({"to": "ministry", "subject": "", "body": "x", "cc": "a"}),
        )
        .await,
        422,
    )
    .await;

    // An officer logs a call.
    let call = json!({"direction": "in", "with": "情報システム室 佐藤", "at": crate::incidents::jst_ago(5), "summary": "電話で状況を確認"});
    let (status, _, logged) = parts(app.post(&format!("/incidents/{id}/calls"), &officer, &call).await).await;
    assert_eq!((status, logged["channel"].as_str()), (201, Some("phone")), "{logged}");
    assert_problem(app.post(&format!("/incidents/{id}/calls"), &reporter, &call).await, 403).await;

    // Need-to-know: the hospital sees its conversation; the PPC's liaison only the PPC's (none
    // here); a responder team none; another hospital not even the incident.
    assert_eq!(messages(&app, &reporter, id).await.len(), 4);
    let liaison = app.login(PPC_LIAISON).await;
    assert_eq!(messages(&app, &liaison, id).await.len(), 0);
    let liaison_timeline = json_of(app.get(&format!("/incidents/{id}/updates"), &liaison).await).await;
    assert!(
        !liaison_timeline.to_string().contains("ログを保全")
            && !liaison_timeline.to_string().contains("Re: ログの保全"),
        "{liaison_timeline}"
    );
    let responder = app.login(EAST_RESPONDER).await;
    let res = app.get(&format!("/incidents/{id}/messages"), &responder).await;
    assert!(matches!(res.status().as_u16(), 403 | 404), "{}", res.status());
    let other = app.login(MINAMI_REPORTER).await;
    assert_problem(app.get(&format!("/incidents/{id}/messages"), &other).await, 404).await;
    drop(dovecot);
});

backend_test!(strangers_robots_broken_and_huge_mail_are_each_handled, |backend| async move {
    let Some(Filed { dovecot, sink, app, officer, reporter, id, reference, report_id, police }) = filed(backend).await
    else {
        return;
    };
    let sent_before = sink.messages().len();

    // A forged In-Reply-To naming this hospital's thread, from a stranger; and a user of another
    // hospital naming the incident in the subject: neither reaches the incident.
    dovecot
        .append(&mail("attacker@evil.example", "forged@evil.example", Some(&report_id), "Re: 初報", "偽の指示"))
        .await;
    dovecot
        .append(&mail(
            MINAMI_REPORTER,
            "other-hospital@minami.example",
            None,
            &format!("[{reference}] 質問"),
            "他院から",
        ))
        .await;
    // The police's own address, but the server that delivered the mail found it forged (DMARC
    // fail); a "pass" the sender wrote itself above that result does not count.
    let mut forged_police =
        mail(&police, "spoofed@police.example", Some(&report_id), "Re: 初報", "身代金を支払ってください");
    let results = "Authentication-Results: evil.example; dmarc=pass\r\nAuthentication-Results: mx.inbox.example; dmarc=fail header.from=police.example; spf=fail\r\n";
    forged_police.splice(0..0, results.bytes());
    dovecot.append(&forged_police).await;
    // The hospital's own reporter naming the incident in the subject only, with nothing vouching for
    // the sender: an officer looks first.
    dovecot
        .append(&mail(TOKYO_REPORTER, "unvouched@tokyo.example", None, &format!("[{reference}] 追加情報"), "追加"))
        .await;
    // An out-of-office reply from the police: kept on the incident, answered by nothing.
    let mut oof = mail(&police, "oof@police.example", Some(&report_id), "不在のお知らせ", "不在です");
    oof.splice(0..0, b"Auto-Submitted: auto-replied\r\n".iter().copied());
    dovecot.append(&oof).await;
    // Malformed MIME: an unterminated multipart with a broken header line.
    dovecot
        .append(b"From: someone@example.org\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhalf a message\r\n--z")
        .await;
    // A 30 MB attachment from the hospital's own reporter, naming the incident in the subject.
    let big = vec![0x5Au8; 30 * 1024 * 1024];
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&big))
    };
    let mut huge = format!(
        "Authentication-Results: mx.inbox.example; dmarc=pass header.from=tokyo-chuo.example\r\nFrom: {TOKYO_REPORTER}\r\nTo: {USER}\r\nMessage-ID: <huge@tokyo.example>\r\nSubject: [{reference}] ログ一式\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nログを送ります。\r\n--b\r\nContent-Type: application/zip; name=\"logs.zip\"\r\nContent-Disposition: attachment; filename=\"logs.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for chunk in base64_of(&big).as_bytes().chunks(76) {
        huge.extend_from_slice(chunk);
        huge.extend_from_slice(b"\r\n");
    }
    huge.extend_from_slice(b"--b--\r\n");
    dovecot.append(&huge).await;

    let on_incident = until_messages(&app, &officer, &id, 2).await;
    let inbox = until_inbox(&app, &officer, 5).await;
    let by_mid = |list: &[Value], mid: &str| list.iter().find(|m| m["message_id"] == mid).cloned();
    let forged = by_mid(&inbox, "forged@evil.example").expect("the forged reply waits in the inbox");
    assert_eq!(
        (forged["inbox_reason"].as_str(), forged["party"].as_str()),
        (Some("sender_not_party"), Some("unknown")),
        "{forged}"
    );
    let spoofed = by_mid(&inbox, "spoofed@police.example").expect("the forged police mail waits in the inbox");
    assert_eq!(
        (spoofed["inbox_reason"].as_str(), spoofed["sender_check"].as_str()),
        (Some("sender_unverified"), Some("fail")),
        "{spoofed}"
    );
    let unvouched =
        by_mid(&inbox, "unvouched@tokyo.example").expect("a subject-only match without authentication waits");
    assert_eq!(
        (unvouched["inbox_reason"].as_str(), unvouched["party"].as_str()),
        (Some("unverified_subject_match"), Some("hospital")),
        "{unvouched}"
    );
    let other = by_mid(&inbox, "other-hospital@minami.example").expect("the other hospital's mail waits too");
    assert_eq!(
        (other["inbox_reason"].as_str(), other["party"].as_str()),
        (Some("sender_not_party"), Some("known")),
        "{other}"
    );
    assert!(other["party_label"].is_string(), "a known sender is named: {other}");
    let broken = inbox.iter().find(|m| m["subject"] == "broken").expect("broken MIME kept");
    assert!(broken["body"].as_str().unwrap().contains("half a message"), "its text is not lost: {broken}");
    assert_eq!(broken["inbox_reason"], "no_match");
    // Its text part, kept as an attachment, downloads as bytes, never as a page; a hospital cannot.
    let (bid, aid) = (broken["id"].as_str().unwrap(), broken["attachments"][0]["id"].as_str().unwrap());
    let res = app.get(&format!("/inbox/{bid}/attachments/{aid}"), &officer).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(String::from_utf8_lossy(&res.bytes().await.unwrap()).contains("half a message"));
    assert_problem(app.get(&format!("/inbox/{bid}/attachments/{aid}"), &reporter).await, 403).await;
    let oof = by_mid(&on_incident, "oof@police.example").expect("the auto-reply on the incident");
    assert_eq!(oof["auto_reply"], true);
    let huge = by_mid(&on_incident, "huge@tokyo.example").expect("the big mail on the incident");
    assert_eq!((huge["party"].as_str(), huge["matched_by"].as_str()), (Some("hospital"), Some("subject")), "{huge}");
    let att = &huge["attachments"][0];
    assert_eq!(
        (att["filename"].as_str(), att["size"].as_i64(), att["stored"].as_bool()),
        (Some("logs.zip"), Some(30 * 1024 * 1024), Some(false)),
        "{att}"
    );
    assert_eq!(att["sha256"], digest);
    let (hid, haid) = (huge["id"].as_str().unwrap(), att["id"].as_str().unwrap());
    assert_problem(app.get(&format!("/incidents/{id}/messages/{hid}/attachments/{haid}"), &officer).await, 404).await;
    // Nothing went out because of any of them (no loop), and each was taken once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), sent_before, "inbound mail made hikeshi write");
    let flags = dovecot.flags().await;
    assert_eq!(flags.len(), 7);
    assert!(flags.iter().all(|(_, f)| f.iter().any(|x| x.contains("HikeshiTaken"))), "{flags:?}");

    // An officer puts the stranger's mail on the incident; a second try finds it gone.
    let forged_id = forged["id"].as_str().unwrap();
    let (status, _, assigned) =
        parts(app.post(&format!("/inbox/{forged_id}/assign"), &officer, &json!({"incident_id": id})).await).await;
    assert_eq!((status, assigned["matched_by"].as_str()), (200, Some("assigned")), "{assigned}");
    assert_problem(app.post(&format!("/inbox/{forged_id}/assign"), &officer, &json!({"incident_id": id})).await, 409)
        .await;
    assert_problem(app.get("/inbox", &reporter).await, 403).await;
    assert_eq!(until_messages(&app, &officer, &id, 3).await.len(), 3);
    let quiet = file_ok(&app, &reporter, &quiet_filing("誤送信")).await;
    assert_eq!(messages(&app, &officer, quiet["id"].as_str().unwrap()).await.len(), 0);
});

backend_test!(the_imap_server_going_away_mid_fetch_loses_nothing_and_no_instance_takes_twice, |backend| async move {
    let Some(mut dovecot) = Dovecot::start() else { return };
    // Twenty messages, five of them 3 MB: the connection is cut after 5 MB have come from the
    // server, in the middle of the second large message.
    const N: usize = 20;
    for i in 0..N {
        let body = if i % 4 == 0 { "x".repeat(3 * 1024 * 1024) } else { format!("message {i}") };
        dovecot
            .append(&mail("someone@example.org", &format!("m{i}@example.org"), None, &format!("件名 {i}"), &body))
            .await;
    }
    let relay = CuttingRelay::start(dovecot.port, 5 * 1024 * 1024).await;
    let sink = SmtpSink::start_new().await;
    let through_relay = |s: &mut Settings| {
        with_mail(&sink, &dovecot)(s);
        s.inbox_url = Some(Secret::new(relay.url(&dovecot)));
    };
    let Some(first) = spawn_app_with(backend, through_relay).await else { return };
    // A second instance on the same database reads the same mailbox (one holds the lease at a time).
    let second = spawn_app_on_same_database(&first, through_relay).await;
    let officer = first.login(OFFICER).await;
    let inbox_len = |app: &TestApp| {
        let app_url = app.api("/inbox?limit=200");
        let (client, officer) = (app.client.clone(), officer.clone());
        async move {
            let list: Value = client.get(app_url).bearer_auth(officer).send().await.unwrap().json().await.unwrap();
            list.as_array().cloned().unwrap_or_default()
        }
    };
    let all = eventually(Duration::from_secs(60), "every message stored", || async {
        let list = inbox_len(&first).await;
        if list.len() >= N {
            Ok(list)
        } else {
            Err(format!("{} of {N}", list.len()))
        }
    })
    .await;
    assert!(relay.has_cut(), "the connection was cut mid-fetch");

    // Then the server itself dies and comes back; mail that arrives afterwards is read too.
    dovecot.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot.restart();
    for i in N..N + 3 {
        dovecot
            .append(&mail(
                "someone@example.org",
                &format!("m{i}@example.org"),
                None,
                &format!("件名 {i}"),
                "after the restart",
            ))
            .await;
    }
    let all_after = eventually(Duration::from_secs(60), "the later messages stored", || async {
        let list = inbox_len(&first).await;
        if list.len() >= N + 3 {
            Ok(list)
        } else {
            Err(format!("{} of {}", list.len(), N + 3))
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(inbox_len(&second).await.len(), N + 3, "a message was taken twice");
    let mut ids: Vec<&str> = all_after.iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N + 3);
    assert!(all.iter().filter(|m| m["size"].as_i64().unwrap_or(0) > 3_000_000).count() == 5, "the large ones whole");
    let flags = dovecot.flags().await;
    assert!(flags.iter().all(|(_, f)| f.iter().any(|x| x.contains("HikeshiTaken"))), "{flags:?}");
});

/// Issue 19's figure: the time from IMAP APPEND to the message on the incident's timeline, 100 times
/// one after another, on PostgreSQL (the reader waits in IDLE). Printed, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
async fn measure_append_to_timeline_latency() {
    let Some(Filed { dovecot, app, officer, id, report_id, police, .. }) =
        filed(crate::helpers::Backend::Postgres).await
    else {
        return;
    };
    let path = format!("/incidents/{id}/updates?limit=200");
    let on_timeline = || async {
        let t = json_of(app.get(&path, &officer).await).await;
        t["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "message").count()
    };
    let mut took = Vec::new();
    for i in 0..100 {
        let raw = mail(&police, &format!("lat-{i}@police.example"), Some(&report_id), "Re: 初報", "確認しました");
        let start = Instant::now();
        dovecot.append(&raw).await;
        while on_timeline().await <= i {
            assert!(start.elapsed() < Duration::from_secs(30), "message {i} never arrived");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        took.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    let at = |p: f64| took[((took.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    println!(
        "APPEND → timeline over {} messages: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        took.len(),
        at(0.5),
        at(0.99),
        took[took.len() - 1]
    );
}
