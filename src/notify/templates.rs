//! Rendering: a [`Letter`] (its content decided in `domain::letters`) as the plain-text and HTML
//! parts of an e-mail, through the askama templates `templates/letter.txt` and `templates/letter.html`.
//! The HTML template escapes everything the letter carries; nothing here decides content.

use askama::Template;

pub use crate::domain::letters::{Block, Letter, DRILL_PREFIX};

/// A finished mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "letter.txt")]
struct TextPart<'a> {
    letter: &'a Letter,
}

/// Consecutive fields share one table in HTML.
enum Part<'a> {
    Table(Vec<(&'a str, &'a str)>),
    Block(&'a Block),
}

#[derive(Template)]
#[template(path = "letter.html")]
struct HtmlPart<'a> {
    letter: &'a Letter,
    parts: Vec<Part<'a>>,
}

fn parts(letter: &Letter) -> Vec<Part<'_>> {
    let mut out: Vec<Part<'_>> = Vec::new();
    for b in &letter.blocks {
        match (b, out.last_mut()) {
            (Block::Field { key, value }, Some(Part::Table(rows))) => rows.push((key, value)),
            (Block::Field { key, value }, _) => out.push(Part::Table(vec![(key, value)])),
            (b, _) => out.push(Part::Block(b)),
        }
    }
    out
}

/// The letter as an e-mail's subject, text and HTML.
pub fn render(letter: &Letter) -> Rendered {
    // The templates only write into a String, so an error is a template bug (the tests render every
    // block). Even then the content is not lost: the text part carries the letter's plain text.
    let text = TextPart { letter }.render().unwrap_or_else(|_| letter.plain());
    let html = HtmlPart { letter, parts: parts(letter) }.render().unwrap_or_default();
    Rendered { subject: letter.subject.clone(), text: format!("{}\n", text.trim_start_matches('\n')), html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::letters::example::{every_letter, route, summary};
    use crate::domain::letters::{authority_report, support_decision};
    use crate::domain::{Authority, Locale};

    #[test]
    fn every_letter_renders_its_content_in_both_parts_and_escapes_the_html() {
        for drill in [false, true] {
            for letter in every_letter(drill) {
                let r = render(&letter);
                assert_eq!(r.subject, letter.subject);
                assert!(r.html.starts_with(&format!("<!DOCTYPE html>\n<html lang=\"{}\">", letter.locale.as_str())));
                assert!(!r.text.starts_with('\n') && r.text.ends_with('\n'));
                for b in &letter.blocks {
                    let texts: Vec<&str> = match b {
                        Block::Banner { text }
                        | Block::Heading { text }
                        | Block::Para { text }
                        | Block::Quote { text } => {
                            vec![text]
                        }
                        Block::Field { key, value } => vec![key, value],
                        Block::List { items } => items.iter().map(String::as_str).collect(),
                        Block::Link { label, url } => vec![label, url],
                        Block::Rule => vec![],
                    };
                    for t in texts {
                        for line in t.lines().filter(|l| !l.trim().is_empty()) {
                            assert!(r.text.contains(line.trim()), "text part lacks «{line}»:\n{}", r.text);
                            // askama writes numeric character references.
                            let escaped = line.trim().replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;");
                            let escaped = escaped.replace('"', "&#34;").replace('\'', "&#39;");
                            assert!(r.html.contains(&escaped), "html part lacks «{escaped}»");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn hostile_strings_stay_text_in_html_and_verbatim_in_plain_text() {
        let s = summary();
        for a in Authority::ALL {
            let r = render(&authority_report(*a, Locale::Ja, &s, &route(), "initial"));
            assert!(!r.html.contains("<script>") && r.html.contains("&#60;script&#62;"), "{a}");
            assert!(!r.html.contains("<img") && !r.html.contains("<b>分院"), "{a}");
            assert!(r.text.contains("<script>"), "plain text keeps the original");
        }
        let police = render(&authority_report(Authority::Police, Locale::Ja, &s, &route(), "initial"));
        assert!(police.html.contains("contact &#60;evil@onion&#62;"));
        assert!(police.text.contains("  > YOUR FILES ARE ENCRYPTED\n  > contact <evil@onion>\n"), "{}", police.text);
        // A multi-line value continues under its first line.
        let mhlw = render(&authority_report(Authority::Mhlw, Locale::Ja, &s, &route(), "initial"));
        assert!(mhlw.html.contains("<br"), "line breaks become <br> in HTML");
    }

    #[test]
    fn only_web_links_become_anchors_and_fields_share_a_table() {
        let r = render(&support_decision(Locale::Ja, "HK-2026-000123", true, "", "javascript:alert(1)", false));
        assert!(!r.html.contains("href") && r.html.contains("javascript:alert(1)"));
        let r = render(&support_decision(Locale::Ja, "HK-2026-000123", true, "ok", "https://h/x", false));
        assert!(r.html.contains("<a href=\"https://h/x\">https://h/x</a>"), "{}", r.html);
        // The three fields in a row are one table.
        assert_eq!(r.html.matches("<table").count(), 1, "{}", r.html);
        assert!(r.text.contains("  参照番号: HK-2026-000123\n  判断: 承認\n  理由: ok\n"), "{}", r.text);
        let drill = render(&support_decision(Locale::Ja, "HK-2026-000123", true, "", "https://h/x", true));
        assert!(drill.text.starts_with("*** 【訓練】"), "{}", drill.text);
    }

    /// Every e-mail hikeshi sends, each in both languages (a drill once), as its recipient reads it:
    /// subject, plain text and HTML in one snapshot file per e-mail (`src/notify/snapshots/`). The
    /// example data is fixed (reference, dates, URL), so nothing needs redacting. A change of wording
    /// shows as a diff in review: `cargo insta review`, or `INSTA_UPDATE=always cargo test` to accept.
    #[test]
    fn every_email_as_its_recipient_reads_it() {
        use crate::domain::letters::example::t;
        use crate::domain::letters::{
            dead_letter_alert, dispatch_assigned, dispatch_status_notice, obligation_reminder, sign_in_throttled,
        };
        use crate::domain::{DispatchStatus, ObligationKind, SupportMode};
        let (s, url, due, r) = (summary(), "https://hikeshi.example/incidents/1", t(5, 0), "HK-2026-000123");
        let mut mails: Vec<(String, Letter)> = Vec::new();
        for l in [Locale::Ja, Locale::En] {
            for a in Authority::ALL {
                mails.push((format!("authority_report-{a}-{l}"), authority_report(*a, l, &s, &route(), "initial")));
                mails.push((format!("authority_update-{a}-{l}"), authority_report(*a, l, &s, &route(), "update")));
            }
            let k = ObligationKind::PpcFinal;
            mails.push((format!("reminder-{l}"), obligation_reminder(l, r, "病院", k, due, url, false, false)));
            mails.push((format!("overdue-{l}"), obligation_reminder(l, r, "病院", k, due, url, false, true)));
            let p = s.prefecture;
            mails.push((
                format!("dispatch_assigned-{l}"),
                dispatch_assigned(l, r, "H", p, SupportMode::OnSite, url, false),
            ));
            let st = DispatchStatus::OnSite;
            mails.push((format!("dispatch_status-{l}"), dispatch_status_notice(l, r, "T", st, due, url, false)));
            mails.push((format!("support_approved-{l}"), support_decision(l, r, true, "", url, false)));
            mails.push((format!("support_declined-{l}"), support_decision(l, r, false, "人員不足", url, false)));
        }
        mails.push(("dead_letter_alert".into(), dead_letter_alert(r, Authority::Mhlw, "a@b", 5, "550", url, false)));
        mails.push(("sign_in_throttled".into(), sign_in_throttled("203.0.113.7", 10, 64, due, url)));
        let body = "お世話になっております。\n侵入経路の調査のため、VPN 装置のログをご提出ください。<b>至急</b>";
        let from = "厚生労働省 / MHLW: 当番 山田";
        mails.push((
            "correspondence".into(),
            crate::domain::letters::correspondence(r, "ログのご提出", body, from, url, false),
        ));
        use crate::domain::LinkKind;
        let links =
            [(LinkKind::Cve, "CVE-2024-21762".to_owned()), (LinkKind::Product, "fortinet/fortigate".to_owned())];
        let prefectures = [s.prefecture];
        let campaign = "https://hikeshi.example/campaigns/1";
        mails.push((
            "campaign_proposed".into(),
            crate::domain::letters::campaign_alert(false, 3, &prefectures, &links, campaign, false),
        ));
        mails.push((
            "campaign_joined".into(),
            crate::domain::letters::campaign_alert(true, 4, &prefectures, &links, campaign, false),
        ));
        let ack = "https://hikeshi.example/advisory-ack?id=1&token=org.sig";
        let advisory_text =
            "FortiOS の SSL-VPN に遠隔からコードを実行される脆弱性があります。\nファームウェアを更新してください。";
        let english = Some(("FortiGate SSL-VPN vulnerability", "Please update FortiOS now."));
        for (name, english, reminder) in
            [("advisory", english, false), ("advisory_ja_only", None, false), ("advisory_reminder", english, true)]
        {
            mails.push((
                name.into(),
                crate::domain::letters::advisory(
                    "FortiGate の脆弱性について",
                    advisory_text,
                    english,
                    ack,
                    url,
                    reminder,
                ),
            ));
        }
        let mut drill = s.clone();
        drill.facts.drill = true;
        mails.push((
            "drill-authority_report-mhlw-ja".into(),
            authority_report(Authority::Mhlw, Locale::Ja, &drill, &route(), "initial"),
        ));
        for (name, letter) in mails {
            let m = render(&letter);
            let shown = format!("Subject: {}\n\n--- text/plain\n{}\n--- text/html\n{}\n", m.subject, m.text, m.html);
            insta::assert_snapshot!(name, shown);
        }
    }
}
