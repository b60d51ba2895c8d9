//! bptui: a terminal debugger that steps through backpropagation one number at a time.
//!
//! The engine ([`engine`], [`model`], [`data`], [`session`], [`trace`]) knows nothing of
//! terminals; [`tui`] and [`cli`] drive the same [`session::Session`].

pub mod cli;
pub mod data;
pub mod diff;
pub mod engine;
pub mod error;
pub mod input;
pub mod model;
pub mod nested;
pub mod npy;
pub mod numfmt;
pub mod numpy_rng;
pub mod output;
pub mod session;
pub mod signals;
pub mod trace;
pub mod tui;
