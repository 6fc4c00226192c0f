//! The letters of the national picture: the duty officers' alert that a campaign was found, and
//! the ministry's advisories to hospitals (and their reminders).

use super::*;
use crate::domain::LinkKind;

/// To the duty officers: incidents at several hospitals were linked (`joined`: one more joined an
/// open campaign). Hospital names stay on the officers' page, not in e-mail.
pub fn campaign_alert(
    joined: bool,
    hospitals: usize,
    prefectures: &[Prefecture],
    links: &[(LinkKind, String)],
    url: &str,
    drill: bool,
) -> Letter {
    let (what_ja, what_en) = if joined {
        ("既存のキャンペーンに新たな事案が加わりました", "Another incident joined a campaign")
    } else {
        ("複数の医療機関の事案に共通点が見つかりました", "Incidents at several hospitals share evidence")
    };
    let subject = format!("{}【キャンペーン検知】{what_ja} / {what_en}", prefix(drill));
    let names_ja: Vec<&str> = prefectures.iter().map(|p| p.name_ja()).collect();
    let names_en: Vec<&str> = prefectures.iter().map(|p| p.name_en()).collect();
    let evidence = |l: Locale| -> Vec<String> { links.iter().map(|(k, v)| format!("{}: {v}", k.label(l))).collect() };
    let mut d = Doc::new();
    drill_banner(&mut d, Locale::Ja, drill);
    d.para(&format!("{what_ja}。内容を確認し、キャンペーンとして確認または却下してください。必要に応じて、同じ製品を使う医療機関へ注意喚起を送ってください。"));
    d.field("医療機関数", &hospitals.to_string());
    d.field("都道府県", &names_ja.join("、"));
    d.list(evidence(Locale::Ja));
    d.link("キャンペーンのページ", url);
    d.rule();
    d.para(&format!("{what_en}. Please review it, confirm or dismiss it, and consider an advisory to the hospitals running the same product."));
    d.field("Hospitals", &hospitals.to_string());
    d.field("Prefectures", &names_en.join(", "));
    d.list(evidence(Locale::En));
    d.link("Campaign page", url);
    d.finish(Locale::Ja, subject)
}

/// An advisory to a hospital: the ministry's text (Japanese, then English when written), and the
/// link that acknowledges it without signing in.
pub fn advisory(
    title: &str,
    body: &str,
    english: Option<(&str, &str)>,
    ack_url: &str,
    page_url: &str,
    reminder: bool,
) -> Letter {
    let (tag_ja, tag_en) =
        if reminder { ("【注意喚起・再送】", "Reminder: ") } else { ("【注意喚起】", "") };
    let subject = match english {
        Some((t, _)) => format!("{tag_ja}{} / {tag_en}{}", title.trim(), t.trim()),
        None => format!("{tag_ja}{}", title.trim()),
    };
    let mut d = Doc::new();
    if reminder {
        d.para(
            "先にお送りした注意喚起について、受領の確認がまだありません。内容をご確認のうえ、受領を確認してください。",
        );
    }
    d.heading(title.trim());
    d.para(body.trim());
    d.para("内容を確認したら、次のリンクから受領を確認してください（サインインは不要です）。");
    d.link("受領を確認する", ack_url);
    d.link("hikeshi の注意喚起ページ", page_url);
    d.rule();
    if reminder {
        d.para("We have not yet had your acknowledgement of the advisory below.");
    }
    match english {
        Some((t, b)) => {
            d.heading(t.trim());
            d.para(b.trim());
        }
        None => d.para("An advisory from the Ministry of Health, Labour and Welfare (in Japanese above)."),
    }
    d.para("Once you have read it, please acknowledge it with this link (no sign-in needed).");
    d.link("Acknowledge", ack_url);
    d.finish(Locale::Ja, subject)
}
