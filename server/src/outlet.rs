//! The sending half of a connection as rooms see it: a bounded queue drained by the connection's
//! writer, and a kick that closes the connection with a given code.
//!
//! A full queue means the client is not reading fast enough. Dropping the message would leave it
//! silently out of sync, so the connection is closed instead and the client resyncs on reconnect.

use bytes::Bytes;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use waymark_protocol::CloseCode;

pub type ConnId = u64;

/// What a connection's writer sends.
#[derive(Debug)]
pub enum Outbound {
    Frame(Bytes),
    Ping,
}

/// Closes a connection once, with the first code and reason given.
#[derive(Clone, Default)]
pub struct Kick {
    token: CancellationToken,
    reason: Arc<OnceLock<(CloseCode, Cow<'static, str>)>>,
}

impl Kick {
    /// Returns whether this call decided the close (false if the connection was already closing).
    pub fn kick(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) -> bool {
        let first = self.reason.set((code, reason.into())).is_ok();
        self.token.cancel();
        first
    }

    pub async fn kicked(&self) {
        self.token.cancelled().await
    }

    pub fn reason(&self) -> Option<&(CloseCode, Cow<'static, str>)> {
        self.reason.get()
    }
}

/// Why a message could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Gone {
    /// The connection fell behind and this call kicked it.
    Slow,
    /// The connection is closing.
    Closed,
}

#[derive(Clone)]
pub struct Outlet {
    pub conn_id: ConnId,
    tx: mpsc::Sender<Outbound>,
    kick: Kick,
    /// The client negotiated the `events` extension.
    pub events: bool,
    /// The client negotiated the `workshop` extension.
    pub workshop: bool,
    /// What the client may do in the map.
    pub role: crate::auth::Role,
    /// The authenticated user's display name (or id), for the activity record.
    pub user: Option<String>,
    /// The authenticated user's id (the token's subject).
    pub subject: Option<String>,
}

impl Outlet {
    pub fn new(conn_id: ConnId, capacity: usize) -> (Self, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(capacity);
        let outlet = Outlet {
            conn_id,
            tx,
            kick: Kick::default(),
            events: false,
            workshop: false,
            role: crate::auth::Role::Owner,
            user: None,
            subject: None,
        };
        (outlet, rx)
    }

    pub fn kick(&self) -> &Kick {
        &self.kick
    }

    /// Queues a frame without waiting; a full queue kicks the connection.
    pub fn send(&self, frame: Bytes) -> Result<(), Gone> {
        self.push(Outbound::Frame(frame))
    }

    pub fn ping(&self) -> Result<(), Gone> {
        self.push(Outbound::Ping)
    }

    fn push(&self, out: Outbound) -> Result<(), Gone> {
        match self.tx.try_send(out) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                let first = self.kick.kick(
                    CloseCode::TryAgainLater,
                    "fell behind: too many unsent messages; reconnect to resync",
                );
                Err(if first { Gone::Slow } else { Gone::Closed })
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Gone::Closed),
        }
    }
}
