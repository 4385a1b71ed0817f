//! Background tasks over the narrow store traits: the activity log's batching writer and
//! journal pruning. Each runs on the server's runtime until the server stops.

mod activity_writer;
mod pruning;

pub use activity_writer::ActivityWriter;
pub use pruning::{PRUNE_EVERY, start_pruning};
