//! Access control over REST: each route against each role.

mod common;

use common::access::*;
use common::*;
use waymark_server::auth::Role;

/// Each REST route, with the least role it needs: every role below is refused with 403, every
/// role from it up gets the route's success status.
#[tokio::test]
async fn each_role_against_each_rest_route() {
    let server = secured().await;
    let owner = format!("Bearer {}", token("*", Role::Owner));
    let call = |method: &'static str, path: String, auth: Option<String>, body: Option<String>| {
        let url = server.http(&path);
        async move {
            let headers: Vec<(&str, &str)> = auth
                .as_deref()
                .map(|a| vec![("authorization", a)])
                .unwrap_or_default();
            http_with(method, &url, &headers, body.as_deref()).await
        }
    };
    let all_users: Vec<String> = ROLES.iter().map(|r| format!("\"u-{r}\"")).collect();
    let export = {
        // One map per role, each with two versions, the first submitted to every role's user.
        for role in ROLES {
            let map = format!("r-{role}");
            let res = call(
                "POST",
                "/api/v1/maps".into(),
                Some(owner.clone()),
                Some(format!(
                    r#"{{"id": "{map}", "template": "ecommerce-purchase"}}"#
                )),
            )
            .await;
            assert_eq!(res.status, 201, "{}", res.body);
            for label in ["one", "two"] {
                let res = call(
                    "POST",
                    format!("/api/v1/maps/{map}/versions"),
                    Some(owner.clone()),
                    Some(format!(r#"{{"label": "{label}"}}"#)),
                )
                .await;
                assert_eq!(res.status, 201, "{}", res.body);
            }
            let res = call(
                "POST",
                format!("/api/v1/maps/{map}/versions/1/review"),
                Some(owner.clone()),
                Some(format!(r#"{{"reviewers": [{}]}}"#, all_users.join(","))),
            )
            .await;
            assert_eq!(res.status, 201, "{}", res.body);
        }
        call(
            "GET",
            "/api/v1/maps/r-owner/export/json".into(),
            Some(owner.clone()),
            None,
        )
        .await
        .body
    };

    // (method, path with {map} and {role}, body, least role, success status); in an order that
    // leaves each call something to act on.
    let routes: Vec<(&str, &str, Option<String>, Role, u16)> = vec![
        ("GET", "/api/v1/maps/{map}", None, Role::Viewer, 200),
        (
            "GET",
            "/api/v1/maps/{map}/export/csv",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/insights",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/activity",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/versions",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/versions/1",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/versions/1/export/markdown",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/compare?from=1",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/comments",
            None,
            Role::Viewer,
            200,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/comments",
            Some(r#"{"text": "Why is this step here?", "target": "steps/s1"}"#.into()),
            Role::Commenter,
            201,
        ),
        (
            "POST",
            "/api/v1/maps",
            Some(r#"{"id": "{map}-new"}"#.into()),
            Role::Editor,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/import?id={map}-imported",
            Some(export.clone()),
            Role::Editor,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions",
            Some(r#"{"label": "three"}"#.into()),
            Role::Facilitator,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions/2/restore",
            None,
            Role::Facilitator,
            200,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions/2/review",
            Some(r#"{"reviewers": ["u-owner"]}"#.into()),
            Role::Facilitator,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions/1/review/decisions",
            Some(r#"{"verdict": "approved"}"#.into()),
            Role::Owner,
            200,
        ),
        ("DELETE", "/api/v1/maps/{map}", None, Role::Owner, 204),
    ];
    for (method, path, body, least, success) in &routes {
        // Without a token, every one of them is refused.
        let path0 = path.replace("{map}", "r-owner");
        let res = call(
            method,
            path0.clone(),
            None,
            body.clone().map(|b| b.replace("{map}", "r-owner")),
        )
        .await;
        assert_eq!(
            res.status, 401,
            "{method} {path0} without a token: {}",
            res.body
        );
        assert_eq!(res.json()["error"], "token_missing");
        assert!(res.header("www-authenticate").is_some());
        for role in ROLES {
            let map = format!("r-{role}");
            let path = path.replace("{map}", &map);
            let body = body.clone().map(|b| b.replace("{map}", &map));
            let auth = Some(format!("Bearer {}", token("r-*", role)));
            let res = call(method, path.clone(), auth, body).await;
            if role >= *least {
                assert_eq!(
                    res.status, *success,
                    "{method} {path} as {role}: {}",
                    res.body
                );
            } else {
                assert_eq!(res.status, 403, "{method} {path} as {role}: {}", res.body);
                assert_eq!(res.json()["error"], "role_insufficient", "{method} {path}");
            }
        }
        // A token for other maps is refused whatever its role.
        let res = call(
            method,
            path.replace("{map}", "r-owner"),
            Some(format!("Bearer {}", token("elsewhere", Role::Owner))),
            body.clone().map(|b| b.replace("{map}", "r-owner")),
        )
        .await;
        assert_eq!(res.status, 403, "{method} {path}: {}", res.body);
    }

    // Identity comes from the token: the comment's author, the version's author, the decision's
    // reviewer.
    let comments = call(
        "GET",
        "/api/v1/maps/r-editor/comments".into(),
        Some(owner.clone()),
        None,
    )
    .await
    .json();
    assert_eq!(
        field_of_each(&comments["comments"], "author"),
        ["u-editor name"]
    );

    // Public routes need nothing; the list shows only the maps a token covers.
    assert_eq!(
        call("GET", "/api/v1/templates".into(), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        call("GET", "/api/v1/openapi.json".into(), None, None)
            .await
            .status,
        200
    );
    let list = call(
        "GET",
        "/api/v1/maps".into(),
        Some(format!("Bearer {}", token("r-viewer*", Role::Viewer))),
        None,
    )
    .await
    .json();
    let ids = field_of_each(&list["maps"], "id");
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("r-viewer")),
        "{ids:?}"
    );

    // A reviewer decides only as themselves.
    let res = call(
        "POST",
        "/api/v1/maps/r-facilitator/versions/1/review/decisions".into(),
        Some(owner.clone()),
        Some(r#"{"reviewer": "u-editor", "verdict": "approved"}"#.into()),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(res.json()["error"], "not_yourself");

    // Without an id, a token for a prefix creates a map under it.
    let res = call(
        "POST",
        "/api/v1/maps".into(),
        Some(format!("Bearer {}", token("team-*", Role::Editor))),
        Some("{}".into()),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.json()["id"].as_str().unwrap().starts_with("team-"));
}
