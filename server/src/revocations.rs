//! Revoked access: the users whose earlier tokens, and the single tokens, that no longer grant
//! anything, as this node knows them, refreshed from the store every few seconds so that a revocation made anywhere (another
//! node, `waymark revoke`) takes effect on every node without a restart.

use crate::auth::Access;
use crate::store::{Revocation, Revoked, Store};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// How often the list is read again from the store: how long a revocation made elsewhere takes to
/// reach this node's new requests. Open connections notice it at their next timer tick (at most
/// a third of the keepalive interval later).
pub const REFRESH: Duration = Duration::from_secs(2);

/// The revocations in force.
#[derive(Debug, Default)]
pub struct Revocations {
    known: RwLock<Known>,
}

#[derive(Debug, Default)]
struct Known {
    /// User id → their tokens issued before this time (seconds) are refused.
    users: HashMap<String, i64>,
    /// Ids (`jti`) of single tokens refused.
    tokens: HashSet<String>,
}

impl Revocations {
    /// Whether `access` was revoked: the token itself by its id, or its user's tokens issued
    /// before the revocation, including every token of theirs that does not say when it was
    /// issued.
    pub fn refuses(&self, access: &Access) -> bool {
        let Some(user) = &access.user else {
            return false;
        };
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        if access
            .token_id
            .as_ref()
            .is_some_and(|id| known.tokens.contains(id))
        {
            return true;
        }
        known.users.get(user).is_some_and(|&before| {
            access
                .issued_at
                .is_none_or(|iat| i64::try_from(iat).unwrap_or(i64::MAX) < before)
        })
    }

    /// Replaces what this node knows with the store's list.
    pub fn replace(&self, list: Vec<Revocation>) {
        let mut known = Known::default();
        for r in list {
            match r.subject {
                Revoked::User(user) => {
                    known.users.insert(user, r.at);
                }
                Revoked::Token(id) => {
                    known.tokens.insert(id);
                }
            }
        }
        *self.known.write().unwrap_or_else(|e| e.into_inner()) = known;
    }

    /// Reads the list from the store now.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), crate::store::StoreError> {
        self.replace(store.revocations().await?);
        Ok(())
    }
}

/// Keeps `revocations` in step with the store until `shutdown`.
pub async fn follow(
    revocations: Arc<Revocations>,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(REFRESH) => {}
        }
        if let Err(e) = revocations.refresh(store.as_ref()).await {
            warn!(error = %e, "cannot read revocations; keeping the last list");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, Scope};

    fn access(user: &str, issued_at: Option<u64>) -> Access {
        with_id(user, issued_at, None)
    }

    fn with_id(user: &str, issued_at: Option<u64>, token_id: Option<&str>) -> Access {
        Access {
            user: Some(user.into()),
            name: None,
            role: Role::Editor,
            scope: Scope::All,
            expires: None,
            issued_at,
            token_id: token_id.map(Into::into),
        }
    }

    #[test]
    fn tokens_issued_before_the_revocation_are_refused() {
        let r = Revocations::default();
        r.replace(vec![Revocation {
            subject: Revoked::User("ana".into()),
            at: 1000,
            reason: String::new(),
        }]);
        assert!(r.refuses(&access("ana", Some(999))));
        assert!(r.refuses(&access("ana", None)), "no iat: cannot be newer");
        assert!(!r.refuses(&access("ana", Some(1000))));
        assert!(!r.refuses(&access("bob", Some(1))));
        assert!(!r.refuses(&Access::anonymous()));
    }

    #[test]
    fn a_revoked_token_is_refused_and_no_other() {
        let r = Revocations::default();
        r.replace(vec![Revocation {
            subject: Revoked::Token("t-1".into()),
            at: 1000,
            reason: String::new(),
        }]);
        assert!(
            r.refuses(&with_id("ana", Some(5000), Some("t-1"))),
            "whenever issued"
        );
        assert!(!r.refuses(&with_id("ana", Some(5000), Some("t-2"))));
        assert!(!r.refuses(&access("ana", None)), "the user is not revoked");
    }
}
