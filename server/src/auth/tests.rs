//! Tests of tokens, scopes and roles.

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn claims(maps: &str, role: Role, exp: u64) -> Claims {
    Claims {
        sub: "u1".into(),
        name: Some("Ana".into()),
        maps: maps.into(),
        role,
        exp,
        iat: None,
        nbf: None,
        jti: None,
    }
}

fn later() -> u64 {
    crate::clock::now_secs() + 3600
}

#[test]
fn roles_are_ordered() {
    assert!(Role::Viewer < Role::Commenter);
    assert!(Role::Commenter < Role::Editor);
    assert!(Role::Editor < Role::Facilitator);
    assert!(Role::Facilitator < Role::Owner);
}

#[test]
fn scopes() {
    let id = |s| MapId::parse(s).unwrap();
    assert!(Scope::parse("*").unwrap().covers(&id("x")));
    let p = Scope::parse("acme-*").unwrap();
    assert!(p.covers(&id("acme-1")) && !p.covers(&id("other")));
    let one = Scope::parse("checkout").unwrap();
    assert!(one.covers(&id("checkout")) && !one.covers(&id("checkout2")));
    assert!(Scope::parse("").is_err());
    assert!(Scope::parse("a b").is_err());
    assert!(Scope::parse("-*").is_err());
}

#[test]
fn round_trip_and_refusals() {
    let signer = Signer::secret(SECRET).unwrap();
    let verifier = Verifier::secret(SECRET).unwrap();
    let token = signer
        .sign(&claims("acme-*", Role::Editor, later()))
        .unwrap();
    let access = verifier.verify(&token).unwrap();
    assert_eq!(access.user.as_deref(), Some("u1"));
    assert_eq!(access.role, Role::Editor);
    let map = MapId::parse("acme-1").unwrap();
    assert!(access.require(&map, Role::Editor).is_ok());
    assert_eq!(
        access.require(&map, Role::Owner).unwrap_err().code(),
        "role_insufficient"
    );
    assert_eq!(
        access
            .require(&MapId::parse("x").unwrap(), Role::Viewer)
            .unwrap_err()
            .code(),
        "map_not_covered"
    );

    let expired = signer.sign(&claims("*", Role::Owner, 1000)).unwrap();
    assert_eq!(verifier.verify(&expired).unwrap_err(), AuthError::Expired);

    let early = signer
        .sign(&Claims {
            nbf: Some(later()),
            ..claims("*", Role::Owner, later() + 60)
        })
        .unwrap();
    let refused = verifier.verify(&early).unwrap_err();
    assert_eq!(refused.code(), "token_invalid");
    assert!(refused.to_string().contains("nbf"), "{refused}");
    let started = signer
        .sign(&Claims {
            nbf: Some(crate::clock::now_secs() - 5),
            ..claims("*", Role::Owner, later())
        })
        .unwrap();
    assert!(verifier.verify(&started).is_ok());
    let from_the_future = signer
        .sign(&Claims {
            iat: Some(later()),
            ..claims("*", Role::Owner, later() + 60)
        })
        .unwrap();
    let refused = verifier.verify(&from_the_future).unwrap_err();
    assert!(refused.to_string().contains("iat"), "{refused}");
    let within_skew = signer
        .sign(&Claims {
            iat: Some(crate::clock::now_secs() + 10),
            ..claims("*", Role::Owner, later())
        })
        .unwrap();
    assert!(verifier.verify(&within_skew).is_ok());

    let other = Signer::secret(b"another secret of thirty-two bytes!").unwrap();
    let forged = other.sign(&claims("*", Role::Owner, later())).unwrap();
    assert_eq!(
        verifier.verify(&forged).unwrap_err().code(),
        "token_invalid"
    );

    // Changing the payload breaks the signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    assert_eq!(
        verifier.verify(&parts.join(".")).unwrap_err().code(),
        "token_invalid"
    );
    assert_eq!(
        verifier.verify("garbage").unwrap_err().code(),
        "token_invalid"
    );

    let bad_scope = signer
        .sign(&claims("no spaces", Role::Owner, later()))
        .unwrap();
    assert!(matches!(
        verifier.verify(&bad_scope).unwrap_err(),
        AuthError::Invalid(m) if m.contains("maps")
    ));
}

#[test]
fn unsigned_tokens_are_refused() {
    // {"alg":"none"} with valid-looking claims.
    let header = "eyJhbGciOiJub25lIn0";
    let body = "eyJzdWIiOiJ1MSIsIm1hcHMiOiIqIiwicm9sZSI6Im93bmVyIiwiZXhwIjo5OTk5OTk5OTk5fQ";
    let verifier = Verifier::secret(SECRET).unwrap();
    assert_eq!(
        verifier
            .verify(&format!("{header}.{body}."))
            .unwrap_err()
            .code(),
        "token_invalid"
    );
}

#[test]
fn short_secrets_are_refused() {
    assert!(matches!(
        Verifier::secret(b"short"),
        Err(KeyError::ShortSecret(5))
    ));
}

#[test]
fn origins() {
    let auth = Auth {
        verifier: None,
        allowed_origins: Some(vec!["https://maps.example.com".into()]),
    };
    let headers = |origin: &str| {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h.insert(header::HOST, "waymark.example.com:8080".parse().unwrap());
        h
    };
    assert!(
        auth.check_origin(&headers("https://maps.example.com"))
            .is_ok()
    );
    assert!(
        auth.check_origin(&headers("HTTPS://Maps.example.com/"))
            .is_ok()
    );
    assert!(
        auth.check_origin(&headers("https://waymark.example.com:8080"))
            .is_ok()
    );
    assert_eq!(
        auth.check_origin(&headers("https://evil.example"))
            .unwrap_err()
            .code(),
        "origin_not_allowed"
    );
    assert!(auth.check_origin(&HeaderMap::new()).is_ok());
}

#[test]
fn bearer_headers() {
    let mut h = HeaderMap::new();
    assert_eq!(bearer(&h), Ok(None));
    h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
    assert_eq!(bearer(&h), Ok(Some("abc")));
    h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
    assert!(bearer(&h).is_err());
}
