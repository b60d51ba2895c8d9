//! Unit tests of the debugger's key map and of `update`: what each action does to the state.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::{Phase, Session};
use bptui::tui::app::Finish;
use bptui::tui::layout::layout;
use bptui::tui::{action_for, update, Action, App, Mode, Pane, Theme};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::screen::screen;

fn app(name: &str) -> App {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name);
    App::new(Session::new(Model::load(&path).expect("model loads"), Backward::B), Theme { color: false })
}

fn k(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn key_map_normal_mode() {
    let m = Mode::Normal;
    for code in [KeyCode::Char('n'), KeyCode::Char(' '), KeyCode::Right] {
        assert_eq!(action_for(k(code), m), Some(Action::Step));
    }
    assert_eq!(action_for(k(KeyCode::Char('f')), m), Some(Action::Finish(Finish::Phase)));
    assert_eq!(action_for(k(KeyCode::Char('e')), m), Some(Action::Finish(Finish::Example)));
    assert_eq!(action_for(k(KeyCode::Char('E')), m), Some(Action::Finish(Finish::Epoch)));
    assert_eq!(action_for(k(KeyCode::Up), m), Some(Action::SelectPrev));
    assert_eq!(action_for(k(KeyCode::Char('j')), m), Some(Action::SelectNext));
    assert_eq!(action_for(k(KeyCode::Tab), m), Some(Action::FocusNext));
    assert_eq!(action_for(k(KeyCode::BackTab), m), Some(Action::FocusPrev));
    assert_eq!(action_for(k(KeyCode::Enter), m), Some(Action::ToggleZoom));
    assert_eq!(action_for(k(KeyCode::PageDown), m), Some(Action::ScrollDown));
    assert_eq!(action_for(k(KeyCode::Char('l')), m), Some(Action::ScrollRight));
    assert_eq!(action_for(k(KeyCode::Char('a')), m), Some(Action::ToggleAlgorithm));
    assert_eq!(action_for(k(KeyCode::Char('.')), m), Some(Action::Follow));
    assert_eq!(action_for(k(KeyCode::Char('C')), m), Some(Action::ToggleChart));
    assert_eq!(action_for(k(KeyCode::Char('c')), m), Some(Action::Continue));
    assert_eq!(action_for(k(KeyCode::Char('?')), m), Some(Action::ToggleHelp));
    assert_eq!(action_for(k(KeyCode::Char('q')), m), Some(Action::Quit));
    assert_eq!(action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), m), Some(Action::Quit));
    assert_eq!(action_for(k(KeyCode::Char('x')), m), None);
}

#[test]
fn key_map_ignores_releases_and_respects_modes() {
    let mut release = k(KeyCode::Char('n'));
    release.kind = KeyEventKind::Release;
    assert_eq!(action_for(release, Mode::Normal), None);
    // While a long command runs only Esc (cancel) and quitting work.
    assert_eq!(action_for(k(KeyCode::Char('n')), Mode::Running), None);
    assert_eq!(action_for(k(KeyCode::Esc), Mode::Running), Some(Action::Cancel));
    assert_eq!(action_for(k(KeyCode::Char('q')), Mode::Running), Some(Action::Quit));
    // Under the help overlay, ? and Esc close it and stepping is off.
    assert_eq!(action_for(k(KeyCode::Esc), Mode::Help), Some(Action::ToggleHelp));
    assert_eq!(action_for(k(KeyCode::Char('n')), Mode::Help), None);
}

#[test]
fn n_takes_exactly_one_step() {
    let mut a = app("two_layer.yaml");
    for i in 1..=12 {
        update(&mut a, Action::Step);
        assert_eq!(a.session().steps(), i);
    }
}

#[test]
fn a_toggles_the_next_algorithm_and_waits_for_the_next_backward() {
    let mut a = app("two_layer.yaml");
    assert_eq!(a.session().next_algorithm(), Backward::B);
    update(&mut a, Action::ToggleAlgorithm);
    assert_eq!(a.session().next_algorithm(), Backward::A);
    update(&mut a, Action::ToggleAlgorithm);
    assert_eq!(a.session().next_algorithm(), Backward::B);
    // Mid-backward the running version stays until the phase ends.
    update(&mut a, Action::Finish(Finish::Phase));
    bptui::tui::run::wait(&mut a);
    update(&mut a, Action::Step);
    assert_eq!(a.session().phase(), Phase::Backward);
    update(&mut a, Action::ToggleAlgorithm);
    assert_eq!(a.session().algorithm(), Backward::B);
    assert_eq!(a.session().next_algorithm(), Backward::A);
}

#[test]
fn selection_follows_the_steps_until_the_user_picks_and_dot_resumes() {
    let mut a = app("two_layer.yaml");
    let g = a.session().graph().clone();
    assert_eq!(Some(a.view().selected), a.session().next_node());
    update(&mut a, Action::Step); // loads x
    assert_eq!(a.view().selected, g.find("x").unwrap());
    update(&mut a, Action::Step); // computes a
    assert_eq!(a.view().selected, g.find("a").unwrap());
    update(&mut a, Action::SelectPrev);
    assert!(!a.view().follow);
    let picked = a.view().selected;
    update(&mut a, Action::Step); // computes z; the selection stays
    assert_eq!(a.view().selected, picked);
    update(&mut a, Action::Follow);
    assert!(a.view().follow);
    assert_eq!(Some(a.view().selected), a.session().next_node());
    update(&mut a, Action::Step);
    assert_eq!(a.view().selected, g.find("b").unwrap());
}

#[test]
fn last_step_keeps_a_copy_of_what_it_changed() {
    let mut a = app("two_layer.yaml");
    update(&mut a, Action::Step);
    update(&mut a, Action::Step);
    let id = a.session().graph().find("a").unwrap();
    let before = a.before(id, bptui::tui::app::Kind::Value).expect("a copy of a's old value");
    assert!(before.iter().all(|&x| x == 0.0));
    assert!(a.session().workspace().values[id].iter().any(|&x| x != 0.0));
}

#[test]
fn zoom_help_chart_and_focus_toggle() {
    let mut a = app("two_layer.yaml");
    assert_eq!(a.view().focus, Pane::Graph);
    update(&mut a, Action::FocusNext);
    assert_eq!(a.view().focus, Pane::Values);
    update(&mut a, Action::FocusPrev);
    update(&mut a, Action::FocusPrev);
    assert_eq!(a.view().focus, Pane::Updates);
    update(&mut a, Action::ToggleZoom);
    assert!(a.overlay().zoom);
    update(&mut a, Action::Back);
    assert!(!a.overlay().zoom);
    update(&mut a, Action::ToggleHelp);
    assert_eq!(a.mode(), Mode::Help);
    update(&mut a, Action::Back);
    assert_eq!(a.mode(), Mode::Normal);
    update(&mut a, Action::ToggleChart);
    assert!(a.overlay().chart);
    update(&mut a, Action::Back);
    assert!(!a.overlay().chart);
}

#[test]
fn finish_commands_stop_where_they_say() {
    let mut a = app("two_layer.yaml");
    update(&mut a, Action::Finish(Finish::Phase));
    bptui::tui::run::wait(&mut a);
    assert_eq!(a.session().phase(), Phase::Backward);
    update(&mut a, Action::Finish(Finish::Example));
    bptui::tui::run::wait(&mut a);
    assert_eq!((a.session().example(), a.session().phase(), a.session().index()), (1, Phase::Forward, 0));
    update(&mut a, Action::Finish(Finish::Epoch));
    bptui::tui::run::wait(&mut a);
    assert_eq!(a.session().metrics().len(), 1);
    assert_eq!((a.session().epoch(), a.session().example()), (2, 0));
}

#[test]
fn a_long_run_is_chunked_and_esc_cancels_at_a_step_boundary() {
    let mut a = app("ocr_letters.yaml");
    update(&mut a, Action::Finish(Finish::Run));
    assert_eq!(a.mode(), Mode::Running);
    update(&mut a, Action::Tick);
    // The steps run on a worker thread: the session shown meanwhile is where R started.
    assert_eq!(a.session().steps(), 0);
    update(&mut a, Action::Cancel);
    assert_eq!(a.mode(), Mode::Normal);
    assert_ne!(a.session().phase(), Phase::Finished);
    assert!(a.session().metrics().is_empty());
}

/// The gauge's "DONE / TOTAL examples" label.
fn gauge(text: &str) -> Option<(usize, usize)> {
    let line = text.lines().find(|l| l.contains(" examples"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|&w| w == "/")?;
    Some((words[at - 1].trim_start_matches('│').parse().ok()?, words[at + 1].parse().ok()?))
}

#[test]
fn r_runs_on_a_worker_the_ui_draws_meanwhile_and_esc_hands_back_a_session_at_a_step_boundary() {
    // 50 epochs instead of 5, so that the run cannot end before Esc even on a busy machine.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join("ocr_letters.yaml");
    let mut model = Model::load(&path).expect("model loads");
    model.set_epochs(50);
    let mut a = App::new(Session::new(model, Backward::B), Theme { color: false });
    let n = a.session().examples_per_epoch();
    update(&mut a, Action::Finish(Finish::Run));
    assert_eq!(a.mode(), Mode::Running);
    let first = screen(&mut a, 120, 40);
    assert!(first.contains("running to the end — Esc cancels"), "{first}");
    let (done, total) = gauge(&first).unwrap_or_else(|| panic!("a gauge: {first}"));
    assert_eq!(total, 50 * n);
    assert!(done <= total);
    // The UI thread keeps drawing while the worker steps; the gauge follows its progress.
    let start = std::time::Instant::now();
    let mut seen = done;
    while seen == 0 && start.elapsed() < std::time::Duration::from_secs(20) {
        update(&mut a, Action::Tick);
        assert_eq!(a.mode(), Mode::Running, "the run ended before any progress was drawn");
        seen = gauge(&screen(&mut a, 120, 40)).expect("a gauge").0;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(seen > 0, "the gauge shows progress");
    assert_eq!(a.session().steps(), 0, "the UI draws the session as R found it");
    update(&mut a, Action::Cancel);
    assert_eq!(a.mode(), Mode::Normal);
    let s = a.session();
    assert_ne!(s.phase(), Phase::Finished);
    assert!(s.losses().len() >= seen && s.losses().len() < 50 * n);
    assert!(
        a.view().last.as_deref().is_some_and(|l| l.starts_with("cancelled running to the end after")),
        "{:?}",
        a.view().last
    );
    let text = screen(&mut a, 120, 40);
    assert!(gauge(&text).is_none(), "{text}");
    // Stopped at a step boundary: `n` takes exactly one more step.
    let steps = a.session().steps();
    assert!(steps > 0);
    update(&mut a, Action::Step);
    assert_eq!(a.session().steps(), steps + 1);
}

#[test]
fn r_to_the_end_on_the_worker_matches_a_headless_run_bitwise() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join("ocr_letters.yaml");
    let model = Model::load(&path).expect("model loads");
    let mut headless = Session::new(model.clone(), Backward::B);
    headless.run_to_end();
    let mut a = App::new(Session::new(model, Backward::B), Theme { color: false });
    update(&mut a, Action::Finish(Finish::Run));
    // Polled by Tick, as the event loop does, drawing between polls.
    while a.running() {
        update(&mut a, Action::Tick);
        screen(&mut a, 120, 40);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(a.view().last.as_deref(), Some("ran to the end"));
    let s = a.session();
    assert_eq!(s.phase(), Phase::Finished);
    assert_eq!(s.steps(), headless.steps());
    assert_eq!(s.metrics(), headless.metrics());
    let bits = |s: &Session| -> Vec<Vec<u64>> {
        s.graph().params().iter().map(|&p| s.workspace().values[p].iter().map(|x| x.to_bits()).collect()).collect()
    };
    assert_eq!(bits(s), bits(&headless));
    assert!(!bits(s).is_empty());
}

#[test]
fn clicking_a_node_in_the_graph_pane_selects_it() {
    let mut a = app("two_layer.yaml");
    a.set_area(Rect::new(0, 0, 120, 40));
    let graph = layout(a.area(), &a).graph.expect("a graph pane");
    // Row 0 inside the border is the legend; node rows follow in id order.
    let z = a.session().graph().find("z").unwrap();
    update(&mut a, Action::Click { column: graph.x + 5, row: graph.y + 2 + z as u16 });
    assert_eq!(a.view().selected, z);
    assert!(!a.view().follow);
    update(&mut a, Action::Wheel { down: true, column: graph.x + 5, row: graph.y + 3 });
    assert_eq!(a.view().selected, z + 1);
}

#[test]
fn keys_typed_while_a_command_runs_wait_for_it() {
    // `f` then `n` arrive at once, as when a student types ahead: the `n` must run after the
    // forward phase is finished, not be dropped.
    let mut a = app("two_layer.yaml");
    let forward_steps = a.session().graph().forward_order().len() as u64;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let mut script = vec![
        ratatui::crossterm::event::Event::Key(k(KeyCode::Char('n'))),
        ratatui::crossterm::event::Event::Key(k(KeyCode::Char('f'))),
    ];
    let mut idle_since: Option<std::time::Instant> = None;
    bptui::tui::run_loop(&mut terminal, &mut a, |wait| {
        if let Some(ev) = script.pop() {
            return Ok(Some(ev));
        }
        // Then nothing for a while (as a real poll would wait), then `q`.
        let since = *idle_since.get_or_insert_with(std::time::Instant::now);
        if since.elapsed() < std::time::Duration::from_secs(2) {
            std::thread::sleep(wait.min(std::time::Duration::from_millis(5)));
            return Ok(None);
        }
        Ok(Some(ratatui::crossterm::event::Event::Key(k(KeyCode::Char('q')))))
    })
    .expect("loop");
    assert!(a.outbox().quit);
    assert_eq!(a.session().steps(), forward_steps + 1, "the typed-ahead n was lost or run early");
    assert_eq!((a.session().phase(), a.session().index()), (Phase::Backward, 1));
}

/// The README's key table is the help overlay's: one list of keys.
#[test]
fn readme_lists_every_key_as_the_help_does() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for k in bptui::tui::keys::KEYS {
        assert!(readme.contains(&format!("| {} | {} |", k.keys, k.does)), "README lacks the key row `{}`", k.keys);
    }
}

/// The status line's hints come from the key table, and each names a key that does something
/// where the hints are shown (the panes, no window open).
#[test]
fn every_hint_on_the_status_line_is_a_key_that_acts() {
    let line = bptui::tui::keys::hints(true);
    let mut shown = 0;
    for word in line.trim().split(" · ") {
        let c = word.chars().next().unwrap();
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert!(action_for(key, Mode::Normal).is_some(), "the hint `{word}` names a key that does nothing");
        shown += 1;
    }
    assert!(shown >= 8, "{line}");
    assert!(line.trim_start().starts_with("d divergence"), "{line}");
    assert!(!bptui::tui::keys::hints(false).contains("divergence"), "d means nothing without --against");
}

/// Every key the key table lists does something in the panes (no window open): the table the
/// help, the README and the status line show is the key map's.
#[test]
fn every_key_in_the_table_acts() {
    for k in bptui::tui::keys::KEYS {
        for token in k.keys.split_whitespace() {
            let (code, mods) = match token {
                "space" => (KeyCode::Char(' '), KeyModifiers::NONE),
                "→" => (KeyCode::Right, KeyModifiers::NONE),
                "←" => (KeyCode::Left, KeyModifiers::NONE),
                "↑" => (KeyCode::Up, KeyModifiers::NONE),
                "↓" => (KeyCode::Down, KeyModifiers::NONE),
                "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
                "Shift-Tab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
                "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
                "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
                "Home" => (KeyCode::Home, KeyModifiers::NONE),
                "End" => (KeyCode::End, KeyModifiers::NONE),
                "Ctrl-C" => (KeyCode::Char('c'), KeyModifiers::CONTROL),
                // Esc acts while a command runs or a window is open; the mouse is not a key.
                "Esc" | "mouse" => continue,
                t if t.chars().count() == 1 => (KeyCode::Char(t.chars().next().unwrap()), KeyModifiers::NONE),
                t => panic!("the key table names `{t}`, which this test cannot press"),
            };
            assert!(
                action_for(KeyEvent::new(code, mods), Mode::Normal).is_some(),
                "`{token}` ({}) does nothing",
                k.does
            );
        }
    }
}
