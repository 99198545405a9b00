//! WebSocket framing (RFC 6455 §5) for the server side of a connection: reading client frames
//! into messages with the close code each violation earns, and encoding server frames.
//!
//! The server owns its sockets' I/O instead of going through a WebSocket stream type so that a
//! room can write a broadcast straight into each connection's socket (see `outlet`), and so that
//! an idle connection holds no read buffer at all. Only the framing lives here: no I/O, no tasks.

pub mod frame;
pub mod reader;

pub use reader::{Event, Reader, Violation};
