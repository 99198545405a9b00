//! The journey-map document schema (see `SCHEMA.md`): ranks, the typed model and the tolerant
//! reader.

pub mod rank;
