//! `serve --demo`: realistic organisations, one user per role and authority contacts, seeded into an
//! empty database, with fresh random passwords printed once.

use crate::api::organizations::parse_org;
use crate::api::users::create_account;
use crate::auth::jwt::random_hex;
use crate::db::orgs::Organization;
use crate::db::{self, AnyConnection};
use crate::domain::{OrgKind, Role};

/// One demo account.
#[derive(Debug, Clone)]
pub struct DemoUser {
    pub role: Role,
    pub email: String,
    pub password: String,
    pub org_name: String,
}

/// What was seeded.
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    pub users: Vec<DemoUser>,
    pub hospitals: Vec<(String, String)>,
    pub team_id: String,
}

fn org(conn: &mut AnyConnection, body: serde_json::Value) -> anyhow::Result<Organization> {
    let map = body.as_object().cloned().unwrap_or_default();
    let kind = map.get("kind").and_then(|k| k.as_str()).and_then(OrgKind::parse).unwrap_or(OrgKind::Hospital);
    let o = parse_org(&map, Organization::new(kind, ""), true)
        .map_err(|e| anyhow::anyhow!("demo organisation invalid: {e:?}"))?;
    db::orgs::insert(conn, &o)?;
    Ok(o)
}

/// Seeds the demo data when the database has no organisation yet; `None` when it already had some.
pub fn seed(conn: &mut AnyConnection) -> anyhow::Result<Option<DemoCredentials>> {
    if db::orgs::count(conn)? > 0 {
        return Ok(None);
    }
    conn.write_transaction(|conn| {
        use serde_json::json;
        let ministry = org(conn, json!({"kind": "ministry", "name": "厚生労働省 医療サイバーセキュリティ当番"}))?;
        let team = org(
            conn,
            json!({"kind": "responder_team", "name": "初動対応支援チーム 東日本", "prefecture": "13",
                   "skills": ["forensics", "active_directory", "backup_restore", "network"],
                   "coverage": ["08", "09", "10", "11", "12", "13", "14", "19", "15", "07"]}),
        )?;
        let team_west = org(
            conn,
            json!({"kind": "responder_team", "name": "初動対応支援チーム 西日本", "prefecture": "27",
                   "skills": ["forensics", "emr_vendor_liaison", "communications"],
                   "coverage": ["25", "26", "27", "28", "29", "30", "33", "34", "36", "37", "38", "39"]}),
        )?;
        let ppc = org(conn, json!({"kind": "authority", "name": "個人情報保護委員会 事務局", "authority": "ppc"}))?;
        let tokyo = org(
            conn,
            json!({"kind": "hospital", "name": "東京中央総合病院", "prefecture": "13", "beds": 650, "code": "1312345678",
                   "regional_roles": ["disaster_base", "emergency_center", "advanced_treatment"], "legal_status": "private",
                   "municipality": "13101",
                   "remote_access": [{"kind": "vpn", "vendor": "Fortinet", "product": "FortiGate", "version": "100F"},
                                     {"kind": "maintenance", "vendor": "富士通Japan", "product": "HOPE LifeMark リモート保守"}]}),
        )?;
        let tokushima = org(
            conn,
            json!({"kind": "hospital", "name": "みなみ町立病院", "prefecture": "36", "beds": 120, "code": "3610000001",
                   "regional_roles": ["remote_area_base"], "legal_status": "local_government",
                   "remote_access": [{"kind": "vpn", "vendor": "Fortinet", "product": "FortiGate", "version": "60F"}]}),
        )?;
        let osaka = org(
            conn,
            json!({"kind": "hospital", "name": "大阪湾岸急性期医療センター", "prefecture": "27", "beds": 865,
                   "code": "2710000002", "regional_roles": ["disaster_base", "emergency_center", "perinatal_center"],
                   "legal_status": "local_iaa", "municipality": "27100",
                   "remote_access": [{"kind": "vpn", "vendor": "Fortinet", "product": "FortiGate"}]}),
        )?;
        let hokkaido = org(
            conn,
            json!({"kind": "hospital", "name": "道北地域医療センター", "prefecture": "01", "beds": 199, "code": "0110000003",
                   "regional_roles": ["remote_area_base", "disaster_base"], "legal_status": "private",
                   "remote_access": [{"kind": "vpn", "vendor": "Cisco", "product": "AnyConnect"}]}),
        )?;
        let okayama = org(
            conn,
            json!({"kind": "hospital", "name": "岡山こころの医療センター", "prefecture": "33", "beds": 255,
                   "code": "3310000004", "regional_roles": [], "legal_status": "local_iaa",
                   "municipality": "33100"}),
        )?;
        let accounts = [
            (Role::Reporter, "reporter@tokyo-chuo.example", "情報システム室 佐藤", &tokyo),
            (Role::Reporter, "reporter@minami-town.example", "事務長 田中", &tokushima),
            (Role::DutyOfficer, "officer@mhlw.example", "当番 鈴木", &ministry),
            (Role::Admin, "admin@mhlw.example", "管理者 高橋", &ministry),
            (Role::Responder, "responder@east-team.example", "専門家 伊藤", &team),
            (Role::Responder, "responder@west-team.example", "専門家 渡辺", &team_west),
            (Role::Liaison, "liaison@ppc.example", "PPC 連絡担当 中村", &ppc),
            (Role::Reporter, "reporter@osaka-wangan.example", "医療情報部 山本", &osaka),
        ];
        let mut users = Vec::new();
        for (role, email, name, o) in accounts {
            // Random per seed: demo passwords are never a shared, guessable default.
            let password = format!("Hk-{}!", random_hex(6));
            create_account(conn, &o.id, email, name, role, &password).map_err(|e| anyhow::anyhow!("{e}: {e:?}"))?;
            users.push(DemoUser { role, email: email.into(), password, org_name: o.name.clone() });
        }
        crate::notify::contacts::seed_demo(conn)?;
        let hospitals =
            [&tokyo, &tokushima, &osaka, &hokkaido, &okayama].iter().map(|o| (o.id.clone(), o.name.clone())).collect();
        Ok(Some(DemoCredentials { users, hospitals, team_id: team.id.clone() }))
    })
}

/// The text printed once after seeding.
pub fn describe(c: &DemoCredentials, public_url: &str) -> String {
    let mut s = String::from("\n=== hikeshi demo: these passwords are shown only once ===\n");
    for u in &c.users {
        s.push_str(&format!("  {:<13} {:<32} {}   ({})\n", u.role.as_str(), u.email, u.password, u.org_name));
    }
    s.push_str(&format!(
        "\nSign in:  curl -s {public_url}/api/v1/auth/login -H 'Content-Type: application/json' \\\n           \
         -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'\n",
        c.users[0].email, c.users[0].password
    ));
    s.push_str(&format!("API docs: {public_url}/docs/\n"));
    s
}
