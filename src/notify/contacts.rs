//! Loading authority contacts: the demo directory (every prefecture's police, with example
//! addresses) and `hikeshi contacts import FILE` (TOML or JSON).

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::api::contacts::{blank_contact, parse_contact};
use crate::db::contacts::Contact;
use crate::db::{self, AnyConnection};
use crate::domain::Prefecture;

fn add(conn: &mut AnyConnection, v: Value) -> anyhow::Result<Contact> {
    let map = v.as_object().cloned().unwrap_or_default();
    let c = parse_contact(&map, blank_contact(), true).map_err(|e| anyhow::anyhow!("contact invalid: {e:?}"))?;
    db::contacts::insert(conn, &c)?;
    Ok(c)
}

/// Seeds example contacts: national MHLW (before and after the 2026 reorganisation), PPC, IPA and
/// the NPA window, each prefecture's police and health department, and a drill contact for each.
pub fn seed_demo(conn: &mut AnyConnection) -> anyhow::Result<usize> {
    let mut n = 0;
    let from = "2025-04-01";
    for v in [
        json!({"authority": "mhlw", "name": "厚生労働省 医政局 特定医薬品開発支援・医療情報担当参事官室",
               "address": "iryo-cyber@mhlw.example", "effective_from": from, "effective_until": "2026-06-30"}),
        json!({"authority": "mhlw", "name": "厚生労働省 医療DX政策統括官付 サイバーセキュリティ担当参事官室",
               "address": "cyber-dx@mhlw.example", "effective_from": "2026-07-01"}),
        // The PPC takes reports only through its online form (施行規則8条3項): a manual channel.
        json!({"authority": "ppc", "name": "個人情報保護委員会 漏えい等報告フォーム", "channel": "manual",
               "address": "https://www.ppc.go.jp/personalinfo/legal/leakAction/",
               "instructions": "報告は個人情報保護委員会の漏えい等報告フォームからのみ行えます。hikeshi の PPC 報告（/reports/ppc）を項目ごとに貼り付け、受付番号を「報告済み」に記録してください。 / The PPC takes reports only through its online form: paste hikeshi's PPC report item by item and record the receipt number when you mark it fulfilled.",
               "effective_from": from}),
        json!({"authority": "ipa", "name": "IPA セキュリティセンター 届出窓口", "address": "todokede@ipa.example", "effective_from": from}),
        json!({"authority": "police", "name": "警察庁 サイバー警察局 相談窓口", "address": "cyber-soudan@npa.example",
               "effective_from": from}),
        // 大阪市 runs its own public health centre: it, not 大阪府, oversees the hospitals there.
        json!({"authority": "prefecture", "prefecture": "27", "municipality": "27100",
               "name": "大阪市 健康局 保健所（医療法第25条）", "address": "iryo@city27100.example", "effective_from": from}),
        json!({"authority": "mhlw", "name": "【訓練】厚生労働省 演習窓口", "address": "drill-mhlw@hikeshi.example", "drill": true, "effective_from": from}),
        json!({"authority": "ppc", "name": "【訓練】個人情報保護委員会 演習窓口", "address": "drill-ppc@hikeshi.example", "drill": true, "effective_from": from}),
        json!({"authority": "police", "name": "【訓練】警察 演習窓口", "address": "drill-police@hikeshi.example", "drill": true, "effective_from": from}),
        json!({"authority": "ipa", "name": "【訓練】IPA 演習窓口", "address": "drill-ipa@hikeshi.example", "drill": true, "effective_from": from}),
        json!({"authority": "prefecture", "name": "【訓練】都道府県 演習窓口", "address": "drill-pref@hikeshi.example", "drill": true, "effective_from": from}),
    ] {
        add(conn, v)?;
        n += 1;
    }
    for p in Prefecture::all() {
        let police = if p.number() == 13 { "警視庁".to_owned() } else { format!("{}警察本部", p.name_ja()) };
        add(
            conn,
            json!({"authority": "police", "prefecture": p.code(), "name": format!("{police} サイバー犯罪相談窓口"),
                   "address": format!("cyber@police.pref{}.example", p.code()), "effective_from": from}),
        )?;
        add(
            conn,
            json!({"authority": "prefecture", "prefecture": p.code(), "name": format!("{} 衛生主管部 医療政策課", p.name_ja()),
                   "address": format!("iryo@pref{}.example", p.code()), "effective_from": from}),
        )?;
        n += 2;
    }
    Ok(n)
}

/// Imports a contact directory: `{"contacts": [ {...}, ... ]}` in JSON, or `[[contacts]]` tables in
/// TOML. A contact identical to a stored one (authority, prefecture, address, drill, start date) is
/// skipped, so importing the same file twice changes nothing. All or nothing: one bad entry aborts.
pub fn import(conn: &mut AnyConnection, text: &str, is_toml: bool) -> anyhow::Result<(usize, usize)> {
    let doc: Value = if is_toml {
        let t: toml::Value = toml::from_str(text).map_err(|e| anyhow::anyhow!("TOML: {e}"))?;
        toml_to_json(t)
    } else {
        serde_json::from_str(text).map_err(|e| anyhow::anyhow!("JSON: {e}"))?
    };
    let entries = doc
        .get("contacts")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("the file must contain a `contacts` list"))?
        .clone();
    conn.write_transaction(|conn| {
        let existing = db::contacts::list(conn, &Default::default(), None, i64::MAX)?;
        let (mut added, mut skipped) = (0, 0);
        for (i, e) in entries.iter().enumerate() {
            let map: Map<String, Value> =
                e.as_object().cloned().ok_or_else(|| anyhow::anyhow!("contacts[{i}] must be a table"))?;
            let c = parse_contact(&map, blank_contact(), true).map_err(|errs| {
                let list: Vec<String> =
                    errs.iter().map(|e| format!("contacts[{i}].{}: {}", e.field, e.message)).collect();
                anyhow::anyhow!("{}", list.join("; "))
            })?;
            let same = |o: &Contact| {
                o.authority == c.authority
                    && o.prefecture == c.prefecture
                    && o.address == c.address
                    && o.drill == c.drill
                    && o.effective_from == c.effective_from
            };
            if existing.iter().any(same) {
                skipped += 1;
                continue;
            }
            db::contacts::insert(conn, &c)?;
            added += 1;
        }
        Ok((added, skipped))
    })
}

/// TOML to JSON, with native TOML dates as `YYYY-MM-DD` strings (serde would wrap them in an object).
fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

/// A date for examples and tests.
pub fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}
