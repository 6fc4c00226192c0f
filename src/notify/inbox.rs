//! The inbox reader: replies from authorities and hospitals come back onto their incident.
//!
//! One instance at a time reads the mailbox of `HIKESHI_INBOX_URL` (a lease in the database, as the
//! outbox's rows have), waiting with IMAP IDLE where the server offers it and searching every
//! `inbox.poll_seconds` otherwise. Each message is parsed, placed (`domain::correspondence`), and
//! stored with its attachments, timeline entry and audit entry in one transaction; only after that
//! commit is it flagged `$HikeshiTaken` on the server (or `\Seen` where the server allows no
//! keywords). A message stored but not yet flagged when the process or the server goes away is
//! found again and recognised by its Message-ID: nothing is lost, nothing is taken twice.

use std::fmt;
use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::StreamExt;
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::auth::policy::Scope;
use crate::config::Settings;
use crate::db::messages::{Attachment, Message, NewMessage, Party};
use crate::db::{self, AnyConnection, DbResult};
use crate::domain::correspondence::{self, AutoHeaders, MatchedBy, Placement};
use crate::domain::{MessageChannel, MessageDirection, UpdateKind};
use crate::state::AppState;

/// The lease's name: one reader of the mailbox among all instances.
pub const LEASE: &str = "inbox";
/// The keyword set on a message once it is stored.
pub const TAKEN: &str = "$HikeshiTaken";
/// The longest text kept of one message, in characters (the rest is cut and says so).
pub const MAX_BODY_CHARS: usize = 200_000;
/// The longest Message-ID kept as it is; a longer one is replaced by the content's hash.
pub const MAX_ID_LEN: usize = 250;
/// The most ids of `In-Reply-To` and `References` read (the newest).
pub const MAX_THREAD_IDS: usize = 20;
/// Time allowed to connect, and for each command.
const TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// Where the mailbox is: `imap://user:pass@host:143/INBOX` or `imaps://user:pass@host:993/INBOX`.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    password: String,
    pub mailbox: String,
}

impl fmt::Debug for InboxUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "imaps" } else { "imap" };
        write!(f, "{scheme}://{}:***@{}:{}/{}", self.user, self.host, self.port, self.mailbox)
    }
}

impl InboxUrl {
    pub fn parse(s: &str) -> Result<InboxUrl, String> {
        let url = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
        let tls = match url.scheme() {
            "imap" => false,
            "imaps" => true,
            other => return Err(format!("the scheme must be imap or imaps, not {other}")),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("a host is needed")?.to_owned();
        let decode = |p: &str| crate::notify::mailer::percent_decode(p);
        let user = decode(url.username())?;
        let password = decode(url.password().unwrap_or(""))?;
        if user.is_empty() || password.is_empty() {
            return Err("a user name and a password are needed (imap://user:pass@host/INBOX)".into());
        }
        let mailbox = decode(url.path().trim_start_matches('/'))?;
        Ok(InboxUrl {
            tls,
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            user,
            password,
            mailbox: if mailbox.is_empty() { "INBOX".into() } else { mailbox },
        })
    }
}

/// A message read from the mailbox, before it is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub auto_reply: Option<&'static str>,
    /// The `Authentication-Results` headers, topmost first (judged against the trusted server when stored).
    pub authentication_results: Vec<String>,
    pub attachments: Vec<(Attachment, Option<Vec<u8>>)>,
    pub size: i64,
}

/// Shown instead of a body that was not fetched.
pub const TOO_LARGE_NOTE: &str = "（このメールは大きすぎるため、ヘッダーだけを記録しました。本文と添付ファイルはメールボックスに残っています。）\n(This message was too large: only its headers were recorded. Its body and attachments remain in the mailbox.)";
/// Shown instead of a body that could not be read at all.
pub const UNREADABLE_NOTE: &str = "（このメールは MIME として読めませんでした。元の内容の先頭を以下に示します。）\n(This message could not be read as MIME. The start of its raw content follows.)";

fn bare_id(id: &str) -> String {
    crate::notify::mailer::bare_message_id(id).to_owned()
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_BODY_CHARS) {
        Some((i, _)) => format!("{}\n[…]", &text[..i]),
        None => text.to_owned(),
    }
}

/// PostgreSQL text cannot hold NUL characters (SQLite can): they are dropped from every text kept,
/// so that a message carrying one is stored on both engines instead of failing again and again.
fn without_nul(mut p: Parsed) -> Parsed {
    let clean = |s: &mut String| {
        if s.contains('\0') {
            s.retain(|c| c != '\0');
        }
    };
    for s in [&mut p.message_id, &mut p.subject, &mut p.body] {
        clean(s);
    }
    for s in p.in_reply_to.iter_mut().chain(&mut p.references).chain(&mut p.to).chain(&mut p.cc) {
        clean(s);
    }
    for s in [&mut p.from_address, &mut p.from_name].into_iter().flatten() {
        clean(s);
    }
    for s in p.authentication_results.iter_mut() {
        clean(s);
    }
    for (a, _) in p.attachments.iter_mut() {
        for s in [&mut a.filename, &mut a.declared_type].into_iter().flatten() {
            clean(s);
        }
    }
    p
}

/// Reads a raw message (or, with `headers_only`, the headers of one too large to fetch). Malformed
/// MIME is read as far as it goes; what cannot be read at all is kept as text, so nothing is lost.
pub fn parse(raw: &[u8], headers_only: Option<i64>, max_attachment: usize) -> Parsed {
    without_nul(parse_raw(raw, headers_only, max_attachment))
}

fn parse_raw(raw: &[u8], headers_only: Option<i64>, max_attachment: usize) -> Parsed {
    let digest = hex::encode(Sha256::digest(raw));
    let size = headers_only.unwrap_or(raw.len() as i64);
    let parsed = MessageParser::default().parse(raw);
    let readable = |m: &mail_parser::Message<'_>| {
        m.from().is_some() || m.subject().is_some() || m.message_id().is_some() || m.date().is_some()
    };
    let Some(m) = parsed.filter(readable) else {
        let start: String = String::from_utf8_lossy(&raw[..raw.len().min(20_000)]).into_owned();
        return Parsed {
            message_id: format!("{digest}@unreadable.hikeshi.invalid"),
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from_address: None,
            from_name: None,
            to: Vec::new(),
            cc: Vec::new(),
            subject: String::new(),
            body: format!("{UNREADABLE_NOTE}\n\n{start}"),
            sent_at: None,
            auto_reply: None,
            authentication_results: Vec::new(),
            attachments: Vec::new(),
            size,
        };
    };
    // At most the newest MAX_THREAD_IDS ids of a thread, each of a sane length: a header of
    // thousands would make a statement too large for SQLite's bound parameters.
    let list = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        let ids: Vec<String> = v
            .as_text_list()
            .map(|l| l.iter().map(|s| bare_id(s)).filter(|s| !s.is_empty() && s.len() <= MAX_ID_LEN).collect())
            .unwrap_or_default();
        ids[ids.len().saturating_sub(MAX_THREAD_IDS)..].to_vec()
    };
    let addresses = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address().map(|s| s.trim().to_lowercase())).collect()).unwrap_or_default()
    };
    let raw_header = |name: &'static str| m.header_raw(name).map(str::trim);
    let content_type = m.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")));
    let return_path = raw_header("Return-Path");
    let auto_reply = correspondence::auto_reply_reason(&AutoHeaders {
        auto_submitted: raw_header("Auto-Submitted"),
        precedence: raw_header("Precedence"),
        x_autoreply: raw_header("X-Autoreply").or(raw_header("X-Autorespond")),
        x_auto_response_suppress: raw_header("X-Auto-Response-Suppress"),
        list_id: raw_header("List-Id"),
        return_path,
        content_type: content_type.as_deref(),
    });
    let from = m.from().and_then(|a| a.first());
    let body = match headers_only {
        Some(_) => TOO_LARGE_NOTE.to_owned(),
        None => cut(m.body_text(0).as_deref().unwrap_or("").trim_end()),
    };
    let attachments = if headers_only.is_some() {
        Vec::new()
    } else {
        m.attachments()
            .map(|part| {
                let bytes = part.contents();
                let attachment = Attachment {
                    id: db::new_id(),
                    filename: part.attachment_name().map(|n| n.chars().take(255).collect()),
                    declared_type: part
                        .content_type()
                        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase()),
                    sniffed_type: infer::get(bytes).map(|t| t.mime_type().to_owned()),
                    size: bytes.len() as i64,
                    sha256: hex::encode(Sha256::digest(bytes)),
                    stored: bytes.len() <= max_attachment,
                };
                let content = attachment.stored.then(|| bytes.to_vec());
                (attachment, content)
            })
            .collect()
    };
    // A body the MIME parser could not find (a broken multipart) is kept as the raw text after the
    // headers: nothing that arrived is lost.
    // A text part the parser took for an attachment (a broken multipart) is the body.
    let unnamed_text = attachments.iter().find_map(|(a, content): &(Attachment, Option<Vec<u8>>)| {
        let text = a.filename.is_none() && a.declared_type.as_deref().is_some_and(|t| t.starts_with("text/"));
        content.as_ref().filter(|_| text).map(|c| String::from_utf8_lossy(c).trim().to_owned())
    });
    let body = match unnamed_text {
        Some(text) if body.trim().is_empty() && !text.is_empty() => cut(&text),
        _ => body,
    };
    let body = if headers_only.is_none() && body.trim().is_empty() && attachments.is_empty() {
        let start = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
            .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
            .unwrap_or(raw.len());
        let rest = &raw[start..raw.len().min(start + 20_000)];
        if rest.iter().all(u8::is_ascii_whitespace) {
            body
        } else {
            format!("{UNREADABLE_NOTE}\n\n{}", String::from_utf8_lossy(rest))
        }
    } else {
        body
    };
    Parsed {
        message_id: m
            .message_id()
            .map(bare_id)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{digest}@hikeshi.invalid")),
        in_reply_to: list(m.in_reply_to()),
        references: list(m.references()),
        from_address: from.and_then(|a| a.address()).map(|s| s.trim().to_lowercase()),
        from_name: from.and_then(|a| a.name()).map(|s| s.trim().chars().take(200).collect()),
        to: addresses(m.to()),
        cc: addresses(m.cc()),
        subject: m.subject().unwrap_or("").trim().chars().take(1000).collect(),
        body,
        sent_at: m.date().and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single()),
        auto_reply,
        authentication_results: m
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect(),
        attachments,
        size,
    }
}

/// The incidents the headers point to, strongest evidence first.
fn candidates(conn: &mut AnyConnection, p: &Parsed) -> DbResult<Vec<(String, MatchedBy)>> {
    let mut out = Vec::new();
    let parents: Vec<String> = p.in_reply_to.clone();
    for (_, incident) in db::messages::incidents_of_message_ids(conn, &parents)? {
        out.push((incident, MatchedBy::InReplyTo));
    }
    let mut refs = p.references.clone();
    refs.reverse(); // newest first
    for (_, incident) in db::messages::incidents_of_message_ids(conn, &refs)? {
        out.push((incident, MatchedBy::References));
    }
    if let Some(reference) = correspondence::reference_in_subject(&p.subject) {
        if let Some(id) = db::incidents::id_by_reference(conn, &reference)? {
            out.push((id, MatchedBy::Subject));
        }
    }
    Ok(out)
}

/// Places and stores one parsed message, with its timeline and audit entries, in the caller's
/// transaction. `None` when a message with its Message-ID is stored already.
pub fn store(
    conn: &mut AnyConnection,
    p: Parsed,
    trusted_authserv_id: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<Option<Message>> {
    if db::messages::has_message_id(conn, &p.message_id)? {
        return Ok(None);
    }
    let from = p.from_address.clone().unwrap_or_default();
    let found = candidates(conn, &p)?;
    let from_domain = from.rsplit_once('@').map(|(_, d)| d);
    let check = correspondence::sender_check(
        p.authentication_results.iter().map(String::as_str),
        trusted_authserv_id,
        from_domain,
    );
    // The sender as known for the strongest candidate (the one `place` decides on), or for none.
    let strongest = match found.first() {
        Some((incident_id, _)) => db::incidents::get_visible(conn, incident_id, &Scope::All)?,
        None => None,
    };
    let (sender, party) = if from.is_empty() {
        (correspondence::Sender::Unknown, Party::unknown())
    } else {
        db::messages::classify_sender(conn, strongest.as_ref(), &from)?
    };
    let (incident_id, matched_by, inbox_reason) = match correspondence::place(&found, check, |_| sender).0 {
        Placement::Incident { incident_id, matched_by } => {
            (Some(incident_id), Some(matched_by.as_str().to_owned()), None)
        }
        Placement::Inbox { reason } => (None, None, Some(reason.to_owned())),
    };
    let (attachments, contents): (Vec<Attachment>, Vec<Option<Vec<u8>>>) = p.attachments.into_iter().unzip();
    let message = Message {
        id: db::new_id(),
        incident_id,
        channel: MessageChannel::Email,
        direction: MessageDirection::In,
        message_id: Some(p.message_id.clone()),
        in_reply_to: p.in_reply_to.first().cloned(),
        from_address: p.from_address,
        from_name: p.from_name,
        to: p.to,
        cc: p.cc,
        subject: p.subject,
        body: p.body,
        sent_at: p.sent_at,
        party: party.kind,
        party_id: party.id,
        party_label: party.label,
        authority: party.authority,
        auto_reply: p.auto_reply.is_some(),
        sender_check: check,
        matched_by,
        inbox_reason,
        notification_id: None,
        author_id: None,
        size: p.size,
        attachments,
        created_at: now,
    };
    let new = NewMessage { message, references: p.references, contents };
    if !db::messages::insert(conn, &new)? {
        return Ok(None);
    }
    let m = new.message;
    if let Some(incident_id) = &m.incident_id {
        db::updates::add(conn, incident_id, UpdateKind::Message, None, m.timeline_data(), None)?;
    }
    db::audit::append(
        conn,
        &db::audit::AuditEvent {
            actor_id: None,
            actor_label: "inbox",
            action: "message.received",
            target_type: "message",
            target_id: &m.id,
            incident_id: m.incident_id.as_deref(),
            request_id: None,
            details: serde_json::json!({
                "message_id": m.message_id, "from": m.from_address, "party": m.party, "matched_by": m.matched_by,
                "inbox_reason": m.inbox_reason, "auto_reply": p.auto_reply, "size": m.size,
                "sender_check": m.sender_check, "authentication_results": p.authentication_results,
                "attachments": m.attachments.iter().map(|a| serde_json::json!({"sha256": a.sha256, "size": a.size, "stored": a.stored})).collect::<Vec<_>>(),
            }),
        },
    )?;
    Ok(Some(m))
}

/// A byte stream the IMAP session runs over: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}

type Session = async_imap::Session<Box<dyn Io>>;

async fn timed<T, E: Into<anyhow::Error>>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(r) => r.map_err(|e| e.into().context(what.to_owned())),
        Err(_) => Err(anyhow::anyhow!("{what}: no answer within {} s", TIMEOUT.as_secs())),
    }
}

async fn connect(url: &InboxUrl) -> anyhow::Result<Session> {
    let tcp = timed("connect", tokio::net::TcpStream::connect((url.host.as_str(), url.port))).await?;
    let stream: Box<dyn Io> = if url.tls {
        crate::notify::webhooks::install_tls_provider();
        use rustls_platform_verifier::BuilderVerifierExt;
        let config = rustls::ClientConfig::builder().with_platform_verifier()?.with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(url.host.clone())?;
        let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        Box::new(timed("TLS handshake", tls.connect(name, tcp)).await?)
    } else {
        Box::new(tcp)
    };
    let mut client = async_imap::Client::new(stream);
    timed("greeting", async { client.read_response().await.transpose().ok_or_else(|| anyhow::anyhow!("closed")) })
        .await??;
    let session = timed("login", async { client.login(&url.user, &url.password).await.map_err(|(e, _)| e) }).await?;
    Ok(session)
}

/// The reader: holds the lease, reads, waits; reconnects after any failure (backing off to a
/// minute), until `stop`.
pub async fn inbox_loop(state: web::Data<AppState>, url: InboxUrl, mut stop: watch::Receiver<bool>) {
    if state.settings.inbox.trusted_authserv_id.is_none() {
        tracing::warn!(
            "HIKESHI_INBOX__TRUSTED_AUTHSERV_ID is not set: senders are not authenticated, so only replies to \
             hikeshi's own e-mails reach incidents and anything else waits in the officers' inbox"
        );
    }
    if state.settings.inbox.reply_to.is_none() {
        tracing::warn!(
            mail_from = %state.settings.mail_from,
            "HIKESHI_INBOX__REPLY_TO is not set: answers go to HIKESHI_MAIL_FROM, which must then be the mailbox \
             HIKESHI_INBOX_URL reads"
        );
    }
    let holder = db::new_id();
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            break;
        }
        let held = hold(&state, &holder).await.unwrap_or(false);
        let outcome = if held { read(&state, &url, &holder, &mut stop).await } else { Ok(()) };
        let wait = match outcome {
            Ok(()) => {
                failures = 0;
                StdDuration::from_secs(if held { 0 } else { (state.settings.inbox.lease_seconds / 3).max(1) as u64 })
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = format!("{e:#}"), mailbox = ?url, "inbox reading failed; reconnecting");
                StdDuration::from_millis((500u64 << failures.min(7)).min(60_000))
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
    let pool = state.pool.clone();
    let _ =
        tokio::task::spawn_blocking(move || pool.get().map(|mut c| db::leases::release(&mut c, LEASE, &holder))).await;
}

async fn hold(state: &web::Data<AppState>, holder: &str) -> anyhow::Result<bool> {
    hold_for(state, holder, 0).await
}

/// Renews the lease for its length plus `extra` seconds (a long fetch ahead).
async fn hold_for(state: &web::Data<AppState>, holder: &str, extra: i64) -> anyhow::Result<bool> {
    let length = Duration::seconds(state.settings.inbox.lease_seconds + extra);
    let holder = holder.to_owned();
    crate::notify::worker::blocking(state, move |c| Ok(db::leases::hold(c, LEASE, &holder, db::now(), length)?)).await
}

/// One session: while the lease holds, take every message not yet taken, then wait for more.
async fn read(
    state: &web::Data<AppState>,
    url: &InboxUrl,
    holder: &str,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut session = connect(url).await?;
    let mailbox = timed("select", session.select(&url.mailbox)).await?;
    let keyword = mailbox.permanent_flags.iter().any(|f| matches!(f, async_imap::types::Flag::MayCreate));
    let (search, flag) = if keyword {
        (format!("UNKEYWORD {TAKEN}"), format!("+FLAGS.SILENT ({TAKEN})"))
    } else {
        ("UNSEEN".to_owned(), "+FLAGS.SILENT (\\Seen)".to_owned())
    };
    let idle = timed("capability", session.capabilities()).await?.has_str("IDLE");
    let settings = &state.settings;
    let max_wait =
        StdDuration::from_secs(settings.inbox.poll_seconds.min((settings.inbox.lease_seconds / 2).max(1) as u64));
    'session: loop {
        while session.unsolicited_responses.try_recv().is_ok() {}
        if !hold(state, holder).await? {
            break;
        }
        let mut uids: Vec<u32> = timed("search", session.uid_search(&search)).await?.into_iter().collect();
        uids.sort_unstable();
        for uid in uids {
            if *stop.borrow() || !take(state, &mut session, uid, &flag, holder).await? {
                break 'session;
            }
        }
        if *stop.borrow() {
            break;
        }
        if idle {
            let mut handle = session.idle();
            timed("idle", handle.init()).await?;
            let (wait, interrupt) = handle.wait_with_timeout(max_wait);
            tokio::select! {
                r = wait => { r?; }
                _ = stop.changed() => {}
            }
            drop(interrupt);
            session = timed("idle done", handle.done()).await?;
        } else {
            tokio::select! {
                _ = tokio::time::sleep(max_wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
    let _ = timed("logout", session.logout()).await;
    Ok(())
}

/// Fetches, stores and flags one message (the flag only after the commit), renewing the lease for
/// the fetch; `false` when the lease has gone to another instance.
async fn take(
    state: &web::Data<AppState>,
    session: &mut Session,
    uid: u32,
    flag: &str,
    holder: &str,
) -> anyhow::Result<bool> {
    let limit = state.settings.inbox.max_message_bytes;
    // Size and Message-ID first: a message stored before (its flag was lost with a crash or refused
    // by the server) is only flagged, not downloaded again.
    let (size, message_id) = {
        let fetches = fetch(session, uid, "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", TIMEOUT).await?;
        let Some(f) = fetches.iter().find(|f| f.uid == Some(uid)) else {
            return Ok(true); // expunged meanwhile
        };
        let id = f
            .header()
            .and_then(|h| MessageParser::default().parse_headers(h))
            .and_then(|m| m.message_id().map(bare_id));
        // No size from the server: the message is taken as too large rather than fetched blind.
        (f.size.unwrap_or(u32::MAX), id)
    };
    if let Some(id) = message_id.filter(|id| !id.is_empty()) {
        let known = crate::notify::worker::blocking(state, move |c| Ok(db::messages::has_message_id(c, &id)?)).await?;
        if known {
            return set_flag(session, uid, flag).await.map(|()| true);
        }
    }
    let (query, headers_only) =
        if size > limit { ("BODY.PEEK[HEADER]", Some(i64::from(size))) } else { ("BODY.PEEK[]", None) };
    // The lease covers the fetch: about a second per megabyte beyond the usual wait.
    let seconds = i64::from(size.min(limit) / 1_000_000);
    if !hold_for(state, holder, seconds + TIMEOUT.as_secs() as i64).await? {
        return Ok(false);
    }
    let raw: Vec<u8> = {
        let fetches = fetch(session, uid, query, TIMEOUT + StdDuration::from_secs(seconds as u64)).await?;
        let f = fetches.iter().find(|f| f.uid == Some(uid));
        let part = f.and_then(|f| if headers_only.is_some() { f.header() } else { f.body() });
        match part {
            Some(bytes) => bytes.to_vec(),
            None if f.is_none() => return Ok(true), // expunged meanwhile
            None => anyhow::bail!("the server sent message {uid} without its content"),
        }
    };
    let max_attachment = state.settings.inbox.max_attachment_bytes as usize;
    let parsed = tokio::task::spawn_blocking(move || parse(&raw, headers_only, max_attachment)).await?;
    let trusted = state.settings.inbox.trusted_authserv_id.clone();
    let stored = match crate::notify::worker::blocking(state, move |c| {
        Ok(c.write_transaction(|c| store(c, parsed, trusted.as_deref(), db::now()))?)
    })
    .await
    {
        Ok(stored) => stored,
        Err(e) => {
            // Not flagged, so found again at the next search: one message that cannot be stored (or
            // a database that is away) must not hold up the mail behind it.
            tracing::warn!(uid, error = format!("{e:#}"), "inbound message not stored; it stays in the mailbox");
            return Ok(true);
        }
    };
    if let Some(m) = &stored {
        state.metrics.messages_received.inc();
        tracing::info!(message = %m.id, incident = ?m.incident_id, "inbound message stored");
    }
    set_flag(session, uid, flag).await.map(|()| true)
}

async fn fetch(
    session: &mut Session,
    uid: u32,
    query: &str,
    within: StdDuration,
) -> anyhow::Result<Vec<async_imap::types::Fetch>> {
    tokio::time::timeout(within, async {
        session
            .uid_fetch(uid.to_string(), query)
            .await?
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|_| anyhow::anyhow!("fetch of message {uid}: no answer within {} s", within.as_secs()))?
    .map_err(Into::into)
}

/// Marks a message taken on the server (after it is stored).
async fn set_flag(session: &mut Session, uid: u32, flag: &str) -> anyhow::Result<()> {
    timed("store flag", async {
        session.uid_store(uid.to_string(), flag).await?.collect::<Vec<_>>().await;
        Ok::<_, async_imap::error::Error>(())
    })
    .await
}

/// The mailbox the settings name (an empty `HIKESHI_INBOX_URL` names none).
pub fn configured(settings: &Settings) -> Option<InboxUrl> {
    settings.inbox_url().and_then(|u| InboxUrl::parse(u).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_urls() {
        let u = InboxUrl::parse("imap://hikeshi%40example.jp:p%40ss@127.0.0.1:1143/INBOX").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.user.as_str(), u.mailbox.as_str()),
            (false, "127.0.0.1", 1143, "hikeshi@example.jp", "INBOX")
        );
        assert_eq!(u.password, "p@ss");
        assert!(!format!("{u:?}").contains("p@ss"));
        let u = InboxUrl::parse("imaps://u:p@mail.example.jp").unwrap();
        assert_eq!((u.tls, u.port, u.mailbox.as_str()), (true, 993, "INBOX"));
        for bad in ["pop3://u:p@h/", "imap://h/INBOX", "imap://u@h/", "nonsense"] {
            assert!(InboxUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_japanese_reply_is_read_with_its_threading_and_attachments() {
        // ISO-2022-JP subject and body, as Japanese mail clients still send.
        let raw = concat!(
            "Message-ID: <reply-1@police.example.jp>\r\n",
            "In-Reply-To: <0193-abc@hikeshi.example>\r\n",
            "References: <0000-root@hikeshi.example> <0193-abc@hikeshi.example>\r\n",
            "From: =?ISO-2022-JP?B?GyRCOCk3WTshGyhC?= <Police@Example.jp>\r\n",
            "To: hikeshi@example.jp\r\n",
            "Subject: =?ISO-2022-JP?B?GyRCJWwlXSE8JUgbKEI=?= [HK-2026-000123]\r\n",
            "Date: Thu, 03 Dec 2026 10:00:00 +0900\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n",
            "\r\n",
            "--b\r\n",
            "Content-Type: text/html; charset=utf-8\r\n\r\n",
            "<p>ログを<b>ご提出</b>ください。</p><script>alert(1)</script>\r\n",
            "--b\r\n",
            "Content-Type: application/octet-stream; name=\"sample.bin\"\r\n",
            "Content-Disposition: attachment; filename=\"sample.bin\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\n",
            "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA=\r\n",
            "--b--\r\n",
        );
        let p = parse(raw.as_bytes(), None, 1024);
        assert_eq!(p.message_id, "reply-1@police.example.jp");
        assert_eq!(p.in_reply_to, ["0193-abc@hikeshi.example"]);
        assert_eq!(p.references, ["0000-root@hikeshi.example", "0193-abc@hikeshi.example"]);
        assert_eq!(p.from_address.as_deref(), Some("police@example.jp"));
        assert_eq!(p.from_name.as_deref(), Some("県警察"));
        assert_eq!(p.subject, "レポート [HK-2026-000123]");
        assert!(p.body.contains("ログをご提出ください。"), "{}", p.body);
        assert!(!p.body.contains('<'), "HTML reduced to text: {}", p.body);
        assert_eq!(p.sent_at.unwrap().to_rfc3339(), "2026-12-03T01:00:00+00:00");
        assert_eq!(p.auto_reply, None);
        let (a, content) = &p.attachments[0];
        assert_eq!(a.filename.as_deref(), Some("sample.bin"));
        assert_eq!(a.declared_type.as_deref(), Some("application/octet-stream"));
        assert_eq!(a.sniffed_type.as_deref(), Some("application/vnd.microsoft.portable-executable"));
        assert_eq!(a.sha256, hex::encode(Sha256::digest(content.as_ref().unwrap())));
        // Over the limit: hash and size kept, content not.
        let p = parse(raw.as_bytes(), None, 10);
        assert!(!p.attachments[0].0.stored && p.attachments[0].1.is_none());
        assert_eq!(p.attachments[0].0.size, 32);
    }

    #[test]
    fn unreadable_mail_is_kept_as_text_with_a_stable_id() {
        let raw = b"\x00\x01 this is not a message at all";
        let a = parse(raw, None, 1024);
        assert!(a.body.starts_with(UNREADABLE_NOTE) && a.body.contains("not a message"), "{a:?}");
        assert_eq!(a.message_id, parse(raw, None, 1024).message_id);
        assert!(a.message_id.ends_with("@unreadable.hikeshi.invalid"));
    }

    #[test]
    fn nul_characters_are_dropped_so_postgresql_can_store_the_message() {
        let raw = b"Message-ID: <n\x00ul@x>\r\nFrom: a@b.jp\r\nSubject: a\x00b\r\n\r\nbody\x00text\r\n";
        let p = parse(raw, None, 10);
        assert_eq!((p.message_id.as_str(), p.subject.as_str(), p.body.as_str()), ("nul@x", "ab", "bodytext"));
    }

    #[test]
    fn an_out_of_office_reply_is_recognised() {
        let raw =
            "Message-ID: <oof@x>\r\nFrom: a@b.jp\r\nAuto-Submitted: auto-replied\r\nSubject: 不在\r\n\r\n不在です\r\n";
        assert_eq!(parse(raw.as_bytes(), None, 10).auto_reply, Some("auto_submitted"));
    }
}
