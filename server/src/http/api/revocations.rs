//! Revocations over REST: an owner of every map revokes a user's or a single token's access, and
//! lists what is revoked. What a revocation does is `crate::revocations`'.

use super::error::ApiResult;
use super::types::Revoke;
use crate::http::Shared;
use crate::refusal::Refusal;
use crate::store::{Revocation, Revoked};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn list(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Value>> {
    let all = shared.store.revocations().await.map_err(Refusal::storage)?;
    Ok(Json(json!({
        "revocations": all.iter().map(describe).collect::<Vec<_>>()
    })))
}

pub async fn revoke(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<Revoke>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(req) = body?;
    let subject = match (req.user, req.token) {
        (Some(user), None) => Revoked::User(bounded("user", user)?),
        (None, Some(token)) => Revoked::Token(bounded("token", token)?),
        _ => {
            return Err(Refusal::invalid(
                "invalid_revocation",
                "give exactly one of `user` (every token issued to them until now) and `token` \
                 (one token's `jti`)",
            )
            .into());
        }
    };
    if req.reason.len() > 1000 {
        return Err(
            Refusal::invalid("invalid_revocation", "`reason` is at most 1000 bytes").into(),
        );
    }
    let revocation = Revocation {
        subject,
        at: i64::try_from(crate::clock::now_secs()).unwrap_or(i64::MAX),
        reason: req.reason,
    };
    shared
        .store
        .revoke(&revocation)
        .await
        .map_err(Refusal::storage)?;
    // This node applies it at once; the others at their next refresh.
    if let Err(e) = shared.revocations.refresh(shared.store.as_ref()).await {
        tracing::warn!(error = %e, "cannot re-read revocations; the next refresh applies this one");
    }
    tracing::info!(revoked = %revocation.subject, reason = %revocation.reason, "access revoked");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "revocation": describe(&revocation),
            "appliesWithinSeconds": crate::revocations::REFRESH.as_secs(),
        })),
    ))
}

fn bounded(field: &str, value: String) -> Result<String, Refusal> {
    match value.len() {
        1..=200 => Ok(value),
        _ => Err(Refusal::invalid(
            "invalid_revocation",
            format!("`{field}` is 1 to 200 bytes"),
        )),
    }
}

fn describe(r: &Revocation) -> Value {
    let (key, value) = match &r.subject {
        Revoked::User(user) => ("user", user),
        Revoked::Token(id) => ("token", id),
    };
    json!({ key: value, "at": r.at, "reason": r.reason })
}
