//! The API's paths below `/api/v1`, shared by the router, the guard and the OpenAPI description.

pub const OPENAPI: &str = "/openapi.json";
pub const TEMPLATES: &str = "/templates";
pub const MAPS: &str = "/maps";
pub const IMPORT: &str = "/maps/import";
pub const MAP: &str = "/maps/{id}";
pub const EXPORT: &str = "/maps/{id}/export/{format}";
pub const INSIGHTS: &str = "/maps/{id}/insights";
pub const VERSIONS: &str = "/maps/{id}/versions";
pub const VERSION: &str = "/maps/{id}/versions/{number}";
pub const VERSION_EXPORT: &str = "/maps/{id}/versions/{number}/export/{format}";
pub const VERSION_RESTORE: &str = "/maps/{id}/versions/{number}/restore";
pub const ACTIVITY: &str = "/maps/{id}/activity";
pub const ATTENDANCE: &str = "/maps/{id}/attendance";
pub const REVIEW: &str = "/maps/{id}/versions/{number}/review";
pub const DECISIONS: &str = "/maps/{id}/versions/{number}/review/decisions";
pub const COMPARE: &str = "/maps/{id}/compare";
pub const COMMENTS: &str = "/maps/{id}/comments";
pub const REVOCATIONS: &str = "/revocations";
pub const ALL: [&str; 18] = [
    OPENAPI,
    TEMPLATES,
    MAPS,
    IMPORT,
    MAP,
    EXPORT,
    INSIGHTS,
    ACTIVITY,
    ATTENDANCE,
    VERSIONS,
    VERSION,
    VERSION_EXPORT,
    VERSION_RESTORE,
    REVIEW,
    DECISIONS,
    COMPARE,
    COMMENTS,
    REVOCATIONS,
];
