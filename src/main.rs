//! The `hikeshi` command line: serve, migrate, and administration.

#![forbid(unsafe_code)]

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hikeshi::config::Settings;
use hikeshi::domain::{OrgKind, Role};
use hikeshi::{db, demo, startup, telemetry};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "hikeshi", version, about = "Hospital cyber-incident reporting and first response (火消し)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service and its workers.
    Serve {
        /// Seed demo organisations, users and contacts when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Authority contacts.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// The routing rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Exit 0 when an HTTP endpoint answers 2xx (container health checks need no curl).
    Probe {
        #[arg(default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Route every open incident routed with an older rule set again with this one: new
    /// authorities are told, dates move earlier at once (later ones are held for an officer), and
    /// every move is on the incident's timeline.
    Apply,
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Import a contact directory (TOML or JSON, by file extension).
    Import { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation and print its id.
    Create {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// Two-digit JIS X 0401 code, 01–47.
        #[arg(long)]
        prefecture: Option<String>,
        #[arg(long)]
        beds: Option<i64>,
        /// 医療機関コード (10 digits).
        #[arg(long)]
        code: Option<String>,
        /// Comma-separated regional roles (disaster_base,remote_area_base,...).
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Legal status (DOMAIN.md 2.3): private, designated_corporation, local_iaa, local_government,
        /// national_government. Replaces --legal-form.
        #[arg(long)]
        legal_status: Option<String>,
        /// JIS X 0402 municipality code (5 digits), for the health authority.
        #[arg(long)]
        municipality: Option<String>,
        /// For kind authority: mhlw, ppc, police, ipa, vendor, prefecture.
        #[arg(long)]
        authority: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every chain, read record and checkpoint (with HIKESHI_AUDIT_KEY); exit 1 naming each
    /// place that does not verify.
    Verify {
        /// Verify an extract written by `audit export` instead of the database.
        #[arg(long)]
        extract: Option<std::path::PathBuf>,
    },
    /// Make a checkpoint now (the service makes one every HIKESHI_AUDIT_CHECKPOINT_SECONDS).
    Checkpoint,
    /// Write a checkpointed, verifiable extract (JSON) of the trail, or of one incident's.
    Export {
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long)]
        incident: Option<String>,
    },
}

/// A plain HTTP/1.0 GET over loopback; true on a 2xx status.
fn probe(url: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    use std::net::ToSocketAddrs;
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow::anyhow!("only http:// URLs are probed"))?;
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let addr = authority.to_socket_addrs()?.next().ok_or_else(|| anyhow::anyhow!("cannot resolve {authority}"))?;
    let timeout = std::time::Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    Ok(status_line.split_whitespace().nth(1).is_some_and(|code| code.starts_with('2')))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Probe { url } = &cli.command {
        // No configuration or logging needed: this runs every few seconds inside the container.
        return match probe(url) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("probe failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    // What the command line records in the audit trail (users, organisations, demo data) is keyed too.
    let key = settings.audit_key();
    match db::audit::with_key(key, || run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { demo: with_demo } => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(async move {
                if with_demo {
                    let pool = startup::prepare_database(&settings)?;
                    let mut conn = pool.get()?;
                    if let Some(creds) = demo::seed(&mut conn)? {
                        println!("{}", demo::describe(&creds, settings.public_url()));
                    }
                }
                if settings.audit_key().is_none() {
                    tracing::warn!("HIKESHI_AUDIT_KEY is not set: the audit trail is chained with plain SHA-256, which anyone who can write the database can recompute");
                }
                let app = startup::Application::build(settings.clone()).await?;
                tracing::info!(bind = %settings.bind, port = app.port(), mail = %hikeshi::config::redact_url(settings.mail_url.expose()), "hikeshi serving");
                app.run_until_stopped().await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            startup::prepare_database(&settings)?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org {
            command:
                OrgCommand::Create { kind, name, prefecture, beds, code, roles, legal_status, municipality, authority },
        } => {
            let pool = startup::prepare_database(&settings)?;
            let mut conn = pool.get()?;
            let mut body = serde_json::Map::new();
            body.insert("kind".into(), kind.clone().into());
            body.insert("name".into(), name.into());
            if let Some(p) = prefecture {
                body.insert("prefecture".into(), p.into());
            }
            if let Some(b) = beds {
                body.insert("beds".into(), b.into());
            }
            if let Some(c) = code {
                body.insert("code".into(), c.into());
            }
            if !roles.is_empty() {
                body.insert("regional_roles".into(), roles.into());
            }
            if let Some(l) = legal_status {
                body.insert("legal_status".into(), l.into());
            }
            if let Some(m) = municipality {
                body.insert("municipality".into(), m.into());
            }
            if let Some(a) = authority {
                body.insert("authority".into(), a.into());
            }
            let base = db::orgs::Organization::new(OrgKind::parse(&kind).unwrap_or(OrgKind::Hospital), "");
            match hikeshi::api::organizations::parse_org(&body, base, true) {
                Ok(org) => {
                    db::orgs::insert(&mut conn, &org)?;
                    println!("{}", org.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in errors {
                        eprintln!("--{}: {}", e.field.replace('_', "-"), e.message);
                    }
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::User { command: UserCommand::Create { email, name, role, org } } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role {e}"))?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let pool = startup::prepare_database(&settings)?;
            let mut conn = pool.get()?;
            match hikeshi::api::users::create_account(&mut conn, &org, &email, &name, role, password) {
                Ok(u) => {
                    println!("{}", u.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(hikeshi::error::ApiError::Validation(errors)) => {
                    for e in errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Audit { command: AuditCommand::Verify { extract } } => {
            let key = settings.audit_key();
            let report = match extract {
                Some(path) => {
                    let x: db::audit_check::Extract = serde_json::from_slice(&std::fs::read(&path)?)
                        .map_err(|e| anyhow::anyhow!("{} is not an audit extract: {e}", path.display()))?;
                    db::audit_check::verify_extract(&x, key.as_deref())
                }
                None => {
                    let pool = startup::prepare_database(&settings)?;
                    let mut conn = pool.get()?;
                    db::audit_check::verify(&mut conn, key.as_deref())?
                }
            };
            if report.intact() {
                println!("audit trail intact: {}", report.summary());
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &report.problems {
                    println!("audit trail BROKEN: {p}");
                }
                println!("checked: {}", report.summary());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Audit { command: AuditCommand::Checkpoint } => {
            let pool = startup::prepare_database(&settings)?;
            let mut conn = pool.get()?;
            let made = conn.write_transaction(db::audit::checkpoint)?;
            if made.is_empty() {
                println!("another instance made a checkpoint at the same moment");
            }
            for cp in made {
                println!("checkpoint {}: {} entries, {} reads, mac {}", cp.seq, cp.entries, cp.reads, cp.mac)
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Export { out, incident } } => {
            let pool = startup::prepare_database(&settings)?;
            let mut conn = pool.get()?;
            let key = settings.audit_key();
            let x = conn.write_transaction(|c| -> anyhow::Result<_> {
                db::audit::append(
                    c,
                    &db::audit::AuditEvent {
                        actor_id: None,
                        actor_label: "command line",
                        action: "audit.export",
                        target_type: "audit",
                        target_id: incident.as_deref().unwrap_or("all"),
                        incident_id: None,
                        request_id: None,
                        details: serde_json::json!({"incident_id": incident, "file": out.display().to_string()}),
                    },
                )?;
                db::audit::checkpoint(c)?;
                Ok(db::audit_check::extract(c, incident.as_deref(), key.as_deref())?)
            })?;
            std::fs::write(&out, serde_json::to_vec_pretty(&x)?)?;
            let report = db::audit_check::verify_extract(&x, key.as_deref());
            println!(
                "extract written to {}: {} entries, {} reads, {} checkpoints; verify it with `hikeshi audit verify --extract {}`",
                out.display(),
                x.entries.len(),
                x.reads.len(),
                x.checkpoints.len(),
                out.display()
            );
            Ok(if report.intact() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Contacts { command: ContactsCommand::Import { file } } => {
            let text = std::fs::read_to_string(&file)?;
            let is_toml = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
            let pool = startup::prepare_database(&settings)?;
            let mut conn = pool.get()?;
            let (added, skipped) = hikeshi::notify::contacts::import(&mut conn, &text, is_toml)?;
            println!("contacts imported: {added} added, {skipped} already present");
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { command: RulesCommand::Apply } => {
            let pool = startup::prepare_database(&settings)?;
            let mut conn = pool.get()?;
            let settings_ref = &settings;
            let n = conn
                .write_transaction(|c| hikeshi::api::incidents::apply_current_rules(c, settings_ref))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "rule set {}: {n} open incidents routed again (their timelines say what moved)",
                hikeshi::domain::routing::RULES_VERSION
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            print!("{}", hikeshi::api::openapi::yaml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Probe { .. } => Ok(ExitCode::SUCCESS),
    }
}
