//! The end-to-end tests, one binary: each module drives a real herald-local (started per
//! test on a free port, with its own table and queues in the moto this process shares) and
//! the provider simulator over HTTP, as a user would. Shared helpers are in `tests/src`.
//! `logs.rs` stays a binary of its own: it installs the process-wide log subscriber it reads.
mod attacks;
mod boundaries;
mod browser;
mod cli;
mod console;
mod exactly_once;
mod failures;
mod guards;
mod iam;
mod linking;
mod platform;
mod poison;
mod real_aws;
mod sending;
mod sessions;
mod voice;
mod webhooks;
