//! The OpenAPI 3.1 description of the REST API, served at `/api/v1/openapi.json`. Paths come from
//! the router's own constants and the schemas of maps and insights are generated from the Rust
//! types, so the description cannot drift from what the server does; a test walks every operation.

use super::paths;
use super::render::FORMATS;
use crate::journey::insights::Insights;
use crate::journey::poster::Paper;
use crate::store::{MapInfo, VersionInfo};
use serde_json::{Value, json};
use waymark_protocol::schema::templates::TEMPLATES;
use waymark_protocol::schema::{JourneyMap, MapDiff, Warning};

/// A type's schema for `components/schemas`, its definitions hoisted into `defs` and references
/// rewritten to point there (inside a document, `#/$defs/...` would resolve against the root).
fn schema<T: schemars::JsonSchema>(defs: &mut serde_json::Map<String, Value>) -> Value {
    let mut s = serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialise");
    if let Some(o) = s.as_object_mut() {
        o.remove("$schema");
        if let Some(Value::Object(found)) = o.remove("$defs") {
            for (name, mut def) in found {
                rewrite_refs(&mut def);
                defs.insert(name, def);
            }
        }
    }
    rewrite_refs(&mut s);
    s
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                match child {
                    Value::String(r) if k == "$ref" => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            *r = format!("#/components/schemas/{name}");
                        }
                    }
                    _ => rewrite_refs(child),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn json_body(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// A map id (`waymark_protocol::MapId`).
const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

fn id_param() -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "description": "Map id: 1–128 of letters, digits, '.', '_', '-', starting with a letter or digit.",
        "schema": { "type": "string", "pattern": ID_PATTERN }
    })
}

pub fn document() -> Value {
    let v1 = |p: &str| format!("/api/v1{p}");
    let formats: Vec<&str> = FORMATS.iter().map(|f| f.0).collect();
    let papers: Vec<&str> = Paper::ALL.iter().map(|p| p.name()).collect();
    let paper_param = json!({ "name": "paper", "in": "query", "required": false,
        "description": "Poster formats (svg, png, pdf) only: printed on this sheet, landscape, the journey wrapped into bands so that no text is under 8 pt (PNG at 150 dpi)",
        "schema": { "type": "string", "enum": papers } });
    let templates: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
    let mut paths_obj = serde_json::Map::new();
    paths_obj.insert(v1(paths::OPENAPI), json!({
        "get": { "summary": "This description", "operationId": "openapi",
                 "responses": { "200": { "description": "OpenAPI 3.1 document", "content": { "application/json": {} } } } }
    }));
    paths_obj.insert(v1(paths::TEMPLATES), json!({
        "get": { "summary": "Templates a map can start from", "operationId": "listTemplates",
                 "responses": { "200": json_body("Templates", json!({ "type": "object", "properties": {
                     "templates": { "type": "array", "items": { "$ref": "#/components/schemas/Template" } } } })) } }
    }));
    paths_obj.insert(v1(paths::MAPS), json!({
        "get": { "summary": "Every map, most recently changed first", "operationId": "listMaps",
                 "responses": {
                     "200": json_body("Maps", json!({ "type": "object", "properties": {
                         "maps": { "type": "array", "items": { "allOf": [
                             { "$ref": "#/components/schemas/MapInfo" },
                             { "type": "object", "required": ["reviewOverdue"], "properties": {
                                 "reviewOverdue": { "type": "boolean", "description": "The map's reviewDue date has passed" } } }] } } } })),
                     "503": error("Storage is unavailable") } },
        "post": { "summary": "Create a map, blank or from a template", "operationId": "createMap",
                  "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CreateMap" } } } },
                  "responses": {
                      "201": json_body("Created; the Location header points at the map", json!({ "$ref": "#/components/schemas/Created" })),
                      "400": error("invalid_body, invalid_map_id, invalid_title, unknown_template or invalid_kind"),
                      "409": error("map_exists: the id is taken"),
                      "503": error("The server is busy or shutting down") } }
    }));
    paths_obj.insert(v1(paths::IMPORT), json!({
        "post": { "summary": "Create a map from a JSON export", "operationId": "importMap",
                  "parameters": [{ "name": "id", "in": "query", "required": false, "description": "Id of the new map (generated when absent)", "schema": { "type": "string", "pattern": ID_PATTERN } }],
                  "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/JourneyMap" } } } },
                  "responses": {
                      "201": json_body("Created", json!({ "$ref": "#/components/schemas/Created" })),
                      "400": error("invalid_body, invalid_map_id or invalid_import"),
                      "409": error("map_exists") } }
    }));
    paths_obj.insert(v1(paths::MAP), json!({
        "parameters": [id_param()],
        "get": { "summary": "A map as JSON, with warnings about anything malformed in it", "operationId": "readMap",
                 "responses": {
                     "200": json_body("The map", json!({ "type": "object", "required": ["id", "map", "warnings"], "properties": {
                         "id": { "type": "string" },
                         "map": { "$ref": "#/components/schemas/JourneyMap" },
                         "warnings": { "type": "array", "items": { "$ref": "#/components/schemas/Warning" } } } })),
                     "400": error("invalid_map_id"),
                     "404": error("map_not_found") } },
        "delete": { "summary": "Delete a map; connected editors are closed with code 4004", "operationId": "deleteMap",
                    "responses": { "204": { "description": "Deleted" }, "400": error("invalid_map_id"), "404": error("map_not_found") } }
    }));
    paths_obj.insert(v1(paths::EXPORT), json!({
        "parameters": [id_param(), { "name": "format", "in": "path", "required": true, "schema": { "type": "string", "enum": formats } }, paper_param.clone()],
        "get": { "summary": "Export a map", "operationId": "exportMap",
                 "responses": {
                     "200": { "description": "The export, as an attachment", "content": {
                         "application/json": { "schema": { "$ref": "#/components/schemas/JourneyMap" } },
                         "text/csv": {}, "text/markdown": {}, "text/plain": {},
                         "image/svg+xml": {}, "image/png": {}, "application/pdf": {} } },
                     "400": error("unknown_format, invalid_query or invalid_map_id"),
                     "404": error("map_not_found"),
                     "422": error("poster_too_small: on that paper the text would be under 8 pt; the message names the sheets that fit. poster_too_complex: the map has more cards than a png or pdf poster is drawn with (1000); svg and the text formats have no such limit"),
                     "429": error("too_many_exports: the caller has 2 png or pdf exports running; Retry-After says when to try again"),
                     "503": error("exports_busy: the server is drawing as many png or pdf posters as it does at once; Retry-After says when to try again") } }
    }));
    paths_obj.insert(v1(paths::INSIGHTS), json!({
        "parameters": [id_param()],
        "get": { "summary": "What to fix first", "operationId": "mapInsights",
                 "responses": {
                     "200": json_body("Insights", json!({ "$ref": "#/components/schemas/Insights" })),
                     "404": error("map_not_found") } }
    }));
    let number_param = json!({ "name": "number", "in": "path", "required": true,
                               "description": "Version number: 1 for a map's first version, then counting up",
                               "schema": { "type": "integer", "minimum": 1, "maximum": i64::MAX } });
    paths_obj.insert(v1(paths::VERSIONS), json!({
        "parameters": [id_param()],
        "get": { "summary": "A map's versions, newest first", "operationId": "listVersions",
                 "responses": {
                     "200": json_body("The versions", json!({ "type": "object", "required": ["id", "versions"], "properties": {
                         "id": { "type": "string" },
                         "versions": { "type": "array", "items": { "$ref": "#/components/schemas/VersionInfo" } },
                         "lastApproved": { "type": ["integer", "null"], "description": "The newest approved version" },
                         "changedSinceApproved": { "type": ["boolean", "null"], "description": "Whether the map differs from the newest approved version" } } })),
                     "400": error("invalid_map_id"),
                     "404": error("map_not_found") } },
        "post": { "summary": "Take a version of the map as it is now", "operationId": "createVersion",
                  "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CreateVersion" } } } },
                  "responses": {
                      "201": json_body("Taken", json!({ "$ref": "#/components/schemas/VersionInfo" })),
                      "400": error("invalid_label, invalid_body or invalid_map_id"),
                      "404": error("map_not_found") } }
    }));
    paths_obj.insert(v1(paths::VERSION), json!({
        "parameters": [id_param(), number_param.clone()],
        "get": { "summary": "A version of a map, as JSON", "operationId": "readVersion",
                 "responses": {
                     "200": json_body("The version", json!({ "type": "object", "required": ["id", "version", "map", "warnings"], "properties": {
                         "id": { "type": "string" },
                         "version": { "$ref": "#/components/schemas/VersionInfo" },
                         "map": { "$ref": "#/components/schemas/JourneyMap" },
                         "warnings": { "type": "array", "items": { "$ref": "#/components/schemas/Warning" } } } })),
                     "400": error("invalid_version or invalid_map_id"),
                     "404": error("map_not_found or version_not_found") } }
    }));
    paths_obj.insert(v1(paths::VERSION_EXPORT), json!({
        "parameters": [id_param(), number_param, { "name": "format", "in": "path", "required": true, "schema": { "type": "string", "enum": formats } }, paper_param],
        "get": { "summary": "Export a version of a map", "operationId": "exportVersion",
                 "responses": {
                     "200": { "description": "The export, as an attachment", "content": {
                         "application/json": { "schema": { "$ref": "#/components/schemas/JourneyMap" } },
                         "text/csv": {}, "text/markdown": {}, "text/plain": {},
                         "image/svg+xml": {}, "image/png": {}, "application/pdf": {} } },
                     "400": error("unknown_format, invalid_query, invalid_version or invalid_map_id"),
                     "404": error("map_not_found or version_not_found"),
                     "422": error("poster_too_small: on that paper the text would be under 8 pt; the message names the sheets that fit. poster_too_complex: the map has more cards than a png or pdf poster is drawn with (1000); svg and the text formats have no such limit"),
                     "429": error("too_many_exports: the caller has 2 png or pdf exports running; Retry-After says when to try again"),
                     "503": error("exports_busy: the server is drawing as many png or pdf posters as it does at once; Retry-After says when to try again") } }
    }));
    paths_obj.insert(v1(paths::VERSION_RESTORE), json!({
        "parameters": [id_param(), { "name": "number", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1, "maximum": i64::MAX } }],
        "post": { "summary": "Restore a version in place: a safety version is taken first, then the map is changed with ordinary edits that live editors see", "operationId": "restoreVersion",
                  "requestBody": { "required": false, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": { "author": { "type": "string", "maxLength": 10000 } } } } } },
                  "responses": {
                      "200": json_body("Restored", json!({ "type": "object", "required": ["id", "restored", "safetyVersion", "changes"], "properties": {
                          "id": { "type": "string" },
                          "restored": { "$ref": "#/components/schemas/VersionInfo" },
                          "safetyVersion": { "$ref": "#/components/schemas/VersionInfo" },
                          "changes": { "description": "Counts of what the restore changed", "type": "object" } } })),
                      "400": error("invalid_body, invalid_version or invalid_map_id"),
                      "404": error("map_not_found or version_not_found"),
                      "409": error("cannot_restore") } }
    }));
    paths_obj.insert(v1(paths::ACTIVITY), json!({
        "parameters": [id_param(), { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } }],
        "get": { "summary": "Who connected and who edited, newest first (edits are grouped per connection, a few seconds at a time)", "operationId": "mapActivity",
                 "responses": {
                     "200": json_body("The activity", json!({ "type": "object", "required": ["id", "activity"], "properties": {
                         "id": { "type": "string" },
                         "activity": { "type": "array", "items": { "$ref": "#/components/schemas/Activity" } } } })),
                     "400": error("invalid_query or invalid_map_id"),
                     "404": error("map_not_found") } }
    }));
    paths_obj.insert(v1(paths::ATTENDANCE), json!({
        "parameters": [id_param(), { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "csv"], "default": "json" } }],
        "get": { "summary": "Who attended the workshop session going on (or the last one): first join, last leave, time present, votes cast (PROTOCOL.md §9.2)", "operationId": "workshopAttendance",
                 "responses": {
                     "200": {
                         "description": "Attendance, one entry per person",
                         "content": {
                             "application/json": { "schema": { "type": "object", "required": ["id", "session", "attendance"], "properties": {
                                 "id": { "type": "string" },
                                 "session": { "type": ["object", "null"], "description": "title, startedAt, startedBy and (once over) endedAt; null if no workshop was ever run" },
                                 "attendance": { "type": "array", "items": { "$ref": "#/components/schemas/Attendee" } } } } },
                             "text/csv": { "schema": { "type": "string" } } } },
                     "400": error("unknown_format, invalid_query or invalid_map_id"),
                     "404": error("map_not_found") } }
    }));
    let version_params = json!([id_param(), { "name": "number", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1, "maximum": i64::MAX } }]);
    let review_answer = json!({ "type": "object", "required": ["id", "version", "review"], "properties": {
        "id": { "type": "string" }, "version": { "type": "integer" },
        "review": { "$ref": "#/components/schemas/Review" } } });
    paths_obj.insert(v1(paths::REVIEW), json!({
        "parameters": version_params.clone(),
        "post": { "summary": "Submit a version for review to named reviewers", "operationId": "submitReview",
                  "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["reviewers"], "properties": {
                      "reviewers": { "type": "array", "items": { "type": "string", "minLength": 1, "maxLength": 10000 }, "minItems": 1, "maxItems": 50 },
                      "due": { "type": "string", "format": "date", "description": "A calendar date, YYYY-MM-DD" },
                      "submittedBy": { "type": "string", "maxLength": 10000 } } } } } },
                  "responses": {
                      "201": json_body("Submitted", review_answer.clone()),
                      "400": error("invalid_reviewers, invalid_due, invalid_body, invalid_version or invalid_map_id"),
                      "404": error("map_not_found or version_not_found"),
                      "409": error("already_submitted") } }
    }));
    paths_obj.insert(v1(paths::DECISIONS), json!({
        "parameters": version_params,
        "post": { "summary": "A reviewer approves the version or requests changes", "operationId": "decideReview",
                  "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["verdict"], "properties": {
                      "reviewer": { "type": "string", "maxLength": 10000, "description": "Required without authentication; with it, the token's user id (the default)" },
                      "verdict": { "type": "string", "enum": ["approved", "changes-requested"] },
                      "comment": { "type": "string", "maxLength": 10000 } } } } } },
                  "responses": {
                      "200": json_body("Recorded", review_answer),
                      "400": error("invalid_body, invalid_version or invalid_map_id"),
                      "404": error("map_not_found or version_not_found"),
                      "409": error("not_in_review, review_closed, not_a_reviewer or already_decided: the message says why") } }
    }));
    paths_obj.insert(v1(paths::COMPARE), json!({
        "parameters": [id_param(),
            { "name": "from", "in": "query", "required": true, "description": "A version number, or `current`", "schema": { "type": "string", "pattern": "^([1-9][0-9]{0,17}|current)$" } },
            { "name": "to", "in": "query", "required": false, "description": "A version number, or `current` (the default)", "schema": { "type": "string", "pattern": "^([1-9][0-9]{0,17}|current)$" } },
            { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "markdown"], "default": "json" } }],
        "get": { "summary": "What changed between two versions, entity by entity", "operationId": "compare",
                 "responses": {
                     "200": { "description": "The changes", "content": {
                         "application/json": { "schema": { "type": "object", "required": ["id", "from", "to", "changes"], "properties": {
                             "id": { "type": "string" }, "from": { "type": "string" }, "to": { "type": "string" },
                             "changes": { "$ref": "#/components/schemas/MapDiff" } } } },
                         "text/markdown": {} } },
                     "400": error("invalid_query, invalid_version, unknown_format or invalid_map_id"),
                     "404": error("map_not_found or version_not_found") } }
    }));
    paths_obj.insert(v1(paths::COMMENTS), json!({
        "parameters": [id_param()],
        "get": { "summary": "The map's comments, oldest first", "operationId": "listComments",
                 "responses": {
                     "200": json_body("Comments", json!({ "type": "object", "required": ["id", "comments"], "properties": {
                         "id": { "type": "string" },
                         "comments": { "type": "array", "items": { "$ref": "#/components/schemas/Comment" } } } })),
                     "400": error("invalid_map_id"),
                     "404": error("map_not_found") } },
        "post": { "summary": "Comment on the map or one of its entities (the commenter role is enough)", "operationId": "addComment",
                  "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewComment" } } } },
                  "responses": {
                      "201": json_body("The comment", json!({ "$ref": "#/components/schemas/Comment" })),
                      "400": error("invalid_body, invalid_comment or invalid_map_id"),
                      "404": error("map_not_found") } }
    }));
    let revocation = json!({ "type": "object", "required": ["at", "reason"],
        "description": "Either `user` (their tokens issued before `at` are refused) or `token` (that token id, whenever issued)",
        "properties": {
            "user": { "type": "string", "minLength": 1, "maxLength": 200 },
            "token": { "type": "string", "minLength": 1, "maxLength": 200 },
            "at": { "type": "integer", "description": "When it was recorded, seconds since the Unix epoch" },
            "reason": { "type": "string" } } });
    paths_obj.insert(v1(paths::REVOCATIONS), json!({
        "get": { "summary": "Every revocation in force (an owner of every map, `*`, only)", "operationId": "listRevocations",
                 "responses": {
                     "200": json_body("Revocations: users first, then single tokens", json!({ "type": "object", "required": ["revocations"], "properties": {
                         "revocations": { "type": "array", "items": revocation.clone() } } })),
                     "503": error("storage_unavailable") } },
        "post": { "summary": "Revoke a user's tokens issued until now, or one token by its `jti` (an owner of every map, `*`, only). Every node refuses them within seconds and closes their open connections with code 4003 (PROTOCOL.md §1.5)", "operationId": "revoke",
                  "requestBody": { "required": true, "content": { "application/json": { "schema": {
                      "type": "object", "additionalProperties": false,
                      "description": "Exactly one of `user` and `token`",
                      "properties": {
                          "user": { "type": "string", "minLength": 1, "maxLength": 200, "description": "The user's id (the tokens' `sub`)" },
                          "token": { "type": "string", "minLength": 1, "maxLength": 200, "description": "One token's id (its `jti`)" },
                          "reason": { "type": "string", "maxLength": 1000 } } } } } },
                  "responses": {
                      "201": json_body("Recorded", json!({ "type": "object", "required": ["revocation", "appliesWithinSeconds"], "properties": {
                          "revocation": revocation,
                          "appliesWithinSeconds": { "type": "integer", "description": "How long other nodes take to apply it" } } })),
                      "400": error("invalid_body or invalid_revocation"),
                      "503": error("storage_unavailable") } }
    }));
    // Every operation but the public ones needs a token when the server has a key.
    for (path, item) in paths_obj.iter_mut() {
        let public = [paths::OPENAPI, paths::TEMPLATES].map(v1).contains(path);
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if method == "parameters" {
                continue;
            }
            if public {
                op["security"] = json!([]);
                continue;
            }
            let responses = &mut op["responses"];
            if method == "post"
                && [
                    paths::MAPS,
                    paths::IMPORT,
                    paths::COMMENTS,
                    paths::VERSION_RESTORE,
                ]
                .map(v1)
                .contains(path)
            {
                responses["413"] = error(
                    "map_too_large: the change would take the map past its size limit; nothing was changed. body_too_large: request bodies are limited to 2 MiB",
                );
            }
            if method == "post" {
                // Every body is read whole, within the request deadline and the size limit.
                if responses.get("413").is_none() {
                    responses["413"] = error("body_too_large: request bodies are limited to 2 MiB");
                }
                responses["408"] = error(
                    "body_timeout: the body did not arrive within the request deadline (--handshake-timeout); the connection is closed",
                );
            }
            responses["401"] = error(
                "token_missing, token_expired, token_invalid or token_revoked (only on a server with authentication)",
            );
            responses["403"] = error("map_not_covered, role_insufficient or origin_not_allowed");
        }
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Waymark API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Customer journey maps: create, read, export and analyse them, and keep versions. Live editing is over WebSocket at /maps/{id} (see protocol/PROTOCOL.md); the map's structure is in protocol/SCHEMA.md."
        },
        "paths": paths_obj,
        "security": [{ "bearer": [] }],
        "components": {
          "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
              "description": "A Waymark token (protocol/PROTOCOL.md §1.5); not needed on a server without authentication" } },
          "schemas": {
            "NewComment": { "type": "object", "additionalProperties": false, "required": ["text"], "properties": {
                "text": { "type": "string", "minLength": 1, "maxLength": 10000 },
                "target": { "type": "string", "pattern": "^[a-z-]+/[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "description": "`<collection>/<entityId>`, e.g. cards/c1; absent for the whole map" },
                "author": { "type": "string", "maxLength": 10000, "description": "Ignored with authentication: the token's user is the author" } } },
            "Error": { "type": "object", "required": ["error", "message"], "properties": {
                "error": { "type": "string", "description": "Stable code" },
                "message": { "type": "string", "description": "For people" } } },
            "Template": { "type": "object", "properties": {
                "name": { "type": "string", "enum": templates }, "title": { "type": "string" }, "description": { "type": "string" } } },
            "CreateMap": { "type": "object", "additionalProperties": false, "properties": {
                "id": { "type": "string", "pattern": ID_PATTERN }, "title": { "type": "string", "maxLength": 500 },
                "kind": { "type": "string", "enum": waymark_protocol::schema::MAP_KINDS },
                "template": { "type": "string", "enum": templates } } },
            "CreateVersion": { "type": "object", "additionalProperties": false, "required": ["label"], "properties": {
                "label": { "type": "string", "minLength": 1, "maxLength": 200 },
                "description": { "type": "string", "maxLength": 10000 }, "author": { "type": "string", "maxLength": 10000 } } },
            "Created": { "type": "object", "required": ["id", "url", "websocket"], "properties": {
                "id": { "type": "string" }, "url": { "type": "string" }, "websocket": { "type": "string" } } },
        } }
    });
    let mut defs = serde_json::Map::new();
    let generated = [
        ("MapInfo", schema::<MapInfo>(&mut defs)),
        ("JourneyMap", schema::<JourneyMap>(&mut defs)),
        ("Warning", schema::<Warning>(&mut defs)),
        ("Insights", schema::<Insights>(&mut defs)),
        ("VersionInfo", schema::<VersionInfo>(&mut defs)),
        ("MapDiff", schema::<MapDiff>(&mut defs)),
        ("Review", schema::<crate::review::Review>(&mut defs)),
        ("Activity", schema::<crate::store::Activity>(&mut defs)),
        (
            "Attendee",
            schema::<crate::workshop::attendance::Attendee>(&mut defs),
        ),
        (
            "Comment",
            schema::<waymark_protocol::schema::comments::Comment>(&mut defs),
        ),
    ];
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("components.schemas is an object");
    for (name, s) in generated {
        schemas.insert(name.to_owned(), s);
    }
    for (name, d) in defs {
        schemas.entry(name).or_insert(d);
    }
    doc
}
