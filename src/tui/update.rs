//! [`update`]: the one function that changes the debugger's state. It dispatches each
//! [`Action`]: the run's to [`run`](super::run) (which calls run control), the commands'
//! to [`commands`](super::commands), and the view's (selection, focus, overlays, scrolling)
//! here.

use super::app::{Action, App, Finish, Pane, Window};
use super::commands;
use super::layout::layout;
use super::run;

pub fn update(app: &mut App, action: Action) {
    match action {
        Action::Step => run::step(app),
        Action::Finish(finish) => run::start(app, finish),
        Action::Continue => run::start(app, Finish::Continue),
        Action::NextDivergence => run::next_divergence(app),
        Action::Tick => run::tick(app),
        Action::Cancel => run::cancel(app),
        Action::ToggleAlgorithm => run::toggle_algorithm(app),
        Action::Quit => {
            // A running worker is told to stop; the app does not wait for it.
            app.debugger().abandon();
            app.outbox.quit = true;
        }
        Action::SelectPrev
        | Action::SelectNext
        | Action::Follow
        | Action::FocusNext
        | Action::FocusPrev
        | Action::Click { .. } => navigate(app, action),
        Action::ToggleZoom | Action::ToggleChart | Action::ToggleHelp | Action::Back => overlay(app, action),
        _ if help_scroll(app, action) => {}
        Action::ScrollUp | Action::ScrollDown | Action::ScrollLeft | Action::ScrollRight | Action::Wheel { .. } => {
            scroll_action(app, action)
        }
        Action::LineUp | Action::LineDown => {}
        Action::StepBack
        | Action::BackToExample
        | Action::Restart
        | Action::Answer(_)
        | Action::OpenPrompt
        | Action::PromptChar(_)
        | Action::PromptBackspace
        | Action::PromptComplete
        | Action::PromptHistory { .. }
        | Action::PromptSubmit
        | Action::ToggleBreakpoint
        | Action::OpenBreakpoints
        | Action::ListUp
        | Action::ListDown
        | Action::ListToggle
        | Action::ListDelete
        | Action::ToggleWatch
        | Action::CheckNode
        | Action::TogglePrecision
        | Action::Copy
        | Action::Save
        | Action::ScrollHome
        | Action::ScrollEnd => {
            if !app.running() {
                commands::apply(app, action);
            }
        }
    }
}

/// The selection and the focus: ↑↓, `.`, Tab, clicks.
fn navigate(app: &mut App, action: Action) {
    match action {
        // In the updates pane ↑↓ go from parameter to parameter.
        Action::SelectPrev | Action::SelectNext if app.view.focus == Pane::Updates => {
            let params = app.session().graph().params().to_vec();
            let at = params.iter().position(|&p| p == app.view.selected);
            let next = match (at, action == Action::SelectNext) {
                (Some(i), true) => params.get(i + 1).or(params.last()),
                (Some(i), false) => params.get(i.saturating_sub(1)),
                (None, _) => params.first(),
            };
            if let Some(&id) = next {
                app.view.follow = false;
                app.select(id);
            }
        }
        Action::SelectPrev | Action::SelectNext => {
            let n = app.session().graph().len();
            let next = if action == Action::SelectNext {
                (app.view.selected + 1).min(n.saturating_sub(1))
            } else {
                app.view.selected.saturating_sub(1)
            };
            app.view.follow = false;
            app.select(next);
        }
        Action::Follow => {
            app.view.follow = true;
            if let Some(id) = app.session().next_node() {
                app.select(id);
            }
        }
        Action::FocusNext | Action::FocusPrev => {
            let forward = action == Action::FocusNext;
            app.view.focus = app.view.focus.cycle(forward);
            // No updates pane without trainable parameters: Tab passes over it.
            if app.view.focus == Pane::Updates && !app.has_updates() {
                app.view.focus = app.view.focus.cycle(forward);
            }
        }
        Action::Click { column, row } => {
            let areas = layout(app.area, app);
            if let Some(pane) = areas.pane_at(column, row) {
                app.view.focus = pane;
            }
            if let Some(id) = areas.node_at(app, column, row) {
                app.view.follow = false;
                app.select(id);
            }
        }
        _ => {}
    }
}

/// Zoom, chart and help on and off; Esc cancels a running command, else closes the top
/// overlay.
fn overlay(app: &mut App, action: Action) {
    match action {
        Action::ToggleZoom => {
            app.overlay.zoom = !app.overlay.zoom;
            // Zoomed panes show every digit: said, since the numbers change length.
            app.view.last = Some(if app.overlay.zoom {
                "zoomed: every digit while zoomed (Enter or Esc unzooms)".into()
            } else if app.view.full_precision {
                "unzoomed: full precision (= for 5 significant digits)".into()
            } else {
                "unzoomed: 5 significant digits".into()
            });
        }
        Action::ToggleChart => app.overlay.chart = !app.overlay.chart,
        Action::ToggleHelp => app.overlay.toggle_help(),
        Action::Back if app.running() => run::cancel(app),
        Action::Back => {
            if let Some(Window::Confirm(_)) = app.overlay.close_top() {
                app.view.last = Some("not restarted".into());
            }
        }
        _ => {}
    }
}

/// The help window scrolls by a line (↑↓, the wheel), a page (PgUp PgDn) or to either end
/// (Home End); false when the help is not open or `action` is not one of those.
fn help_scroll(app: &mut App, action: Action) -> bool {
    if !matches!(app.overlay.window, Some(Window::Help { .. })) {
        return false;
    }
    let (page, max) = super::panes::help::extent(app, app.area);
    let Some(Window::Help { scroll }) = &mut app.overlay.window else { return false };
    let at = (*scroll).min(max);
    *scroll = match action {
        Action::LineUp | Action::Wheel { down: false, .. } => at.saturating_sub(1),
        Action::LineDown | Action::Wheel { down: true, .. } => (at + 1).min(max),
        Action::ScrollUp => at.saturating_sub(page.max(1)),
        Action::ScrollDown => (at + page.max(1)).min(max),
        Action::ScrollHome => 0,
        Action::ScrollEnd => max,
        _ => return false,
    };
    true
}

/// PgUp/PgDn, h/l and the wheel on a pane.
fn scroll_action(app: &mut App, action: Action) {
    if let Action::Wheel { down, column, row } = action {
        let areas = layout(app.area, app);
        let pane = areas.pane_at(column, row).unwrap_or(app.view.focus);
        if pane == Pane::Graph {
            update(app, if down { Action::SelectNext } else { Action::SelectPrev });
        } else {
            scroll(app, pane, if down { Action::ScrollDown } else { Action::ScrollUp });
        }
        return;
    }
    let pane = app.view.focus;
    scroll(app, pane, action);
}

/// Scrolls `pane` by a page or a column (the graph pane moves its selection instead).
fn scroll(app: &mut App, pane: Pane, action: Action) {
    if pane == Pane::Graph {
        match action {
            Action::ScrollUp => update(app, Action::SelectPrev),
            Action::ScrollDown => update(app, Action::SelectNext),
            _ => {}
        }
        return;
    }
    let limit = app.view.limits[pane.index()].get();
    let page = limit.page.max(1);
    let s = &mut app.view.scroll[pane.index()];
    s.row = s.row.min(limit.max_row);
    s.col = s.col.min(limit.max_col);
    match action {
        Action::ScrollUp => s.row = s.row.saturating_sub(page),
        Action::ScrollDown => s.row = (s.row + page).min(limit.max_row),
        Action::ScrollLeft => s.col = s.col.saturating_sub(1),
        Action::ScrollRight => s.col = (s.col + 1).min(limit.max_col),
        _ => {}
    }
}
