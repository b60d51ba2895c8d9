//! Whole-screen snapshots of the debugger (TestBackend, text only) after scripted keys.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::Session;
use bptui::tui::{action_for, run_loop, update, App, Mode, Theme};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

fn model_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name)
}

fn app(name: &str) -> App {
    let model = Model::load(&model_path(name)).expect("model loads");
    App::new(Session::new(model, Backward::B), Theme { color: false })
}

fn key(c: char) -> KeyEvent {
    let code = match c {
        '\n' => KeyCode::Enter,
        '\t' => KeyCode::Tab,
        '\x1b' => KeyCode::Esc,
        c => KeyCode::Char(c),
    };
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Presses each key through the real key map and runs coarse commands to their end.
fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        if let Some(a) = action_for(key(c), app.mode()) {
            update(app, a);
        }
        bptui::tui::run::wait(app);
        assert_ne!(app.mode(), Mode::Running);
    }
}

/// The screen as text, one line per row, trailing spaces trimmed.
fn screen(app: &mut App, w: u16, h: u16) -> String {
    crate::screen::screen(app, w, h)
}

#[test]
fn start_80x24() {
    let mut a = app("two_layer.yaml");
    insta::assert_snapshot!("tui_start_80x24", screen(&mut a, 80, 24));
}

#[test]
fn start_200x60() {
    let mut a = app("two_layer.yaml");
    insta::assert_snapshot!("tui_start_200x60", screen(&mut a, 200, 60));
}

#[test]
fn mid_forward() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "nnn");
    insta::assert_snapshot!("tui_mid_forward_120x40", screen(&mut a, 120, 40));
    insta::assert_snapshot!("tui_mid_forward_80x24", screen(&mut a, 80, 24));
}

#[test]
fn mid_backward_version_a() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "afnnnnn");
    insta::assert_snapshot!("tui_mid_backward_a_120x40", screen(&mut a, 120, 40));
}

#[test]
fn mid_backward_version_b() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "fnnnnn");
    insta::assert_snapshot!("tui_mid_backward_b_120x40", screen(&mut a, 120, 40));
    insta::assert_snapshot!("tui_mid_backward_b_80x24", screen(&mut a, 80, 24));
}

#[test]
fn switch_pending_mid_backward() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "fnna");
    insta::assert_snapshot!("tui_switch_pending_120x40", screen(&mut a, 120, 40));
}

#[test]
fn after_update() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "ffn");
    insta::assert_snapshot!("tui_after_update_120x40", screen(&mut a, 120, 40));
}

#[test]
fn end_of_epoch() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "E");
    insta::assert_snapshot!("tui_end_of_epoch_200x60", screen(&mut a, 200, 60));
}

#[test]
fn loss_chart() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "EEc");
    insta::assert_snapshot!("tui_chart_120x40", screen(&mut a, 120, 40));
}

#[test]
fn help_overlay() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "?");
    insta::assert_snapshot!("tui_help_80x24", screen(&mut a, 80, 24));
}

#[test]
fn zoomed_adjoints() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "fnnnnnn\t\t\n");
    insta::assert_snapshot!("tui_zoom_adjoints_80x24", screen(&mut a, 80, 24));
}

#[test]
fn too_small() {
    let mut a = app("two_layer.yaml");
    insta::assert_snapshot!("tui_too_small_50x12", screen(&mut a, 50, 12));
}

#[test]
fn ocr_letters_large_matrices() {
    let mut a = app("ocr_letters.yaml");
    press(&mut a, "fnnnnnnnn");
    insta::assert_snapshot!("tui_ocr_backward_200x60", screen(&mut a, 200, 60));
    press(&mut a, "j\tllll");
    insta::assert_snapshot!("tui_ocr_alpha_scrolled_120x40", screen(&mut a, 120, 40));
}

#[test]
fn real_loop_with_scripted_events() {
    let mut a = app("two_layer.yaml");
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let mut script: Vec<Event> = "nn q".chars().map(|c| Event::Key(key(c))).collect();
    script.reverse();
    run_loop(&mut terminal, &mut a, |_| Ok(script.pop())).expect("loop");
    assert!(a.outbox().quit);
    assert_eq!(a.session().steps(), 3);
    insta::assert_snapshot!("tui_loop_three_steps_120x40", crate::screen::text(terminal.backend().buffer()));
}
