//! The letters that are not reports to an authority: reminders and overdue notices to the hospital,
//! alerts to the duty officers, notices about sign-in, dispatches and support requests.

use super::*;
use crate::domain::{DispatchStatus, SupportMode};

/// Reminder (or, with `overdue`, an overdue notice) of a reporting duty, sent to the hospital.
#[allow(clippy::too_many_arguments)]
pub fn obligation_reminder(
    locale: Locale,
    reference: &str,
    hospital_name: &str,
    kind: ObligationKind,
    due: DateTime<Utc>,
    url: &str,
    drill: bool,
    overdue: bool,
) -> Letter {
    let l = locale;
    let tag = match (overdue, l) {
        (true, Locale::Ja) => "【期限超過】",
        (false, Locale::Ja) => "【期限のお知らせ】",
        (true, Locale::En) => "[Overdue] ",
        (false, Locale::En) => "[Reminder] ",
    };
    let subject = format!("{}{tag}{reference} {}（{}）", prefix(drill), kind.label(l), due_text(l, Some(due)));
    let subject = if l == Locale::En { subject.replace('（', "(").replace('）', ")") } else { subject };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    match l {
        Locale::Ja => d.para(&format!("{} ご担当者様", hospital_name)),
        Locale::En => d.para(&format!("To: {hospital_name}")),
    }
    d.para(match (overdue, l) {
        (true, Locale::Ja) => "次の報告の期限が過ぎています。至急ご対応ください。",
        (false, Locale::Ja) => "次の報告の期限が近づいています。",
        (true, Locale::En) => "The following report is overdue. Please act now.",
        (false, Locale::En) => "The following report is due soon.",
    });
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "義務", "Obligation"), kind.label(l));
    d.field(tr(l, "期限", "Due"), &format_jst(due));
    d.para(match kind {
        ObligationKind::PpcPreliminary | ObligationKind::PpcFinal => tr(
            l,
            "個人情報保護委員会の報告フォームから提出し、提出日と受付番号を hikeshi に記録してください。",
            "File it on the PPC's online form, then record the date and receipt number in hikeshi.",
        ),
        ObligationKind::PatientNotice => tr(
            l,
            "本人への通知（概要、個人データの項目、原因、二次被害のおそれ、その他）を行い、hikeshi に記録してください。",
            "Notify the affected patients (overview, data items, cause, possible secondary harm, other) and record it in hikeshi.",
        ),
        _ => tr(
            l,
            "提出後、hikeshi で完了を記録してください。",
            "Once done, record it as fulfilled in hikeshi.",
        ),
    });
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!(
            "{} {reference}: {} — due {}. {}",
            if overdue { "OVERDUE" } else { "Reminder" },
            kind.label_en(),
            format_jst(due),
            url
        ));
    }
    d.finish(l, subject)
}

/// Alert to the duty officers: a notification to an authority could not be delivered; they should phone.
pub fn dead_letter_alert(
    reference: &str,
    authority: Authority,
    address: &str,
    attempts: i32,
    last_error: &str,
    url: &str,
    drill: bool,
) -> Letter {
    let subject = format!(
        "{}【配信失敗】{reference} {}への通知が届いていません / Delivery failed",
        prefix(drill),
        authority.label_ja()
    );
    let mut d = Doc::new();
    drill_banner(&mut d, Locale::Ja, drill);
    d.para(&format!(
        "{}への通知を{attempts}回試みましたが配信できませんでした。電話等で直接連絡し、hikeshi で再送または手動連絡を記録してください。",
        authority.label_ja()
    ));
    d.field("参照番号", reference);
    d.field("宛先", &format!("{} <{address}>", authority.label_ja()));
    d.field("試行回数", &attempts.to_string());
    d.field("最後のエラー", last_error);
    d.link("事案ページ", url);
    d.rule();
    d.para(&format!(
        "The notification to {} <{address}> failed after {attempts} attempts. Please phone them, then resend or record the manual contact in hikeshi.",
        authority.label_en()
    ));
    d.field("Last error", last_error);
    d.link("Incident page", url);
    d.finish(Locale::Ja, subject)
}

/// Alert to the duty officers: a webhook delivery (an event pushed to a subscriber's system) failed
/// after every attempt. Nothing legal hangs on it, but the subscriber's view is now incomplete.
pub fn webhook_dead_alert(
    reference: &str,
    event: &str,
    endpoint: &str,
    attempts: i32,
    last_error: &str,
    url: &str,
    drill: bool,
) -> Letter {
    let subject = format!(
        "{}【配信失敗】{reference} Webhook（{event}）が届いていません / Webhook delivery failed",
        prefix(drill)
    );
    let mut d = Doc::new();
    drill_banner(&mut d, Locale::Ja, drill);
    d.para(&format!(
        "連携先システムへのイベント通知（Webhook）を{attempts}回試みましたが配信できませんでした。連携先の管理者に連絡し、復旧後に再送してください。"
    ));
    d.field("参照番号", reference);
    d.field("イベント", event);
    d.field("宛先", endpoint);
    d.field("試行回数", &attempts.to_string());
    d.field("最後のエラー", last_error);
    d.link("事案ページ", url);
    d.rule();
    d.para(&format!(
        "The webhook delivery of {event} to {endpoint} failed after {attempts} attempts. Please tell the receiving system's administrator, then resend once it is back."
    ));
    d.field("Last error", last_error);
    d.link("Incident page", url);
    d.finish(Locale::Ja, subject)
}

/// Notice to an account's owner: one client failed to sign in to the account again and again and
/// now has to wait between attempts. The account itself is not locked; the owner is told so that a
/// password under attack is changed, and whom to tell if it was not them.
pub fn sign_in_throttled(client: &str, failures: i32, wait_seconds: i64, at: DateTime<Utc>, url: &str) -> Letter {
    let subject = "【hikeshi】サインインの失敗が続いています / Repeated failed sign-ins to your account".to_owned();
    let mut d = Doc::new();
    d.para(&format!(
        "あなたの hikeshi アカウントへのサインインが、同じ接続元から{failures}回続けて失敗しました。この接続元からの次の試行は{wait_seconds}秒待たされ、失敗が続くたびに待ち時間が倍になります。アカウントはロックされておらず、いつもの端末からはサインインできます。"
    ));
    d.field("接続元", client);
    d.field("時刻", &format_jst(at));
    d.para(
        "心当たりがない場合は、パスワードを変更し、二要素認証を有効にして、厚生労働省の当番担当者に連絡してください。",
    );
    d.link("hikeshi", url);
    d.rule();
    d.para(&format!(
        "Sign-in to your hikeshi account failed {failures} times in a row from one client ({client}); its next attempt must wait {wait_seconds} seconds, twice as long after each further failure. Your account is not locked: you can still sign in from your usual device. If this was not you, change your password, turn on two-factor authentication and tell the ministry's duty officer."
    ));
    d.finish(Locale::Ja, subject)
}

/// Notice to a responder team: it has been dispatched to a hospital.
pub fn dispatch_assigned(
    locale: Locale,
    reference: &str,
    hospital_name: &str,
    prefecture: Prefecture,
    mode: SupportMode,
    url: &str,
    drill: bool,
) -> Letter {
    let l = locale;
    let subject = match l {
        Locale::Ja => format!(
            "{}【派遣要請】{reference} {}（{}）{}",
            prefix(drill),
            one_line(hospital_name),
            prefecture.name_ja(),
            mode.label_ja()
        ),
        Locale::En => format!(
            "{}[Dispatch] {reference} {} ({}) {}",
            prefix(drill),
            one_line(hospital_name),
            prefecture.name_en(),
            mode.label_en().to_lowercase()
        ),
    };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    d.para(tr(
        l,
        "貴チームに次の医療機関への支援が割り当てられました。事案ページで受諾または辞退を登録してください。",
        "Your team has been assigned to support the hospital below. Please accept or decline on the incident page.",
    ));
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "医療機関", "Hospital"), hospital_name);
    d.field(tr(l, "都道府県", "Prefecture"), prefecture_name(l, prefecture));
    d.field(tr(l, "支援形態", "Mode"), mode.label(l));
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!(
            "Dispatch: {reference}, {} ({}), {}. Accept or decline: {url}",
            hospital_name,
            prefecture.name_en(),
            mode.label_en().to_lowercase()
        ));
    }
    d.finish(l, subject)
}

/// Notice to the hospital: a responder team's dispatch changed status.
pub fn dispatch_status_notice(
    locale: Locale,
    reference: &str,
    team_name: &str,
    status: DispatchStatus,
    at: DateTime<Utc>,
    url: &str,
    drill: bool,
) -> Letter {
    let l = locale;
    let subject = match l {
        Locale::Ja => {
            format!("{}【支援チーム】{reference} {}: {}", prefix(drill), one_line(team_name), status.label_ja())
        }
        Locale::En => {
            format!("{}[Support team] {reference} {}: {}", prefix(drill), one_line(team_name), status.label_en())
        }
    };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    d.para(tr(l, "支援チームの状況が更新されました。", "The support team's status has changed."));
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "チーム", "Team"), team_name);
    d.field(tr(l, "状況", "Status"), status.label(l));
    d.field(tr(l, "日時", "At"), &format_jst(at));
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!("Support team {team_name}: {} at {}. {url}", status.label_en().to_lowercase(), format_jst(at)));
    }
    d.finish(l, subject)
}

/// Notice to the hospital: its support request was approved or declined.
pub fn support_decision(
    locale: Locale,
    reference: &str,
    approved: bool,
    reason: &str,
    url: &str,
    drill: bool,
) -> Letter {
    let l = locale;
    let decision = match (approved, l) {
        (true, Locale::Ja) => "承認",
        (false, Locale::Ja) => "見送り",
        (true, Locale::En) => "approved",
        (false, Locale::En) => "declined",
    };
    let subject = match l {
        Locale::Ja => format!("{}【支援要請】{reference} 支援要請は{decision}されました", prefix(drill)),
        Locale::En => format!("{}[Support request] {reference} {decision}", prefix(drill)),
    };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    d.para(match (approved, l) {
        (true, Locale::Ja) => {
            "支援要請が承認されました。支援チームの割当てをお知らせしますので、しばらくお待ちください。"
        }
        (false, Locale::Ja) => {
            "今回の支援要請は見送りとなりました。理由は下記のとおりです。状況が変わった場合は再度要請してください。"
        }
        (true, Locale::En) => "Your support request was approved. You will be told which team is assigned.",
        (false, Locale::En) => {
            "Your support request was declined for the reason below. Please ask again if the situation changes."
        }
    });
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "判断", "Decision"), decision);
    d.field(tr(l, "理由", "Reason"), reason);
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!("Support request {reference}: {}. {url}", if approved { "approved" } else { "declined" }));
    }
    d.finish(l, subject)
}

/// A message written in hikeshi about an incident (an officer to an authority or the hospital, the
/// hospital to the ministry): the writer's text as written, then how to answer. The subject carries
/// the reference in brackets so that an answer threads back even without `In-Reply-To`.
pub fn correspondence(reference: &str, subject: &str, body: &str, from: &str, url: &str, drill: bool) -> Letter {
    let subject =
        format!("{}{}", prefix(drill), crate::domain::correspondence::outbound_subject(reference, subject.trim()));
    let mut d = Doc::new();
    drill_banner(&mut d, Locale::Ja, drill);
    d.para(body.trim());
    d.field("差出人", from);
    d.field("参照番号", reference);
    d.para("このメールに返信すると、返信は事案の記録に加えられます。件名の参照番号は消さないでください。");
    d.link("事案ページ", url);
    d.rule();
    d.para(&format!(
        "A message about incident {reference}, written in hikeshi. Replying to this e-mail adds your answer to the incident's record; please keep the reference in the subject."
    ));
    d.link("Incident page", url);
    d.finish(Locale::Ja, subject)
}
