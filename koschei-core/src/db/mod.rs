//! PostgreSQL access: migrations and query functions.

pub mod web;
