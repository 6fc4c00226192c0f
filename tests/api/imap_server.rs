//! A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`), started by `ci/dovecot.sh`
//! on 127.0.0.1 with a throw-away Maildir and one user, in its own process group so that a test can kill it outright
//! (the server "going away") and start it again on the same port and mailbox.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::helpers::free_port;

pub const USER: &str = "hikeshi@inbox.example";
const PASSWORD: &str = "inbox-secret";
const DOVECOT: &str = "/usr/sbin/dovecot";

pub struct Dovecot {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

type Session = async_imap::Session<tokio::net::TcpStream>;

impl Dovecot {
    /// A running server; `None` (after saying why) where Dovecot is not installed, except on CI,
    /// where its absence fails the test: `.ci/run` installs it.
    pub fn start() -> Option<Dovecot> {
        if !Path::new(DOVECOT).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{DOVECOT} is missing: install dovecot-imapd (.ci/run does) to run the correspondence tests"
            );
            eprintln!("skipped: {DOVECOT} is not installed (apt-get install dovecot-imapd)");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let mut d = Dovecot { port, dir, child: None };
        d.run();
        Some(d)
    }

    fn run(&mut self) {
        use std::os::unix::process::CommandExt;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/dovecot.sh");
        let child = Command::new("bash")
            .arg(script)
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .arg(USER)
            .arg(PASSWORD)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "dovecot did not listen on {}: {}", self.port, self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Dovecot's own log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// `imap://user:pass@127.0.0.1:PORT/INBOX`
    pub fn url(&self) -> String {
        format!("imap://{}:{PASSWORD}@127.0.0.1:{}/INBOX", USER.replace('@', "%40"), self.port)
    }

    /// Kills the server and every process of it at once (connections drop mid-command).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `--` first: procps kill reads a bare `-PID` as a signal number (`-16959` once became
            // kill(-1, SIGKILL): every process of the machine).
            let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed server again on the same port and mailbox.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "dovecot is running");
        self.run();
    }

    async fn session(&self) -> Session {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.expect("connect to dovecot");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting").expect("a greeting");
        let mut s = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("login");
        s.select("INBOX").await.expect("select");
        s
    }

    /// Places a message in the mailbox as a mail client or delivery agent would (IMAP APPEND).
    pub async fn append(&self, raw: &[u8]) {
        let mut s = self.session().await;
        s.append("INBOX", None, None, raw).await.expect("APPEND");
        let _ = s.logout().await;
    }

    /// The flags of every message in the mailbox, by UID.
    pub async fn flags(&self) -> Vec<(u32, Vec<String>)> {
        let mut s = self.session().await;
        let fetched: Vec<_> = {
            let stream = s.uid_fetch("1:*", "FLAGS").await.expect("FETCH FLAGS");
            stream.collect::<Vec<_>>().await
        };
        let out = fetched
            .into_iter()
            .filter_map(Result::ok)
            .map(|f| (f.uid.unwrap_or(0), f.flags().map(|fl| format!("{fl:?}")).collect()))
            .collect();
        let _ = s.logout().await;
        out
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP relay in front of the server that cuts the connection open once, after `cut_after` bytes
/// have come from the server in all: the network (or the server) going away in the middle of a
/// fetch, at a known point.
pub struct CuttingRelay {
    pub port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl CuttingRelay {
    pub async fn start(target_port: u16, cut_after: usize) -> CuttingRelay {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicUsize::new(0));
        let (cut2, seen2) = (cut.clone(), seen.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (cut, seen) = (cut2.clone(), seen2.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", target_port)).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async move {
                        let _ = tokio::io::copy(&mut cr, &mut sw).await;
                    };
                    let down = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match sr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            let total = seen.fetch_add(n, Ordering::SeqCst) + n;
                            if total > cut_after && !cut.swap(true, Ordering::SeqCst) {
                                // Half of this chunk goes through, then the connection is gone.
                                let _ = cw.write_all(&buf[..n / 2]).await;
                                break;
                            }
                            if cw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = cw.shutdown().await;
                    };
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                    }
                });
            }
        });
        CuttingRelay { port, cut, task }
    }

    /// Whether the cut has happened.
    pub fn has_cut(&self) -> bool {
        self.cut.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// `imap://…` through the relay.
    pub fn url(&self, dovecot: &Dovecot) -> String {
        dovecot.url().replace(&format!(":{}/", dovecot.port), &format!(":{}/", self.port))
    }
}

impl Drop for CuttingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
