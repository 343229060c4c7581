//! The store's story test suite on SQLite, each story in its own file.

use vigil_store_sqlite::SqliteStore;

async fn fresh() -> Option<(SqliteStore, tempfile::TempDir)> {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&directory.path().join("vigil.db"))
        .await
        .expect("open");
    Some((store, directory))
}

vigil_store::story_tests!(fresh().await);
