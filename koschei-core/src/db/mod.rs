//! Database access (shell module). Query functions take a generic client so they run the same
//! on a plain connection and inside a transaction.

pub mod engine;
