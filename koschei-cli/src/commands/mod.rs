//! One module per subcommand.

pub(crate) mod impact;
pub(crate) mod resolve;
