//! bptui: a terminal debugger that steps through backpropagation one number at a time.
//!
//! The engine knows nothing of terminals: [`engine`] (the graph, its ops and their rules),
//! [`model`] (model files validated into a graph), [`data`], [`session`] (the stepping state
//! machine), [`trace`] (traces written and read) and [`diff`] (another implementation's trace
//! compared value by value, and its first difference diagnosed). [`tui`] (the debugger) and
//! [`cli`] (the headless commands) drive the same [`session::Session`]. The rest is input and
//! output: [`error`], [`input`], [`output`], [`npy`], [`nested`], [`numfmt`], [`numpy_rng`],
//! [`parallel`], [`signals`].

pub mod capture;
pub mod cli;
pub mod control;
pub mod data;
pub mod diff;
pub mod engine;
pub mod error;
pub mod input;
pub mod limits;
pub mod model;
pub mod nested;
pub mod notation;
pub mod npy;
pub mod numfmt;
pub mod numpy_rng;
pub mod output;
pub mod parallel;
pub mod session;
pub mod signals;
pub mod trace;
pub mod tui;
