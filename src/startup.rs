//! `Application::build`: pool, migrations, keys, the HTTP server and the background workers.
//! Tests build it with port 0 and read the real port back.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use tokio::sync::{watch, Notify};
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{self, health};
use crate::auth::jwt::{random_hex, token_hash, JwtKeys};
use crate::auth::passwords;
use crate::auth::ratelimit::RateLimiter;
use crate::config::{redact_url, Settings};
use crate::db::{self, Pool};
use crate::error::{self, ApiError};
use crate::state::AppState;

/// Opens the pool and applies migrations (several instances may do this at once).
pub fn prepare_database(settings: &Settings) -> anyhow::Result<Pool> {
    let url = settings.database_url.expose();
    let pool = db::build_pool(url, settings.pool_size);
    let mut conn = pool.get().map_err(|e| anyhow::anyhow!("cannot reach the database {}: {e}", redact_url(url)))?;
    let applied = conn.migrate().map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    for m in applied {
        tracing::info!(migration = %m, "applied migration");
    }
    let renamed = db::incidents::upgrade_stored_iocs(&mut conn)
        .map_err(|e| anyhow::anyhow!("renaming stored indicators failed: {e}"))?;
    if renamed > 0 {
        tracing::info!(incidents = renamed, "stored indicators renamed to STIX 2.1 types");
    }
    Ok(pool)
}

/// The JWT key: configured, else generated once and kept in the database.
pub fn load_keys(pool: &Pool, settings: &Settings) -> anyhow::Result<JwtKeys> {
    if let Some(s) = &settings.jwt_secret {
        return Ok(JwtKeys::new(s.expose().as_bytes()));
    }
    let mut conn = pool.get()?;
    let secret = db::settings::get_or_insert(&mut conn, "jwt_secret", &random_hex(32))?;
    Ok(JwtKeys::new(secret.as_bytes()))
}

/// The Content-Security-Policy of the API documentation (Swagger UI, served from the binary): its
/// scripts and stylesheets are its own files. At run time it inserts one `<style>` element of fixed
/// text, allowed by that text's hash (no inline style otherwise; the browser test of the docs fails
/// on any violation, so a Swagger UI upgrade that changes the text is noticed).
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/metrics` answers only its bearer token when `HIKESHI_METRICS_TOKEN` is set; `/docs/` carries
/// its Content-Security-Policy.
/// Open connections per worker at most (actix-web's default is 25,000); more wait in the listen queue.
pub const MAX_CONNECTIONS_PER_WORKER: usize = 1024;

async fn guard_metrics_and_docs(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A method nothing here answers is refused before the request metrics see it: each method
    // name would otherwise become a series of its own (a label without bound).
    use actix_web::http::Method;
    const KNOWN: [Method; 7] =
        [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS];
    if !KNOWN.contains(req.method()) {
        let refused = ApiError::MethodNotAllowed { allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" };
        return Ok(req.error_response(refused).map_into_right_body());
    }
    if req.path() == "/metrics" {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        if let Some(token) = state.as_ref().and_then(|s| s.settings.metrics_token.as_ref()) {
            let given = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            // Compared as digests, so the time taken says nothing about the token.
            if token_hash(given) != token_hash(token.expose()) {
                let refused = ApiError::Unauthorized("send Authorization: Bearer <HIKESHI_METRICS_TOKEN>".into());
                return Ok(req.error_response(refused).map_into_right_body());
            }
        }
    }
    let docs = req.path().starts_with("/docs");
    let mut res = next.call(req).await?;
    if docs {
        res.headers_mut().insert(
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            actix_web::http::header::HeaderValue::from_static(DOCS_CSP),
        );
    }
    Ok(res.map_into_left_body())
}

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    stop_workers: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// Unrouted requests: 405 with `Allow` for a documented path asked with another method, else 404.
async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    match api::openapi::allowed_methods(req.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NotFound),
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let s = settings.clone();
        let (pool, keys, dummy_hash) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let pool = prepare_database(&s)?;
            let keys = load_keys(&pool, &s)?;
            let dummy = passwords::hash(&random_hex(16))?;
            Ok((pool, keys, dummy))
        })
        .await??;
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let metrics = crate::metrics::Metrics::new()?;
        let state = web::Data::new(AppState {
            pool,
            settings: settings.clone(),
            keys,
            login_limiter: RateLimiter::new(settings.auth.login_per_minute, Duration::from_secs(60)),
            trusted_proxies: crate::auth::ratelimit::parse_proxies(&settings.trusted_proxies)
                .map_err(|e| anyhow::anyhow!("HIKESHI_TRUSTED_PROXIES: {e}"))?,
            audit_key: settings.audit_key(),
            dummy_hash,
            outbox_wake: Arc::new(Notify::new()),
            campaign_wake: Arc::new(Notify::new()),
            metrics: metrics.clone(),
            stats_lock: Default::default(),
            webhooks: Default::default(),
            http: crate::notify::webhooks::client()?,
        });
        let prometheus = PrometheusMetricsBuilder::new("hikeshi")
            .endpoint("/metrics")
            .registry(metrics.registry.clone())
            .mask_unmatched_patterns("UNKNOWN")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let max_body = settings.max_body_bytes;
        let app_state = state.clone();
        let per_minute = settings.rate_limit_per_minute;
        let api_limit = web::Data::new(api::ApiRateLimit(RateLimiter::new(per_minute, Duration::from_secs(60))));
        let hsts = settings.public_url.starts_with("https://");
        let cors_settings = settings.clone();
        // Database work runs on each worker's blocking threads. More of them than connections only
        // adds threads that wait for the pool (switching, allocator contention): a queued task costs
        // nothing, a parked thread does.
        let workers = crate::config::cores();
        let blocking = (state.pool.max_size() as usize).div_ceil(workers).max(2);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::Condition::new(
                    per_minute > 0,
                    actix_web::middleware::from_fn(api::rate_limit),
                ))
                .wrap(actix_web::middleware::from_fn(api::input_bounds))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("Cache-Control", "no-store")),
                )
                .wrap(actix_web::middleware::Condition::new(
                    hsts,
                    DefaultHeaders::new().add(("Strict-Transport-Security", "max-age=31536000")),
                ))
                .wrap(actix_web::middleware::Condition::new(
                    !cors_settings.cors_allowed_origins.is_empty(),
                    api::cors(&cors_settings),
                ))
                .wrap(prometheus.clone())
                .wrap(from_fn(guard_metrics_and_docs))
                .wrap(TracingLogger::default())
                .app_data(app_state.clone())
                .app_data(api_limit.clone())
                .app_data(web::JsonConfig::default().limit(max_body).error_handler(error::json_error))
                .app_data(web::PayloadConfig::default().limit(max_body))
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .route("/healthz", web::get().to(health::healthz))
                .route("/readyz", web::get().to(health::readyz))
                .configure(api::configure)
                .configure(crate::web::configure)
                .route("/openapi.json", web::get().to(api::openapi::json))
                .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
                .default_service(web::to(not_found))
        })
        .workers(workers)
        // Bounds the request bodies held at once (each at most `max_body_bytes`).
        .max_connections(MAX_CONNECTIONS_PER_WORKER)
        .worker_max_blocking_threads(blocking)
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        // Read the webhook subscriptions before the first request, which then finds them read.
        let st = state.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = st.pool.get()?;
            st.webhooks.refresh(&mut conn)?;
            Ok(())
        })
        .await??;
        let (stop_workers, stop_rx) = watch::channel(false);
        let mut workers = vec![tokio::spawn(crate::notify::webhooks::refresh_loop(state.clone(), stop_rx.clone()))];
        if settings.worker.enabled {
            workers.extend(crate::notify::spawn_workers(state.clone(), stop_rx));
        }
        Ok(Application { port, server, state, stop_workers, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared state (tests use its pool).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (or `handle().stop()`): in-flight requests finish, then the
    /// workers stop claiming new work and finish what they hold.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        let _ = self.stop_workers.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        tracing::info!("stopped");
        Ok(result?)
    }
}
