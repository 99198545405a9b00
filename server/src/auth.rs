//! Who may do what: signed tokens (JWT), the roles they grant, and the maps they cover.
//!
//! A token is verified with a server secret (HS256) or a public key (RS*/PS*, ES256/ES384, EdDSA),
//! then turned into an [`Access`]: the caller's identity, role and map scope. Without a key the
//! server runs anonymously and every caller is an owner of every map; `serve` only allows that on
//! a loopback address unless told otherwise (see `config`).

use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use waymark_protocol::MapId;

/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key at least as long as the hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock skew tolerated between the token's issuer and this server.
const LEEWAY_SECS: u64 = 30;

/// What a token lets its holder do, in increasing order: each role can do everything the ones
/// before it can.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the map and sees (and shows) presence.
    Viewer,
    /// A viewer who may also write comments (the `comments` root, SCHEMA.md §5.13).
    Commenter,
    /// Edits the map.
    Editor,
    /// An editor who also takes and restores versions and submits them for review.
    Facilitator,
    /// Everything, including review decisions and deleting the map.
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Commenter => "commenter",
            Role::Editor => "editor",
            Role::Facilitator => "facilitator",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of a Waymark token (PROTOCOL.md §1.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id: recorded as author of versions, decisions and activity.
    pub sub: String,
    /// The user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The maps covered: one map id, a prefix ending in `*` (`acme-*`), or `*` for all.
    pub maps: String,
    pub role: Role,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch; one in the future is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not valid before this time, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The token's own id, by which this one token can be revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The maps a token covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Prefix(String),
    One(MapId),
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, String> {
        if s == "*" {
            return Ok(Scope::All);
        }
        if let Some(prefix) = s.strip_suffix('*') {
            // A prefix must be the start of some valid id.
            return MapId::parse(&format!("{prefix}x"))
                .map(|_| Scope::Prefix(prefix.to_owned()))
                .map_err(|e| format!("{s:?} is not a map id prefix: {e}"));
        }
        MapId::parse(s)
            .map(Scope::One)
            .map_err(|e| format!("{s:?} is not a map id or prefix pattern: {e}"))
    }

    pub fn covers(&self, map: &MapId) -> bool {
        match self {
            Scope::All => true,
            Scope::Prefix(p) => map.as_str().starts_with(p.as_str()),
            Scope::One(id) => id == map,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Prefix(p) => write!(f, "{p}*"),
            Scope::One(id) => f.write_str(id.as_str()),
        }
    }
}

/// A caller, once authenticated.
#[derive(Debug, Clone)]
pub struct Access {
    /// The token's subject; `None` when the server runs without authentication.
    pub user: Option<String>,
    /// The token's display name.
    pub name: Option<String>,
    pub role: Role,
    pub scope: Scope,
    /// When the token expires (seconds since the Unix epoch).
    pub expires: Option<u64>,
    /// When the token was issued (its `iat`), if it says: a revocation covers the tokens a user
    /// was issued before it.
    pub issued_at: Option<u64>,
    /// The token's id (its `jti`), if it has one: the handle for revoking this token alone.
    pub token_id: Option<String>,
}

impl Access {
    /// Everyone, on a server without authentication.
    pub fn anonymous() -> Access {
        Access {
            user: None,
            name: None,
            role: Role::Owner,
            scope: Scope::All,
            expires: None,
            issued_at: None,
            token_id: None,
        }
    }

    /// Succeeds if this caller may act on `map` with at least `role`.
    pub fn require(&self, map: &MapId, role: Role) -> Result<(), AuthError> {
        if !self.scope.covers(map) {
            return Err(AuthError::NotCovered {
                map: map.as_str().to_owned(),
                scope: self.scope.to_string(),
            });
        }
        if self.role < role {
            return Err(AuthError::Role {
                need: role,
                have: self.role,
            });
        }
        Ok(())
    }

    /// Succeeds if this caller owns every map (`*`): what acting on the whole server needs.
    pub fn require_operator(&self) -> Result<(), AuthError> {
        if self.scope != Scope::All {
            return Err(AuthError::NotCovered {
                map: "*".into(),
                scope: self.scope.to_string(),
            });
        }
        if self.role < Role::Owner {
            return Err(AuthError::Role {
                need: Role::Owner,
                have: self.role,
            });
        }
        Ok(())
    }

    /// Who did it, for records: the display name (or else the user id) when authenticated.
    pub fn author(&self) -> Option<String> {
        self.name.clone().or_else(|| self.user.clone())
    }
}

/// Why a caller was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "this server requires a token: pass it as the `token` query parameter or an \
         `Authorization: Bearer` header"
    )]
    Missing,
    #[error("the token has expired")]
    Expired,
    #[error("this token's access was revoked; sign in again for a new token")]
    Revoked,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the token covers maps {scope:?}, not {map:?}")]
    NotCovered { map: String, scope: String },
    #[error("this needs the {need} role; the token grants {have}")]
    Role { need: Role, have: Role },
    #[error("requests from origin {0:?} are not allowed")]
    Origin(String),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing
            | AuthError::Expired
            | AuthError::Revoked
            | AuthError::Invalid(_) => StatusCode::UNAUTHORIZED,
            AuthError::NotCovered { .. } | AuthError::Role { .. } | AuthError::Origin(_) => {
                StatusCode::FORBIDDEN
            }
        }
    }

    /// The stable error code of the JSON answer, also the metric label.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "token_missing",
            AuthError::Expired => "token_expired",
            AuthError::Revoked => "token_revoked",
            AuthError::Invalid(_) => "token_invalid",
            AuthError::NotCovered { .. } => "map_not_covered",
            AuthError::Role { .. } => "role_insufficient",
            AuthError::Origin(_) => "origin_not_allowed",
        }
    }
}

/// A key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the secret is {0} bytes; use at least {MIN_SECRET_BYTES} random bytes")]
    ShortSecret(usize),
    #[error("not a PEM-encoded RSA, EC (P-256/P-384) or Ed25519 key")]
    Pem,
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
}

/// Reads a PEM key file.
pub fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|error| KeyError::Read {
        path: path.display().to_string(),
        error,
    })
}

/// Checks tokens.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

fn validation(algorithms: &[Algorithm]) -> Validation {
    let mut v = Validation::new(algorithms[0]);
    v.algorithms = algorithms.to_vec();
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.required_spec_claims = HashSet::from(["exp".to_owned(), "sub".to_owned()]);
    v
}

const RSA: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

impl Verifier {
    /// Verifies HS256 tokens signed with `secret`.
    pub fn secret(secret: &[u8]) -> Result<Verifier, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::ShortSecret(secret.len()));
        }
        Ok(Verifier {
            key: DecodingKey::from_secret(secret),
            validation: validation(&[Algorithm::HS256]),
        })
    }

    /// Verifies tokens signed with the private half of a PEM public key; the key's type decides
    /// the algorithms accepted.
    pub fn public_key(pem: &[u8]) -> Result<Verifier, KeyError> {
        let (key, algorithms): (DecodingKey, &[Algorithm]) =
            if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
                (key, RSA)
            } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
                (key, &[Algorithm::EdDSA])
            } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
                (key, &[Algorithm::ES256, Algorithm::ES384])
            } else {
                return Err(KeyError::Pem);
            };
        Ok(Verifier {
            key,
            validation: validation(algorithms),
        })
    }

    /// The caller a token stands for.
    pub fn verify(&self, token: &str) -> Result<Access, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => {
                    AuthError::Invalid("the token is not valid yet (claim `nbf`)".into())
                }
                ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
                ErrorKind::InvalidAlgorithm => AuthError::Invalid(format!(
                    "signed with an algorithm this server does not accept (accepted: {:?})",
                    self.validation.algorithms
                )),
                _ => AuthError::Invalid(e.to_string()),
            })?
            .claims;
        // A token issued in the future comes from a broken or forged issuer (or a clock that is
        // badly off): nothing it says about its lifetime can be trusted.
        if claims
            .iat
            .is_some_and(|iat| iat > crate::clock::now_secs() + LEEWAY_SECS)
        {
            return Err(AuthError::Invalid(
                "claim `iat` is in the future: check the issuer's clock".into(),
            ));
        }
        let scope = Scope::parse(&claims.maps)
            .map_err(|e| AuthError::Invalid(format!("claim `maps`: {e}")))?;
        if claims.sub.is_empty() || claims.sub.len() > 200 {
            return Err(AuthError::Invalid(
                "claim `sub` must be 1 to 200 bytes".into(),
            ));
        }
        if claims
            .jti
            .as_ref()
            .is_some_and(|j| j.is_empty() || j.len() > 200)
        {
            return Err(AuthError::Invalid(
                "claim `jti` must be 1 to 200 bytes".into(),
            ));
        }
        let name = claims
            .name
            .map(|n| n.trim().chars().take(200).collect::<String>())
            .filter(|n| !n.is_empty());
        Ok(Access {
            user: Some(claims.sub),
            name,
            role: claims.role,
            scope,
            expires: Some(claims.exp),
            issued_at: claims.iat,
            token_id: claims.jti,
        })
    }
}

/// A new, random token id (`jti`): 128 bits in hex.
pub fn token_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Signs tokens (`waymark token`, tests).
pub struct Signer {
    key: EncodingKey,
    algorithm: Algorithm,
}

impl Signer {
    pub fn secret(secret: &[u8]) -> Result<Signer, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::ShortSecret(secret.len()));
        }
        Ok(Signer {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
        })
    }

    /// Signs with a PEM private key: RS256 for RSA, ES256 or ES384 for EC, EdDSA for Ed25519.
    pub fn private_key(pem: &[u8]) -> Result<Signer, KeyError> {
        if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
            return Ok(Signer {
                key,
                algorithm: Algorithm::RS256,
            });
        }
        if let Ok(key) = EncodingKey::from_ed_pem(pem) {
            return Ok(Signer {
                key,
                algorithm: Algorithm::EdDSA,
            });
        }
        let text = String::from_utf8_lossy(pem);
        if let Ok(key) = EncodingKey::from_ec_pem(pem) {
            // P-384 keys carry their curve's OID (1.3.132.0.34), base64 "BgUrgQQAIg".
            let algorithm = if text.contains("BgUrgQQAIg") {
                Algorithm::ES384
            } else {
                Algorithm::ES256
            };
            return Ok(Signer { key, algorithm });
        }
        Err(KeyError::Pem)
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.key)
    }
}

/// How this server authenticates callers.
#[derive(Debug, Default)]
pub struct Auth {
    /// `None`: no authentication, every caller is an owner.
    pub verifier: Option<Verifier>,
    /// Browser origins allowed besides the server's own; `None` allows every origin.
    pub allowed_origins: Option<Vec<String>>,
}

impl Auth {
    pub fn enabled(&self) -> bool {
        self.verifier.is_some()
    }

    /// The caller presenting `token`.
    pub fn authenticate(&self, token: Option<&str>) -> Result<Access, AuthError> {
        match (&self.verifier, token) {
            (None, _) => Ok(Access::anonymous()),
            (Some(_), None) => Err(AuthError::Missing),
            (Some(v), Some(token)) => v.verify(token),
        }
    }

    /// The caller of a request: its bearer token, else `query_token` (WebSocket clients that cannot
    /// set headers), authenticated.
    pub fn caller(
        &self,
        headers: &HeaderMap,
        query_token: Option<&str>,
    ) -> Result<Access, AuthError> {
        let token = bearer(headers)?.or(query_token);
        self.authenticate(token)
    }

    /// Refuses a browser request from an origin that is neither the server's own nor listed.
    /// Requests without an `Origin` header (not from a browser page) pass.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let Some(allowed) = &self.allowed_origins else {
            return Ok(());
        };
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or("").trim();
        let normalized = normalize_origin(origin);
        if allowed.contains(&normalized) {
            return Ok(());
        }
        // Same origin: the page was served by this server (its host and port are the Host header).
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase);
        let origin_host = normalized.split_once("://").map(|(_, h)| h);
        if host.is_some() && origin_host == host.as_deref() {
            return Ok(());
        }
        Err(AuthError::Origin(origin.chars().take(200).collect()))
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, lower case, no trailing slash.
pub fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The bearer token of an `Authorization` header; `Err` for a header that is not one.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Invalid("the Authorization header is not text".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(AuthError::Invalid(
            "the Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
