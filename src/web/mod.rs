//! The web interface: hand-written HTML, CSS and JavaScript modules under `web/static/`, built
//! into the binary (no CDN, no bundler, no network at build or run time). The pages are a client
//! of `/api/v1` like any other; every permission decision stays in the API.
//!
//! Every UI response carries a strict Content-Security-Policy: no inline script or style, nothing
//! from another origin, no framing.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// The policy of every page and asset.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $ct:expr) => {
        Asset { name: $name, content_type: $ct, body: include_bytes!(concat!("../../web/static/", $name)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("i18n.js", JS),
    asset!("ui.js", JS),
    asset!("login.js", JS),
    asset!("file.js", JS),
    asset!("incidents.js", JS),
    asset!("detail.js", JS),
    asset!("queue.js", JS),
    asset!("stats.js", JS),
    asset!("dispatches.js", JS),
    asset!("conversation.js", JS),
    asset!("national.js", JS),
    asset!("advisories.js", JS),
    asset!("profile.js", JS),
];

static INDEX: &[u8] = include_bytes!("../../web/static/index.html");

/// Paths the single-page application answers with its shell (e-mail links point at
/// `/incidents/{id}`).
const PAGES: &[&str] = &[
    "/",
    "/login",
    "/totp",
    "/file",
    "/incidents",
    "/queue",
    "/stats",
    "/dispatches",
    "/inbox",
    "/map",
    "/campaigns",
    "/advisories",
    "/advisories/new",
    "/advisory-ack",
    "/profile",
];

fn etags() -> &'static Vec<String> {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| a.body)
            .chain(std::iter::once(INDEX))
            .map(|b| format!("\"{}\"", &hex::encode(Sha256::digest(b))[..20]))
            .collect()
    })
}

fn serve(req: &HttpRequest, content_type: &str, body: &'static [u8], etag: &str) -> HttpResponse {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::ETAG, etag))
        // Revalidate every time (cheap with the ETag): a new binary never runs old scripts.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"))
        .insert_header(("Cross-Origin-Resource-Policy", "same-origin"))
        .insert_header(("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"));
    if fresh {
        res.finish()
    } else {
        res.content_type(content_type).body(body)
    }
}

async fn index(req: HttpRequest) -> HttpResponse {
    let tag = etags().last().cloned().unwrap_or_default();
    serve(&req, "text/html; charset=utf-8", INDEX, &tag)
}

async fn asset(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().position(|a| a.name == name.as_str()) {
        Some(i) => serve(&req, ASSETS[i].content_type, ASSETS[i].body, &etags()[i]),
        None => HttpResponse::NotFound()
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .content_type("text/plain; charset=utf-8")
            .body("not found"),
    }
}

/// Mounts the pages and their assets (outside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for page in PAGES {
        cfg.route(page, web::get().to(index));
    }
    cfg.route("/incidents/{id}", web::get().to(index))
        .route("/campaigns/{id}", web::get().to(index))
        .route("/advisories/{id}", web::get().to(index))
        .route("/assets/{name}", web::get().to(asset))
        .route(
            "/favicon.ico",
            web::get().to(|| async { HttpResponse::Found().insert_header(("Location", "/assets/icon.svg")).finish() }),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_and_the_page_loads_only_own_scripts() {
        let html = std::str::from_utf8(INDEX).unwrap();
        assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
        assert!(!html.contains("http://") && !html.contains("https://"), "no external resource");
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
            if a.name.ends_with(".js") {
                let js = std::str::from_utf8(a.body).unwrap();
                assert!(!js.contains("innerHTML"), "{} writes HTML from strings", a.name);
                assert!(!js.contains("eval("), "{} evaluates strings", a.name);
                for line in js.lines().filter(|l| l.trim_start().starts_with("import ")) {
                    let from = line.rsplit("from").next().unwrap_or(line);
                    let target = from.trim().trim_matches(|c| c == '\'' || c == '"' || c == ';' || c == ' ');
                    let target = target.trim_start_matches("./");
                    assert!(
                        ASSETS.iter().any(|x| x.name == target),
                        "{} imports {target}, which is not embedded",
                        a.name
                    );
                }
            }
        }
        assert!(CSP.contains("script-src 'self'") && CSP.contains("frame-ancestors 'none'"));
    }
}
