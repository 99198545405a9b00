//! A load generator for y-websocket-compatible servers. It speaks the protocol through
//! `waymark-protocol`, so it can measure Waymark, y-websocket's reference server, y-sweet and
//! Hocuspocus (with its framing) alike.

pub mod conn;
pub mod marker;
pub mod probe;
pub mod report;
pub mod scenario;
pub mod target;
