//! Sending e-mail: SMTP through lettre, or `.eml` files in a directory for development and demos.
//!
//! The transport is chosen by `HIKESHI_MAIL_URL` (DESIGN.md "Configuration"):
//!
//! | URL | transport |
//! | --- | --- |
//! | `file://./outbox`, `file:///var/spool/hikeshi` | one `<message id>.eml` file per message |
//! | `smtp://host:port` | plain SMTP, no TLS (local relays, tests) |
//! | `smtps://user:pass@host:465` | implicit TLS |
//! | `smtp+starttls://user:pass@host:587` | STARTTLS, required |
//!
//! Every message carries the caller's stable `Message-ID`, so a retried send is recognisable as the same
//! message by the recipient, and the file transport overwrites instead of duplicating.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Time allowed for connecting and for each SMTP command.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One e-mail ready to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Stable id without angle brackets, such as `0193...@hikeshi`; the mailer adds `<>`.
    pub message_id: String,
    /// Recipient addresses; every one is put in `To`.
    pub to: Vec<String>,
    /// Subject (any Unicode; encoded by lettre).
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
    /// Threading (RFC 5322 §3.6.4): the Message-ID this answers and the thread's ids, without `<>`.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Where answers go (the inbox hikeshi reads), when it is not the sender's address.
    pub reply_to: Option<String>,
    /// Sent by hikeshi on its own (reminders, alerts): `Auto-Submitted: auto-generated` (RFC 3834),
    /// so that out-of-office robots do not answer it. A person's message is not, and neither is a
    /// report to an authority (a statutory report must not be set aside as machine mail).
    pub auto_generated: bool,
}

/// `HIKESHI_MAIL_URL` or `HIKESHI_MAIL_FROM` is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailConfigError {
    /// The URL is not one of the supported forms.
    #[error("HIKESHI_MAIL_URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL with any password replaced by `***`.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The sender address does not parse.
    #[error("HIKESHI_MAIL_FROM {from:?} is not a valid address: {reason}")]
    InvalidFrom {
        /// The configured sender.
        from: String,
        /// What is wrong.
        reason: String,
    },
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A recipient address does not parse, or there is none. Permanent.
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidAddress {
        /// The offending address (empty when there were no recipients).
        address: String,
        /// What is wrong.
        reason: String,
    },
    /// The message itself cannot be built (for example a malformed Message-ID). Permanent.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server answered with a 5xx code. Permanent.
    #[error("rejected by the SMTP server: {0}")]
    Rejected(String),
    /// Connection failure, timeout, TLS failure or a 4xx answer. Worth retrying.
    #[error("temporary SMTP failure: {0}")]
    Transient(String),
    /// Writing the `.eml` file failed. Worth retrying.
    #[error("cannot write the e-mail file: {0}")]
    Io(String),
}

impl SendError {
    /// True when retrying the same message cannot succeed (5xx answers, invalid addresses or messages).
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::InvalidAddress { .. } | SendError::Build(_) | SendError::Rejected(_))
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        // Only a 5xx reply is final; everything else (refused, timeout, TLS, 4xx) may pass on a later try.
        if e.is_permanent() {
            SendError::Rejected(e.to_string())
        } else {
            SendError::Transient(e.to_string())
        }
    }
}

enum Transport {
    /// lettre's pool spawns a Tokio task when created, so it is built on the first send (inside the runtime)
    /// and `from_url` stays usable from plain code such as a configuration check.
    Smtp {
        builder: AsyncSmtpTransportBuilder,
        pool: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    },
    File {
        dir: PathBuf,
    },
}

/// Sends [`OutgoingEmail`]s over SMTP or into a directory, as configured by [`Mailer::from_url`].
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    redacted_url: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("url", &self.redacted_url).field("from", &self.from.to_string()).finish()
    }
}

/// The parts of an `smtp*://` URL.
struct SmtpUrl {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl Mailer {
    /// Builds a mailer from a `HIKESHI_MAIL_URL` value and a sender address (`HIKESHI_MAIL_FROM`).
    ///
    /// Nothing is contacted here: SMTP connections are opened on the first send. A mailer that has sent over
    /// SMTP must be dropped inside the Tokio runtime (lettre's pool spawns its shutdown task on drop).
    pub fn from_url(url: &str, from: &str) -> Result<Mailer, MailConfigError> {
        let redacted_url = crate::config::redact_url(url);
        let invalid =
            |reason: &str| MailConfigError::InvalidUrl { url: redacted_url.clone(), reason: reason.to_owned() };
        let from: Mailbox = from.trim().parse().map_err(|e: lettre::address::AddressError| {
            MailConfigError::InvalidFrom { from: from.to_owned(), reason: e.to_string() }
        })?;
        let (scheme, rest) = url
            .trim()
            .split_once("://")
            .ok_or_else(|| invalid("expected scheme://…, one of file, smtp, smtps, smtp+starttls"))?;
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                let dir = percent_decode(rest).map_err(|r| invalid(&r))?;
                if dir.is_empty() {
                    return Err(invalid("file:// needs a directory, e.g. file://./outbox"));
                }
                Transport::File { dir: PathBuf::from(dir) }
            }
            "smtp" => {
                let u = parse_smtp(rest, 25).map_err(|r| invalid(&r))?;
                let builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&u.host).port(u.port).tls(Tls::None);
                finish_smtp(builder, u)
            }
            "smtps" => {
                let u = parse_smtp(rest, 465).map_err(|r| invalid(&r))?;
                let tls = TlsParameters::new(u.host.clone()).map_err(|e| invalid(&e.to_string()))?;
                let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&u.host)
                    .port(u.port)
                    .tls(Tls::Wrapper(tls));
                finish_smtp(builder, u)
            }
            "smtp+starttls" => {
                let u = parse_smtp(rest, 587).map_err(|r| invalid(&r))?;
                let tls = TlsParameters::new(u.host.clone()).map_err(|e| invalid(&e.to_string()))?;
                let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&u.host)
                    .port(u.port)
                    .tls(Tls::Required(tls));
                finish_smtp(builder, u)
            }
            other => {
                return Err(invalid(&format!("unsupported scheme {other:?}; use file, smtp, smtps or smtp+starttls")))
            }
        };
        Ok(Mailer { transport, from, redacted_url })
    }

    /// True for the `file://` transport (development, demos).
    pub fn is_file(&self) -> bool {
        matches!(self.transport, Transport::File { .. })
    }

    /// A one-line description for logs, with any password replaced by `***`.
    pub fn describe(&self) -> String {
        format!("{} (from {})", self.redacted_url, self.from)
    }

    /// Sends one message to all its recipients as multipart/alternative (text/plain + text/html, UTF-8).
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError> {
        let message = self.build_message(email)?;
        match &self.transport {
            Transport::Smtp { builder, pool } => {
                let smtp = pool.get_or_init(|| builder.clone().build());
                smtp.send(message).await?;
                Ok(())
            }
            Transport::File { dir } => {
                let dir = dir.clone();
                let name = format!("{}.eml", sanitize_file_name(&email.message_id));
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
                    .await
                    .map_err(|e| SendError::Io(e.to_string()))?
                    .map_err(|e| SendError::Io(e.to_string()))
            }
        }
    }

    fn build_message(&self, email: &OutgoingEmail) -> Result<Message, SendError> {
        let id = bare_message_id(&email.message_id);
        if id.is_empty()
            || !id.contains('@')
            || id.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(SendError::Build(format!(
                "Message-ID {:?} must look like left@right without spaces",
                email.message_id
            )));
        }
        if email.to.is_empty() {
            return Err(SendError::InvalidAddress { address: String::new(), reason: "no recipients".to_owned() });
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(email.subject.clone())
            .message_id(Some(format!("<{id}>")))
            .date_now();
        for to in &email.to {
            let mailbox: Mailbox = to.trim().parse().map_err(|e: lettre::address::AddressError| {
                SendError::InvalidAddress { address: to.clone(), reason: e.to_string() }
            })?;
            builder = builder.to(mailbox);
        }
        let bracket = |id: &str| format!("<{}>", bare_message_id(id));
        if let Some(parent) = &email.in_reply_to {
            builder = builder.in_reply_to(bracket(parent));
        }
        if !email.references.is_empty() {
            builder = builder.references(email.references.iter().map(|r| bracket(r)).collect::<Vec<_>>().join(" "));
        }
        if let Some(reply_to) = &email.reply_to {
            let mailbox: Mailbox = reply_to.trim().parse().map_err(|e: lettre::address::AddressError| {
                SendError::InvalidAddress { address: reply_to.clone(), reason: e.to_string() }
            })?;
            builder = builder.reply_to(mailbox);
        }
        if email.auto_generated {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ));
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(email.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(email.html.clone())),
            )
            .map_err(|e| SendError::Build(e.to_string()))
    }
}

/// A Message-ID without its angle brackets and surrounding space (`<a@b>` → `a@b`).
pub(crate) fn bare_message_id(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim()
}

/// Connections to the SMTP server at most, and so sends in flight per worker.
pub const SMTP_CONNECTIONS: usize = 8;

fn finish_smtp(builder: AsyncSmtpTransportBuilder, u: SmtpUrl) -> Transport {
    let builder = builder
        .timeout(Some(SMTP_TIMEOUT))
        .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS as u32).idle_timeout(Duration::from_secs(60)));
    let builder = match u.user {
        Some(user) => builder.credentials(Credentials::new(user, u.password.unwrap_or_default())),
        None => builder,
    };
    Transport::Smtp { builder, pool: OnceLock::new() }
}

/// Parses `[user[:pass]@]host[:port][/]`.
fn parse_smtp(rest: &str, default_port: u16) -> Result<SmtpUrl, String> {
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("an SMTP URL takes no path, query or fragment".to_owned());
    }
    // The last '@' separates userinfo: an unencoded '@' in a password is then still accepted.
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| "unclosed '[' in IPv6 host".to_owned())?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".to_owned());
    }
    let port = match port {
        None => default_port,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("invalid port {p:?}"))?,
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(info) => {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            if u.is_empty() {
                return Err("empty user name before '@'".to_owned());
            }
            (Some(percent_decode(u)?), p.map(percent_decode).transpose()?)
        }
    };
    Ok(SmtpUrl { host: host.to_owned(), port, user, password })
}

/// Decodes `%XX` escapes (UTF-8), with the `percent-encoding` crate the `url` crate uses.
/// A `%` not followed by two hex digits is refused (the crate would keep it as it is).
pub(crate) fn percent_decode(s: &str) -> Result<String, String> {
    let malformed = s
        .match_indices('%')
        .any(|(i, _)| !s.get(i + 1..i + 3).is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    if malformed {
        return Err("bad percent escape".to_owned());
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "percent escapes are not UTF-8".to_owned())
}

/// Keeps `[A-Za-z0-9._@+-]`, replacing anything else (path separators included) by `_`.
fn sanitize_file_name(id: &str) -> String {
    let id = bare_message_id(id);
    let mut name: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-') { c } else { '_' })
        .collect();
    // A leading dot would hide the file and mark it as our temporary file.
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name
}

/// Writes `dir/name` through a hidden temporary file and a rename, so readers never see half a message.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::now_v7().simple()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is harmless but clutters the outbox.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const FROM: &str = "hikeshi@localhost";

    fn email(id: &str) -> OutgoingEmail {
        OutgoingEmail {
            message_id: id.to_owned(),
            to: vec!["ppc@example.test".to_owned(), "police@example.test".to_owned()],
            subject: "[訓練/DRILL] HK-2026-000123 ランサムウェア被害の報告".to_owned(),
            text: "本文です。\nBody.".to_owned(),
            html: "<p>本文です。</p>".to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn from_url_table() {
        let ok: &[(&str, bool, &str)] = &[
            ("file://./outbox", true, "file://./outbox"),
            ("file:///var/spool/hikeshi", true, "file:///var/spool/hikeshi"),
            ("smtp://127.0.0.1:2525", false, "smtp://127.0.0.1:2525"),
            ("smtp://mail.local", false, "smtp://mail.local"),
            ("smtps://user:secret@mail.example.jp:465", false, "smtps://user:***@mail.example.jp:465"),
            (
                "smtp+starttls://u%40x.jp:p%3Aw%40rd@mail.example.jp:587",
                false,
                "smtp+starttls://u%40x.jp:***@mail.example.jp:587",
            ),
            ("smtps://user@mail.example.jp", false, "smtps://user@mail.example.jp"),
            ("smtp://[::1]:2525", false, "smtp://[::1]:2525"),
        ];
        for (url, is_file, described) in ok {
            let m = Mailer::from_url(url, FROM).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(m.is_file(), *is_file, "{url}");
            assert_eq!(m.describe(), format!("{described} (from {FROM})"), "{url}");
        }
        for bad in [
            "http://x",
            "ftp://host",
            "outbox",
            "file://",
            "smtp://",
            "smtp://host:99999",
            "smtp://host:0",
            "smtp://host:abc",
            "smtp://host/path",
            "smtps://:pw@host",
            "smtps://u:%zz@host",
        ] {
            assert!(
                matches!(Mailer::from_url(bad, FROM), Err(MailConfigError::InvalidUrl { .. })),
                "{bad} should be rejected"
            );
        }
        assert!(matches!(
            Mailer::from_url("file://./outbox", "not an address"),
            Err(MailConfigError::InvalidFrom { .. })
        ));
    }

    #[test]
    fn url_parts_are_percent_decoded() {
        let u = parse_smtp("u%40x.jp:p%3Aw%40rd@mail.example.jp:587", 25).unwrap();
        assert_eq!(u.user.as_deref(), Some("u@x.jp"));
        assert_eq!(u.password.as_deref(), Some("p:w@rd"));
        assert_eq!((u.host.as_str(), u.port), ("mail.example.jp", 587));
        let u = parse_smtp("user:pa@ss@host", 465).unwrap();
        assert_eq!((u.password.as_deref(), u.port), (Some("pa@ss"), 465));
    }

    #[test]
    fn password_never_appears_in_debug_or_errors() {
        let m = Mailer::from_url("smtps://user:hunter2@mail.example.jp:465", FROM).unwrap();
        let debug = format!("{m:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("user:***@mail.example.jp"), "{debug}");
        assert!(!m.describe().contains("hunter2"));
        let err = Mailer::from_url("smtps://user:hunter2@mail.example.jp:99999", FROM).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn file_names_are_sanitized() {
        assert_eq!(sanitize_file_name("0193abc@hikeshi"), "0193abc@hikeshi");
        assert_eq!(sanitize_file_name("<../../etc/passwd>"), "_.._.._etc_passwd");
        assert_eq!(sanitize_file_name("a b/c"), "a_b_c");
        assert_eq!(sanitize_file_name(""), "_");
    }

    #[tokio::test]
    async fn file_transport_writes_a_complete_eml_and_overwrites_on_resend() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let m = Mailer::from_url(&format!("file://{}", outbox.display()), FROM).unwrap();
        let mail = email("0193-test@hikeshi");
        m.send(&mail).await.unwrap();
        m.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(files, vec![std::ffi::OsString::from("0193-test@hikeshi.eml")]);
        let eml = std::fs::read_to_string(outbox.join("0193-test@hikeshi.eml")).unwrap();
        assert!(eml.contains("Message-ID: <0193-test@hikeshi>\r\n"), "{eml}");
        assert!(eml.contains("To: ppc@example.test, police@example.test\r\n"), "{eml}");
        assert!(eml.contains("From: hikeshi@localhost\r\n"), "{eml}");
        assert!(eml.contains("Date: "), "{eml}");
        // The Japanese subject must be RFC 2047 encoded, never raw UTF-8 in the header.
        let subject = eml.lines().find(|l| l.starts_with("Subject: ")).unwrap();
        assert!(subject.contains("=?utf-8?b?"), "{subject}");
        assert!(subject.is_ascii());
        assert!(eml.contains("Content-Type: multipart/alternative;"), "{eml}");
        assert!(eml.contains("Content-Type: text/plain; charset=utf-8"), "{eml}");
        assert!(eml.contains("Content-Type: text/html; charset=utf-8"), "{eml}");
    }

    #[tokio::test]
    async fn invalid_messages_are_permanent_errors() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mailer::from_url(&format!("file://{}", dir.path().display()), FROM).unwrap();
        let mut bad_to = email("x@hikeshi");
        bad_to.to = vec!["not an address".to_owned()];
        let e = m.send(&bad_to).await.unwrap_err();
        assert!(matches!(e, SendError::InvalidAddress { .. }) && e.is_permanent(), "{e}");
        let mut none = email("x@hikeshi");
        none.to.clear();
        assert!(m.send(&none).await.unwrap_err().is_permanent());
        let e = m.send(&email("no at sign")).await.unwrap_err();
        assert!(matches!(e, SendError::Build(_)) && e.is_permanent(), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn closed_port_is_a_transient_error() {
        let port = free_port();
        let m = Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), FROM).unwrap();
        let e = m.send(&email("0193-refused@hikeshi")).await.unwrap_err();
        assert!(matches!(e, SendError::Transient(_)), "{e:?}");
        assert!(!e.is_permanent());
    }

    #[test]
    fn permanence() {
        assert!(SendError::Rejected("550".into()).is_permanent());
        assert!(!SendError::Transient("421".into()).is_permanent());
        assert!(!SendError::Io("disk full".into()).is_permanent());
    }
}
