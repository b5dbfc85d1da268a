//! Migrations that change what searches answer, tested by running them on data of the schema
//! before them.

mod audiences;
