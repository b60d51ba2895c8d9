//! The debugger's commands beyond stepping: time travel and the prompt, breakpoints and
//! watches, the node's gradient check, precision, copying and saving numbers. Called by
//! [`update`](super::update::update), the only code that changes the state.

use std::io::Write as _;
use std::path::PathBuf;

use ndarray::ArrayD;

use crate::control::command::{self, Command};
use crate::control::Condition;
use crate::engine::rules::Kind;
use crate::engine::NodeId;
use crate::numfmt::py_repr;
use crate::session::Phase;

use super::app::{Action, App, Confirm, Pane, Window};
use super::prompt::Prompt;
use super::run;

/// Applies one of the actions this module owns; `false` when `action` is not one of them.
pub fn apply(app: &mut App, action: Action) -> bool {
    match action {
        Action::StepBack => run::step_back(app),
        Action::BackToExample => run::back_to_example(app),
        Action::Restart => {
            if app.session().losses().is_empty() {
                run::restart(app);
            } else {
                app.overlay.open(Window::Confirm(Confirm::Restart));
            }
        }
        Action::Answer(yes) => {
            if let (Some(Confirm::Restart), true) = (app.overlay.take_confirm(), yes) {
                run::restart(app);
            } else {
                app.view.last = Some("not restarted".into());
            }
        }
        Action::OpenPrompt => app.overlay.open(Window::Prompt(Prompt::default())),
        Action::PromptChar(c) => {
            if let Some(p) = app.overlay.prompt_mut() {
                p.text.push(c);
                p.message = None;
            }
        }
        Action::PromptBackspace => {
            if let Some(p) = app.overlay.prompt_mut() {
                p.text.pop();
                p.message = None;
            }
        }
        Action::PromptComplete => {
            let graph = app.session().graph().clone();
            if let Some(p) = app.overlay.prompt_mut() {
                p.complete(&graph);
            }
        }
        Action::PromptHistory { older } => {
            if let Some(p) = app.overlay.prompt_mut() {
                p.browse(&app.tools.prompt_history, older);
            }
        }
        Action::PromptSubmit => submit(app),
        Action::ToggleBreakpoint => {
            let id = app.view.selected;
            let name = app.session().graph().node(id).name.clone();
            let set = app.debugger_mut().breakpoints_mut().toggle(Condition::Node(id));
            app.view.last = Some(if set {
                format!("breakpoint on {name}: c stops when its value or adjoint is computed")
            } else {
                format!("breakpoint on {name} removed")
            });
        }
        Action::OpenBreakpoints => app.overlay.open(Window::Breakpoints { at: 0 }),
        Action::ListUp | Action::ListDown | Action::ListToggle | Action::ListDelete => list(app, action),
        Action::ToggleWatch => watch(app, app.view.selected),
        Action::CheckNode => check(app),
        Action::TogglePrecision => {
            app.view.full_precision = !app.view.full_precision;
            app.view.last = Some(if app.view.full_precision {
                "full precision: every digit that round-trips (= for 5 significant digits)".into()
            } else {
                "5 significant digits (= for full precision)".into()
            });
        }
        Action::Copy => copy(app),
        Action::Save => save(app),
        Action::ScrollHome | Action::ScrollEnd => {
            let i = Pane::ALL.iter().position(|&p| p == app.view.focus).unwrap_or(0);
            let limit = app.view.limits[i].get();
            app.view.scroll[i].row = if action == Action::ScrollHome { 0 } else { limit.max_row };
            if action == Action::ScrollHome {
                app.view.scroll[i].col = 0;
            }
        }
        _ => return false,
    }
    true
}

/// Enter in the prompt: runs the command, or says why it is not understood (the line stays).
fn submit(app: &mut App) {
    let Some(p) = app.overlay.take_prompt() else { return };
    let line = p.text.trim().to_string();
    if line.is_empty() {
        return;
    }
    let sizes = command::Sizes { epochs: app.session().epochs(), examples: app.session().examples_per_epoch() };
    let parsed = command::parse(&line, app.session().graph(), sizes);
    let command = match parsed {
        Ok(c) => c,
        Err(why) => {
            app.overlay.open(Window::Prompt(Prompt { message: Some(why), ..p }));
            return;
        }
    };
    if app.tools.prompt_history.last() != Some(&line) {
        app.tools.prompt_history.push(line);
    }
    match command {
        Command::Goto(goto) => match app.debugger().resolve(&goto) {
            Ok(target) => {
                // A node's step asked for: that node is the one to look at, pinned there (as
                // `d` pins its divergence) so that the steps do not move the selection on.
                if let Some((_, id)) = goto.step {
                    app.view.selected = id;
                    app.view.follow = false;
                }
                run::go(app, target);
            }
            Err(why) => app.overlay.open(Window::Prompt(Prompt { text: p.text, browsing: None, message: Some(why) })),
        },
        Command::Break(condition) => {
            let text = condition.describe(app.session().graph(), app.digits());
            if condition == Condition::Diverge && app.debugger().theirs().is_none() {
                app.view.last = Some("break diverge needs --against THEIRS".into());
                return;
            }
            if app.debugger().breakpoints().has(&condition) {
                app.view.last = Some(format!("breakpoint {text} is set already (B lists them)"));
                return;
            }
            app.debugger_mut().breakpoints_mut().toggle(condition);
            app.view.last = Some(format!("breakpoint {text}: c continues to it"));
        }
        Command::Watch(id) => watch(app, id),
        Command::Index(idx) => {
            // The value pane, unless the adjoint pane has the focus.
            let pane = if app.view.focus == Pane::Adjoints { Pane::Adjoints } else { Pane::Values };
            let i = Pane::ALL.iter().position(|&p| p == pane).unwrap_or(1);
            app.view.scroll[i].row = idx[0];
            app.view.scroll[i].col = idx.get(1).copied().unwrap_or(0);
            app.view.focus = pane;
        }
    }
}

/// The breakpoint list's keys.
fn list(app: &mut App, action: Action) {
    let Some(Window::Breakpoints { at }) = &mut app.overlay.window else { return };
    let list = &mut app.debugger.breakpoints_mut().list;
    let n = list.len();
    match action {
        Action::ListUp => *at = at.saturating_sub(1),
        Action::ListDown => *at = (*at + 1).min(n.saturating_sub(1)),
        Action::ListToggle => {
            if let Some(b) = list.get_mut(*at) {
                b.enabled = !b.enabled;
            }
        }
        Action::ListDelete if *at < n => {
            list.remove(*at);
            *at = (*at).min(n.saturating_sub(2));
        }
        _ => {}
    }
}

fn watch(app: &mut App, id: NodeId) {
    let name = app.session().graph().node(id).name.clone();
    if let Some(i) = app.tools.watches.iter().position(|&w| w == id) {
        app.tools.watches.remove(i);
        app.view.last = Some(format!("no longer watching {name}"));
    } else {
        app.tools.watches.push(id);
        app.view.last = Some(format!("watching {name}: its health line stays on screen (w again to stop)"));
    }
}

/// `G`: central differences for the selected node.
fn check(app: &mut App) {
    match app.session().check_node(app.view.selected, 1e-6, 1e-5) {
        Ok(c) => app.overlay.open(Window::Check(c)),
        Err(why) => app.view.last = Some(format!("G: {why}")),
    }
}

/// The array `y` and `s` take: the selected node's adjoint in the adjoint pane, else its value.
fn selected_array(app: &App) -> (Kind, &ArrayD<f64>) {
    let ws = app.session().workspace();
    if app.view.focus == Pane::Adjoints {
        (Kind::Adjoint, &ws.adjoints[app.view.selected])
    } else {
        (Kind::Value, &ws.values[app.view.selected])
    }
}

/// An array as numpy source: `np.array([[0.1, -0.2], [...]])`, every digit.
pub fn numpy_literal(a: &ArrayD<f64>) -> String {
    let list = crate::numfmt::nested_list(a, |x| match x {
        x if x.is_nan() => "np.nan".to_string(),
        x if x.is_infinite() => if x > 0.0 { "np.inf" } else { "-np.inf" }.to_string(),
        x => py_repr(x),
    });
    format!("np.array({list})")
}

/// `y`: the selected array as a numpy literal, to the terminal's clipboard (OSC 52) and a file.
fn copy(app: &mut App) {
    let (kind, a) = selected_array(app);
    let text = numpy_literal(a);
    let graph = app.session().graph();
    let name = &graph.node(app.view.selected).name;
    let what = match kind {
        Kind::Value => name.clone(),
        Kind::Adjoint => format!("d{}/d{name}", graph.node(graph.loss()).name),
    };
    let file = PathBuf::from(format!("bptui-{}.py", file_safe(&what)));
    let written =
        std::fs::File::create(&file).and_then(|mut f| writeln!(f, "import numpy as np\n{} = {text}", py_name(&what)));
    app.outbox.clipboard = Some(text);
    app.view.last = Some(match written {
        Ok(()) => format!("copied {what} as a numpy literal (clipboard, and {})", file.display()),
        Err(e) => format!("copied {what} to the clipboard; {} could not be written: {e}", file.display()),
    });
}

/// `s`: the current step's values, adjoints and parameters as an .npz (what is computed so far).
fn save(app: &mut App) {
    let s = app.session();
    let phase = match s.phase() {
        Phase::Forward => "forward",
        Phase::Backward => "backward",
        Phase::Update => "update",
        Phase::Evaluate => "evaluate",
        Phase::Finished => "finished",
    };
    let at = s.position();
    let file = PathBuf::from(format!("bptui-step-e{}-x{}-{phase}{}.npz", at.epoch, at.example, s.index()));
    let record = crate::session::step_record(s, at);
    let (values, adjoints) = (record.forward.len(), record.adjoints.len());
    app.view.last = Some(match crate::trace::write_file(&file, &[crate::trace::Record::Example(record)]) {
        Ok(()) => format!(
            "saved the {values} values and {adjoints} final adjoints computed so far, and the parameters, to {} (keys e{}/x{}/forward|adjoints|params/NAME)",
            file.display(),
            at.epoch,
            at.example
        ),
        Err(e) => format!("could not save: {e}"),
    });
}

fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

fn py_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        format!("v_{s}")
    } else {
        s
    }
}
