//! The test harness: a real server on a random port over a fresh database (SQLite, and PostgreSQL
//! when `HIKESHI_TEST_DATABASE_URL` names a server), seeded with the demo fixture.

// A shared toolbox: not every test module uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Once;

use diesel::{Connection, PgConnection, RunQueryDsl};
use hikeshi::config::{LogFormat, Secret, Settings};
use hikeshi::db::AnyConnection;
use hikeshi::demo::DemoCredentials;
use hikeshi::domain::Role;
use hikeshi::startup::Application;
use reqwest::Response;
use serde_json::{json, Value};

/// The JWT secret every test server signs with (40 characters).
pub const JWT_SECRET: &str = "test-secret-0123456789-abcdefghijklmnopq";
/// The audit key of every test server (kept, as in production, outside the database).
pub const AUDIT_KEY: &str = "test-audit-key-0123456789-abcdefghijklmn";

/// Which database engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the same test body on SQLite and on PostgreSQL:
/// `db_test!(a_sentence_naming_the_behaviour, |app| async move { ... });`
/// The PostgreSQL variant returns early (after saying why) when no server is configured.
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("a SQLite test app always starts");
                $body.await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await else {
                    return;
                };
                $body.await;
            }
        }
    };
}

static SKIP_NOTICE: Once = Once::new();
static TRACING: Once = Once::new();

/// The PostgreSQL server URL for tests; `None` (said once) when unset; a panic when unset on CI,
/// which must never skip the PostgreSQL variant silently.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("HIKESHI_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI is set but HIKESHI_TEST_DATABASE_URL is unset: the PostgreSQL variant must run on CI");
            }
            SKIP_NOTICE.call_once(|| {
                // Straight to the process's stderr: libtest would swallow `eprintln!` of a passing test.
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "skipping PostgreSQL variant: HIKESHI_TEST_DATABASE_URL is unset");
            });
            None
        }
    }
}

/// `url` with its database name replaced by `db` (query string kept).
pub fn url_with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let authority = main.split('/').next().unwrap_or(main);
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh, empty PostgreSQL database; dropped by `drop_pg_database`.
pub struct PgDatabase {
    pub admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates `hk_<uuid>` on the server `admin_url` names (blocking).
    pub fn create(admin_url: &str) -> PgDatabase {
        let name = format!("hk_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url)
            .unwrap_or_else(|e| panic!("cannot connect to HIKESHI_TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        PgDatabase { admin_url: admin_url.to_owned(), url: url_with_database(admin_url, &name), name }
    }

    /// `DROP DATABASE ... WITH (FORCE)` (blocking); the error, if any.
    pub fn drop_now(&self) -> Result<(), String> {
        let mut admin = PgConnection::establish(&self.admin_url).map_err(|e| e.to_string())?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut admin)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort: a leftover database is named hk_* and harmless.
        let _ = self.drop_now();
    }
}

/// A running hikeshi over a seeded database.
pub struct TestApp {
    pub backend: Backend,
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub creds: DemoCredentials,
    pub database_url: String,
    pub handle: actix_web::dev::ServerHandle,
    pub state: actix_web::web::Data<hikeshi::state::AppState>,
    /// Temporary directory holding the SQLite file (SQLite only) and the outbox.
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDatabase>,
}

/// Starts a server on a fresh database of `backend`, seeded with the demo fixture;
/// `None` for PostgreSQL when no server is configured.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings changed by `configure` before the application is built (for example
/// `mail_url = smtp://127.0.0.1:PORT`, `worker.poll_ms = 50`, `worker.max_attempts = 2`).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    hikeshi::notify::webhooks::install_tls_provider(); // the tests' HTTP clients use rustls too
    if std::env::var_os("TEST_LOG").is_some() {
        TRACING.call_once(|| hikeshi::telemetry::init(LogFormat::Pretty));
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (database_url, pg) = match backend {
        Backend::Sqlite => (format!("sqlite://{}", dir.path().join("hikeshi.db").display()), None),
        Backend::Postgres => {
            let admin = pg_admin_url()?;
            let db = tokio::task::spawn_blocking(move || PgDatabase::create(&admin)).await.expect("create database");
            (db.url.clone(), Some(db))
        }
    };
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: Secret::new(database_url.clone()),
        mail_url: Secret::new(format!("file://{}", dir.path().join("outbox").display())),
        jwt_secret: Some(Secret::new(JWT_SECRET)),
        audit_key: Some(Secret::new(AUDIT_KEY)),
        ..Settings::default()
    };
    settings.auth.login_per_minute = 1000;
    configure(&mut settings);
    settings.validate().expect("test settings are valid");

    let app = Application::build(settings).await.expect("the application builds");
    let port = app.port();
    let handle = app.handle();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());

    let pool = state.pool.clone();
    let key = state.audit_key.clone();
    let creds = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().expect("a pooled connection");
        hikeshi::db::audit::with_key(key, || hikeshi::demo::seed(&mut conn)).expect("the demo fixture seeds")
    })
    .await
    .expect("seeding task")
    .expect("a fresh database is seeded");

    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client");
    Some(TestApp {
        backend,
        address: format!("http://127.0.0.1:{port}"),
        port,
        client,
        creds,
        database_url,
        handle,
        state,
        dir,
        pg,
    })
}

impl TestApp {
    /// Full URL of an `/api/v1` path (`api("/me")`).
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.address, path)
    }

    /// Full URL of a path outside `/api/v1` (`url("/healthz")`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The SQLite file (SQLite only).
    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("hikeshi.db")
    }

    /// The demo password of `email`.
    pub fn password_of(&self, email: &str) -> String {
        self.creds
            .users
            .iter()
            .find(|u| u.email == email)
            .unwrap_or_else(|| panic!("{email} is not a demo user"))
            .password
            .clone()
    }

    /// The e-mail of the first demo user with `role`.
    pub fn email_of(&self, role: Role) -> String {
        self.creds.users.iter().find(|u| u.role == role).unwrap_or_else(|| panic!("no demo {role}")).email.clone()
    }

    /// POST /auth/login with a JSON body, whatever the outcome.
    pub async fn login_raw(&self, body: &Value) -> Response {
        self.client.post(self.api("/auth/login")).json(body).send().await.expect("login request")
    }

    /// Signs a demo user in; the full token response (panics unless 200).
    pub async fn login_tokens(&self, email: &str) -> Value {
        let res = self.login_raw(&json!({"email": email, "password": self.password_of(email)})).await;
        let status = res.status();
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(status, 200, "login of {email} failed: {body}");
        body
    }

    /// Signs a demo user in; the access token.
    pub async fn login(&self, email: &str) -> String {
        self.login_tokens(email).await["access_token"].as_str().expect("access_token").to_owned()
    }

    /// An access token of the first demo user with `role`.
    pub async fn token_for(&self, role: Role) -> String {
        let email = self.email_of(role);
        self.login(&email).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.api(path)).bearer_auth(token).send().await.expect("GET request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.post(self.api(path)).bearer_auth(token).json(body).send().await.expect("POST request")
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.put(self.api(path)).bearer_auth(token).json(body).send().await.expect("PUT request")
    }

    /// PATCH with `If-Match` when `version` is given.
    pub async fn patch(&self, path: &str, token: &str, version: Option<i64>, body: &Value) -> Response {
        let mut req = self.client.patch(self.api(path)).bearer_auth(token).json(body);
        if let Some(v) = version {
            req = req.header("If-Match", format!("\"{v}\""));
        }
        req.send().await.expect("PATCH request")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client.delete(self.api(path)).bearer_auth(token).send().await.expect("DELETE request")
    }

    /// A direct, blocking connection to the test database (for checks behind the API).
    pub fn conn(&self) -> AnyConnection {
        AnyConnection::connect(&self.database_url).expect("a direct database connection")
    }

    /// Stops the server (also done on drop).
    pub fn stop(&self) {
        // Sending the stop command is synchronous; awaiting completion is not needed.
        drop(self.handle.stop(false));
    }

    /// Makes the database disappear under the running server: SQLite deletes the file (and its
    /// -wal/-shm), PostgreSQL drops the database, terminating the pool's connections.
    pub async fn remove_database(&self) {
        match self.backend {
            Backend::Sqlite => {
                let db = self.sqlite_path();
                for suffix in ["", "-wal", "-shm"] {
                    let p = PathBuf::from(format!("{}{suffix}", db.display()));
                    if Path::new(&p).exists() {
                        std::fs::remove_file(&p).unwrap_or_else(|e| panic!("remove {}: {e}", p.display()));
                    }
                }
                assert!(!db.exists(), "the SQLite file is gone");
            }
            Backend::Postgres => {
                let pg = self.pg.as_ref().expect("a PostgreSQL test database");
                let (admin_url, name) = (pg.admin_url.clone(), pg.name.clone());
                tokio::task::spawn_blocking(move || {
                    let mut admin = PgConnection::establish(&admin_url).expect("admin connection");
                    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .expect("DROP DATABASE");
                })
                .await
                .expect("drop task");
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
        // `pg` (if any) drops its database next, with FORCE, after the server was told to stop.
    }
}

/// Reads a response as (status, headers, JSON body); the body is `Null` when it is not JSON.
pub async fn parts(res: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, body)
}

/// The Content-Type header, or "".
pub fn content_type(headers: &reqwest::header::HeaderMap) -> String {
    headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// Asserts an RFC 9457 problem document with `status`; returns it.
pub async fn assert_problem(res: Response, status: u16) -> (reqwest::header::HeaderMap, Value) {
    let (got, headers, body) = parts(res).await;
    assert_eq!(got, status, "unexpected status; body: {body}");
    assert!(
        content_type(&headers).starts_with("application/problem+json"),
        "Content-Type is {:?}, not application/problem+json; body: {body}",
        content_type(&headers)
    );
    for field in ["type", "title", "detail"] {
        assert!(body[field].as_str().is_some_and(|s| !s.is_empty()), "problem without {field}: {body}");
    }
    assert_eq!(body["status"], status, "problem status field: {body}");
    (headers, body)
}

/// Asserts a 401 problem carrying `WWW-Authenticate: Bearer ...`; returns the body.
pub async fn assert_unauthorized(res: Response) -> Value {
    let (headers, body) = assert_problem(res, 401).await;
    let www = headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(www.starts_with("Bearer"), "401 without WWW-Authenticate: Bearer (got {www:?}); body: {body}");
    body
}

// ---------------------------------------------------------------------------------------------
// Delivery: tests that configure the server themselves (SMTP sink, worker timings).

/// Runs the same test body on SQLite and on PostgreSQL, handing it the backend so that it can
/// start its own server (`spawn_app_with`): `backend_test!(a_sentence, |backend| async move { ... });`
/// The body returns early when `spawn_app_with` answers `None` (PostgreSQL not configured).
macro_rules! backend_test {
    ($name:ident, |$backend:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::helpers::Backend::Sqlite;
                $body.await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::helpers::Backend::Postgres;
                $body.await;
            }
        }
    };
}

/// A second server on the database of `first` (no seeding: it shares the first one's demo data and
/// credentials). Its workers run too, unless `configure` turns them off. Dropping it stops it; the
/// database belongs to `first`.
pub async fn spawn_app_on_same_database(first: &TestApp, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: Secret::new(first.database_url.clone()),
        mail_url: Secret::new(format!("file://{}", dir.path().join("outbox").display())),
        jwt_secret: Some(Secret::new(JWT_SECRET)),
        audit_key: Some(Secret::new(AUDIT_KEY)),
        ..Settings::default()
    };
    settings.auth.login_per_minute = 1000;
    configure(&mut settings);
    settings.validate().expect("test settings are valid");
    let app = Application::build(settings).await.expect("the second application builds");
    let port = app.port();
    let handle = app.handle();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client");
    TestApp {
        backend: first.backend,
        address: format!("http://127.0.0.1:{port}"),
        port,
        client,
        creds: first.creds.clone(),
        database_url: first.database_url.clone(),
        handle,
        state,
        dir,
        pg: None,
    }
}

/// Polls `check` every 50 ms until it answers `Ok`; panics with its last `Err` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) => {
                if std::time::Instant::now() >= deadline {
                    panic!("timed out after {timeout:?} waiting for {what}; last state: {last}");
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0").local_addr().expect("local addr").port()
}

/// One message as received by the sink.
#[derive(Debug, Clone)]
pub struct SinkMessage {
    /// Without angle brackets.
    pub message_id: String,
    /// Addresses of the `To` header.
    pub to: Vec<String>,
    /// Decoded (RFC 2047).
    pub subject: String,
    pub raw: String,
}

/// A real SMTP server on 127.0.0.1: the SMTP protocol of the `mailin` crate over TCP, storing every
/// message in a Maildir (written, then renamed into `new/`) before it answers 250. Needs nothing but
/// Rust. `stop` closes the port and every connection; `start` brings it back on the same port with
/// the same Maildir.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    /// The largest message accepted (larger ones are refused with 552 at the end of DATA).
    max_size: usize,
    server: Option<(tokio::sync::oneshot::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl SmtpSink {
    /// A running sink on a free port.
    pub async fn start_new() -> SmtpSink {
        Self::with_max_size(10 * 1024 * 1024).await
    }

    /// A running sink refusing messages over `max_size` bytes.
    pub async fn with_max_size(max_size: usize) -> SmtpSink {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.path().join("maildir").join(sub)).expect("the Maildir");
        }
        let mut sink = SmtpSink { port: free_port(), dir, max_size, server: None };
        sink.start().await;
        sink
    }

    /// `smtp://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Starts the server (again) on its port; returns once it accepts connections. It runs on a
    /// thread and runtime of its own, so a test that blocks its own thread cannot stall it.
    pub async fn start(&mut self) {
        assert!(self.server.is_none(), "the sink is already running");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        let listener = loop {
            match std::net::TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                // The port may still be held for a moment after a stop: try again.
                Err(e) => {
                    assert!(std::time::Instant::now() < deadline, "port {} stays taken: {e}", self.port);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let (maildir, max_size) = (self.maildir(), self.max_size);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let mut sessions = tokio::task::JoinSet::new();
                let accept = async {
                    while let Ok((stream, peer)) = listener.accept().await {
                        sessions.spawn(smtp_session(stream, peer.ip(), maildir.clone(), max_size));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime closes the listener and every session's connection.
        });
        self.server = Some((stop, thread));
    }

    /// Closes the port and every open connection (connections are refused until `start`).
    pub fn stop(&mut self) {
        if let Some((stop, thread)) = self.server.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }

    /// Every message received so far (across restarts), oldest file first.
    pub fn messages(&self) -> Vec<SinkMessage> {
        let mut files: Vec<PathBuf> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir().join(sub)) else { continue };
            files.extend(entries.flatten().map(|e| e.path()));
        }
        files.sort(); // names start with the arrival number
        files
            .into_iter()
            .filter_map(|p| std::fs::read(&p).ok())
            .map(|bytes| parse_message(&String::from_utf8_lossy(&bytes)))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP conversation: lines in, the `mailin` session's responses out.
async fn smtp_session(stream: tokio::net::TcpStream, peer: std::net::IpAddr, maildir: PathBuf, max_size: usize) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read);
    let builder = mailin::SessionBuilder::new("hikeshi-test-sink");
    let mut session = builder.build(peer, Maildrop::new(maildir.clone(), max_size));
    let Ok(greeting) = session.greeting().buffer() else { return };
    if write.write_all(&greeting).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        if line == b".\r\n" && response.is_error {
            // The reply to the end of DATA ends the transaction even when it refuses the message
            // (RFC 5321 4.1.1.4), but mailin stays in DATA then: go on with a session past EHLO.
            session = builder.build(peer, Maildrop::new(maildir.clone(), max_size));
            let _ = session.process(b"EHLO hikeshi-test-sink\r\n");
        }
        if response.action == mailin::Action::NoReply {
            continue;
        }
        let Ok(bytes) = response.buffer() else { return };
        if write.write_all(&bytes).await.is_err() || response.action == mailin::Action::Close {
            return;
        }
    }
}

/// Where one session's messages go: a Maildir, each message written to `tmp/` then renamed into
/// `new/` before the 250 (as a mail server's delivery does).
struct Maildrop {
    dir: PathBuf,
    max_size: usize,
    message: Vec<u8>,
}

static ARRIVALS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Maildrop {
    fn new(dir: PathBuf, max_size: usize) -> Self {
        Maildrop { dir, max_size, message: Vec::new() }
    }
}

impl mailin::Handler for Maildrop {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> mailin::Response {
        self.message.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.message.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        if self.message.len() > self.max_size {
            return mailin::Response::custom(552, "message exceeds the size limit".into());
        }
        let n = ARRIVALS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("{:012}.{}.hikeshi-test", n, std::process::id());
        let tmp = self.dir.join("tmp").join(&name);
        let stored =
            std::fs::write(&tmp, &self.message).and_then(|()| std::fs::rename(&tmp, self.dir.join("new").join(&name)));
        match stored {
            Ok(()) => mailin::response::OK,
            Err(_) => mailin::Response::custom(451, "could not store the message".into()),
        }
    }
}

/// The header fields of an RFC 5322 message, unfolded, names lower-cased.
pub fn headers_of(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let head = head.split("\n\n").next().unwrap_or(head);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

fn parse_message(raw: &str) -> SinkMessage {
    let headers = headers_of(raw);
    let field = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let to = field("to")
        .split(',')
        .map(|a| {
            let a = a.trim();
            match (a.find('<'), a.rfind('>')) {
                (Some(i), Some(j)) if i < j => a[i + 1..j].to_owned(),
                _ => a.to_owned(),
            }
        })
        .filter(|a| !a.is_empty())
        .collect();
    SinkMessage {
        message_id: field("message-id").trim().trim_start_matches('<').trim_end_matches('>').to_owned(),
        to,
        subject: decode_rfc2047(&field("subject")),
        raw: raw.to_owned(),
    }
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`); whitespace between adjacent
/// encoded words is dropped and their bytes are joined before UTF-8 decoding.
pub fn decode_rfc2047(s: &str) -> String {
    use base64::Engine;
    fn word(s: &str) -> Option<(Vec<u8>, usize)> {
        let rest = s.strip_prefix("=?")?;
        let (_charset, rest) = rest.split_once('?')?;
        let (enc, rest) = rest.split_once('?')?;
        let end = rest.find("?=")?;
        let text = &rest[..end];
        let bytes = match enc {
            "b" | "B" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
            "q" | "Q" => {
                let mut out = Vec::new();
                let b = text.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    match b[i] {
                        b'_' => out.push(b' '),
                        b'=' if i + 2 < b.len() => {
                            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                            out.push(u8::from_str_radix(h, 16).ok()?);
                            i += 2;
                        }
                        c => out.push(c),
                    }
                    i += 1;
                }
                out
            }
            _ => return None,
        };
        // "=?" + charset + "?" + enc + "?" + text + "?="
        let consumed = s.len() - rest.len() + end + 2;
        Some((bytes, consumed))
    }
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = s;
    loop {
        let Some(i) = rest.find("=?") else {
            if !pending.is_empty() {
                out.push_str(&String::from_utf8_lossy(&pending));
                pending.clear();
            }
            out.push_str(rest);
            break;
        };
        let (before, at) = rest.split_at(i);
        match word(at) {
            Some((bytes, consumed)) => {
                if !before.trim().is_empty() || pending.is_empty() {
                    out.push_str(&String::from_utf8_lossy(&pending));
                    pending.clear();
                    out.push_str(before);
                }
                pending.extend(bytes);
                rest = &at[consumed..];
            }
            None => {
                out.push_str(&String::from_utf8_lossy(&pending));
                pending.clear();
                out.push_str(before);
                out.push_str("=?");
                rest = &at[2..];
            }
        }
    }
    out
}

/// A code of `secret` for the step after the current one: accepted now (one step of skew) and
/// never used yet, so a test need not wait up to 30 s for the next step after enrolling.
pub fn next_step_code(secret: &str) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32 secret"))
        .with_account_name("user")
        .with_issuer(Some("hikeshi"))
        .build()
        .expect("totp");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp.generate(now + 30).to_string()
}

/// One request a [`WebhookReceiver`] took: the Standard Webhooks headers and the raw body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub answered: u16,
    /// When it arrived.
    #[serde(skip)]
    pub at: std::time::Instant,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON payload")
    }
}

/// A webhook endpoint over real HTTP on 127.0.0.1: records every request and answers `status`
/// (set it to 503 to play a receiver that is down).
pub struct WebhookReceiver {
    pub port: u16,
    pub status: std::sync::Arc<std::sync::atomic::AtomicU16>,
    got: std::sync::Arc<std::sync::Mutex<Vec<Delivery>>>,
    handle: actix_web::dev::ServerHandle,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
        use std::sync::atomic::{AtomicU16, Ordering};
        use std::sync::{Arc, Mutex};
        let status = Arc::new(AtomicU16::new(200));
        let got: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let (s, g) = (status.clone(), got.clone());
        let server = HttpServer::new(move || {
            let (s, g) = (s.clone(), g.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (s, g) = (s.clone(), g.clone());
                async move {
                    let header =
                        |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    let answered = s.load(Ordering::SeqCst);
                    g.lock().unwrap().push(Delivery {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        answered,
                        at: std::time::Instant::now(),
                    });
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind the receiver");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        WebhookReceiver { port, status, got, handle }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every request so far, in arrival order.
    pub fn all(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    /// The requests it answered 2xx: what was delivered.
    pub fn delivered(&self) -> Vec<Delivery> {
        self.all().into_iter().filter(|d| (200..300).contains(&d.answered)).collect()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let h = self.handle.clone();
        tokio::spawn(async move { h.stop(false).await });
    }
}

/// Verifies every delivery's signature with `secret`: with the `standardwebhooks` crate here, and
/// with the Standard Webhooks project's Python package (ci/verify_webhooks.py) when it is installed
/// (always on CI). Panics naming a delivery that does not verify.
pub fn assert_signed(deliveries: &[Delivery], secret: &str) {
    let hook = standardwebhooks::Webhook::new(secret).expect("a whsec_ secret");
    for d in deliveries {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("webhook-id", d.id.parse().unwrap());
        headers.insert("webhook-timestamp", d.timestamp.parse().unwrap());
        headers.insert("webhook-signature", d.signature.parse().unwrap());
        hook.verify(d.body.as_bytes(), &headers).unwrap_or_else(|e| panic!("{} does not verify: {e}", d.id));
    }
    let present = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "CI is set but the Python standardwebhooks package is missing: pip install -r ci/requirements.txt"
        );
        eprintln!("Python standardwebhooks not installed: deliveries verified by the Rust crate only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deliveries.json");
    std::fs::write(&file, serde_json::to_vec(deliveries).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/verify_webhooks.py"))
        .arg(secret)
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "the Python verifier refused: {}", String::from_utf8_lossy(&out.stderr));
}
