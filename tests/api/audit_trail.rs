//! The hash-chained audit trail: what `GET /audit` shows, and that `audit::verify` (and the
//! `hikeshi audit verify` command) catch an altered or deleted entry.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use hikeshi::db::audit::{verify, BrokenLink, GENESIS};
use hikeshi::db::schema::audit_log;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, parts, TestApp};
use crate::incidents::{file_ok, jst_ago, ransomware_filing, OFFICER, TOKYO_REPORTER};

/// Files an incident and changes it a little; the incident's id.
async fn some_activity(app: &TestApp) -> String {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let incident = file_ok(app, &reporter, &ransomware_filing()).await;
    let id = incident["id"].as_str().unwrap().to_owned();
    let (status, _, body) =
        parts(app.patch(&format!("/incidents/{id}"), &reporter, Some(1), &json!({"bcp_activated": false})).await).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = parts(
        app.post(&format!("/incidents/{id}/updates"), &reporter, &json!({"kind": "note", "body": "連絡済み"})).await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) =
        parts(app.post(&format!("/incidents/{id}/transitions"), &officer, &json!({"to": "triaged"})).await).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = parts(
        app.put(&format!("/incidents/{id}/milestones/emr_restored"), &reporter, &json!({"at": jst_ago(1)})).await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    id
}

/// Runs `audit::verify` on a direct connection.
async fn verify_now(app: &TestApp) -> Result<u64, BrokenLink> {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        verify(&mut conn).expect("verify runs")
    })
    .await
    .expect("verify task")
}

/// Runs SQL on a direct connection; rows affected.
async fn execute(app: &TestApp, sql: String) -> usize {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        diesel::sql_query(&sql).execute(&mut conn).unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
    .await
    .expect("sql task")
}

/// The oldest audit entry: (id, chain, seq).
fn oldest_entry(app: &TestApp) -> (String, String, i64) {
    let mut conn = app.conn();
    audit_log::table
        .select((audit_log::id, audit_log::chain, audit_log::seq))
        .order(audit_log::id.asc())
        .first(&mut conn)
        .expect("at least one audit entry")
}

/// The newest entry of a chain: (id, seq).
fn newest_of_chain(app: &TestApp, chain: &str) -> (String, i64) {
    let mut conn = app.conn();
    audit_log::table
        .filter(audit_log::chain.eq(chain))
        .select((audit_log::id, audit_log::seq))
        .order(audit_log::seq.desc())
        .first(&mut conn)
        .expect("the chain has entries")
}

/// `hikeshi audit verify` against the test database: (exit code, stdout, stderr).
async fn run_cli_verify(app: &TestApp) -> (i32, String, String) {
    let url = app.database_url.clone();
    let dir = app.dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hikeshi"))
            .args(["audit", "verify"])
            .current_dir(&dir)
            .env_remove("HIKESHI_TEST_DATABASE_URL")
            .env("HIKESHI_DATABASE_URL", &url)
            .env("HIKESHI_LOG_FORMAT", "json")
            .output()
            .expect("the hikeshi binary runs");
        (
            out.status.code().expect("an exit code"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("cli task")
}

db_test!(an_intact_trail_verifies_and_an_altered_entry_is_named, |app| async move {
    some_activity(&app).await;
    let checked = verify_now(&app).await.unwrap_or_else(|b| panic!("an untouched trail is broken: {b}"));
    assert!(checked >= 6, "only {checked} entries verified");

    let (id, chain, seq) = oldest_entry(&app);
    let n = execute(
        &app,
        "UPDATE audit_log SET action = 'x' WHERE id = (SELECT id FROM audit_log ORDER BY id LIMIT 1)".into(),
    )
    .await;
    assert_eq!(n, 1);
    let broken = verify_now(&app).await.expect_err("an altered entry must break verification");
    assert_eq!(broken.entry_id.as_deref(), Some(id.as_str()), "{broken}");
    assert_eq!((broken.chain.as_str(), broken.seq), (chain.as_str(), seq), "{broken}");
    assert!(broken.reason.contains("altered"), "{broken}");
    assert!(broken.to_string().contains(&id), "the message names the entry: {broken}");
});

db_test!(deleting_the_newest_entry_of_a_chain_breaks_verification, |app| async move {
    let id = some_activity(&app).await;
    assert!(verify_now(&app).await.is_ok());
    let chain = format!("incident:{id}");
    let (newest, seq) = newest_of_chain(&app, &chain);
    assert!(seq >= 5, "the incident's chain has {seq} entries");
    let n = execute(&app, format!("DELETE FROM audit_log WHERE id = '{newest}'")).await;
    assert_eq!(n, 1);
    let broken = verify_now(&app).await.expect_err("a deleted newest entry must break verification");
    assert_eq!(broken.chain, chain, "{broken}");
    assert_eq!(broken.seq, seq, "the missing position is named: {broken}");
});

db_test!(the_audit_verify_command_exits_1_and_names_the_broken_entry_after_tampering, |app| async move {
    some_activity(&app).await;
    let (code, stdout, stderr) = run_cli_verify(&app).await;
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("intact"), "{stdout}");

    let (id, _, _) = oldest_entry(&app);
    execute(&app, "UPDATE audit_log SET action = 'x' WHERE id = (SELECT id FROM audit_log ORDER BY id LIMIT 1)".into())
        .await;
    let (code, stdout, stderr) = run_cli_verify(&app).await;
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("BROKEN") && stdout.contains(&id), "the broken entry {id} is not named: {stdout}");
});

db_test!(officers_read_hash_chained_entries_and_reporters_may_not, |app| async move {
    let id = some_activity(&app).await;
    let reporter = app.login(TOKYO_REPORTER).await;
    assert_problem(app.get("/audit", &reporter).await, 403).await;
    assert_problem(app.get(&format!("/audit?incident_id={id}"), &reporter).await, 403).await;

    let officer = app.login(OFFICER).await;
    let (status, _, page) = parts(app.get(&format!("/audit?incident_id={id}&limit=200"), &officer).await).await;
    assert_eq!(status, 200, "{page}");
    let items: Vec<Value> = page["items"].as_array().expect("items").clone();
    assert!(items.len() >= 5, "{page}");
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in
        ["incident.create", "incident.update", "incident.update_added", "incident.transition", "incident.milestone"]
    {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let is_hash = |v: &Value| v.as_str().is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    // One incident: one chain, linked from the genesis hash onwards.
    let mut prev = GENESIS.to_owned();
    for (n, e) in items.iter().enumerate() {
        assert!(is_hash(&e["hash"]) && is_hash(&e["prev_hash"]), "{e}");
        assert_eq!(e["incident_id"], id.as_str(), "{e}");
        assert_eq!(e["chain"], format!("incident:{id}"), "{e}");
        assert_eq!(e["seq"], n as i64 + 1, "{e}");
        assert_eq!(e["prev_hash"], prev.as_str(), "entry {n} does not link to its predecessor: {e}");
        prev = e["hash"].as_str().unwrap().to_owned();
    }
    // Admins read it too.
    let admin = app.login(crate::incidents::ADMIN).await;
    let (status, _, all) = parts(app.get("/audit?limit=200", &admin).await).await;
    assert_eq!(status, 200, "{all}");
    assert!(all["items"].as_array().unwrap().len() >= items.len());
});
