//! Every integration test in one binary (one link for all of them): each module is one area.

mod by_hand;
mod cli_commands;
mod cli_errors;
mod closed_forms;
mod control;
mod derivative_shown;
mod diff_layouts;
mod diff_traces;
mod fast_run;
mod fuzz;
mod hardening;
mod homework_corpus;
mod homework_numpy;
mod layers;
mod model_init;
mod numpy_compat;
mod op_gradients;
mod output_files;
mod program_diff;
mod screen;
mod tidy;
mod traces;
mod tui_against;
mod tui_app;
mod tui_pty;
mod tui_signals;
mod tui_snapshots;
mod tui_teaching;
mod tui_travel;
mod versions;

/// The cases a property test runs: `PROPTEST_CASES` when set (a longer search before a change
/// lands), else the test's own `default`.
pub(crate) fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
