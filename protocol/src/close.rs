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
    /// The client broke a rule of the server: a presence (awareness) message over its size limit.
    PolicyViolation = 1008,
    /// A message larger than the server's limit.
    MessageTooBig = 1009,
    /// The server failed (for example, storage is unavailable).
    InternalError = 1011,
    /// The client did not read its messages fast enough and fell behind.
    TryAgainLater = 1013,
    /// Nothing was heard from the client (not even a pong) within the ping deadline.
    PingTimeout = 4000,
    /// The client's token expired during the session: reconnect with a new one.
    TokenExpired = 4001,
    /// The user's access was revoked during the session: tokens issued before cannot reconnect.
    AccessRevoked = 4003,
    /// The map was deleted. Reconnecting would start a new, empty map with the same id.
    MapDeleted = 4004,
    /// The client sent nothing for longer than the server's idle timeout.
    Idle = 4008,
    /// An update would have made the map larger than the server's limit; it was not applied.
    MapTooLarge = 4009,
    /// The client sent messages, bytes or presence updates faster than the server's limits allow.
    RateLimited = 4029,
}

impl CloseCode {
    pub const ALL: [CloseCode; 16] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::UnsupportedData,
        CloseCode::InvalidPayload,
        CloseCode::PolicyViolation,
        CloseCode::MessageTooBig,
        CloseCode::InternalError,
        CloseCode::TryAgainLater,
        CloseCode::PingTimeout,
        CloseCode::TokenExpired,
        CloseCode::AccessRevoked,
        CloseCode::MapDeleted,
        CloseCode::Idle,
        CloseCode::MapTooLarge,
        CloseCode::RateLimited,
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
            | CloseCode::PolicyViolation
            | CloseCode::MessageTooBig
            | CloseCode::TokenExpired
            | CloseCode::AccessRevoked
            | CloseCode::MapDeleted
            | CloseCode::MapTooLarge => Reconnect::No,
            CloseCode::Normal
            | CloseCode::GoingAway
            | CloseCode::InternalError
            | CloseCode::TryAgainLater
            | CloseCode::PingTimeout
            | CloseCode::Idle
            | CloseCode::RateLimited => Reconnect::Yes,
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
            CloseCode::PolicyViolation => "policy_violation",
            CloseCode::MessageTooBig => "message_too_big",
            CloseCode::InternalError => "internal_error",
            CloseCode::TryAgainLater => "try_again_later",
            CloseCode::PingTimeout => "ping_timeout",
            CloseCode::TokenExpired => "token_expired",
            CloseCode::AccessRevoked => "access_revoked",
            CloseCode::MapDeleted => "map_deleted",
            CloseCode::Idle => "idle",
            CloseCode::MapTooLarge => "map_too_large",
            CloseCode::RateLimited => "rate_limited",
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
