//! Limits every party can rely on. Servers may be configured with other values; these are the
//! defaults a client should assume.

use std::time::Duration;

/// Largest WebSocket message the server accepts by default (8 MiB). Larger ones are answered with
/// close code 1009.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 8 << 20;

/// A peer whose awareness state is not renewed for this long is considered gone (y-protocols uses
/// the same value, and stock clients renew every 15 s).
pub const AWARENESS_TIMEOUT: Duration = Duration::from_secs(30);

/// Deepest nesting of arrays and objects in one awareness state. A presence (a name, a colour, a
/// cursor) needs a handful of levels; a state nested thousands deep would break clients whose JSON
/// parser recurses.
pub const MAX_AWARENESS_DEPTH: usize = 32;

/// The server sends a keepalive message to a connection it has sent nothing to for this long, so that
/// stock clients (which reconnect after 30 s of silence) stay connected.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// The server pings every connection this often...
pub const PING_INTERVAL: Duration = Duration::from_secs(20);

/// ...and closes one it has heard nothing from (no frame, no pong) for this long.
pub const PING_TIMEOUT: Duration = Duration::from_secs(45);
