//! The workspaces' rules as compiled (parsed, with the order they are evaluated in), kept in
//! memory for as long as their version (`workspace.rules_version`) stays the same: a write that
//! follows rules reads the version (a statement it needs anyway, for the lock) instead of every
//! rule, and parses none. The version is the database's, so every instance serving one database
//! sees a rule change at once.

use std::{
    any::Any,
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// What the cache holds for a workspace: the compiled rules, of whatever type the rules module
/// gives them (this module names no other, so that the event hub can hold it).
type Compiled = Arc<dyn Any + Send + Sync>;

/// Compiled rules by workspace, each with the version it was compiled at.
#[derive(Default)]
pub struct RuleCache {
    kept: Mutex<HashMap<i64, (i64, Compiled)>>,
}

impl RuleCache {
    /// The rules kept for `workspace`, if they were compiled at `version`.
    pub fn get<T: Any + Send + Sync>(&self, workspace: i64, version: i64) -> Option<Arc<T>> {
        let kept = self
            .kept
            .lock()
            .expect("never poisoned: no code panics holding it");
        kept.get(&workspace)
            .filter(|(at, _)| *at == version)
            .and_then(|(_, rules)| rules.clone().downcast().ok())
    }

    /// Keeps `rules`, compiled at `version`, for `workspace` (unless newer ones are kept).
    pub fn keep<T: Any + Send + Sync>(&self, workspace: i64, version: i64, rules: Arc<T>) {
        let mut kept = self
            .kept
            .lock()
            .expect("never poisoned: no code panics holding it");
        match kept.get(&workspace) {
            Some((at, _)) if *at > version => {}
            _ => {
                kept.insert(workspace, (version, rules));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_rules_are_those_of_the_version_asked_for() {
        let cache = RuleCache::default();
        assert!(cache.get::<&str>(1, 0).is_none());
        cache.keep(1, 3, Arc::new("three"));
        assert_eq!(cache.get::<&str>(1, 3).as_deref(), Some(&"three"));
        assert!(
            cache.get::<&str>(1, 4).is_none(),
            "a newer version is compiled again"
        );
        assert!(cache.get::<&str>(2, 3).is_none(), "workspaces are apart");
        cache.keep(1, 2, Arc::new("two"));
        assert_eq!(
            cache.get::<&str>(1, 3).as_deref(),
            Some(&"three"),
            "an older compilation does not replace a newer one"
        );
        cache.keep(1, 4, Arc::new("four"));
        assert_eq!(cache.get::<&str>(1, 4).as_deref(), Some(&"four"));
    }
}
