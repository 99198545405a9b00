//! What the server itself asks of a map (the REST API): its own updates applied like a client's,
//! a version written over the map as ordinary edits, and deleting the map.

use super::{ApplyError, Poisoned, Rejected, Room, Source};
use crate::cluster::wire::Kind;
use crate::store::StoreError;
use tracing::error;
use waymark_protocol::CloseCode;
use waymark_protocol::schema::{self, JourneyMap, diff};
use yrs::{Doc, ReadTxn, StateVector, Transact};

impl Room {
    /// Applies an update made by the server; durable when it returns.
    pub(super) async fn apply_server_update(
        &mut self,
        update: &[u8],
        only_if_empty: bool,
    ) -> Result<Result<(), ApplyError>, Poisoned> {
        if only_if_empty && !self.doc.transact().state_vector().is_empty() {
            return Ok(Err(ApplyError::Exists));
        }
        if let Err(e) = self.check_size(update.len()) {
            return Ok(Err(e));
        }
        // Another node's room may have found the map empty as well: the store decides who
        // creates it.
        if only_if_empty {
            match self.services.store.claim(&self.map).await {
                Ok(true) => {}
                Ok(false) => return Ok(Err(ApplyError::Exists)),
                Err(e) => {
                    error!(error = %e, "cannot create the map");
                    return Err(Poisoned("storage unavailable; reconnect later"));
                }
            }
        }
        let result = self.integrate(Source::Server, update)?;
        self.flush().await?;
        if only_if_empty && result.is_err() {
            // Nothing was created after all: free the id again.
            let _ = self.services.store.delete(&self.map).await;
        }
        Ok(result.map_err(ApplyError::Invalid))
    }

    /// Turns the map into `target` with ordinary edits that touch only what differs, so editors
    /// stay connected and their concurrent edits to other entities survive; durable when it
    /// returns.
    pub(super) async fn restore(
        &mut self,
        target: &JourneyMap,
    ) -> Result<Result<diff::Summary, ApplyError>, Poisoned> {
        // The edits a restore makes are at most the restored map written out whole.
        let scratch = Doc::new();
        // (Two statements: a read transaction must not be opened while the write one of the same
        // statement is still alive.)
        let written = schema::write(&mut scratch.transact_mut(), target);
        let written = match written {
            Ok(()) => scratch
                .transact()
                .encode_state_as_update_v1(&StateVector::default())
                .len(),
            Err(_) => 0,
        };
        if let Err(e) = self.check_size(written) {
            return Ok(Err(e));
        }
        let current = schema::read(&self.doc.transact()).map;
        let result = {
            let mut txn = self.doc.transact_mut();
            schema::write_over(&mut txn, &current, target)
        };
        self.take_applied(Source::Server);
        self.flush().await?;
        Ok(result.map(|d| d.summary).map_err(|e| {
            ApplyError::Invalid(Rejected {
                reason: "the version cannot be written over the map",
                error: e.to_string(),
            })
        }))
    }

    /// Closes every connection (on every node) and deletes the map from storage.
    pub(super) async fn delete(&mut self) -> Result<bool, StoreError> {
        self.kick_all(CloseCode::MapDeleted, "this map was deleted");
        let result = self.services.store.delete(&self.map).await;
        if result.is_ok() {
            self.publish(Kind::Deleted, &[]);
        }
        self.deleted = true;
        result
    }
}
