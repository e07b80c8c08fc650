//! Property tests: thousands of generated inputs per property from a fixed-seed generator
//! (the approach of koschei-web's query parsing tests; a failure names its seed and case, so
//! it reproduces), each checked against a plain model of what the parser promises.

mod config;
mod repomd;
