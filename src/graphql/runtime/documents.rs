//! Parsed queries kept by their text. Clients send the same few operations over and over, and
//! parsing one (async-graphql's parser is built on pest) took more of a small request's time
//! than reading its row from the database.
//!
//! Our own feature, not a workaround: async-graphql keeps no parses. It relies on one upstream
//! behaviour: a request given its parse (`Request::set_parsed_query`) is run from that parse,
//! its text not parsed again (`prepare_request` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/schema.rs>). The test
//! `upstream_still_runs_the_parse_it_is_given` fails if that changes, and this cache would then
//! save nothing.

use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

use crate::sync::lock;

/// Query text kept at most, in bytes, over all kept parses: the cache's memory is bounded by
/// what its texts parse into, a few hundred bytes per token. Typical operations are 100 B to
/// 2 KB, so hundreds of them fit; the least recently used go first.
const BUDGET: usize = 256 * 1024;

/// Longest query text kept, in bytes: every hand-written operation fits.
const LONGEST: usize = 16 * 1024;

/// Parsed queries that passed the limits, by their text.
pub struct Documents {
    kept: Mutex<Kept>,
}

struct Kept {
    parses: lru::LruCache<String, Arc<ExecutableDocument>>,
    /// Bytes of text of the kept parses.
    bytes: usize,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            kept: Mutex::new(Kept {
                parses: lru::LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }
}

impl Documents {
    /// The kept parse of `query`, if any.
    pub fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        lock(&self.kept).parses.get(query).cloned()
    }

    /// Keeps the parse of `query` (unless the text is too long to be worth its memory), making
    /// room by dropping the least recently used.
    pub fn keep(&self, query: &str, document: Arc<ExecutableDocument>) {
        if query.len() > LONGEST {
            return;
        }
        let mut kept = lock(&self.kept);
        if kept.parses.put(query.to_owned(), document).is_none() {
            kept.bytes += query.len();
        }
        while kept.bytes > BUDGET {
            match kept.parses.pop_lru() {
                Some((text, _)) => kept.bytes -= text.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Arc<ExecutableDocument> {
        Arc::new(async_graphql::parser::parse_query(query).unwrap())
    }

    #[tokio::test]
    async fn upstream_still_runs_the_parse_it_is_given() {
        use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema, value};

        struct Query;

        #[Object]
        impl Query {
            async fn a(&self) -> i32 {
                1
            }
            async fn b(&self) -> i32 {
                2
            }
        }

        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let mut request = Request::new("{ a }");
        request.set_parsed_query(async_graphql::parser::parse_query("{ b }").unwrap());
        assert_eq!(
            schema.execute(request).await.data,
            value!({ "b": 2 }),
            "async-graphql now parses the text of a request that comes with its parse"
        );
    }

    #[test]
    fn a_kept_parse_is_found_by_its_exact_text() {
        let documents = Documents::default();
        assert!(documents.get("{ a }").is_none());
        documents.keep("{ a }", parse("{ a }"));
        assert!(documents.get("{ a }").is_some());
        assert!(documents.get("{ a  }").is_none());
    }

    #[test]
    fn long_texts_are_not_kept_and_old_ones_make_room() {
        let documents = Documents::default();
        let long = format!("{{ a {} }}", "b ".repeat(LONGEST));
        documents.keep(&long, parse(&long));
        assert!(documents.get(&long).is_none());
        // Texts of about 8 KB: the budget holds 32 of them.
        let text = |i: usize| format!("{{ f{i} {} }}", "g ".repeat(4000));
        for i in 0..40 {
            documents.keep(&text(i), parse(&text(i)));
        }
        let kept = (0..40)
            .filter(|i| documents.get(&text(*i)).is_some())
            .count();
        assert!((30..=32).contains(&kept), "{kept} kept");
        assert!(documents.get(&text(0)).is_none(), "the oldest went first");
        assert!(documents.get(&text(39)).is_some());
        assert!(lock(&documents.kept).bytes <= BUDGET);
    }
}
