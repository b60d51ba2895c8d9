//! The teaching text reads right: notation never collides with the model's own names, the
//! differentiated output is called by its name, the learning rate is η, bias notes name the
//! layer's own input, rules show their numbers evaluated; and every pane and window at 80×24.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::Session;
use bptui::tui::{App, Theme};

use crate::screen::{press, press_code, screen};

fn app(name: &str, backward: Backward) -> App {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name);
    App::new(Session::new(Model::load(&path).expect("model loads"), backward), Theme { color: false })
}

fn select(app: &mut App, name: &str) {
    let id = app.session().graph().find(name).expect("a node");
    while app.view().selected > id {
        press(app, "k");
    }
    while app.view().selected < id {
        press(app, "j");
    }
}

/// simple.yaml has a node called u: the generic consumer is written with another letter.
#[test]
fn the_generic_consumer_letter_is_none_of_the_models_names() {
    let mut a = app("simple.yaml", Backward::A);
    press(&mut a, "f");
    select(&mut a, "u");
    let text = screen(&mut a, 160, 45);
    assert!(!text.contains("Σ_u dJ/du"), "{text}");
    assert!(text.contains("Σ_c dJ/dc · ∂c/∂u over consumers c ∈ {3 * u, sin(u)}"), "{text}");
    insta::assert_snapshot!("teaching_simple_consumer_letter_160x45", text);
}

/// two_hidden.yaml has a parameter gamma: the learning rate is η.
#[test]
fn the_learning_rate_is_eta_beside_a_parameter_called_gamma() {
    let mut a = app("two_hidden.yaml", Backward::B);
    press(&mut a, "e");
    let text = screen(&mut a, 160, 45);
    assert!(text.contains("θ ← θ − η g  η = "), "{text}");
    assert!(!text.contains("γ = "), "{text}");
    press(&mut a, "ff");
    let text = screen(&mut a, 160, 45);
    assert!(!text.contains("γ ← γ − γ"), "{text}");
}

/// quiz1's output is y: dy/dy = 1, dy/dx, and the chart is labelled y.
#[test]
fn a_graph_model_calls_its_output_by_its_name() {
    let mut a = app("quiz1.yaml", Backward::A);
    press(&mut a, "fn");
    let text = screen(&mut a, 160, 45);
    assert!(text.contains("dy/dy = 1"), "{text}");
    assert!(!text.contains("dJ/d"), "{text}");
    press(&mut a, "ff");
    select(&mut a, "log(x)");
    let text = screen(&mut a, 160, 45);
    assert!(text.contains("= 0.16667 ⊙ 0.76924"), "cos(log 2) evaluated:\n{text}");
    assert!(text.contains("Σ of the 2 terms: dy/d(log(x)) = 0.12821 + (-12.488) = -12.36"), "{text}");
    assert!(!text.contains("cos((log"), "{text}");
    insta::assert_snapshot!("teaching_quiz1_log_x_160x45", text);
}

/// β multiplies [1; z]; a parameter has a value, not a forward value; bias entries are marked *.
#[test]
fn bias_notes_name_the_layers_own_input() {
    let mut a = app("two_layer.yaml", Backward::B);
    press(&mut a, "e");
    select(&mut a, "beta");
    let text = screen(&mut a, 160, 45);
    assert!(text.contains("Value of β"), "{text}");
    assert!(text.contains("column 0 multiplies the 1 prepended to z: the 1 of [1; z]"), "{text}");
    // Not z₀: z[0] is z's first entry on screen.
    assert!(!text.contains("₀ = 1"), "{text}");
    assert!(text.contains("[0,0]*"), "{text}");
    assert!(!text.contains("]b "), "{text}");
}

/// Version B before any push: "not computed" in the graph and no grid of zeros in the pane.
#[test]
fn an_adjoint_nothing_has_pushed_into_shows_no_zeros() {
    let mut a = app("two_layer.yaml", Backward::B);
    press(&mut a, "fn");
    select(&mut a, "a");
    let text = screen(&mut a, 160, 45);
    assert!(text.contains("partial (Version B): 0 of 1 consumers have pushed into it so far"), "{text}");
    assert!(!text.contains("[4]  min 0  max 0"), "no health line of a zero grid:\n{text}");
}

/// The forward pane shows the selected entry's computation with its numbers.
#[test]
fn the_forward_value_shows_its_computation() {
    let mut a = app("two_layer.yaml", Backward::B);
    press(&mut a, "nn");
    let s = a.session();
    let ws = s.workspace();
    let (alpha, x, node) =
        (s.graph().find("alpha").unwrap(), s.graph().find("x").unwrap(), s.graph().find("a").unwrap());
    let w = &ws.values[alpha];
    let xv = &ws.values[x];
    // a[0] by hand from the lecture's formula a = α·[1; x].
    let by_hand = w[[0, 0]] + w[[0, 1]] * xv[[0]] + w[[0, 2]] * xv[[1]] + w[[0, 3]] * xv[[2]];
    assert_eq!(by_hand.to_bits(), ws.values[node][[0]].to_bits());
    let paren = |x: f64| if x < 0.0 { format!("({})", bptui::numfmt::short(x)) } else { bptui::numfmt::short(x) };
    let want = format!("a[0] = α[0,0]·1 + α[0,1]·x[0] + α[0,2]·x[1] + α[0,3]·x[2] = {}·1", paren(w[[0, 0]]));
    let text = screen(&mut a, 160, 45);
    assert!(text.contains(&want), "{want}\n{text}");
    assert!(text.contains(&format!("= {}", bptui::numfmt::short(by_hand))), "{text}");
}

/// Every pane zoomed, and every window, at 80×24.
#[test]
fn every_pane_and_window_at_80x24() {
    let mut a = app("two_layer.yaml", Backward::B);
    press(&mut a, "ennnnnnnnnnn");
    let mut shots = Vec::new();
    shots.push(("main", screen(&mut a, 80, 24)));
    for pane in ["graph", "values", "adjoints", "updates"] {
        press(&mut a, "\n");
        shots.push((pane, screen(&mut a, 80, 24)));
        press(&mut a, "\x1b\t");
    }
    press(&mut a, "?");
    shots.push(("help", screen(&mut a, 80, 24)));
    press(&mut a, &"j".repeat(40));
    let end = screen(&mut a, 80, 24);
    assert!(end.contains("η is the learning rate"), "help scrolls to its last line:\n{end}");
    shots.push(("help_end", end));
    press(&mut a, "\x1b");
    press(&mut a, "C");
    shots.push(("chart", screen(&mut a, 80, 24)));
    press(&mut a, "C");
    press(&mut a, "B");
    shots.push(("breakpoints", screen(&mut a, 80, 24)));
    press(&mut a, "\x1b");
    press(&mut a, "G");
    shots.push(("check", screen(&mut a, 80, 24)));
    press(&mut a, "\x1b");
    press(&mut a, "ge 1 x");
    shots.push(("prompt", screen(&mut a, 80, 24)));
    let all: String = shots.iter().map(|(name, s)| format!("=== {name}\n{s}")).collect();
    insta::assert_snapshot!("teaching_80x24_every_pane_and_window", all);
}

/// The homework's domain: x drawn as its 16 × 8 bitmap, ŷ as bars with the argmax and the
/// label by name.
#[test]
fn letters_as_bitmaps_and_probabilities_as_bars() {
    let mut a = app("ocr_letters.yaml", Backward::B);
    press(&mut a, "n");
    let text = screen(&mut a, 160, 60);
    assert!(text.contains("as the 16 × 8 image it is"), "{text}");
    let s = a.session();
    let x = &s.workspace().values[s.graph().find("x").unwrap()];
    // Row 1 of the bitmap, from the data by hand.
    let row1: String = (0..8).map(|c| if x[[8 + c]] >= 0.5 { "██" } else { "··" }).collect();
    assert!(text.contains(&format!("  {row1}")), "{row1}\n{text}");
    assert!(text.contains("y*=1 'e'"), "{text}");
    press(&mut a, "f");
    select(&mut a, "y_hat");
    let text = screen(&mut a, 160, 60);
    assert!(text.contains("[1] e ") && text.contains("◀ argmax") && text.contains("(y*)"), "{text}");
    assert!(text.contains("prediction 0 'a': wrong (the label is 1 'e')"), "{text}");
    insta::assert_snapshot!("teaching_ocr_bars_160x60", text);
}

/// A big adjoint's rule for the entry on show, with its numbers, checked by hand.
#[test]
fn a_big_adjoints_rule_is_written_for_one_entry() {
    let mut a = app("ocr_letters.yaml", Backward::B);
    press(&mut a, "fnnnnnn");
    select(&mut a, "a");
    let s = a.session();
    let ws = s.workspace();
    let (z, node) = (s.graph().find("z").unwrap(), s.graph().find("a").unwrap());
    assert!(s.adjoint_ready(node));
    let (g, zv) = (ws.adjoints[z][[0]], ws.values[z][[0]]);
    let by_hand = g * (zv * (1.0 - zv));
    assert_eq!(by_hand.to_bits(), ws.adjoints[node][[0]].to_bits(), "the lecture's dJ/da = dJ/dz ⊙ z(1 − z)");
    let short = |x: f64| if x < 0.0 { format!("({})", bptui::numfmt::short(x)) } else { bptui::numfmt::short(x) };
    let want = format!(
        "dJ/da[0] = dJ/dz[0] · z[0](1 − z[0]) = {} · {} = {}",
        short(g),
        short(zv * (1.0 - zv)),
        bptui::numfmt::short(by_hand)
    );
    let text = screen(&mut a, 100, 45);
    // The line wraps in the pane: its start, and the numbers, are on screen.
    let start: String = want.chars().take(40).collect();
    assert!(text.contains(&start), "{want}\n{text}");
    assert!(text.contains(&short(g)) && text.contains(&short(zv * (1.0 - zv))), "{want}\n{text}");
}

/// At 80×24 the help does not fit: PgDn turns a page (not a line), End shows its last line,
/// Home its first, ↓ one line; each screen says where it is.
#[test]
fn the_help_pages_at_80x24() {
    use ratatui::crossterm::event::KeyCode;
    let mut a = app("two_layer.yaml", Backward::B);
    press(&mut a, "?");
    let top = screen(&mut a, 80, 24);
    assert!(top.contains("one micro-step: one node") && top.contains("more lines (↑↓ PgDn End)"), "{top}");
    assert!(!top.contains("η is the learning rate"), "{top}");
    // The first and last key rows on screen: PgDn moves the window by all the rows it shows.
    let rows: Vec<&str> = bptui::tui::keys::KEYS.iter().map(|k| k.does).collect();
    let shown = |s: &str| rows.iter().filter(|d| s.contains(**d)).count();
    let page = shown(&top);
    press_code(&mut a, KeyCode::PageDown);
    let next = screen(&mut a, 80, 24);
    // (a line down would keep rows[1] on screen; this help is less than two pages long)
    assert!(!next.contains(rows[1]) && next.contains(rows[page]), "a page down from the top:\n{next}");
    press_code(&mut a, KeyCode::End);
    let end = screen(&mut a, 80, 24);
    assert!(end.contains("η is the learning rate") && end.contains("scroll back"), "{end}");
    press_code(&mut a, KeyCode::Home);
    assert_eq!(screen(&mut a, 80, 24), top);
    press_code(&mut a, KeyCode::Down);
    let one = screen(&mut a, 80, 24);
    assert!(!one.contains(rows[0]) && one.contains(rows[page]), "one line down:\n{one}");
}

/// A matrix update shows θ before, g and θ after: laid out as matrices when the pane is tall
/// enough, as columns side by side when it is not, and at 80×24 the table says that zooming
/// shows θ before, which the zoomed table then does.
#[test]
fn a_matrix_update_shows_before_g_and_after() {
    let mut a = app("two_layer.yaml", Backward::B);
    press(&mut a, "ffn");
    let tall = screen(&mut a, 200, 60);
    let at = |s: &str| tall.find(s).unwrap_or_else(|| panic!("{s:?} on screen:\n{tall}"));
    assert!(at("θ before the update") < at("g = dJ/dα") && at("g = dJ/dα") < at("θ after (highlighted"), "{tall}");
    let wide = screen(&mut a, 120, 40);
    assert!(wide.contains("θ before") && wide.contains("g = dJ/dθ") && wide.contains("θ after"), "{wide}");
    let small = screen(&mut a, 80, 24);
    assert!(small.contains("0–0 of 16; Enter: θ before"), "{small}");
    press(&mut a, "\t\t\t");
    press(&mut a, "\n");
    let zoomed = screen(&mut a, 80, 24);
    assert!(zoomed.contains("θ before") && zoomed.contains("θ after"), "{zoomed}");
}

/// A graph without trainable parameters keeps no empty updates pane: the graph takes the left
/// column, and Tab goes round the three panes there are.
#[test]
fn a_graph_without_parameters_has_no_updates_pane() {
    let mut a = app("quiz1.yaml", Backward::B);
    let s = screen(&mut a, 80, 24);
    assert!(!s.contains("Updates") && !s.contains("no trainable parameters"), "{s}");
    let focus = |a: &mut App| {
        press(a, "\t");
        a.view().focus
    };
    use bptui::tui::Pane;
    assert_eq!([focus(&mut a), focus(&mut a), focus(&mut a)], [Pane::Values, Pane::Adjoints, Pane::Graph]);
    let mut b = app("two_layer.yaml", Backward::B);
    assert!(screen(&mut b, 80, 24).contains("Updates θ ← θ − η g"));
}
