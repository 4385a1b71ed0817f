//! Tests of the filter module: parser (`parse`), evaluator (`eval`), properties (`props`).

mod eval;
mod fixtures;
mod parse;
mod props;
