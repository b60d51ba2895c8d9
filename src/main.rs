//! The `bptui` executable: parses the command line and maps invalid input to exit status 2.

use clap::Parser;

/// The commands, for `bptui frobnicate m.yaml`.
const COMMANDS: [&str; 7] = ["run", "trace", "diff", "check", "graph", "gradcheck", "help"];

/// One line whatever the message holds: control characters escaped, at most about 500 characters.
fn one_line(message: &str) -> String {
    let mut out = String::new();
    for (i, c) in message.chars().enumerate() {
        if i >= 500 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn main() {
    bptui::signals::install();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `bptui frobnicate m.yaml`: a word that is neither a command nor a file, then more.
    if let [_, first, _, ..] = args.as_slice() {
        let word = first.to_string_lossy();
        let path = std::path::Path::new(first);
        let looks_like_a_command = !word.starts_with('-') && !word.contains(['.', '/']) && !path.exists();
        if looks_like_a_command && !COMMANDS.contains(&word.as_ref()) {
            eprintln!(
                "error: unknown command `{}`: expected one of {}, or bptui MODEL.yaml for the debugger",
                one_line(&word.chars().take(60).collect::<String>()),
                COMMANDS[..6].join(", ")
            );
            std::process::exit(2);
        }
    }
    let cli = bptui::cli::Cli::parse();
    match bptui::cli::main_with(cli) {
        Ok(code) => std::process::exit(code),
        Err(bptui::error::Error::BrokenPipe) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            std::process::exit(2);
        }
    }
}
