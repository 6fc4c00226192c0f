//! The hash-chained audit trail: what `GET /audit` shows, and that `audit::verify` (and the
//! `hikeshi audit verify` command) catch an altered or deleted entry.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use hikeshi::db::audit::GENESIS;
use hikeshi::db::audit_check::{verify, BrokenLink, Report};
use hikeshi::db::schema::audit_log;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, parts, TestApp, AUDIT_KEY};
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
    assert_eq!(app.get(&format!("/incidents/{id}"), &officer).await.status(), 200);
    id
}

fn key() -> hikeshi::db::audit::AuditKey {
    hikeshi::db::audit::AuditKey::new(AUDIT_KEY)
}

/// Runs `audit_check::verify` with the test key on a direct connection.
async fn verify_now(app: &TestApp) -> Report {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        verify(&mut conn, Some(&key())).expect("verify runs")
    })
    .await
    .expect("verify task")
}

/// The first problem verification names (panics when the trail verifies).
async fn first_problem(app: &TestApp, what: &str) -> BrokenLink {
    let report = verify_now(app).await;
    report.problems.first().cloned().unwrap_or_else(|| panic!("{what} was not detected: {}", report.summary()))
}

/// Makes a checkpoint now, as the service does every `audit_checkpoint_seconds`.
async fn checkpoint_now(app: &TestApp) {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        let key = Some(std::sync::Arc::new(key()));
        let made = hikeshi::db::audit::with_key(key, || conn.write_transaction(hikeshi::db::audit::checkpoint))
            .expect("checkpoint");
        assert!(!made.is_empty(), "a new checkpoint");
    })
    .await
    .expect("checkpoint task")
}

/// Runs SQL on a direct connection; rows affected, or the database's refusal.
async fn try_execute(app: &TestApp, sql: String) -> Result<usize, String> {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        diesel::sql_query(&sql).execute(&mut conn).map_err(|e| e.to_string())
    })
    .await
    .expect("sql task")
}

/// Runs SQL as someone who can switch the append-only triggers off (the tables' owner, or whoever
/// can write the SQLite file): what an attacker with database access does.
async fn execute(app: &TestApp, sql: String) -> usize {
    let tables = ["audit_log", "audit_reads", "audit_checkpoints"];
    let (before, after): (Vec<String>, Vec<String>) = if app.database_url.starts_with("postgres") {
        (
            tables.iter().map(|t| format!("ALTER TABLE {t} DISABLE TRIGGER USER")).collect(),
            tables.iter().map(|t| format!("ALTER TABLE {t} ENABLE TRIGGER USER")).collect(),
        )
    } else {
        let drops = tables
            .iter()
            .flat_map(|t| ["update", "delete"].map(|op| format!("DROP TRIGGER IF EXISTS {t}_no_{op}")))
            .collect();
        (drops, vec![])
    };
    for s in before {
        try_execute(app, s).await.expect("triggers off");
    }
    let n = try_execute(app, sql.clone()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    for s in after {
        try_execute(app, s).await.expect("triggers on");
    }
    n
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
    run_cli(app, &["audit", "verify"]).await
}

/// `hikeshi <args>` against the test database, with the test audit key: (exit code, stdout, stderr).
async fn run_cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let url = app.database_url.clone();
    let dir = app.dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hikeshi"))
            .args(args)
            .current_dir(&dir)
            .env("HIKESHI_AUDIT_KEY", AUDIT_KEY)
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
    let report = verify_now(&app).await;
    assert!(report.intact(), "an untouched trail is broken: {:?}", report.problems);
    assert!(report.entries >= 6 && report.reads >= 1, "{}", report.summary());
    assert_eq!(report.unchecked, 0, "{}", report.summary());

    let (id, chain, seq) = oldest_entry(&app);
    let n = execute(
        &app,
        "UPDATE audit_log SET action = 'x' WHERE id = (SELECT id FROM audit_log ORDER BY id LIMIT 1)".into(),
    )
    .await;
    assert_eq!(n, 1);
    let broken = first_problem(&app, "an altered entry").await;
    assert_eq!(broken.entry_id.as_deref(), Some(id.as_str()), "{broken}");
    assert_eq!((broken.chain.as_str(), broken.seq), (chain.as_str(), seq), "{broken}");
    assert!(broken.reason.contains("altered"), "{broken}");
    assert!(broken.to_string().contains(&id), "the message names the entry: {broken}");
});

db_test!(deleting_the_newest_entry_of_a_chain_breaks_verification, |app| async move {
    let id = some_activity(&app).await;
    assert!(verify_now(&app).await.intact());
    let chain = format!("incident:{id}");
    let (newest, seq) = newest_of_chain(&app, &chain);
    assert!(seq >= 5, "the incident's chain has {seq} entries");
    let n = execute(&app, format!("DELETE FROM audit_log WHERE id = '{newest}'")).await;
    assert_eq!(n, 1);
    let broken = first_problem(&app, "a deleted newest entry").await;
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

db_test!(the_audit_tables_refuse_update_and_delete_even_from_the_service, |app| async move {
    some_activity(&app).await;
    checkpoint_now(&app).await;
    for table in ["audit_log", "audit_reads", "audit_checkpoints"] {
        for sql in [format!("UPDATE {table} SET at = at"), format!("DELETE FROM {table}")] {
            let refused = try_execute(&app, sql.clone()).await.expect_err(&sql);
            assert!(refused.contains("append-only"), "{sql}: {refused}");
        }
        if app.database_url.starts_with("postgres") {
            let refused = try_execute(&app, format!("TRUNCATE {table}")).await.expect_err("TRUNCATE");
            assert!(refused.contains("append-only"), "TRUNCATE {table}: {refused}");
        }
    }
    assert!(verify_now(&app).await.intact(), "nothing changed");
});

/// The rows of a chain, in order.
fn chain_rows(app: &TestApp, chain: &str) -> Vec<hikeshi::db::audit::AuditRow> {
    use diesel::SelectableHelper;
    let mut conn = app.conn();
    audit_log::table
        .filter(audit_log::chain.eq(chain))
        .select(hikeshi::db::audit::AuditRow::as_select())
        .order(audit_log::seq.asc())
        .load(&mut conn)
        .unwrap()
}

db_test!(a_chain_recomputed_without_the_key_is_named, |app| async move {
    let id = some_activity(&app).await;
    checkpoint_now(&app).await;
    let chain = format!("incident:{id}");
    // The attacker changes who filed the incident and recomputes the whole chain, as anyone can
    // without the key: plain SHA-256, every link consistent, the head updated.
    let mut prev = GENESIS.to_owned();
    for (n, mut row) in chain_rows(&app, &chain).into_iter().enumerate() {
        if n == 0 {
            row.actor_label = "duty_officer".into();
        }
        row.prev_hash = prev.clone();
        row.keyed = false;
        row.hash = hikeshi::db::audit::entry_hash(&row, None);
        let keyed = if app.database_url.starts_with("postgres") { "FALSE" } else { "0" };
        execute(
            &app,
            format!(
                "UPDATE audit_log SET actor_label = '{}', prev_hash = '{}', hash = '{}', keyed = {keyed} WHERE id = '{}'",
                row.actor_label, row.prev_hash, row.hash, row.id
            ),
        )
        .await;
        prev = row.hash;
    }
    execute(&app, format!("UPDATE audit_heads SET hash = '{prev}' WHERE chain = '{chain}'")).await;
    let broken = first_problem(&app, "a recomputed chain").await;
    assert_eq!(broken.chain, chain, "{broken}");
    assert!(broken.reason.contains("recomputed") && broken.reason.contains("checkpoint"), "{broken}");
});

db_test!(a_deleted_or_truncated_chain_is_named_against_the_checkpoint, |app| async move {
    let deleted = some_activity(&app).await;
    let truncated = some_activity(&app).await;
    checkpoint_now(&app).await;
    let (d, t) = (format!("incident:{deleted}"), format!("incident:{truncated}"));
    // One chain disappears with its head; the other loses its last two entries, head rewound.
    execute(&app, format!("DELETE FROM audit_log WHERE chain = '{d}'")).await;
    execute(&app, format!("DELETE FROM audit_heads WHERE chain = '{d}'")).await;
    let rows = chain_rows(&app, &t);
    let keep = &rows[rows.len() - 3];
    execute(&app, format!("DELETE FROM audit_log WHERE chain = '{t}' AND seq > {}", keep.seq)).await;
    execute(&app, format!("UPDATE audit_heads SET seq = {}, hash = '{}' WHERE chain = '{t}'", keep.seq, keep.hash))
        .await;
    let report = verify_now(&app).await;
    let named = |chain: &str, word: &str| report.problems.iter().any(|p| p.chain == chain && p.reason.contains(word));
    assert!(named(&d, "deleted"), "{:?}", report.problems);
    assert!(named(&t, "truncated"), "{:?}", report.problems);
});

db_test!(deleting_the_whole_trail_and_every_read_record_is_named, |app| async move {
    let id = some_activity(&app).await;
    checkpoint_now(&app).await;
    // Read records alone first: fewer than the checkpoint counted.
    execute(&app, "DELETE FROM audit_reads".into()).await;
    let broken = first_problem(&app, "deleted read records").await;
    assert_eq!(broken.chain, "reads", "{broken}");
    // Then everything, checkpoints included: the incidents are still there, their chains are not.
    for table in ["audit_log", "audit_heads", "audit_checkpoints"] {
        execute(&app, format!("DELETE FROM {table}")).await;
    }
    let report = verify_now(&app).await;
    let chain = format!("incident:{id}");
    assert!(report.problems.iter().any(|p| p.chain == chain && p.reason.contains("deleted")), "{:?}", report.problems);
});

db_test!(every_read_of_incident_data_is_recorded_with_its_filter, |app| async move {
    let id = some_activity(&app).await;
    let officer = app.login(OFFICER).await;
    for path in [
        format!("/incidents/{id}/updates"),
        format!("/incidents/{id}/notifications"),
        format!("/incidents/{id}/reports/ppc"),
        format!("/incidents/{id}/reports/nco-ransomware"),
        "/incidents/export.csv?from=2026-01-01&to=2026-12-31".to_owned(),
    ] {
        assert_eq!(app.get(&path, &officer).await.status(), 200, "{path}");
    }
    let (status, _, page) = parts(app.get(&format!("/audit/reads?incident_id={id}&limit=200"), &officer).await).await;
    assert_eq!(status, 200, "{page}");
    let actions: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    for a in
        ["incident.read", "incident.timeline_read", "incident.notifications_read", "report.read", "audit.reads_read"]
    {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    let (_, _, me) = parts(app.get("/me", &officer).await).await;
    let (_, _, mine) =
        parts(app.get(&format!("/audit/reads?actor_id={}&limit=200", me["id"].as_str().unwrap()), &officer).await)
            .await;
    let csv = mine["items"].as_array().unwrap().iter().find(|e| e["action"] == "export.csv").expect("the CSV export");
    assert_eq!(csv["details"]["from"], "2026-01-01", "{csv}");
    assert_eq!(csv["details"]["to"], "2026-12-31", "{csv}");
    assert!(csv["mac"].as_str().is_some_and(|m| m.len() == 64) && csv["keyed"] == true, "{csv}");
    // Reporters do not read the log of reads.
    let reporter = app.login(TOKYO_REPORTER).await;
    assert_problem(app.get("/audit/reads", &reporter).await, 403).await;
});

db_test!(an_export_for_the_police_verifies_on_its_own_and_a_changed_copy_does_not, |app| async move {
    let id = some_activity(&app).await;
    let file = app.dir.path().join("extract.json");
    let out = file.to_str().unwrap().to_owned();
    let (code, stdout, stderr) = run_cli(&app, &["audit", "export", "--out", &out, "--incident", &id]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = run_cli(&app, &["audit", "verify", "--extract", &out]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("intact"), "{stdout}");
    let mut x: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(x["entries"].as_array().unwrap().iter().all(|e| e["chain"] == format!("incident:{id}")), "one incident");
    assert!(!x["checkpoints"].as_array().unwrap().is_empty(), "the extract carries its checkpoint");
    // A changed copy: one entry's action rewritten.
    x["entries"][0]["action"] = json!("incident.nothing");
    std::fs::write(&file, serde_json::to_vec(&x).unwrap()).unwrap();
    let (code, stdout, _) = run_cli(&app, &["audit", "verify", "--extract", &out]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("BROKEN") && stdout.contains(&format!("incident:{id}")), "{stdout}");
});

/// Reads append to the read log only, never to a hash chain: while a writer holds every chain head,
/// many reads of one incident by several users all finish, and a change (which must extend the
/// chain) waits for the writer (PostgreSQL: SQLite has one writer at a time by design).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_do_not_wait_for_a_writer_holding_the_chains() {
    use diesel::connection::SimpleConnection;
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else { return };
    let id = some_activity(&app).await;
    let officer = app.login(OFFICER).await;
    let reporter = app.login(TOKYO_REPORTER).await;
    let mut writer = app.conn();
    writer.batch_execute("BEGIN; LOCK TABLE audit_heads IN EXCLUSIVE MODE").unwrap();
    let path = format!("/incidents/{id}");
    let reads = (0..16).map(|i| {
        let token = if i % 2 == 0 { &officer } else { &reporter };
        app.get(&path, token)
    });
    let all = tokio::time::timeout(std::time::Duration::from_secs(10), futures_util::future::join_all(reads)).await;
    let statuses: Vec<u16> = all.expect("reads waited for the writer").iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // A change extends the incident's chain: it waits until the writer is done.
    let update = app
        .client
        .post(app.api(&format!("/incidents/{id}/updates")))
        .bearer_auth(&reporter)
        .json(&json!({"kind": "note", "body": "まだ停止中"}))
        .send();
    let mut update = Box::pin(update);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(1500), &mut update).await.is_err(),
        "a change did not wait for the chain"
    );
    writer.batch_execute("ROLLBACK").unwrap();
    let res = update.await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

backend_test!(many_changed_chains_are_checkpointed_a_page_to_a_row_and_still_verify, |backend| async move {
    // No workers: housekeeping's own checkpoint (due at once on a new database) would race this one.
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| s.worker.enabled = false).await else { return };
    let reporter = app.login(TOKYO_REPORTER).await;
    for _ in 0..5 {
        file_ok(&app, &reporter, &ransomware_filing()).await;
    }
    let url = app.database_url.clone();
    let (rows, heads) = tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        let key = Some(std::sync::Arc::new(key()));
        let made = hikeshi::db::audit::with_key(key, || {
            conn.write_transaction(|c| hikeshi::db::audit::checkpoint_paged(c, 2))
        })
        .expect("checkpoint");
        let heads: Vec<String> = made
            .iter()
            .flat_map(|r| serde_json::from_str::<Vec<(String, i64, String)>>(&r.heads).unwrap())
            .map(|h| h.0)
            .collect();
        (made.len(), heads)
    })
    .await
    .unwrap();
    // Every changed chain once, two to a row, in chain order across the rows.
    assert!(heads.len() >= 5, "{heads:?}");
    assert_eq!(rows, heads.len().div_ceil(2) + usize::from(heads.len() % 2 == 0), "{heads:?}");
    assert!(heads.windows(2).all(|w| w[0] < w[1]), "{heads:?}");
    let report = verify_now(&app).await;
    assert!(report.problems.is_empty(), "{}", report.summary());
});
