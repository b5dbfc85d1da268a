//! A connection lost in the middle of a request's database work is an outage to the caller
//! ("unavailable", answered 503 in each area), not an internal error; the pool replaces it.

use bookable::db::{self, DbError};
use diesel::RunQueryDsl;

use crate::harness::TestDb;

#[derive(Debug)]
enum Failure {
    Db(DbError),
    Query,
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::Db(e)
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(_: diesel::result::Error) -> Self {
        Failure::Query
    }
}

#[actix_web::test]
async fn a_connection_lost_mid_query_is_unavailable_and_replaced() {
    let db = TestDb::new();
    let pool = db.pool(1);
    let lost = db::run(&pool, |conn| {
        // The backend ends under the statement, as in a failover.
        diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())").execute(conn)?;
        Ok::<_, Failure>(())
    })
    .await;
    assert!(matches!(lost, Err(Failure::Db(DbError::Lost))), "{lost:?}");
    // A query's own error is still the caller's.
    let refused = db::run(&pool, |conn| {
        diesel::sql_query("SELECT no_such_column FROM practices").execute(conn)?;
        Ok::<_, Failure>(())
    })
    .await;
    assert!(matches!(refused, Err(Failure::Query)), "{refused:?}");
    // The one pooled connection was replaced.
    let fine = db::run(&pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok::<_, Failure>(())
    })
    .await;
    assert!(fine.is_ok(), "{fine:?}");
}
