//! The `bptui` executable: parses the command line and maps invalid input to exit status 2.

use bptui::error::{clip, one_line};
use clap::{CommandFactory, Parser};

/// The subcommands' names as clap knows them, for `bptui frobnicate m.yaml`.
fn commands() -> Vec<String> {
    bptui::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

/// The longest error line printed, in characters of the message (control characters escaped).
const MAX_MESSAGE_CHARS: usize = 500;

fn main() {
    bptui::signals::install();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `bptui frobnicate m.yaml`: a word that is neither a command nor a file, then more.
    if let [_, first, _, ..] = args.as_slice() {
        let word = first.to_string_lossy();
        let path = std::path::Path::new(first);
        let looks_like_a_command = !word.starts_with('-') && !word.contains(['.', '/']) && !path.exists();
        let commands = commands();
        // `help` is clap's own subcommand.
        if looks_like_a_command && word != "help" && !commands.iter().any(|c| *c == word) {
            eprintln!(
                "error: unknown command `{}`: expected one of {}, or bptui MODEL.yaml for the debugger",
                clip(&word),
                commands.join(", ")
            );
            std::process::exit(2);
        }
    }
    let cli = match bptui::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // A value the command line's parsers refused (`--tol nan`): one line, as every other
        // invalid input.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let text = e.render().to_string();
            eprintln!("{}", one_line(text.lines().next().unwrap_or_default(), MAX_MESSAGE_CHARS));
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    };
    match bptui::cli::main_with(cli) {
        Ok(code) => std::process::exit(code),
        Err(bptui::error::Error::BrokenPipe) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string(), MAX_MESSAGE_CHARS));
            std::process::exit(2);
        }
    }
}
