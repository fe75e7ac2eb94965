//! Parsed queries kept by their text. Clients send the same few operations over and over, and
//! parsing one (async-graphql's parser is built on pest) took more of a small request's time
//! than reading its row from the database.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_graphql::parser::types::ExecutableDocument;

/// Distinct query texts kept at most; beyond this the least recently used go.
const KEPT: NonZeroUsize = NonZeroUsize::new(512).unwrap();

/// Longest query text kept, in bytes: a bound on the memory the cache holds (a parse takes
/// several times its text) that every hand-written operation fits in.
const LONGEST: usize = 16 * 1024;

/// Parsed queries that passed the limits, by their text.
pub struct Documents {
    kept: Mutex<lru::LruCache<String, Arc<ExecutableDocument>>>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            kept: Mutex::new(lru::LruCache::new(KEPT)),
        }
    }
}

impl Documents {
    /// The kept parse of `query`, if any.
    pub fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        self.lock().get(query).cloned()
    }

    /// Keeps the parse of `query` (unless the text is too long to be worth its memory).
    pub fn keep(&self, query: &str, document: Arc<ExecutableDocument>) {
        if query.len() <= LONGEST {
            self.lock().put(query.to_owned(), document);
        }
    }

    fn lock(&self) -> MutexGuard<'_, lru::LruCache<String, Arc<ExecutableDocument>>> {
        // Nothing panics while holding it; a poisoned cache is still a sound cache.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Arc<ExecutableDocument> {
        Arc::new(async_graphql::parser::parse_query(query).unwrap())
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
        for i in 0..=KEPT.get() {
            let query = format!("{{ f{i} }}");
            documents.keep(&query, parse(&query));
        }
        assert!(documents.get("{ f0 }").is_none());
        assert!(documents.get(&format!("{{ f{} }}", KEPT.get())).is_some());
    }
}
