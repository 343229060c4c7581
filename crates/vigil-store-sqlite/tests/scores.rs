//! The events of a case are read back as one JSON array with each score as
//! text (`CASE_EVENTS_JSON`): that text must give back exactly the stored
//! number, or a late outcome would count a score in a neighbouring bin.

use vigil_store_sqlite::SqliteStore;

#[tokio::test]
async fn scores_as_exact_text_read_back_exactly() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&directory.path().join("vigil.db"))
        .await
        .expect("open");
    let mut scores = vec![
        0.1 + 0.2,
        1.0 / 3.0,
        2.0 / 3.0,
        0.35,
        0.999_999_999_999_999_9,
        1e-300,
        f64::MIN_POSITIVE,
        5e-324,
        0.0,
        1.0,
    ];
    // And a spread of awkward values: k/100 just above and below.
    for k in 1..100 {
        let edge = f64::from(k) / 100.0;
        scores.push(edge);
        scores.push(f64::from_bits(edge.to_bits() + 1));
        scores.push(f64::from_bits(edge.to_bits() - 1));
    }
    assert!(
        SqliteStore::CASE_EVENTS_JSON.contains(SqliteStore::EXACT_SCORE_TEXT),
        "the events of cases use the exact text"
    );
    let select = format!(
        "SELECT {} FROM (SELECT ?1 AS score)",
        SqliteStore::EXACT_SCORE_TEXT
    );
    for score in scores {
        let text: String = sqlx::query_scalar(::sqlx::AssertSqlSafe(select.as_str()))
            .bind(score)
            .fetch_one(store.pool())
            .await
            .expect("printf");
        let back: f64 = text.parse().expect("a number");
        assert_eq!(
            back.to_bits(),
            score.to_bits(),
            "{score:e} printed as {text}"
        );
    }
}
