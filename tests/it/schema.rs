//! `src/db/schema.rs` against the migrated database, as `diesel print-schema` would compare
//! them (without the diesel CLI): every table and view with its columns in order, their types
//! and nullability (a view's columns are always nullable to PostgreSQL, so only their types are
//! compared) and the tables' primary keys. Partitions are left out: `schema.rs` declares the
//! partitioned table.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use crate::harness::TestDb;

/// A table or view of `schema.rs`: its key and its columns with their diesel types.
#[derive(Debug, Default, PartialEq)]
struct Declared {
    key: Vec<String>,
    columns: Vec<(String, String)>,
}

/// The `diesel::table!` blocks of `schema.rs`, by name.
fn declared() -> BTreeMap<String, Declared> {
    let source = include_str!("../../src/db/schema.rs");
    let mut tables = BTreeMap::new();
    for block in source.split("diesel::table! {").skip(1) {
        let body = &block[..block.find("\n}").expect("a table! block ends")];
        let mut lines = body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#'));
        let head = lines.next().expect("a table! block names its table");
        let (name, key) = head.split_once(" (").expect("table (key) {");
        let key = key.split_once(')').expect("(key)").0;
        let columns = lines
            .filter_map(|l| l.split_once(" -> "))
            .map(|(c, t)| (c.to_owned(), t.trim_end_matches(',').to_owned()))
            .collect();
        tables.insert(
            name.to_owned(),
            Declared {
                key: key.split(',').map(|k| k.trim().to_owned()).collect(),
                columns,
            },
        );
    }
    tables
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    table_type: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
}

/// The diesel type `print-schema` gives a PostgreSQL type.
fn diesel_type(udt: &str) -> String {
    let base = |t: &str| match t {
        "int2" => "Int2",
        "int4" => "Int4",
        "int8" => "Int8",
        "text" => "Text",
        "bool" => "Bool",
        "date" => "Date",
        "timestamptz" => "Timestamptz",
        "float8" => "Float8",
        "jsonb" => "Jsonb",
        "bytea" => "Bytea",
        other => panic!("no diesel type for PostgreSQL type {other} here yet"),
    };
    match udt.strip_prefix('_') {
        Some(element) => format!("Array<{}>", base(element)),
        None => base(udt).to_owned(),
    }
}

/// The migrated database's tables and views (true for a view), as `schema.rs` would declare
/// them.
fn migrated(conn: &mut PgConnection) -> BTreeMap<String, (bool, Declared)> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT c.table_name::text, t.table_type::text, c.column_name::text, c.udt_name::text,
                c.is_nullable::text,
                (SELECT string_agg(a.attname, ', ' ORDER BY k.n)
                 FROM pg_index i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE i.indrelid = (quote_ident(c.table_name))::regclass AND i.indisprimary)
                    AS key
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND c.table_name <> '__diesel_schema_migrations'
           -- A partitioned table's partitions are the parent's (gpconnect_audit by month).
           AND NOT (SELECT relispartition FROM pg_class
                    WHERE oid = (quote_ident(c.table_name))::regclass)
         ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .unwrap();
    let mut tables: BTreeMap<String, (bool, Declared)> = BTreeMap::new();
    for c in columns {
        let view = c.table_type == "VIEW";
        let (_, table) = tables
            .entry(c.table_name.clone())
            .or_insert_with(|| (view, Declared::default()));
        if let Some(key) = &c.key {
            table.key = key.split(", ").map(str::to_owned).collect();
        }
        let ty = diesel_type(&c.udt_name);
        let ty = match c.is_nullable.as_str() {
            "YES" if !view => format!("Nullable<{ty}>"),
            _ => ty,
        };
        table.columns.push((c.column_name, ty));
    }
    tables
}

#[test]
fn schema_rs_declares_the_migrated_database() {
    let db = TestDb::new();
    let mut declared = declared();
    for (name, (view, actual)) in migrated(&mut db.conn()) {
        let mut table = declared
            .remove(&name)
            .unwrap_or_else(|| panic!("{name} is in the database but not in schema.rs"));
        if view {
            // PostgreSQL calls every column of a view nullable: compare what they hold.
            for (_, ty) in &mut table.columns {
                if let Some(inner) = ty
                    .strip_prefix("Nullable<")
                    .and_then(|t| t.strip_suffix('>'))
                {
                    *ty = inner.to_owned();
                }
            }
        }
        assert_eq!(table.columns, actual.columns, "{name}: columns, in order");
        if !actual.key.is_empty() {
            assert_eq!(table.key, actual.key, "{name}: primary key");
        }
    }
    assert!(
        declared.is_empty(),
        "in schema.rs but not in the database: {:?}",
        declared.keys()
    );
}
