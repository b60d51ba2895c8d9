//! The run, from the UI: each handler calls run control ([`Debugger`](crate::control::Debugger))
//! and turns what it did into the status line, the selection and the highlights. Stepping,
//! coarse commands and their end, `d`, the backward version, going back and going to.

use crate::control::{Ended, Finish, NextDivergence, Spot, Stop, Travel};
use crate::diff::Divergence;
use crate::engine::Backward;
use crate::session::{Event, Phase, Session};

use super::app::{App, Kind, Touched};

/// `n`: one micro-step, keeping a copy of what it changes for the highlights.
pub fn step(app: &mut App) {
    if app.running() || app.session().phase() == Phase::Finished {
        return;
    }
    let before = about_to_touch(app.session());
    let Some(event) = app.debugger_mut().step() else { return };
    app.view.touched = before;
    app.view.last = Some(describe(app.session(), event));
    if app.view.follow {
        if let Some(id) = event.node().or(app.session().next_node()) {
            app.select(id);
        }
    }
}

/// Copies of the arrays the next step will change, as they are before it.
fn about_to_touch(s: &Session) -> Vec<Touched> {
    let (graph, ws) = (s.graph(), s.workspace());
    let touched: Vec<(usize, Kind)> = match (s.phase(), s.next_node()) {
        (Phase::Forward, Some(id)) | (Phase::Update, Some(id)) => vec![(id, Kind::Value)],
        (Phase::Backward, Some(id)) => match s.algorithm() {
            Backward::A => vec![(id, Kind::Adjoint)],
            Backward::B => graph.pushes(id).map(|(_, v)| (v, Kind::Adjoint)).collect(),
        },
        _ => Vec::new(),
    };
    touched
        .into_iter()
        .map(|(node, kind)| {
            let before = match kind {
                Kind::Value => ws.values[node].clone(),
                Kind::Adjoint => ws.adjoints[node].clone(),
            };
            Touched { node, kind, before }
        })
        .collect()
}

/// A sentence for the status bar about what a step did.
fn describe(s: &Session, event: Event) -> String {
    let g = s.graph();
    match event {
        Event::Loaded { node } => format!("loaded {}", g.node(node).name),
        Event::Forward { node } => format!("computed {}", g.node(node).equation),
        Event::Backward { node, algorithm } => {
            format!("backward at {} (Version {})", g.node(node).name, algorithm.letter())
        }
        Event::Update { node, .. } => format!("updated {}", g.node(node).name),
        Event::Evaluated { epoch } => format!("evaluated epoch {epoch}"),
        Event::Finished => "training is finished".to_string(),
    }
}

/// `f`, `X`, `E`, `R`, `c`: a coarse command on the worker.
pub fn start(app: &mut App, finish: Finish) {
    if app.debugger_mut().start(finish) {
        app.view.touched.clear();
    }
}

/// Between frames: takes the worker's session back if its command has ended.
pub fn tick(app: &mut App) {
    if let Some(ended) = app.debugger_mut().poll() {
        after_job(app, ended);
    }
}

/// Waits for the running coarse command to end and applies its result (for tests and
/// benches, which have no frames).
pub fn wait(app: &mut App) {
    if let Some(ended) = app.debugger_mut().wait() {
        after_job(app, ended);
    }
}

/// Esc while a command runs.
pub fn cancel(app: &mut App) {
    if let Some(ended) = app.debugger_mut().cancel() {
        after_job(app, ended);
    }
}

/// The status line, the selection and the divergence shown, once a coarse command ended.
fn after_job(app: &mut App, ended: Ended) {
    match ended {
        Ended::Done(finish) => {
            app.view.last = Some(match finish {
                Finish::Run => "ran to the end".to_string(),
                Finish::Continue if app.session().phase() == Phase::Finished => {
                    "no breakpoint held: ran to the end".to_string()
                }
                Finish::Goto => "arrived".to_string(),
                f => format!("done {}", f.label().trim_start_matches("finishing ")),
            });
            app.after_coarse();
        }
        Ended::Breakpoint(stop) => stop_at_breakpoint(app, stop),
        Ended::Divergence => land(app),
        Ended::Cancelled { finish, examples } => {
            app.view.last = Some(format!("cancelled {} after {examples} examples", finish.label()));
            app.after_coarse();
        }
    }
}

/// Says which breakpoint stopped a run, and selects its node.
fn stop_at_breakpoint(app: &mut App, stop: Stop) {
    app.view.last = Some(format!("stopped at breakpoint — {}", stop.why));
    app.overlay.chart = false;
    match stop.node {
        Some(id) => {
            app.view.follow = false;
            app.select(id);
        }
        None => app.after_coarse(),
    }
}

/// `d`: on to the next value that differs from THEIRS.
pub fn next_divergence(app: &mut App) {
    match app.debugger_mut().next_divergence() {
        NextDivergence::NoTheirs => app.view.last = Some("d needs --against THEIRS".to_string()),
        NextDivergence::Agrees => {
            app.view.last = Some(format!(
                "no divergence from here on: everything in THEIRS agrees within tol ({})",
                app.digits().number(app.debugger().tol())
            ))
        }
        NextDivergence::Here => land(app),
        NextDivergence::Running => app.view.touched.clear(),
    }
}

/// Selects the node of the divergence just reached and says what differs.
fn land(app: &mut App) {
    let Some(d) = app.debugger().landed().cloned() else { return };
    let name = d.value().map(|(_, n)| n.to_string()).unwrap_or_default();
    if let Some(id) = app.session().graph().find(&name) {
        app.view.follow = false;
        app.select(id);
    }
    app.overlay.chart = false;
    app.view.last = Some(differs_line(app, &d, &name));
}

/// "DIFFERS at epoch 1 example 3: adjoint dJ/da (your `g_a`)[1] (bptui …, yours …) — why".
fn differs_line(app: &App, d: &Divergence, name: &str) -> String {
    let their_name = match (app.debugger().theirs(), d.value()) {
        (Some(t), Some((section, _))) => t.their_name_in(section, name).to_string(),
        _ => String::new(),
    };
    let alias = if !name.is_empty() && their_name != name { format!(" (your `{their_name}`)") } else { String::new() };
    let index = d.index_text();
    let at = match d.example {
        None => format!("epoch {}", d.epoch),
        Some(x) => format!("epoch {} example {x}", d.epoch),
    };
    let digits = app.digits();
    let numbers = match (d.ours, d.theirs) {
        (Some(o), Some(t)) => format!(" (bptui {}, yours {})", digits.number(o), digits.number(t)),
        _ => String::new(),
    };
    let why = d.diagnosis.first().map(|l| format!(" — {l}")).unwrap_or_default();
    format!("DIFFERS at {at}: {}{alias}{index}{numbers}{why}", d.what)
}

/// `a`: the other backward version, and when it takes effect.
pub fn toggle_algorithm(app: &mut App) {
    let next = app.debugger_mut().toggle_algorithm();
    let how = match next {
        Backward::A => "a node pulls its adjoint from its consumers",
        Backward::B => "a node pushes into its inputs",
    };
    let s = app.session();
    let when = if s.phase() == Phase::Backward || s.backward_version() != next {
        "from the next backward pass"
    } else {
        "for this example's backward pass"
    };
    app.view.last = Some(format!("Version {} {when}: {how}", next.letter()));
}

/// Puts the session where it had taken `steps` micro-steps, the screen as it was when that
/// point was first reached: the last step is taken again as `n` takes it, with its highlights
/// and its message.
fn to_steps(app: &mut App, steps: u64) {
    if steps == 0 {
        app.debugger_mut().rewind(0);
        first_screen(app);
        return;
    }
    app.debugger_mut().rewind(steps - 1);
    step(app);
}

/// The screen at the start of the run: nothing changed yet, nothing said.
fn first_screen(app: &mut App) {
    app.view.touched.clear();
    app.view.last = None;
    if app.view.follow {
        if let Some(id) = app.session().next_node() {
            app.view.selected = id;
        }
    }
}

/// `←` / `p`.
pub fn step_back(app: &mut App) {
    match app.session().steps() {
        0 => app.view.last = Some("at the start of the run: nothing to undo".into()),
        n => to_steps(app, n - 1),
    }
}

/// `P`: the start of this example, or of the previous one when already at a start.
pub fn back_to_example(app: &mut App) {
    match app.debugger().example_start() {
        Some(target) => go(app, target),
        None => app.view.last = Some("at the start of the run".into()),
    }
}

/// `r`: back to the very start.
pub fn restart(app: &mut App) {
    app.debugger_mut().restart();
    first_screen(app);
    app.view.last = Some("restarted: back at the start of the run".into());
}

/// Goes to `target`: back through the history, or ahead on the worker.
pub fn go(app: &mut App, target: Spot) {
    match app.debugger_mut().go(target) {
        Travel::Here => app.view.last = Some("already there".into()),
        Travel::Back(steps) => to_steps(app, steps),
        Travel::Ahead => app.view.touched.clear(),
        Travel::NotInHistory => app.view.last = Some("that point is not in this run's history".into()),
        Travel::Over => app.view.last = Some("the run is over: that point is not reached".into()),
    }
}
