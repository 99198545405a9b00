//! The transport: HTTP and WebSocket in, the application's rooms, versions and reviews behind.
//!
//! `serve` runs the HTTP/1.1 loop, `routes` maps paths to handlers (the WebSocket endpoint and the
//! operational ones), `upgrade` and `connection` turn a WebSocket into a room's subscriber, `api`
//! is the REST API with its OpenAPI description, `renders` bounds what poster exports may cost, `web`
//! serves the browser editor. Nothing below
//! this module refers back to it.

pub mod api;
mod connection;
mod renders;
mod routes;
mod serve;
mod state;
mod upgrade;
mod web;

#[cfg(feature = "fuzzing")]
pub(crate) use connection::to_inbound;
pub use routes::router;
pub use serve::serve;
pub use state::Shared;
