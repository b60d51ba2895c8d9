//! The `bptui` executable: parses the command line and maps invalid input to exit status 2.

use clap::Parser;

fn main() {
    bptui::signals::install();
    let cli = bptui::cli::Cli::parse();
    match bptui::cli::main_with(cli) {
        Ok(code) => std::process::exit(code),
        Err(bptui::error::Error::BrokenPipe) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
