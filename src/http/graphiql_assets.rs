//! GraphiQL's scripts and styles, embedded in the binary and served at `/graphql/assets/NAME`, so
//! that the page works with no network: offline, and on networks that block CDNs. They are the
//! production builds from npm, fetched by `assets/graphiql/update.sh` at the versions it pins;
//! `LICENSES.txt` beside them carries their licences and is served too.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// Where the page asks for the files.
pub(super) const PREFIX: &str = "/graphql/assets/";

/// An embedded file.
struct Asset {
    name: &'static str,
    bytes: &'static [u8],
}

impl Asset {
    /// The media type its name's extension says.
    fn content_type(&self) -> &'static str {
        match self.name.rsplit_once('.').map(|(_, extension)| extension) {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }
}

macro_rules! asset {
    ($name:literal) => {
        Asset {
            name: $name,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

const ASSETS: [Asset; 7] = [
    asset!("graphiql.min.js"),
    asset!("graphiql.min.css"),
    asset!("plugin-explorer.umd.js"),
    asset!("plugin-explorer.css"),
    asset!("react.production.min.js"),
    asset!("react-dom.production.min.js"),
    asset!("LICENSES.txt"),
];

/// Each file's entity tag: a digest of its bytes, computed once, so that a browser revalidates a
/// file it keeps with one request that has no body, and a new build's file is never taken for
/// the old one.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.bytes);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex digits are a valid header")
        })
        .collect()
});

/// How long a browser may use a file it keeps before it revalidates it.
const CACHE_CONTROL: &str = "public, max-age=86400";

/// The URL of the embedded file `name`.
pub(super) fn url(name: &str) -> String {
    debug_assert!(ASSETS.iter().any(|asset| asset.name == name), "{name}");
    format!("{PREFIX}{name}")
}

/// GET /graphql/assets/{name}: an embedded file, 304 when the browser's copy is current, 404 for a
/// name that is not one.
pub(super) async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|asset| asset.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (asset, etag) = (&ASSETS[index], ETAGS[index].clone());
    let current = etag.as_bytes();
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|tag| tag == b"*" || tag.strip_prefix(b"W/").unwrap_or(tag) == current);
    let caching = [
        (header::ETAG, etag),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
    ];
    if cached {
        return (StatusCode::NOT_MODIFIED, caching).into_response();
    }
    (
        caching,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type()),
        )],
        asset.bytes,
    )
        .into_response()
}
