//! SQL with named parameters: `$practice`, `$window_start`, … in the text, bound by name, sent
//! to PostgreSQL as `$1`, `$2`, … in order of first appearance (a name used again refers to the
//! same parameter). The query module's statements are kept prepared per connection, so
//! PostgreSQL plans them once instead of at every search (`diesel::sql_query` is never
//! prepared, and planning the search took as long as running it); the reports' are not
//! ([`Statement::unprepared`]): each is planned for its own values.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz, Untyped};

/// One piece of a [`Statement`]'s text after the SQL before it.
#[derive(Debug)]
enum Place {
    /// The first appearance of parameter `i`: bound here.
    Bind(usize),
    /// A later appearance of parameter `i`: refers to the bound one.
    Again(usize),
}

/// SQL text with named parameters, parsed once.
#[derive(Debug)]
pub struct Statement {
    /// The text as written, with its parameter names: what the snapshot tests show.
    sql: String,
    /// The SQL before each parameter, then what follows the last one.
    pieces: Vec<(String, Option<Place>)>,
    names: Vec<String>,
    prepared: bool,
}

impl Statement {
    /// A statement kept prepared on each connection (and planned generically after a few runs).
    pub fn prepared(sql: String) -> Self {
        Self::parse(sql, true)
    }

    /// A statement planned at every run for its values.
    pub fn unprepared(sql: String) -> Self {
        Self::parse(sql, false)
    }

    fn parse(sql: String, prepared: bool) -> Self {
        let mut pieces = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut rest = sql.as_str();
        let mut before = String::new();
        while let Some(at) = rest.find('$') {
            before.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                // Not a parameter (a `$` in a regular expression, say).
                before.push('$');
                rest = after;
                continue;
            }
            let place = match names.iter().position(|n| n == name) {
                Some(i) => Place::Again(i),
                None => {
                    names.push(name.to_owned());
                    Place::Bind(names.len() - 1)
                }
            };
            pieces.push((std::mem::take(&mut before), Some(place)));
            rest = &after[len..];
        }
        before.push_str(rest);
        pieces.push((before, None));
        Statement {
            sql,
            pieces,
            names,
            prepared,
        }
    }

    /// The text with its parameter names.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The parameters' names, in the order they are sent.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A query of this statement with no value bound yet.
    pub fn query(&self) -> NamedQuery<'_> {
        NamedQuery {
            statement: self,
            values: self.names.iter().map(|_| None).collect(),
        }
    }
}

/// A parameter's value, with its SQL type.
#[derive(Debug, Clone)]
pub enum Value {
    Int8(Option<i64>),
    Int8Array(Vec<i64>),
    Text(Option<String>),
    TextArray(Vec<String>),
    Timestamptz(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    DateArray(Vec<NaiveDate>),
}

/// A [`Statement`] with values bound by name; every parameter must be bound before it runs.
pub struct NamedQuery<'s> {
    statement: &'s Statement,
    values: Vec<Option<Value>>,
}

impl NamedQuery<'_> {
    /// Binds `name`. A name the statement doesn't have is a mistake in the calling code.
    pub fn bind(mut self, name: &str, value: Value) -> Self {
        let i = self
            .statement
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("the statement has no parameter ${name}"));
        self.values[i] = Some(value);
        self
    }
}

impl QueryFragment<Pg> for NamedQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.statement.prepared {
            out.unsafe_to_cache_prepared();
        }
        for (sql, place) in &self.statement.pieces {
            out.push_sql(sql);
            match place {
                None => {}
                // This query is the whole statement, so parameter i is sent as $(i + 1).
                Some(Place::Again(i)) => out.push_sql(&format!("${}", i + 1)),
                Some(Place::Bind(i)) => match &self.values[*i] {
                    None => {
                        return Err(diesel::result::Error::QueryBuilderError(
                            format!("parameter ${} is not bound", self.statement.names[*i]).into(),
                        ));
                    }
                    Some(Value::Int8(v)) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                    Some(Value::Int8Array(v)) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                    Some(Value::Text(v)) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                    Some(Value::TextArray(v)) => out.push_bind_param::<Array<Text>, _>(v)?,
                    Some(Value::Timestamptz(v)) => {
                        out.push_bind_param::<Nullable<Timestamptz>, _>(v)?
                    }
                    Some(Value::Date(v)) => out.push_bind_param::<Nullable<Date>, _>(v)?,
                    Some(Value::DateArray(v)) => out.push_bind_param::<Array<Date>, _>(v)?,
                },
            }
        }
        Ok(())
    }
}

impl QueryId for NamedQuery<'_> {
    type QueryId = ();
    // No static id: diesel's statement cache then keys a prepared statement by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for NamedQuery<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for NamedQuery<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(statement: &Statement) -> String {
        let query = statement
            .names()
            .iter()
            .fold(statement.query(), |q, n| q.bind(n, Value::Int8(Some(1))));
        diesel::debug_query::<Pg, _>(&query)
            .to_string()
            .split(" -- binds")
            .next()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn names_become_numbers_in_order_of_first_appearance() {
        let s = Statement::prepared(
            "SELECT $practice::int8, $now, x FROM t WHERE p = $practice AND y ~ '^a$'".into(),
        );
        assert_eq!(s.names(), ["practice", "now"]);
        assert_eq!(
            sent(&s),
            "SELECT $1::int8, $2, x FROM t WHERE p = $1 AND y ~ '^a$'"
        );
    }

    #[test]
    fn an_unbound_parameter_is_an_error_not_a_null() {
        let s = Statement::unprepared("SELECT $a, $b".into());
        let query = s.query().bind("a", Value::Int8(None));
        let mut sql = diesel::pg::PgQueryBuilder::default();
        assert!(QueryFragment::<Pg>::to_sql(&query, &mut sql, &Pg).is_err());
    }

    #[test]
    #[should_panic(expected = "no parameter $c")]
    fn binding_a_name_the_statement_lacks_is_a_mistake() {
        let s = Statement::prepared("SELECT $a".into());
        let _ = s.query().bind("c", Value::Int8(None));
    }
}
