//! The journey-map document schema (`SCHEMA.md`): ranks, the typed model, the tolerant reader and
//! the comparison of two versions of a map.

pub mod comments;
pub mod diff;
pub mod edit;
pub mod model;
pub mod rank;
pub mod read;
pub mod templates;
pub mod write;

pub use diff::{EntityKind, MapDiff, diff};
pub use edit::{At, Collection, EditError, Editor};
pub use model::*;
pub use read::{Read, read, read_meta};
pub use write::{write, write_over};
