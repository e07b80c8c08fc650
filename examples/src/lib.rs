//! Runnable examples; see the files under `examples/examples/`.
#![forbid(unsafe_code)]
