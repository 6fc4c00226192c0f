//! First-response support: support requests and decisions, ranked team suggestions, dispatches and
//! their state machine (moved by the team's own responders only), responder availability and load,
//! and team changes.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, parts, TestApp};

const TOKYO_REPORTER: &str = "reporter@tokyo-chuo.example";
const OFFICER: &str = "officer@mhlw.example";
const EAST_RESPONDER: &str = "responder@east-team.example";
const WEST_RESPONDER: &str = "responder@west-team.example";
const EAST_TEAM: &str = "東日本";
const WEST_TEAM: &str = "西日本";

// ---------------------------------------------------------------------------------------------
// Helpers of this module.

/// `t` as RFC 3339 in JST (+09:00), as hospitals and responders send times.
fn jst(t: DateTime<Utc>) -> String {
    t.with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap()).to_rfc3339()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a time: {v}")).parse().unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v}")).iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// A ransomware incident at the Tokyo hospital, detected 30 minutes ago.
fn ransomware() -> Value {
    json!({
        "title": "電子カルテのランサムウェア感染",
        "category": "ransomware",
        "detected_at": jst(Utc::now() - Duration::minutes(30)),
        "description": "電子カルテサーバーが暗号化され、脅迫文が表示された",
        "attack_vector": "vpn",
        "affected_systems": ["emr", "pacs"],
        "care_impact": "emergency_suspended",
        "personal_data": {"status": "none"},
        "ransom_demand": true,
        "ransomware": {"note_text": "Your files are encrypted", "kinds": ["encryption"]},
        "offline_backup": "affected",
        "bcp_activated": true,
        "contact": {"name": "情報システム室 佐藤", "phone": "03-1234-5678"}
    })
}

/// Files a ransomware incident as the Tokyo reporter; its id.
async fn file_incident(app: &TestApp, reporter: &str) -> String {
    let (status, _, body) = parts(app.post("/incidents", reporter, &ransomware()).await).await;
    assert_eq!(status, 201, "filing failed: {body}");
    id_of(&body)
}

/// The caller's own user id.
async fn my_id(app: &TestApp, token: &str) -> String {
    let (status, _, me) = parts(app.get("/me", token).await).await;
    assert_eq!(status, 200, "{me}");
    id_of(&me)
}

/// GET /responder-teams by `token` (200).
async fn teams(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, _, body) = parts(app.get("/responder-teams", token).await).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap_or_else(|| panic!("not a list: {body}")).clone()
}

/// The team whose name contains `part`, out of `list`.
fn team<'a>(list: &'a [Value], part: &str) -> &'a Value {
    list.iter()
        .find(|t| t["name"].as_str().is_some_and(|n| n.contains(part)))
        .unwrap_or_else(|| panic!("no team named like {part}: {list:?}"))
}

/// (team id, its only responder's id) of the demo team named like `part`, read by an officer.
async fn team_and_responder(app: &TestApp, officer: &str, part: &str) -> (String, String) {
    let list = teams(app, officer).await;
    let t = team(&list, part);
    let members = t["members"].as_array().expect("members");
    assert_eq!(members.len(), 1, "the demo team {part} has one responder: {t}");
    (id_of(t), id_of(&members[0]))
}

/// The officer dispatches `team_id` with `responders` to incident `id`; the dispatch (201).
async fn dispatch(app: &TestApp, officer: &str, id: &str, team_id: &str, responders: &[&str]) -> Value {
    let (status, headers, d) = parts(
        app.post(
            &format!("/incidents/{id}/dispatches"),
            officer,
            &json!({"team_id": team_id, "responder_ids": responders, "mode": "on_site"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "dispatch failed: {d}");
    assert_eq!(d["status"], "assigned", "{d}");
    assert_eq!(
        headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/dispatches/{}", id_of(&d)).as_str()),
        "{d}"
    );
    d
}

async fn move_dispatch(app: &TestApp, token: &str, dispatch_id: &str, body: &Value) -> reqwest::Response {
    app.post(&format!("/dispatches/{dispatch_id}/status"), token, body).await
}

/// Moves a dispatch to `status` (200); the dispatch.
async fn move_ok(app: &TestApp, token: &str, dispatch_id: &str, body: Value) -> Value {
    let (status, _, d) = parts(move_dispatch(app, token, dispatch_id, &body).await).await;
    assert_eq!(status, 200, "→ {body}: {d}");
    assert_eq!(d["status"], body["status"], "{d}");
    d
}

/// Asserts a 409 whose `allowed` is exactly `allowed`.
async fn assert_illegal_move(app: &TestApp, token: &str, dispatch_id: &str, to: &str, allowed: &[&str]) {
    let (_, p) = assert_problem(move_dispatch(app, token, dispatch_id, &json!({"status": to})).await, 409).await;
    let got = strings(&p["allowed"]);
    assert_eq!(got, allowed, "→ {to}: {p}");
}

/// One dispatch as the officer sees it in GET /dispatches?incident_id=.
async fn dispatch_seen_by_officer(app: &TestApp, officer: &str, incident_id: &str, dispatch_id: &str) -> Value {
    let (status, _, page) = parts(app.get(&format!("/dispatches?incident_id={incident_id}"), officer).await).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["id"] == dispatch_id)
        .unwrap_or_else(|| panic!("dispatch {dispatch_id} not listed: {page}"))
        .clone()
}

async fn incident(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, _, body) = parts(app.get(&format!("/incidents/{id}"), token).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn suggestions(app: &TestApp, officer: &str, incident_id: &str) -> Vec<Value> {
    let (status, _, body) =
        parts(app.get(&format!("/responder-teams/suggestions?incident_id={incident_id}"), officer).await).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap_or_else(|| panic!("not a list: {body}")).clone()
}

fn reason<'a>(suggestion: &'a Value, factor: &str) -> Option<&'a Value> {
    suggestion["reasons"].as_array().expect("reasons").iter().find(|r| r["factor"] == factor)
}

// ---------------------------------------------------------------------------------------------
// 1. The whole story over HTTP.

db_test!(
    a_support_request_is_approved_the_covering_team_dispatched_and_the_incident_followed_to_recovery,
    |app| async move {
        let reporter = app.login(TOKYO_REPORTER).await;
        let officer = app.login(OFFICER).await;
        let responder = app.login(EAST_RESPONDER).await;
        let responder_id = my_id(&app, &responder).await;
        let id = file_incident(&app, &reporter).await;

        // The hospital asks for help.
        let (status, _, sr) = parts(
            app.post(
                &format!("/incidents/{id}/support-requests"),
                &reporter,
                &json!({"needs": ["forensics", "backup_restore"], "mode": "on_site", "note": "現地での証拠保全を希望"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{sr}");
        assert_eq!(sr["status"], "pending", "{sr}");
        assert_eq!(strings(&sr["needs"]), ["forensics", "backup_restore"]);
        assert_eq!(sr["mode"], "on_site");
        let sr_id = id_of(&sr);

        // Only an officer decides; the officer approves once.
        let decision = format!("/support-requests/{sr_id}/decision");
        let body = json!({"approve": true, "reason": "重大なランサムウェア被害のため派遣する"});
        assert_problem(app.post(&decision, &reporter, &body).await, 403).await;
        let (status, _, decided) = parts(app.post(&decision, &officer, &body).await).await;
        assert_eq!(status, 200, "{decided}");
        assert_eq!(decided["status"], "approved", "{decided}");
        assert_eq!(decided["decision_reason"], "重大なランサムウェア被害のため派遣する");
        assert!(decided["decided_at"].is_string(), "{decided}");
        assert_problem(app.post(&decision, &officer, &json!({"approve": false, "reason": "やはり不要"})).await, 409)
            .await;
        assert_eq!(incident(&app, &officer, &id).await["status"], "reported", "approval alone does not triage");

        // The team covering Tokyo with the skills ranks first.
        let ranked = suggestions(&app, &officer, &id).await;
        assert_eq!(ranked.len(), 2, "{ranked:?}");
        let top = &ranked[0];
        assert!(top["team"]["name"].as_str().unwrap().contains(EAST_TEAM), "top suggestion: {top}");
        let coverage = reason(top, "coverage").unwrap_or_else(|| panic!("no coverage reason: {top}"));
        assert!(coverage["points"].as_i64().unwrap() > 0, "{coverage}");
        let skills = reason(top, "skills").unwrap_or_else(|| panic!("no skills reason: {top}"));
        let detail = skills["detail"].as_str().unwrap();
        assert!(detail.contains("forensics") && detail.contains("backup_restore"), "{skills}");
        assert!(reason(&ranked[1], "coverage").is_none(), "西日本 does not cover Tokyo: {}", ranked[1]);
        for s in &ranked {
            let sum: i64 = s["reasons"].as_array().unwrap().iter().map(|r| r["points"].as_i64().unwrap()).sum();
            assert_eq!(s["score"].as_i64(), Some(sum), "the score is the sum of its reasons: {s}");
        }
        assert!(top["score"].as_i64() > ranked[1]["score"].as_i64(), "{ranked:?}");
        assert_eq!(strings(&top["available_responder_ids"]), std::slice::from_ref(&responder_id), "{top}");

        // The officer sends it.
        let team_id = id_of(&top["team"]);
        let d = dispatch(&app, &officer, &id, &team_id, &[&responder_id]).await;
        let did = id_of(&d);
        assert_eq!(strings(&d["responder_ids"]), std::slice::from_ref(&responder_id));
        let assigned = time(&d["assigned_at"]);
        let (accepted_at, en_route_at, on_site_at) =
            (assigned + Duration::seconds(10), assigned + Duration::seconds(20), assigned + Duration::seconds(30));

        // The responder now sees the incident and its own dispatch.
        let (status, _, mine) = parts(app.get("/dispatches?mine=true", &responder).await).await;
        assert_eq!(status, 200, "{mine}");
        let mine: Vec<String> = mine["items"].as_array().unwrap().iter().map(id_of).collect();
        assert_eq!(mine, std::slice::from_ref(&did));

        let a = move_ok(&app, &responder, &did, json!({"status": "accepted", "at": jst(accepted_at)})).await;
        assert_eq!(time(&a["accepted_at"]), accepted_at, "{a}");
        assert_eq!(incident(&app, &reporter, &id).await["status"], "responding", "accepting starts the response");
        let e = move_ok(&app, &responder, &did, json!({"status": "en_route", "at": jst(en_route_at)})).await;
        assert_eq!(time(&e["en_route_at"]), en_route_at, "{e}");
        let o = move_ok(
            &app,
            &responder,
            &did,
            json!({"status": "on_site", "at": jst(on_site_at), "note": "サーバー室で作業開始"}),
        )
        .await;
        assert_eq!(time(&o["on_site_at"]), on_site_at, "{o}");
        assert_eq!(time(&o["accepted_at"]), accepted_at, "earlier steps keep their times: {o}");
        assert!(o["version"].as_i64() > d["version"].as_i64(), "{o}");

        // The responder records the recovery milestones.
        for (name, at) in [
            ("emergency_accepting", assigned + Duration::seconds(40)),
            ("fully_normal", assigned + Duration::seconds(50)),
        ] {
            let (status, _, body) = parts(
                app.put(&format!("/incidents/{id}/milestones/{name}"), &responder, &json!({"at": jst(at)})).await,
            )
            .await;
            assert_eq!(status, 200, "{name}: {body}");
            assert_eq!(time(&body["milestones"][name]), at, "{body}");
        }

        // The officer closes the response.
        for to in ["recovering", "recovered"] {
            let (status, _, body) =
                parts(app.post(&format!("/incidents/{id}/transitions"), &officer, &json!({"to": to})).await).await;
            assert_eq!(status, 200, "→ {to}: {body}");
            assert_eq!(body["status"], to);
        }

        let released = move_ok(&app, &responder, &did, json!({"status": "released"})).await;
        assert!(released["released_at"].is_string(), "{released}");
        assert_eq!(incident(&app, &officer, &id).await["status"], "recovered");

        // The timeline tells the story in order.
        let (status, _, page) = parts(app.get(&format!("/incidents/{id}/updates?limit=200"), &reporter).await).await;
        assert_eq!(status, 200, "{page}");
        let entries = page["items"].as_array().unwrap();
        let story: Vec<String> = entries
            .iter()
            .filter(|e| ["support", "dispatch", "milestone"].contains(&e["kind"].as_str().unwrap()))
            .map(|e| {
                let d = &e["data"];
                let what = d["milestone"].as_str().or(d["to"].as_str()).or(d["status"].as_str()).unwrap_or("?");
                format!("{}:{what}", e["kind"].as_str().unwrap())
            })
            .collect();
        assert_eq!(
            story,
            [
                "support:pending",
                "support:approved",
                "dispatch:assigned",
                "dispatch:accepted",
                "dispatch:en_route",
                "dispatch:on_site",
                "milestone:emergency_accepting",
                "milestone:fully_normal",
                "dispatch:released",
            ],
            "{entries:?}"
        );
        let moves: Vec<(String, String)> = entries
            .iter()
            .filter(|e| e["kind"] == "status_change")
            .map(|e| (e["data"]["from"].as_str().unwrap().into(), e["data"]["to"].as_str().unwrap().into()))
            .collect();
        let expected = [
            ("reported", "triaged"),
            ("triaged", "responding"),
            ("responding", "recovering"),
            ("recovering", "recovered"),
        ];
        assert_eq!(moves, expected.map(|(a, b)| (a.to_owned(), b.to_owned())), "{entries:?}");
        let mut last = DateTime::<Utc>::MIN_UTC;
        for e in entries {
            let at = time(&e["created_at"]);
            assert!(at >= last, "timeline out of order: {entries:?}");
            last = at;
        }

        // The hospital was e-mailed about the decision and each step; the responder about the assignment.
        let (status, _, notes) = parts(app.get(&format!("/incidents/{id}/notifications"), &officer).await).await;
        assert_eq!(status, 200, "{notes}");
        let notes = notes.as_array().unwrap();
        let of_kind = |k: &str| -> Vec<&Value> { notes.iter().filter(|n| n["kind"] == k).collect() };
        let decision_mail = of_kind("support_decision");
        assert_eq!(decision_mail.len(), 1, "{notes:?}");
        assert!(strings(&decision_mail[0]["recipients"]).contains(&TOKYO_REPORTER.to_owned()), "{notes:?}");
        let status_mail = of_kind("dispatch_status");
        assert_eq!(status_mail.len(), 4, "accepted, en_route, on_site, released: {notes:?}");
        for n in &status_mail {
            assert!(strings(&n["recipients"]).contains(&TOKYO_REPORTER.to_owned()), "{n}");
            assert!(!strings(&n["recipients"]).contains(&EAST_RESPONDER.to_owned()), "{n}");
        }
        let assigned_mail = of_kind("dispatch_assigned");
        assert_eq!(assigned_mail.len(), 1, "{notes:?}");
        assert_eq!(strings(&assigned_mail[0]["recipients"]), [EAST_RESPONDER], "{notes:?}");
    }
);

// ---------------------------------------------------------------------------------------------
// 2. Who may move which dispatch, and the state machine.

db_test!(
    only_the_dispatched_teams_responders_move_a_dispatch_officers_only_cancel_and_illegal_moves_are_409,
    |app| async move {
        let reporter = app.login(TOKYO_REPORTER).await;
        let officer = app.login(OFFICER).await;
        let east = app.login(EAST_RESPONDER).await;
        let west = app.login(WEST_RESPONDER).await;
        let (east_team, east_id) = team_and_responder(&app, &officer, EAST_TEAM).await;
        let (west_team, west_id) = team_and_responder(&app, &officer, WEST_TEAM).await;
        let id = file_incident(&app, &reporter).await;

        // Reporters neither dispatch nor list dispatches beyond their incidents.
        let order = json!({"team_id": east_team, "responder_ids": [east_id], "mode": "remote"});
        assert_problem(app.post(&format!("/incidents/{id}/dispatches"), &reporter, &order).await, 403).await;
        let (_, p) = assert_problem(app.get("/dispatches", &reporter).await, 422).await;
        assert!(p["errors"].to_string().contains("incident_id"), "{p}");
        // A responder of another team is not a member.
        let wrong = json!({"team_id": east_team, "responder_ids": [west_id], "mode": "remote"});
        assert_problem(app.post(&format!("/incidents/{id}/dispatches"), &officer, &wrong).await, 422).await;

        let d = dispatch(&app, &officer, &id, &east_team, &[&east_id]).await;
        let did = id_of(&d);

        // The other team sees neither the incident nor the dispatch, and changes nothing.
        assert_problem(app.get(&format!("/incidents/{id}"), &west).await, 404).await;
        assert_problem(move_dispatch(&app, &west, &did, &json!({"status": "accepted"})).await, 404).await;
        assert_problem(move_dispatch(&app, &west, &did, &json!({"status": "declined"})).await, 404).await;
        let (status, _, page) = parts(app.get("/dispatches", &west).await).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["items"].as_array().unwrap().is_empty(), "西日本 lists another team's dispatch: {page}");
        let unchanged = dispatch_seen_by_officer(&app, &officer, &id, &did).await;
        assert_eq!(unchanged["status"], "assigned", "{unchanged}");
        assert_eq!(unchanged["version"], d["version"], "{unchanged}");
        assert!(unchanged["accepted_at"].is_null(), "{unchanged}");
        assert_eq!(incident(&app, &officer, &id).await["status"], "reported");

        // The east responder cannot cancel, nor skip steps; the officer cannot move it forward.
        assert_problem(move_dispatch(&app, &east, &did, &json!({"status": "cancelled"})).await, 403).await;
        assert_problem(move_dispatch(&app, &officer, &did, &json!({"status": "accepted"})).await, 403).await;
        assert_illegal_move(&app, &east, &did, "on_site", &["accepted", "declined", "cancelled"]).await;
        assert_illegal_move(&app, &east, &did, "released", &["accepted", "declined", "cancelled"]).await;
        assert_eq!(dispatch_seen_by_officer(&app, &officer, &id, &did).await["status"], "assigned");

        // The officer cancels; a cancelled dispatch is final.
        let c = move_ok(&app, &officer, &did, json!({"status": "cancelled"})).await;
        assert!(c["ended_at"].is_string(), "{c}");
        assert_illegal_move(&app, &east, &did, "accepted", &[]).await;
        assert_illegal_move(&app, &officer, &did, "cancelled", &[]).await;
        assert_eq!(incident(&app, &officer, &id).await["status"], "reported", "a cancelled dispatch starts nothing");

        // Once dispatched itself, the west responder sees the incident, but still not the east dispatch.
        let w = dispatch(&app, &officer, &id, &west_team, &[&west_id]).await;
        let wid = id_of(&w);
        let seen = incident(&app, &west, &id).await;
        assert_eq!(seen["id"], id.as_str());
        assert_problem(move_dispatch(&app, &west, &did, &json!({"status": "accepted"})).await, 404).await;
        assert_problem(move_dispatch(&app, &east, &wid, &json!({"status": "accepted"})).await, 404).await;

        // Remote-like path: accepted → on_site directly, then released, which is final.
        move_ok(&app, &west, &wid, json!({"status": "accepted"})).await;
        assert_illegal_move(&app, &west, &wid, "declined", &["en_route", "on_site", "released", "cancelled"]).await;
        move_ok(&app, &west, &wid, json!({"status": "on_site"})).await;
        assert_illegal_move(&app, &west, &wid, "en_route", &["released"]).await;
        move_ok(&app, &west, &wid, json!({"status": "released"})).await;
        for to in ["accepted", "en_route", "on_site", "released", "declined"] {
            assert_illegal_move(&app, &west, &wid, to, &[]).await;
        }
        assert_illegal_move(&app, &officer, &wid, "cancelled", &[]).await;
        let after = dispatch_seen_by_officer(&app, &officer, &id, &wid).await;
        assert_eq!(after["status"], "released", "{after}");

        // The responder of a released dispatch still sees the incident it worked on.
        incident(&app, &west, &id).await;
        // A time before the assignment or in the future is refused.
        let x = dispatch(&app, &officer, &id, &east_team, &[&east_id]).await;
        let early = time(&x["assigned_at"]) - Duration::hours(1);
        assert_problem(
            move_dispatch(&app, &east, &id_of(&x), &json!({"status": "accepted", "at": jst(early)})).await,
            422,
        )
        .await;
        assert_problem(
            move_dispatch(
                &app,
                &east,
                &id_of(&x),
                &json!({"status": "accepted", "at": jst(Utc::now() + Duration::hours(2))}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(dispatch_seen_by_officer(&app, &officer, &id, &id_of(&x)).await["status"], "assigned");

        // The reporter follows its incident's dispatches.
        let (status, _, page) = parts(app.get(&format!("/dispatches?incident_id={id}"), &reporter).await).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
    }
);

// ---------------------------------------------------------------------------------------------
// 3. Availability and load.

db_test!(responders_set_their_own_availability_and_the_roster_shows_it_with_each_teams_load, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let east = app.login(EAST_RESPONDER).await;
    let west = app.login(WEST_RESPONDER).await;
    let (east_team, east_id) = team_and_responder(&app, &officer, EAST_TEAM).await;
    let (west_team, west_id) = team_and_responder(&app, &officer, WEST_TEAM).await;
    assert_eq!(my_id(&app, &east).await, east_id);

    let (status, _, m) =
        parts(app.patch(&format!("/responders/{east_id}"), &east, None, &json!({"availability": "on_call"})).await)
            .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["availability"], "on_call", "{m}");
    // Another team's responder does not exist for this one (404, not 403).
    assert_problem(
        app.patch(&format!("/responders/{west_id}"), &east, None, &json!({"availability": "off"})).await,
        404,
    )
    .await;
    let (status, _, m) =
        parts(app.patch(&format!("/responders/{west_id}"), &officer, None, &json!({"availability": "busy"})).await)
            .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["availability"], "busy");
    assert_problem(
        app.patch(&format!("/responders/{west_id}"), &reporter, None, &json!({"availability": "off"})).await,
        404,
    )
    .await;
    assert_problem(
        app.patch(&format!("/responders/{east_id}"), &east, None, &json!({"availability": "sleeping"})).await,
        422,
    )
    .await;

    // Load: east has two active dispatches (assigned, accepted) and one cancelled; west one declined.
    let a = file_incident(&app, &reporter).await;
    let b = file_incident(&app, &reporter).await;
    dispatch(&app, &officer, &a, &east_team, &[&east_id]).await;
    let d2 = dispatch(&app, &officer, &b, &east_team, &[&east_id]).await;
    move_ok(&app, &east, &id_of(&d2), json!({"status": "accepted"})).await;
    let d3 = dispatch(&app, &officer, &a, &east_team, &[&east_id]).await;
    move_ok(&app, &officer, &id_of(&d3), json!({"status": "cancelled"})).await;
    let d4 = dispatch(&app, &officer, &b, &west_team, &[&west_id]).await;
    move_ok(&app, &west, &id_of(&d4), json!({"status": "declined"})).await;

    let roster = teams(&app, &officer).await;
    assert_eq!(roster.len(), 2, "{roster:?}");
    let (e, w) = (team(&roster, EAST_TEAM), team(&roster, WEST_TEAM));
    assert_eq!(e["members"][0]["id"], east_id.as_str());
    assert_eq!(e["members"][0]["availability"], "on_call", "{e}");
    assert_eq!(w["members"][0]["availability"], "busy", "{w}");
    assert_eq!(e["load"], 2, "{e}");
    assert_eq!(w["load"], 0, "{w}");

    // A responder sees only its own team; a reporter none.
    let own = teams(&app, &east).await;
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["id"], east_team.as_str());
    assert_problem(app.get("/responder-teams", &reporter).await, 403).await;

    // Suggestions weigh availability and load.
    let ranked = suggestions(&app, &officer, &a).await;
    let es = ranked.iter().find(|s| s["team"]["id"] == east_team.as_str()).expect("east suggested");
    let ws = ranked.iter().find(|s| s["team"]["id"] == west_team.as_str()).expect("west suggested");
    assert_eq!(reason(es, "availability").unwrap()["points"], 20, "on call: {es}");
    assert_eq!(reason(es, "load").unwrap()["points"], -20, "two active dispatches: {es}");
    assert!(reason(ws, "availability").unwrap()["points"].as_i64().unwrap() < 0, "nobody available: {ws}");
    assert!(reason(ws, "load").is_none(), "declined dispatches are no load: {ws}");
    assert_eq!(strings(&es["available_responder_ids"]), std::slice::from_ref(&east_id));
    assert!(strings(&ws["available_responder_ids"]).is_empty(), "{ws}");
    assert_problem(app.get(&format!("/responder-teams/suggestions?incident_id={a}"), &east).await, 403).await;
});

// ---------------------------------------------------------------------------------------------
// 4. Changing a team.

db_test!(a_team_change_needs_a_current_if_match_and_changes_skills_and_coverage, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let admin = app.login("admin@mhlw.example").await;
    let west = app.login(WEST_RESPONDER).await;
    let roster = teams(&app, &officer).await;
    let before = team(&roster, WEST_TEAM).clone();
    let tid = id_of(&before);
    let v = before["version"].as_i64().expect("version");
    let path = format!("/responder-teams/{tid}");
    let change = json!({"skills": ["forensics", "active_directory", "backup_restore"], "prefectures": ["13", "27"]});

    assert_problem(app.patch(&path, &reporter, Some(v), &change).await, 403).await;
    assert_problem(app.patch(&path, &west, Some(v), &change).await, 403).await;
    assert_problem(app.patch(&path, &officer, None, &change).await, 428).await;
    assert_problem(app.patch(&path, &officer, Some(v + 1), &change).await, 412).await;
    assert_problem(app.patch(&path, &officer, Some(v), &json!({"prefectures": ["99"]})).await, 422).await;
    let unchanged = teams(&app, &officer).await;
    assert_eq!(team(&unchanged, WEST_TEAM)["version"], v, "refused changes change nothing");
    assert_eq!(team(&unchanged, WEST_TEAM)["prefectures"], before["prefectures"]);

    let (status, headers, t) = parts(app.patch(&path, &officer, Some(v), &change).await).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(strings(&t["skills"]), ["forensics", "active_directory", "backup_restore"], "{t}");
    assert_eq!(strings(&t["prefectures"]), ["13", "27"], "{t}");
    assert_eq!(t["version"], v + 1);
    assert_eq!(headers.get("etag").and_then(|e| e.to_str().ok()), Some(format!("\"{}\"", v + 1).as_str()));
    let after = teams(&app, &officer).await;
    assert_eq!(strings(&team(&after, WEST_TEAM)["prefectures"]), ["13", "27"]);
    // The old version is stale now; an admin with the new one may change it again.
    assert_problem(app.patch(&path, &officer, Some(v), &json!({"skills": ["network"]})).await, 412).await;
    let (status, _, t) = parts(app.patch(&path, &admin, Some(v + 1), &json!({"skills": ["network"]})).await).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(strings(&t["skills"]), ["network"]);
    assert_eq!(strings(&t["prefectures"]), ["13", "27"], "an absent field is kept: {t}");

    // The new coverage counts in suggestions for a Tokyo incident.
    let id = file_incident(&app, &reporter).await;
    let ranked = suggestions(&app, &officer, &id).await;
    let ws = ranked.iter().find(|s| s["team"]["id"] == tid.as_str()).expect("west suggested");
    assert!(reason(ws, "coverage").is_some(), "西日本 now covers Tokyo: {ws}");
    assert!(reason(ws, "skills").is_none(), "network is not needed for ransomware: {ws}");
});
