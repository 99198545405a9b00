//! The Waymark wire protocol, free of any I/O: map ids, the y-websocket message codec, close codes,
//! limits and extension negotiation. The server, the client library and the load generator all speak
//! through this crate; `PROTOCOL.md` beside it is the normative description.

pub mod bounds;
pub mod close;
pub mod ext;
pub mod limits;
pub mod map_id;
pub mod message;
pub mod schema;

pub use close::{CloseCode, Reconnect};
pub use map_id::{MapId, MapIdError};
pub use message::{DecodeError, Message, MessageKind};
