//! The store's story test suite on PostgreSQL, each story in its own schema.
//!
//! The server comes from `VIGIL_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`); without it the tests print a
//! notice and pass without running.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use vigil_store_postgres::PostgresStore;

/// Drops the test's schema when the test ends.
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let url = self.url.clone();
        let name = self.name.clone();
        // A fresh thread with its own runtime: drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut connection) = PgConnection::connect(&url).await {
                        let _ = sqlx::query(::sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA IF EXISTS {name} CASCADE"
                        )))
                        .execute(&mut connection)
                        .await;
                    }
                });
            }
        })
        .join();
    }
}

async fn fresh() -> Option<(PostgresStore, Schema)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES_URL") else {
        println!(
            "skipped: VIGIL_TEST_POSTGRES_URL is not set, so the PostgreSQL story tests did not run"
        );
        return None;
    };
    let name = format!(
        "vigil_story_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut connection = PgConnection::connect(&url)
        .await
        .expect("connect to the test server");
    sqlx::query(::sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&mut connection)
        .await
        .expect("create schema");
    let options: PgConnectOptions = url.parse().expect("URL");
    let store = PostgresStore::connect(options.options([("search_path", name.as_str())]))
        .await
        .expect("open store");
    Some((store, Schema { url, name }))
}

vigil_store::story_tests!(fresh().await);
