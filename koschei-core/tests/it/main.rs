mod koji;
mod repo;
