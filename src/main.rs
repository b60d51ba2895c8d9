//! The `bptui` executable: parses the command line and maps invalid input to exit status 2.

use bptui::error::{clip, one_line};
use clap::{CommandFactory, Parser};

/// The subcommands' names as clap knows them, for `bptui frobnicate m.yaml`.
fn commands() -> Vec<String> {
    bptui::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

/// The longest error line printed, in characters of the message (control characters escaped).
const MAX_MESSAGE_CHARS: usize = 500;

/// clap's error text (an error line, its details, a tip, the usage) as one line: `error:
/// unexpected argument '--bogus' found (to pass '--bogus' as a value, use '-- --bogus'); see
/// bptui run --help`.
fn argument_error(text: &str, command: Option<&str>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut usage = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("For more information")) {
        if let Some(u) = line.strip_prefix("Usage:") {
            let words: Vec<&str> = u.split_whitespace().take_while(|w| !w.starts_with(['[', '<', '-'])).collect();
            usage = Some(words.join(" "));
            break;
        }
        match line.strip_prefix("tip:") {
            Some(tip) => parts.push(format!("({})", tip.trim())),
            None => parts.push(line.to_string()),
        }
    }
    // Where clap's text has no usage line (`--out` given no value), the command typed.
    let usage = usage.filter(|u| !u.is_empty()).unwrap_or_else(|| match command {
        Some(c) => format!("bptui {c}"),
        None => "bptui".to_string(),
    });
    format!("{}; see {usage} --help", parts.join(" "))
}

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
        // Help and version are what was asked for, printed as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        // Any argument refused (`--tol nan`, `--bogus`, a missing MODEL): one line, as every
        // other invalid input.
        Err(e) => {
            let typed = args.get(1).map(|a| a.to_string_lossy().into_owned());
            let command = typed.filter(|t| commands().contains(t));
            eprintln!("{}", one_line(&argument_error(&e.render().to_string(), command.as_deref()), MAX_MESSAGE_CHARS));
            std::process::exit(2);
        }
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
