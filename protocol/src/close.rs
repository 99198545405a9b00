//! WebSocket close codes the server uses, and what a client should do on each.

/// What a client should do after the server closed its connection with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// Reconnect (with jittered backoff) and resynchronise; nothing is lost.
    Yes,
    /// Do not reconnect automatically: the client sent something the server will reject again.
    No,
}

/// Close codes sent by a Waymark server. Standard codes (RFC 6455 §7.4.1) are used where their
/// meaning fits; 4000–4099 are Waymark's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CloseCode {
    /// The server or the client ended the session normally.
    Normal = 1000,
    /// The server is shutting down or restarting.
    GoingAway = 1001,
    /// A malformed or truncated message.
    ProtocolError = 1002,
    /// A text frame, or a message type the server does not know or did not negotiate.
    UnsupportedData = 1003,
    /// A document update that cannot be decoded or applied.
    InvalidPayload = 1007,
    /// A message larger than the server's limit.
    MessageTooBig = 1009,
    /// The server failed (for example, storage is unavailable).
    InternalError = 1011,
    /// The client did not read its messages fast enough and fell behind.
    TryAgainLater = 1013,
    /// Nothing was heard from the client (not even a pong) within the ping deadline.
    PingTimeout = 4000,
    /// The map was deleted. Reconnecting would start a new, empty map with the same id.
    MapDeleted = 4004,
}

impl CloseCode {
    pub const ALL: [CloseCode; 10] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::UnsupportedData,
        CloseCode::InvalidPayload,
        CloseCode::MessageTooBig,
        CloseCode::InternalError,
        CloseCode::TryAgainLater,
        CloseCode::PingTimeout,
        CloseCode::MapDeleted,
    ];

    pub fn code(self) -> u16 {
        self as u16
    }

    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether a client should reconnect after this close.
    pub fn reconnect(self) -> Reconnect {
        match self {
            CloseCode::ProtocolError
            | CloseCode::UnsupportedData
            | CloseCode::InvalidPayload
            | CloseCode::MessageTooBig
            | CloseCode::MapDeleted => Reconnect::No,
            CloseCode::Normal
            | CloseCode::GoingAway
            | CloseCode::InternalError
            | CloseCode::TryAgainLater
            | CloseCode::PingTimeout => Reconnect::Yes,
        }
    }

    /// A short, stable label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            CloseCode::Normal => "normal",
            CloseCode::GoingAway => "going_away",
            CloseCode::ProtocolError => "protocol_error",
            CloseCode::UnsupportedData => "unsupported_data",
            CloseCode::InvalidPayload => "invalid_payload",
            CloseCode::MessageTooBig => "message_too_big",
            CloseCode::InternalError => "internal_error",
            CloseCode::TryAgainLater => "try_again_later",
            CloseCode::PingTimeout => "ping_timeout",
            CloseCode::MapDeleted => "map_deleted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(c.code()), Some(c));
        }
        assert_eq!(CloseCode::from_code(1006), None);
    }
}
