//! Sign-in rate limits kept in PostgreSQL, so every instance on the database counts the same
//! attempts: per username, per client address, and the one lock-out note per username and
//! window. Each key is a generic cell rate algorithm cell (`governor`'s algorithm, as before):
//! `limit` attempts at once, then one more every `window / limit`.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Interval, Text};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Account,
    Address,
    LockOut,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::Address => "address",
            Kind::LockOut => "lock_out",
        }
    }
}

#[derive(QueryableByName)]
struct Answer {
    #[diesel(sql_type = Bool)]
    allowed: bool,
}

fn interval(d: Duration) -> diesel::data_types::PgInterval {
    diesel::data_types::PgInterval::from_microseconds(d.as_micros() as i64)
}

/// Counts one attempt of `key` against `limit` per `window`; false when the limit is used up
/// (a refused attempt is not counted). One statement: the row lock makes concurrent attempts,
/// on any instance, take their turn.
pub fn attempt(
    conn: &mut PgConnection,
    kind: Kind,
    key: &str,
    limit: u32,
    window: Duration,
) -> QueryResult<bool> {
    let step = window / limit.max(1);
    let answer: Answer = diesel::sql_query(
        "INSERT INTO sign_in_limits AS l (kind, key, tat, allowed)
         VALUES ($1, $2, clock_timestamp() + $3, true)
         ON CONFLICT (kind, key) DO UPDATE SET
             allowed = greatest(l.tat, clock_timestamp()) - clock_timestamp() <= $4 - $3,
             tat = CASE WHEN greatest(l.tat, clock_timestamp()) - clock_timestamp() <= $4 - $3
                        THEN greatest(l.tat, clock_timestamp()) + $3
                        ELSE l.tat END
         RETURNING allowed",
    )
    .bind::<Text, _>(kind.name())
    .bind::<Text, _>(key)
    .bind::<Interval, _>(interval(step))
    .bind::<Interval, _>(interval(window))
    .get_result(conn)?;
    Ok(answer.allowed)
}

/// Forgets every key that has fully recovered (it would behave exactly as if never tried).
pub fn forget_recovered(conn: &mut PgConnection) -> QueryResult<usize> {
    use crate::db::schema::sign_in_limits::dsl::*;
    diesel::delete(sign_in_limits.filter(tat.lt(diesel::dsl::now))).execute(conn)
}
