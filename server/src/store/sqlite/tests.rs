//! Unit tests of the SQLite store, against a database in a temporary directory.

use super::schema::SCHEMA_VERSION;
use super::*;
use crate::store::{NewVersion, Revocation, Revoked, VersionKind};

fn map(s: &str) -> MapId {
    MapId::parse(s).unwrap()
}

#[tokio::test]
async fn append_load_compact_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let store = SqliteStore::open(dir).unwrap();
    let a = map("a");
    assert!(store.load(&a).await.unwrap().snapshot.is_none());
    let s1 = store
        .append(
            &a,
            vec![Bytes::from_static(b"u1"), Bytes::from_static(b"u2")],
        )
        .await
        .unwrap();
    store
        .append(&map("b"), vec![Bytes::from_static(b"other")])
        .await
        .unwrap();
    let loaded = store.load(&a).await.unwrap();
    assert_eq!(loaded.updates, vec![b"u1".to_vec(), b"u2".to_vec()]);
    assert_eq!(loaded.last_seq, s1);

    store.compact(&a, b"snap".to_vec(), s1).await.unwrap();
    let s3 = store
        .append(&a, vec![Bytes::from_static(b"u3")])
        .await
        .unwrap();
    assert!(s3 > s1);
    // An older snapshot never replaces a newer one.
    store.compact(&a, b"stale".to_vec(), s1 - 1).await.unwrap();
    let loaded = store.load(&a).await.unwrap();
    assert_eq!(loaded.snapshot.as_deref(), Some(&b"snap"[..]));
    assert_eq!(loaded.updates, vec![b"u3".to_vec()]);
    assert_eq!(loaded.last_seq, s3);
    store.check().await.unwrap();
    store.close().await.unwrap();

    let reopened = SqliteStore::open(dir).unwrap();
    assert_eq!(
        reopened.load(&a).await.unwrap().updates,
        vec![b"u3".to_vec()]
    );
    reopened.close().await.unwrap();
}

#[tokio::test]
async fn maps_are_listed_summarised_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let (a, b) = (map("alpha"), map("beta"));
    store
        .append(&a, vec![Bytes::from_static(b"12345")])
        .await
        .unwrap();
    store
        .append(&b, vec![Bytes::from_static(b"xy")])
        .await
        .unwrap();
    store
        .append(&a, vec![Bytes::from_static(b"678")])
        .await
        .unwrap();
    store
        .set_summary(&a, "Checkout", "journey-map", None)
        .await
        .unwrap();
    let list = store.list().await.unwrap();
    let alpha = list.iter().find(|m| m.id == "alpha").unwrap();
    assert_eq!(
        (alpha.title.as_str(), alpha.kind.as_str(), alpha.size),
        ("Checkout", "journey-map", 8)
    );
    assert!(alpha.updated_at > 0);
    assert_eq!(list.len(), 2);
    // Compaction recomputes the size from what is left.
    let last = store
        .append(&a, vec![Bytes::from_static(b"9")])
        .await
        .unwrap();
    store.compact(&a, b"SNAP".to_vec(), last).await.unwrap();
    let alpha = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == "alpha")
        .unwrap();
    assert_eq!(alpha.size, 4);
    assert!(store.exists(&a).await.unwrap());
    assert!(store.delete(&a).await.unwrap());
    assert!(!store.exists(&a).await.unwrap());
    assert!(!store.delete(&a).await.unwrap());
    assert!(store.load(&a).await.unwrap().snapshot.is_none());
    assert_eq!(store.list().await.unwrap().len(), 1);
    store.close().await.unwrap();
}

fn version(label: &str, sv: &[u8]) -> NewVersion {
    NewVersion {
        label: label.into(),
        description: String::new(),
        author: "ana".into(),
        kind: VersionKind::Manual,
        state: b"compressed".to_vec(),
        state_vector: sv.to_vec(),
        raw_size: 100,
    }
}

#[tokio::test]
async fn versions_are_numbered_listed_read_and_deleted_with_their_map() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let m = map("versioned");
    store
        .append(&m, vec![Bytes::from_static(b"u")])
        .await
        .unwrap();
    let v1 = store
        .add_version(&m, version("one", b"sv1"), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v1.number, v1.size, v1.raw_size), (1, 10, 100));
    // A review is replaced only if it is still what the caller last saw.
    assert_eq!(
        store
            .set_review(&m, 1, None, "{\"a\":1}".into())
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        store
            .set_review(&m, 1, None, "{\"a\":2}".into())
            .await
            .unwrap(),
        Some(false)
    );
    assert_eq!(
        store
            .set_review(&m, 1, Some("{\"a\":1}".into()), "{\"a\":3}".into())
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        store.set_review(&m, 9, None, "{}".into()).await.unwrap(),
        None
    );
    let v1 = VersionInfo {
        review: Some(serde_json::json!({"a": 3})),
        ..v1
    };
    // An automatic version of an unchanged map is skipped; a changed one is numbered on.
    let auto = NewVersion {
        kind: VersionKind::Auto,
        ..version("auto", b"sv1")
    };
    assert_eq!(
        store.add_version(&m, auto.clone(), true).await.unwrap(),
        None
    );
    let changed = NewVersion {
        state_vector: b"sv2".to_vec(),
        ..auto
    };
    let v2 = store.add_version(&m, changed, true).await.unwrap().unwrap();
    assert_eq!((v2.number, v2.kind), (2, VersionKind::Auto));
    let listed: Vec<i64> = store
        .versions(&m)
        .await
        .unwrap()
        .iter()
        .map(|v| v.number)
        .collect();
    assert_eq!(listed, [2, 1]);
    let (info, state) = store.version(&m, 1).await.unwrap().unwrap();
    assert_eq!((info, state), (v1, b"compressed".to_vec()));
    assert!(store.version(&m, 3).await.unwrap().is_none());
    let entry = |kind: &str| Activity {
        at: 5,
        kind: kind.into(),
        session: "n-1".into(),
        user: None,
        updates: 0,
        bytes: 0,
    };
    store
        .record_activity(&m, vec![entry("connected"), entry("disconnected")])
        .await
        .unwrap();
    store
        .record_activity(&map("ghost"), vec![entry("connected")])
        .await
        .unwrap();
    assert_eq!(
        store.activity(&m, 10).await.unwrap(),
        vec![entry("disconnected"), entry("connected")]
    );
    assert!(store.activity(&map("ghost"), 10).await.unwrap().is_empty());
    assert!(store.delete(&m).await.unwrap());
    assert!(store.versions(&m).await.unwrap().is_empty());
    assert!(store.activity(&m, 10).await.unwrap().is_empty());
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_version_1_database_is_upgraded_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let m = map("old");
    {
        let store = SqliteStore::open(tmp.path()).unwrap();
        store
            .append(&m, vec![Bytes::from_static(b"kept")])
            .await
            .unwrap();
        store.close().await.unwrap();
    }
    // What a database written before versions existed looks like.
    let conn = Connection::open(tmp.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "DROP TABLE versions; ALTER TABLE maps DROP COLUMN review_due;
         UPDATE schema_version SET version = 1;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(tmp.path()).unwrap();
    assert_eq!(
        store.load(&m).await.unwrap().updates,
        vec![b"kept".to_vec()]
    );
    assert!(
        store
            .add_version(&m, version("v", b"sv"), false)
            .await
            .unwrap()
            .is_some()
    );
    store.close().await.unwrap();
    let conn = Connection::open(tmp.path().join(DB_FILE)).unwrap();
    let v: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
}

#[tokio::test]
async fn workshop_entries_keep_the_newest_write_of_each_key_and_go_with_their_map() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let m = map("workshop");
    let entry = |key: &str, stamp, node: &str, value: Option<&str>| WorkshopEntry {
        key: key.into(),
        stamp,
        node: node.into(),
        value: value.map(Into::into),
    };
    // Nothing is kept for a map that is not stored.
    store
        .save_workshop(&m, vec![entry("timer", 1, "a", Some("{}"))])
        .await
        .unwrap();
    assert!(store.workshop(&m).await.unwrap().is_empty());
    store
        .append(&m, vec![Bytes::from_static(&[0, 0])])
        .await
        .unwrap();
    store
        .save_workshop(
            &m,
            vec![
                entry("timer", 5, "a", Some(r#"{"t":5}"#)),
                entry("lock/structure", 5, "a", Some("{}")),
            ],
        )
        .await
        .unwrap();
    // An older write loses; a removal that is newer wins; a tie goes to the greater node.
    store
        .save_workshop(
            &m,
            vec![
                entry("timer", 4, "z", Some(r#"{"t":4}"#)),
                entry("lock/structure", 6, "b", None),
                entry("timer", 5, "b", Some(r#"{"t":"b"}"#)),
            ],
        )
        .await
        .unwrap();
    let mut got = store.workshop(&m).await.unwrap();
    got.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        got,
        vec![
            entry("lock/structure", 6, "b", None),
            entry("timer", 5, "b", Some(r#"{"t":"b"}"#)),
        ]
    );
    assert!(store.delete(&m).await.unwrap());
    assert!(store.workshop(&m).await.unwrap().is_empty());
}

/// Under writes that never pause, the WAL must still start over now and then: otherwise it grows
/// by every commit until the disk is full.
#[tokio::test]
async fn the_wal_stays_bounded_under_steady_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let wal = tmp.path().join(format!("{DB_FILE}-wal"));
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let maps: Vec<MapId> = (0..8).map(|i| map(&format!("steady-{i}"))).collect();
    let update = Bytes::from(vec![7u8; 200]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // Enough time for several checkpoints while the size holds still.
    let steady_for = std::time::Duration::from_millis(4 * 500);
    let (mut last, mut since) = (0, std::time::Instant::now());
    let mut appends = 0u64;
    loop {
        for m in &maps {
            store.append(m, vec![update.clone()]).await.unwrap();
            appends += 1;
        }
        let now = size();
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        } else if since.elapsed() >= steady_for {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL kept growing: {last} bytes after {appends} appends"
        );
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_map_is_claimed_once_until_it_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let m = map("claimed");
    assert!(store.claim(&m).await.unwrap());
    assert!(store.exists(&m).await.unwrap());
    assert!(!store.claim(&m).await.unwrap());
    store
        .append(&map("edited"), vec![Bytes::from_static(b"u")])
        .await
        .unwrap();
    assert!(!store.claim(&map("edited")).await.unwrap());
    assert!(store.delete(&m).await.unwrap());
    assert!(store.claim(&m).await.unwrap());
}

#[tokio::test]
async fn load_after_reads_the_log_past_a_point_and_the_snapshot_only_if_newer() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let m = map("tail");
    let first = store
        .append(
            &m,
            vec![Bytes::from_static(b"u1"), Bytes::from_static(b"u2")],
        )
        .await
        .unwrap();
    let last = store
        .append(&m, vec![Bytes::from_static(b"u3")])
        .await
        .unwrap();
    let tail = store.load_after(&m, first).await.unwrap();
    assert_eq!(tail.snapshot, None);
    assert_eq!(tail.updates, vec![b"u3".to_vec()]);
    assert_eq!(tail.last_seq, last);
    let nothing = store.load_after(&m, last).await.unwrap();
    assert!(nothing.updates.is_empty() && nothing.snapshot.is_none());
    assert_eq!(nothing.last_seq, last);
    // Compacted past the point: the reader needs the snapshot, so it gets everything.
    store.compact(&m, b"snap".to_vec(), last).await.unwrap();
    let after_compaction = store.load_after(&m, first).await.unwrap();
    assert_eq!(after_compaction.snapshot.as_deref(), Some(&b"snap"[..]));
    assert_eq!(after_compaction.last_seq, last);
    // ...and one that had read up to the compaction point needs nothing.
    let up_to_date = store.load_after(&m, last).await.unwrap();
    assert!(up_to_date.snapshot.is_none() && up_to_date.updates.is_empty());
}

#[tokio::test]
async fn an_append_from_before_a_delete_cannot_bring_the_map_back() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let m = map("deleted");
    store
        .append(&m, vec![Bytes::from_static(b"u1")])
        .await
        .unwrap();
    let loaded = store.load(&m).await.unwrap();
    assert!(store.delete(&m).await.unwrap());
    let refused = store
        .append_since(&m, vec![Bytes::from_static(b"late")], loaded.deleted_at)
        .await;
    assert!(matches!(refused, Err(StoreError::Deleted)), "{refused:?}");
    assert!(!store.exists(&m).await.unwrap());
    let fresh = store.load(&m).await.unwrap();
    assert!(fresh.deleted_at.is_some());
    store
        .append_since(&m, vec![Bytes::from_static(b"anew")], fresh.deleted_at)
        .await
        .unwrap();
    assert_eq!(
        store.load(&m).await.unwrap().updates,
        vec![b"anew".to_vec()]
    );
    // Deleted again, and created through the API: the id is free once more.
    assert!(store.delete(&m).await.unwrap());
    assert!(store.claim(&m).await.unwrap());
    assert_eq!(store.load(&m).await.unwrap().deleted_at, None);
}

#[tokio::test]
async fn a_revocation_only_ever_reaches_further() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    let revoke = |at: i64, reason: &str| Revocation {
        subject: Revoked::User("ana".into()),
        at,
        reason: reason.into(),
    };
    store.revoke(&revoke(200, "left")).await.unwrap();
    store.revoke(&revoke(100, "stale")).await.unwrap();
    assert_eq!(
        store.revocations().await.unwrap(),
        vec![revoke(200, "stale")]
    );
    store.revoke(&revoke(300, "again")).await.unwrap();
    assert_eq!(
        store.revocations().await.unwrap(),
        vec![revoke(300, "again")]
    );
    let token = Revocation {
        subject: Revoked::Token("t-1".into()),
        at: 50,
        reason: "leaked".into(),
    };
    store.revoke(&token).await.unwrap();
    store.close().await.unwrap();
    let store = SqliteStore::open(tmp.path()).unwrap();
    assert_eq!(
        store.revocations().await.unwrap(),
        vec![revoke(300, "again"), token],
        "users and single tokens, kept across a restart"
    );
}
