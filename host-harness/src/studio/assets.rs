//! The page: `studio/dist`, built from `studio/` with npm and committed, embedded here so
//! `studio` needs no Node at run time. `host-harness/tests/studio.rs` rebuilds the bundle and
//! compares it with the committed one.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api::State as Studio;

/// Where the page comes from.
pub enum Assets {
    /// The copy compiled into the binary.
    Embedded,
    /// A directory read at every request (`STUDIO_ASSETS_DIR`, working on the page).
    Directory(PathBuf),
}

/// The built files, by name.
const EMBEDDED: &[(&str, &[u8])] = &[
    (
        "index.html",
        include_bytes!("../../../studio/dist/index.html"),
    ),
    (
        "studio.js",
        include_bytes!("../../../studio/dist/studio.js"),
    ),
    (
        "studio.css",
        include_bytes!("../../../studio/dist/studio.css"),
    ),
];

impl Assets {
    fn get(&self, name: &str) -> Option<Vec<u8>> {
        match self {
            Assets::Embedded => EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, bytes)| bytes.to_vec()),
            // Only the names the bundle has: nothing else of the directory is served.
            Assets::Directory(dir) => EMBEDDED
                .iter()
                .any(|(n, _)| *n == name)
                .then(|| std::fs::read(dir.join(name)).ok())
                .flatten(),
        }
    }
}

pub async fn page(State(studio): State<&'static Studio>) -> Response {
    serve(&studio.assets, "index.html")
}

pub async fn asset(State(studio): State<&'static Studio>, Path(name): Path<String>) -> Response {
    if name == "index.html" {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve(&studio.assets, &name)
}

fn serve(assets: &Assets, name: &str) -> Response {
    let Some(bytes) = assets.get(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Scripts from the studio only; files the page offers for download are blob: URLs.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The page's URL holds the token: it must not travel in a Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
