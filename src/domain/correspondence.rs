//! Correspondence: which incident an inbound e-mail belongs to, whether its sender may write to that
//! incident, and whether it was sent by a machine (an auto-reply must never start a mail loop).
//! Pure rules on already parsed headers; reading the mailbox is `notify::inbox`.

pub use super::SenderCheck;
use super::{Authority, Role};

/// The `HK-YYYY-NNNNNN` reference in a subject (`Re: [HK-2026-000123] ...`), if any.
pub fn reference_in_subject(subject: &str) -> Option<String> {
    let b = subject.as_bytes();
    (0..b.len().saturating_sub(13)).find_map(|i| {
        let w = &b[i..i + 14];
        let shape = w[0].eq_ignore_ascii_case(&b'H')
            && w[1].eq_ignore_ascii_case(&b'K')
            && w[2] == b'-'
            && w[3..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
            && w[8..14].iter().all(u8::is_ascii_digit);
        // Not part of a longer number (HK-2026-0001234 is not HK-2026-000123).
        let ends = b.get(i + 14).is_none_or(|c| !c.is_ascii_digit());
        let starts = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        (shape && ends && starts).then(|| format!("HK-{}", &subject[i + 3..i + 14]))
    })
}

/// The subject of an outbound message: the incident's reference in brackets (once), after any
/// `Re:` / `Fwd:` the writer put first, so that a reply threads back even from a mail client that
/// drops `In-Reply-To`.
pub fn outbound_subject(reference: &str, subject: &str) -> String {
    if reference_in_subject(subject).as_deref() == Some(reference) {
        return subject.to_owned();
    }
    let mut prefix = String::new();
    let mut rest = subject.trim_start();
    while let Some(p) =
        ["re:", "fwd:", "fw:"].iter().find(|p| rest.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)))
    {
        prefix.push_str(&rest[..p.len()]);
        prefix.push(' ');
        rest = rest[p.len()..].trim_start();
    }
    format!("{prefix}[{reference}] {}", rest.trim_start())
}

/// The headers that tell a machine-sent message, as read from the mail (names case-insensitive).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AutoHeaders<'a> {
    pub auto_submitted: Option<&'a str>,
    pub precedence: Option<&'a str>,
    pub x_autoreply: Option<&'a str>,
    pub x_auto_response_suppress: Option<&'a str>,
    pub list_id: Option<&'a str>,
    /// The envelope sender as delivered (`Return-Path`); `<>` is a bounce.
    pub return_path: Option<&'a str>,
    /// The top-level media type, e.g. `multipart/report`.
    pub content_type: Option<&'a str>,
}

/// Why a message counts as sent by a machine (an out-of-office reply, a bounce, a list), or `None`
/// for a person's mail. Such mail is kept on the incident but starts nothing (no alert, no webhook),
/// so two robots can never answer each other through hikeshi.
///
/// Sources: RFC 3834 §5 (`Auto-Submitted` other than `no`); RFC 3834 §2 and RFC 2076 §3.9
/// (`Precedence: bulk|junk|list`); RFC 3464 (`multipart/report` delivery status notifications);
/// RFC 5321 §4.5.5 (null reverse-path `<>` of bounces); RFC 2919 (`List-Id`); Microsoft Exchange's
/// `X-Auto-Response-Suppress` and the de-facto `X-Autoreply`. Uncertain cases (a `List-Id`) count as
/// automatic: the mail is still kept and shown, only never answered automatically.
pub fn auto_reply_reason(h: &AutoHeaders<'_>) -> Option<&'static str> {
    let is =
        |v: Option<&str>, f: &dyn Fn(&str) -> bool| v.map(|s| s.trim().to_ascii_lowercase()).is_some_and(|s| f(&s));
    if is(h.auto_submitted, &|s| !s.is_empty() && s != "no" && !s.starts_with("no;")) {
        Some("auto_submitted")
    } else if is(h.precedence, &|s| matches!(s, "bulk" | "junk" | "list" | "auto_reply")) {
        Some("precedence")
    } else if is(h.content_type, &|s| s.starts_with("multipart/report")) {
        Some("delivery_report")
    } else if is(h.return_path, &|s| s == "<>" || s.is_empty()) {
        Some("null_sender")
    } else if h.x_autoreply.is_some() {
        Some("x_autoreply")
    } else if is(h.x_auto_response_suppress, &|s| s.split(',').any(|p| matches!(p.trim(), "all" | "oof" | "autoreply")))
    {
        Some("auto_response_suppress")
    } else if h.list_id.is_some() {
        Some("mailing_list")
    } else {
        None
    }
}

/// Reads the `Authentication-Results` headers of a message and keeps only what the trusted server
/// (`authserv_id`, the mailbox's own MTA) wrote, from every header it added (DKIM, SPF and DMARC
/// filters often add one each): any other such header may have been written by the sender
/// (RFC 8601 §5, §7.1). A pass counts only where it vouches for the `From` domain (`from_domain`):
/// `dmarc=pass`, or `dkim=pass` with `header.d` the From domain or a parent of it, or `spf=pass` with
/// `smtp.mailfrom` in it (relaxed alignment, RFC 7489 §3.1). `dmarc=fail` fails; so does
/// `spf=fail|softfail` without an aligned DKIM pass.
///
/// A failure keeps a message off the incident it names (it waits in the officers' inbox): a forged
/// "police" mail must not tell a hospital in crisis what to do. Where practice is uncertain this
/// reads the stricter way: a soft SPF failure counts, and a pass for another domain proves nothing.
pub fn sender_check<'a>(
    headers: impl IntoIterator<Item = &'a str>,
    authserv_id: Option<&str>,
    from_domain: Option<&str>,
) -> SenderCheck {
    let Some(trusted) = authserv_id.map(str::trim).filter(|s| !s.is_empty()) else {
        return SenderCheck::Unknown;
    };
    let from = from_domain.unwrap_or("").trim().to_ascii_lowercase();
    let aligned = |d: &str| {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        let d = d.rsplit_once('@').map_or(d.as_str(), |(_, domain)| domain).to_owned();
        !from.is_empty() && !d.is_empty() && (from == d || from.ends_with(&format!(".{d}")))
    };
    /// method, result, and the properties (`header.d=…`) of one result the trusted server wrote.
    type Found = (String, String, Vec<(String, String)>);
    let mut results: Vec<Found> = Vec::new();
    for h in headers {
        let mut parts = h.split(';');
        let ours =
            parts.next().and_then(|id| id.split_whitespace().next()).is_some_and(|id| id.eq_ignore_ascii_case(trusted));
        if !ours {
            continue;
        }
        for part in parts {
            let mut words = part.split_whitespace();
            let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else { continue };
            let props =
                words.filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect();
            results.push((method.to_ascii_lowercase(), result.to_ascii_lowercase(), props));
        }
    }
    let prop = |props: &[(String, String)], key: &str| props.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let is =
        |method: &'static str, result: &'static str| results.iter().filter(move |(m, r, _)| m == method && r == result);
    if is("dmarc", "fail").next().is_some() {
        return SenderCheck::Fail;
    }
    let dkim_aligned = is("dkim", "pass").any(|(_, _, p)| prop(p, "header.d").is_some_and(|d| aligned(&d)));
    let spf_aligned = is("spf", "pass").any(|(_, _, p)| prop(p, "smtp.mailfrom").is_some_and(|d| aligned(&d)));
    if is("dmarc", "pass").next().is_some() || dkim_aligned || spf_aligned {
        SenderCheck::Pass
    } else if is("spf", "fail").chain(is("spf", "softfail")).next().is_some() {
        SenderCheck::Fail
    } else {
        SenderCheck::Unknown
    }
}

/// Who wrote an inbound message, as far as hikeshi knows the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// An authority contact that hikeshi wrote to about this incident.
    IncidentContact { contact_id: String, authority: Authority },
    /// A user of the incident's hospital, or the contact person named in the filing.
    Hospital { user_id: Option<String> },
    /// A ministry user (duty officer or administrator).
    Ministry { user_id: String, role: Role },
    /// Known to hikeshi (a contact or user) but not a party to this incident.
    Known,
    /// Not known at all.
    Unknown,
}

impl Sender {
    /// Whether this sender may add mail to the incident: a forged `In-Reply-To` or a guessed
    /// reference in the subject must not put a stranger's text on another hospital's incident.
    pub fn is_party(&self) -> bool {
        matches!(self, Sender::IncidentContact { .. } | Sender::Hospital { .. } | Sender::Ministry { .. })
    }
}

/// How an inbound message found its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// `In-Reply-To` names a message hikeshi sent or received about the incident (RFC 5322 §3.6.4).
    InReplyTo,
    /// `References` does.
    References,
    /// The subject carries the incident's reference.
    Subject,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::InReplyTo => "in_reply_to",
            MatchedBy::References => "references",
            MatchedBy::Subject => "subject",
        }
    }
}

/// Where an inbound message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Incident {
        incident_id: String,
        matched_by: MatchedBy,
    },
    /// The officers' inbox, with the reason (`no_match`, `sender_not_party`).
    Inbox {
        reason: &'static str,
    },
}

/// Chooses the incident of an inbound message. `candidates` are the incidents its headers point
/// to, strongest evidence first (`In-Reply-To`, then `References` from the newest, then the subject);
/// `sender_of` classifies the sender for one incident. The strongest candidate decides: when the
/// sender is not a party to it, the message waits in the officers' inbox (they see the attempt)
/// instead of falling through to a weaker candidate. A sender the receiving server found forged
/// ([`SenderCheck::Fail`]) is no party to anything.
pub fn place(
    candidates: &[(String, MatchedBy)],
    check: SenderCheck,
    sender_of: impl FnOnce(&str) -> Sender,
) -> (Placement, Sender) {
    let Some((incident_id, matched_by)) = candidates.first() else {
        return (Placement::Inbox { reason: "no_match" }, Sender::Unknown);
    };
    let sender = sender_of(incident_id);
    if check == SenderCheck::Fail {
        (Placement::Inbox { reason: "sender_unverified" }, sender)
    } else if !sender.is_party() {
        (Placement::Inbox { reason: "sender_not_party" }, sender)
    } else if *matched_by == MatchedBy::Subject && check != SenderCheck::Pass {
        // A reference is easy to guess and a From easy to forge: without the receiving server
        // vouching for the sender, a message that answers no e-mail of hikeshi's waits for an officer.
        (Placement::Inbox { reason: "unverified_subject_match" }, sender)
    } else {
        (Placement::Incident { incident_id: incident_id.clone(), matched_by: *matched_by }, sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_trusted_server_s_authentication_results_count() {
        // Source: RFC 8601 §2.2 (authserv-id; method=result ptype.property=value), §5 and §7.1 (only
        // the receiving server's results are believed); RFC 7489 §3.1 (relaxed identifier alignment).
        let mx = Some("mx.inbox.example");
        let from = Some("police.example");
        let table: [(&[&str], Option<&str>, SenderCheck); 12] = [
            (&["mx.inbox.example; dmarc=fail header.from=police.example; spf=fail"], mx, SenderCheck::Fail),
            (&["mx.inbox.example; spf=softfail smtp.mailfrom=police.example"], mx, SenderCheck::Fail),
            (&["mx.inbox.example; spf=softfail; dkim=pass header.d=police.example"], mx, SenderCheck::Pass),
            (&["mx.inbox.example; dkim=pass header.d=mail.police.example"], mx, SenderCheck::Unknown),
            (&["mx.inbox.example; dkim=pass header.d=example"], mx, SenderCheck::Pass),
            (&["mx.inbox.example; dmarc=pass header.from=police.example"], mx, SenderCheck::Pass),
            (&["MX.INBOX.EXAMPLE 1; spf=pass smtp.mailfrom=bounce@police.example"], mx, SenderCheck::Pass),
            // A pass for the attacker's own domain vouches for nothing, and each filter's header counts.
            (
                &[
                    "mx.inbox.example; dkim=pass header.d=evil.example",
                    "mx.inbox.example; dmarc=fail header.from=police.example",
                ],
                mx,
                SenderCheck::Fail,
            ),
            (&["mx.inbox.example; spf=pass smtp.mailfrom=evil.example"], mx, SenderCheck::Unknown),
            // The sender wrote a "pass" of its own above the server's failure: the failure counts.
            (&["evil.example; dmarc=pass", "mx.inbox.example; dmarc=fail"], mx, SenderCheck::Fail),
            (&["evil.example; dmarc=pass"], mx, SenderCheck::Unknown),
            (&["mx.inbox.example; dmarc=fail"], None, SenderCheck::Unknown),
        ];
        for (headers, id, want) in table {
            assert_eq!(sender_check(headers.iter().copied(), id, from), want, "{headers:?}");
        }
    }

    #[test]
    fn references_are_found_in_subjects() {
        // Source: the reference format HK-<year>-<6 digits> (db::incidents::next_reference).
        let table = [
            ("Re: [HK-2026-000123] 初報", Some("HK-2026-000123")),
            ("RE: hk-2026-000123 ログの提出について", Some("HK-2026-000123")),
            ("Fwd: Re: Re: [HK-2026-000009]", Some("HK-2026-000009")),
            ("HK-2026-0001234", None),
            ("XHK-2026-000123", None),
            ("HK-26-000123", None),
            ("件名なし", None),
            ("", None),
        ];
        for (subject, want) in table {
            assert_eq!(reference_in_subject(subject).as_deref(), want, "{subject}");
        }
    }

    #[test]
    fn outbound_subjects_carry_the_reference_once() {
        assert_eq!(outbound_subject("HK-2026-000123", "ログのご提出"), "[HK-2026-000123] ログのご提出");
        assert_eq!(outbound_subject("HK-2026-000123", "Re: [HK-2026-000123] 初報"), "Re: [HK-2026-000123] 初報");
        assert_eq!(outbound_subject("HK-2026-000123", "Re: ログの保全"), "Re: [HK-2026-000123] ログの保全");
        assert_eq!(outbound_subject("HK-2026-000123", "RE: Fwd: 件名"), "RE: Fwd: [HK-2026-000123] 件名");
    }

    #[test]
    fn machine_mail_is_recognised() {
        // Sources: RFC 3834 §2 and §5, RFC 2076 §3.9, RFC 3464, RFC 5321 §4.5.5, RFC 2919.
        let none = AutoHeaders::default();
        let table: [(AutoHeaders<'_>, Option<&str>); 12] = [
            (AutoHeaders { auto_submitted: Some("auto-replied"), ..none.clone() }, Some("auto_submitted")),
            (AutoHeaders { auto_submitted: Some("auto-generated"), ..none.clone() }, Some("auto_submitted")),
            (AutoHeaders { auto_submitted: Some("No"), ..none.clone() }, None),
            (AutoHeaders { precedence: Some("bulk"), ..none.clone() }, Some("precedence")),
            (AutoHeaders { precedence: Some("junk"), ..none.clone() }, Some("precedence")),
            (AutoHeaders { precedence: Some("urgent"), ..none.clone() }, None),
            (
                AutoHeaders { content_type: Some("multipart/report; report-type=delivery-status"), ..none.clone() },
                Some("delivery_report"),
            ),
            (AutoHeaders { return_path: Some("<>"), ..none.clone() }, Some("null_sender")),
            (AutoHeaders { x_autoreply: Some("yes"), ..none.clone() }, Some("x_autoreply")),
            (AutoHeaders { x_auto_response_suppress: Some("DR, OOF"), ..none.clone() }, Some("auto_response_suppress")),
            (AutoHeaders { list_id: Some("<security.example.jp>"), ..none.clone() }, Some("mailing_list")),
            (
                AutoHeaders {
                    return_path: Some("<police@example.jp>"),
                    content_type: Some("text/plain"),
                    ..none.clone()
                },
                None,
            ),
        ];
        for (h, want) in table {
            assert_eq!(auto_reply_reason(&h), want, "{h:?}");
        }
    }

    #[test]
    fn a_message_goes_to_the_first_incident_its_sender_is_party_to() {
        let police = Sender::IncidentContact { contact_id: "c1".into(), authority: Authority::Police };
        let c = |id: &str, m| (id.to_owned(), m);
        // A reply by the police to the initial report of incident a.
        let (p, s) = place(&[c("a", MatchedBy::InReplyTo)], SenderCheck::Unknown, |_| police.clone());
        assert_eq!(p, Placement::Incident { incident_id: "a".into(), matched_by: MatchedBy::InReplyTo });
        assert_eq!(s, police);
        // A forged In-Reply-To naming another hospital's thread, from a stranger: the inbox.
        let (p, s) = place(&[c("b", MatchedBy::InReplyTo), c("a", MatchedBy::Subject)], SenderCheck::Unknown, |id| {
            if id == "a" {
                Sender::Hospital { user_id: None }
            } else {
                Sender::Unknown
            }
        });
        assert_eq!(p, Placement::Inbox { reason: "sender_not_party" });
        assert_eq!(s, Sender::Unknown);
        // A known user of another hospital is no party either.
        let (p, _) = place(&[c("b", MatchedBy::Subject)], SenderCheck::Unknown, |_| Sender::Known);
        assert_eq!(p, Placement::Inbox { reason: "sender_not_party" });
        // The police's own address, but the receiving server says the From is forged.
        let (p, _) = place(&[c("a", MatchedBy::InReplyTo)], SenderCheck::Fail, |_| police.clone());
        assert_eq!(p, Placement::Inbox { reason: "sender_unverified" });
        // The reference in a subject alone needs the server to vouch for the sender.
        let (p, _) = place(&[c("a", MatchedBy::Subject)], SenderCheck::Unknown, |_| police.clone());
        assert_eq!(p, Placement::Inbox { reason: "unverified_subject_match" });
        let (p, _) = place(&[c("a", MatchedBy::Subject)], SenderCheck::Pass, |_| police.clone());
        assert_eq!(p, Placement::Incident { incident_id: "a".into(), matched_by: MatchedBy::Subject });
        // Nothing points anywhere.
        assert_eq!(place(&[], SenderCheck::Unknown, |_| police.clone()).0, Placement::Inbox { reason: "no_match" });
        // Ministry users and the hospital are parties.
        for s in [
            Sender::Ministry { user_id: "u".into(), role: Role::DutyOfficer },
            Sender::Hospital { user_id: Some("r".into()) },
        ] {
            assert!(matches!(
                place(&[c("a", MatchedBy::References)], SenderCheck::Unknown, |_| s.clone()).0,
                Placement::Incident { .. }
            ));
        }
    }
}
