//! Going back and going to: `←`/`p` undoes a step, `P` returns to the example's start, `r`
//! restarts, and the prompt's go-to lands anywhere in the run. Behind the current point the
//! history replays from its nearest checkpoint; ahead of it the worker runs there.

use crate::session::Phase;

use super::app::{start_job, update, Action, App, Finish, Goal, Spot};
use super::prompt::{Goto, StepOf};

/// Puts the session where it had taken `steps` micro-steps, the screen as it was when that
/// point was first reached: the last step is taken again as `n` takes it, with its highlights
/// and its message.
pub fn to_steps(app: &mut App, steps: u64) {
    let Some(history) = app.history.as_mut() else { return };
    if steps == 0 {
        history.rewind(&mut app.session, 0);
        app.view.touched.clear();
        app.view.last = None;
        if app.view.follow {
            if let Some(id) = app.session.next_node() {
                app.view.selected = id;
            }
        }
        return;
    }
    history.rewind(&mut app.session, steps - 1);
    update(app, Action::Step);
}

/// `←` / `p`.
pub fn step_back(app: &mut App) {
    match app.session.steps() {
        0 => app.view.last = Some("at the start of the run: nothing to undo".into()),
        n => to_steps(app, n - 1),
    }
}

/// `P`: the start of this example, or of the previous one when already at a start.
pub fn back_to_example(app: &mut App) {
    let s = &app.session;
    let here = Spot::of(s);
    let n = s.examples_per_epoch();
    let start = match s.phase() {
        Phase::Finished | Phase::Evaluate => {
            Spot { epoch: s.epoch(), example: n.saturating_sub(1), phase: 0, index: 0 }
        }
        _ => Spot { epoch: s.epoch(), example: s.example(), phase: 0, index: 0 },
    };
    let target = if start < here {
        start
    } else if start.example > 0 {
        Spot { example: start.example - 1, ..start }
    } else if start.epoch > 1 {
        Spot { epoch: start.epoch - 1, example: n - 1, ..start }
    } else {
        app.view.last = Some("at the start of the run".into());
        return;
    };
    go(app, target);
}

/// `r`: back to the very start.
pub fn restart(app: &mut App) {
    // The backward version chosen with `a` is a setting, kept across the restart.
    let chosen = app.session.next_algorithm();
    to_steps(app, 0);
    if app.session.next_algorithm() != chosen {
        match &mut app.history {
            Some(h) => h.set_algorithm(&mut app.session, chosen),
            None => app.session.set_algorithm(chosen),
        }
    }
    app.view.last = Some("restarted: back at the start of the run".into());
}

/// Goes to `target`: back through the history, or ahead on the worker.
pub fn go(app: &mut App, target: Spot) {
    let here = Spot::of(&app.session);
    if target == here {
        app.view.last = Some("already there".into());
        return;
    }
    if target < here {
        let Some(history) = app.history.as_ref() else { return };
        match history.steps_when(&app.session, |s| Spot::of(s) >= target) {
            Some(steps) => to_steps(app, steps),
            None => app.view.last = Some("that point is not in this run's history".into()),
        }
        return;
    }
    if app.session.phase() == Phase::Finished {
        app.view.last = Some("the run is over: that point is not reached".into());
        return;
    }
    let s = &app.session;
    let n = s.examples_per_epoch();
    let total = (target.epoch.saturating_sub(here.epoch) * n + target.example).saturating_sub(here.example);
    let goal = Goal::from(s, Finish::Goto, Some(target));
    start_job(app, goal, total, None);
}

/// The spot a go-to command names, from the current position.
pub fn resolve(app: &App, goto: &Goto) -> Result<Spot, String> {
    let s = &app.session;
    let g = s.graph();
    let n = s.examples_per_epoch();
    let epochs = s.epochs();
    let here = Spot::of(s);
    let (phase, index) = match goto.step {
        None => (0, 0),
        Some((step, id)) => {
            let (phase, position) = match step {
                StepOf::Forward => (0, g.forward_position(id)),
                StepOf::Backward => (1, g.backward_position(id)),
                StepOf::Update => (2, g.param_index(id)),
            };
            let Some(p) = position else {
                let what = if step == StepOf::Forward { "forward" } else { "backward" };
                return Err(format!("{} has no {what} step", g.node(id).name));
            };
            (phase, p + 1)
        }
    };
    let spot = |epoch, example| Spot { epoch, example, phase, index };
    if let Some(row) = goto.row {
        if row >= n {
            return Err(format!("row {row}: the data has rows 0 to {}", n.saturating_sub(1)));
        }
        let from_epoch = here.epoch.min(epochs);
        for e in from_epoch..=epochs {
            let order = s.order_of_epoch(e);
            let first = if e == here.epoch { here.example } else { 0 };
            for (x, &r) in order.iter().enumerate().skip(first) {
                if r == row && spot(e, x) > here {
                    return Ok(spot(e, x));
                }
            }
        }
        return Err(format!("data row {row} does not come again in this run"));
    }
    let current_epoch = here.epoch.min(epochs);
    let epoch = goto.epoch.unwrap_or(current_epoch);
    let mut example = match (goto.example, goto.epoch) {
        (Some(x), _) => x - 1,
        (None, Some(_)) => 0,
        (None, None) => here.example.min(n - 1),
    };
    let mut epoch = epoch;
    // A node's step alone: in this example if it is still ahead, else in the next one.
    if goto.epoch.is_none() && goto.example.is_none() && spot(epoch, example) <= here {
        example += 1;
        if example == n {
            example = 0;
            epoch += 1;
        }
        if epoch > epochs {
            return Err("no later step like it: the run is at its last example (p steps back; e 1 x 1 with the \
                        step goes to the first)"
                .into());
        }
    }
    if epoch > epochs {
        return Err(format!("epoch {epoch}: the run has {epochs}"));
    }
    if example >= n {
        return Err(format!("example {}: an epoch has {n}", example + 1));
    }
    Ok(spot(epoch, example))
}
