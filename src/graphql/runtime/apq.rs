//! Automatic persisted queries (Apollo's APQ protocol): a client sends the SHA-256 of its query
//! instead of the text; the first time, the server answers PERSISTED_QUERY_NOT_FOUND and the
//! client sends text and hash together, which the server keeps for next time.
//!
//! A workaround: it replaces async-graphql's `ApolloPersistedQueries` extension
//! (<https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/extensions/apollo_persisted_queries.rs>).
//! That extension runs inside the schema's request preparation, after everything of
//! [`super::executor`] (so the limits, which count the text's tokens before anything parses
//! it, would see an empty text, and a hash-only GET could not be refused as a mutation like any
//! other); it replaces the query text by its parse; it keeps a text as soon as it parses, before
//! it validates or fits the limits, so texts that never run fill its store; and as an
//! extension it would put every field of every request on async-graphql's slower path (see
//! [`super::executor`]). Here the text is restored before any of that runs, so a persisted query
//! is treated exactly like a sent one. The test `upstream_apq_still_keeps_texts_that_never_ran`
//! fails once upstream keeps only texts that ran: then this module may be replaced by the
//! extension, if the other reasons are gone too.
//!
//! A text sent with its hash is kept only once its request has run: one that does not parse,
//! validate or fit the limits is never stored. The size cap counts each entry's whole
//! footprint, not just its text, so that many short texts cannot outgrow it.

use std::sync::{Arc, Mutex};

use async_graphql::{Request, Value};
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::errors::Code;

/// What one kept query costs besides its text: the hash (64 bytes and its `String`), the
/// shared text's pointer and counts, the LRU list links and the hash table's slot, with
/// allocator rounding. Measured at about 210 bytes per entry (300,000 entries, glibc malloc).
const ENTRY_OVERHEAD: usize = 256;

/// Queries the server keeps, most recently used first, up to a total size.
pub struct PersistedQueries {
    inner: Mutex<Store>,
}

struct Store {
    queries: LruCache<String, Arc<str>>,
    bytes: usize,
    max_bytes: usize,
}

/// Why a persisted query could not be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApqError {
    /// The hash is not known (yet, or any more): send the query text with it.
    #[error("PersistedQueryNotFound")]
    NotFound,
    /// The text does not hash to the hash sent with it.
    #[error("provided sha does not match query")]
    HashMismatch,
    /// The `persistedQuery` extension is not `{ version: 1, sha256Hash: "<64 hex digits>" }`.
    #[error(
        "the persistedQuery extension must be {{ \"version\": 1, \"sha256Hash\": \"<64 lowercase hex digits>\" }}"
    )]
    Malformed,
}

impl ApqError {
    /// The `extensions.code` clients look for (Apollo Client and urql retry with the text on
    /// PERSISTED_QUERY_NOT_FOUND).
    pub fn code(&self) -> Code {
        match self {
            Self::NotFound => Code::PersistedQueryNotFound,
            Self::HashMismatch => Code::PersistedQueryHashMismatch,
            Self::Malformed => Code::BadRequest,
        }
    }
}

impl PersistedQueries {
    /// A store holding at most `max_bytes` of query text (at least one query of any size).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Store {
                queries: LruCache::unbounded(),
                bytes: 0,
                max_bytes,
            }),
        }
    }

    /// Resolves a request's `persistedQuery` extension, if it has one: fills in the text of a
    /// known hash, or checks the text sent with its hash and returns the [`Registration`] to
    /// [`keep`](Self::keep) once the request has run. Requests without it are left as they are.
    pub fn resolve(&self, request: &mut Request) -> Result<Option<Registration>, ApqError> {
        let Some(extension) = request.extensions.remove("persistedQuery") else {
            return Ok(None);
        };
        let hash = parse_extension(&extension).ok_or(ApqError::Malformed)?;
        if request.query.is_empty() {
            let mut store = crate::sync::lock(&self.inner);
            let text = store.queries.get(&hash).ok_or(ApqError::NotFound)?;
            request.query = text.to_string();
            return Ok(None);
        }
        if sha256_hex(&request.query) != hash {
            return Err(ApqError::HashMismatch);
        }
        Ok(Some(Registration {
            hash,
            text: Arc::from(request.query.as_str()),
        }))
    }

    /// Keeps a registered text: call it only for a request that parsed, validated and ran.
    pub fn keep(&self, registration: Registration) {
        let mut store = crate::sync::lock(&self.inner);
        if !store.queries.contains(&registration.hash) {
            store.insert(registration.hash, registration.text);
        }
    }

    /// How many queries are kept, and the bytes they are counted as.
    pub fn usage(&self) -> (usize, usize) {
        let store = crate::sync::lock(&self.inner);
        (store.queries.len(), store.bytes)
    }
}

/// A query text sent with its hash, to keep once its request has shown that it runs.
#[derive(Debug, PartialEq, Eq)]
pub struct Registration {
    hash: String,
    text: Arc<str>,
}

impl Store {
    fn insert(&mut self, hash: String, text: Arc<str>) {
        self.bytes += text.len() + ENTRY_OVERHEAD;
        self.queries.put(hash, text);
        while self.bytes > self.max_bytes && self.queries.len() > 1 {
            if let Some((_, evicted)) = self.queries.pop_lru() {
                self.bytes -= evicted.len() + ENTRY_OVERHEAD;
            }
        }
    }
}

/// The hash of a well-formed version-1 extension.
fn parse_extension(value: &Value) -> Option<String> {
    let Value::Object(fields) = value else {
        return None;
    };
    let version_ok =
        matches!(fields.get("version"), Some(Value::Number(n)) if n.as_i64() == Some(1));
    let hash = match fields.get("sha256Hash") {
        Some(Value::String(hash)) => hash,
        _ => return None,
    };
    let well_formed = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (version_ok && well_formed).then(|| hash.clone())
}

/// The hash APQ names a query by: SHA-256 of its text, lowercase hex.
fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use async_graphql::value;

    use super::*;

    fn request(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            "persistedQuery".into(),
            value!({ "version": 1, "sha256Hash": hash }),
        );
        request
    }

    #[tokio::test]
    async fn upstream_apq_still_keeps_texts_that_never_ran() {
        use async_graphql::{
            EmptyMutation, EmptySubscription, Object, Schema,
            extensions::apollo_persisted_queries::{ApolloPersistedQueries, LruCacheStorage},
        };

        struct Query;

        #[Object]
        impl Query {
            async fn a(&self) -> i32 {
                1
            }
        }

        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(ApolloPersistedQueries::new(LruCacheStorage::new(16)))
            .finish();
        // A text that parses but does not validate, registered with its hash.
        let invalid = "{ nothing }";
        let registering = schema.execute(request(invalid, &sha256_hex(invalid))).await;
        assert!(registering.is_err());
        // Upstream kept it: sent by hash alone, it is found (and refused again by validation)
        // rather than unknown.
        let by_hash = schema.execute(request("", &sha256_hex(invalid))).await;
        let messages: Vec<&str> = by_hash.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            !messages.contains(&"PersistedQueryNotFound") && !messages.is_empty(),
            "async-graphql's extension no longer keeps texts that never ran: {messages:?}"
        );
    }

    #[test]
    fn a_hash_is_unknown_until_sent_with_its_text() {
        let store = PersistedQueries::new(1 << 20);
        let query = "{ viewer { workspace { name } } }";
        assert_eq!(
            store.resolve(&mut request("", &sha256_hex(query))),
            Err(ApqError::NotFound)
        );
        let mut registering = request(query, &sha256_hex(query));
        let registration = store
            .resolve(&mut registering)
            .unwrap()
            .expect("a registration");
        assert_eq!(registering.query, query);
        // Not kept until its request has run.
        assert_eq!(
            store.resolve(&mut request("", &sha256_hex(query))),
            Err(ApqError::NotFound)
        );
        store.keep(registration);
        let mut by_hash = request("", &sha256_hex(query));
        store.resolve(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, query);
        assert!(by_hash.extensions.get("persistedQuery").is_none());
    }

    #[test]
    fn a_wrong_hash_or_a_malformed_extension_is_refused() {
        let store = PersistedQueries::new(1 << 20);
        assert_eq!(
            store.resolve(&mut request("{ a }", &sha256_hex("{ b }"))),
            Err(ApqError::HashMismatch)
        );
        for bad in [
            "",
            "abc",
            &sha256_hex("{ a }").to_uppercase(),
            &format!("{}0", sha256_hex("x")),
        ] {
            assert_eq!(
                store.resolve(&mut request("", bad)),
                Err(ApqError::Malformed),
                "{bad}"
            );
        }
        let mut version_2 = Request::new("");
        version_2.extensions.insert(
            "persistedQuery".into(),
            value!({ "version": 2, "sha256Hash": sha256_hex("{ a }") }),
        );
        assert_eq!(store.resolve(&mut version_2), Err(ApqError::Malformed));
        let mut plain = Request::new("{ a }");
        store.resolve(&mut plain).unwrap();
        assert_eq!(plain.query, "{ a }");
    }

    #[test]
    fn the_least_recently_used_queries_go_when_the_store_is_full() {
        let store = PersistedQueries::new(2 * (14 + ENTRY_OVERHEAD) + 10);
        let (a, b, c) = ("{ aaaaaaaaaa }", "{ bbbbbbbbbb }", "{ cccccccccc }");
        let register = |query: &str| {
            let registration = store.resolve(&mut request(query, &sha256_hex(query)));
            store.keep(registration.unwrap().unwrap());
        };
        register(a);
        register(b);
        // Using `a` makes `b` the least recently used.
        store.resolve(&mut request("", &sha256_hex(a))).unwrap();
        register(c);
        assert_eq!(
            store.resolve(&mut request("", &sha256_hex(b))),
            Err(ApqError::NotFound)
        );
        store.resolve(&mut request("", &sha256_hex(a))).unwrap();
        store.resolve(&mut request("", &sha256_hex(c))).unwrap();
    }

    #[test]
    fn many_short_texts_are_counted_with_their_whole_entry() {
        let cap = 64 * 1024;
        let store = PersistedQueries::new(cap);
        for i in 0..10_000 {
            let query = format!("query Q{i} {{ __typename }}");
            let registration = store.resolve(&mut request(&query, &sha256_hex(&query)));
            store.keep(registration.unwrap().unwrap());
        }
        let (kept, bytes) = store.usage();
        assert!(bytes <= cap, "{bytes} bytes counted under a cap of {cap}");
        // Each entry costs at least its overhead: a cap of 64 KiB holds at most 256 entries,
        // not the 2,500 that counting only texts of about 26 bytes would allow.
        assert!(kept <= cap / ENTRY_OVERHEAD, "{kept} entries kept");
        assert!(kept >= cap / (ENTRY_OVERHEAD + 30), "{kept} entries kept");
    }
}
