//! The status bar: where the run stands (model, epoch, example with its data row and label,
//! phase, backward version, J), what the next key will do, and each finished epoch's mean
//! train and test loss.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::engine::{Backward, Graph, NodeId, Op};
use crate::numfmt::Digits;
use crate::session::{Phase, Session};

use crate::engine::rules::sym;
use crate::tui::app::App;

/// What `n` will do next, in words: "compute z = σ(a)", "backward at a (Version B: push into
/// alpha, x)", "update alpha".
fn next_action(s: &Session, digits: Digits) -> String {
    let graph = s.graph();
    match (s.phase(), s.next_node()) {
        (Phase::Forward, Some(id)) => {
            let node = graph.node(id);
            match node.op {
                Op::Features => {
                    let (name, example, row) = (&node.name, s.position().example, s.row());
                    format!("load {name} (example {example}'s features, data row {row} counting from 0)")
                }
                Op::Label => match s.label() {
                    Some(l) => {
                        format!("load {} = {} (example {}'s label)", node.name, digits.number(l), s.position().example)
                    }
                    None => format!("load {}", node.name),
                },
                _ if node.equation.contains('=') => format!("compute {}", node.equation),
                _ => format!("compute {} (= {})", node.name, node.op.name()),
            }
        }
        (Phase::Backward, Some(id)) => {
            let node = graph.node(id);
            if id == graph.loss() {
                return match s.algorithm() {
                    Backward::A => {
                        format!("backward at {} (Version A: {} = 1)", node.name, crate::engine::rules::d_of(graph, id))
                    }
                    Backward::B => {
                        let into = pushed_names(graph, id);
                        format!(
                            "backward at {} (Version B: {} = 1, push into {})",
                            node.name,
                            crate::engine::rules::d_of(graph, id),
                            into.join(", ")
                        )
                    }
                };
            }
            match s.algorithm() {
                Backward::A => {
                    let from: Vec<&str> =
                        graph.consumers(id).iter().map(|&(u, _)| graph.node(u).name.as_str()).collect();
                    format!(
                        "backward at {} (Version A: pull {} from {})",
                        node.name,
                        crate::engine::rules::d_of(graph, id),
                        from.join(", ")
                    )
                }
                Backward::B => {
                    let into = pushed_names(graph, id);
                    if into.is_empty() {
                        format!(
                            "backward at {} (Version B: nothing to push; {} is final)",
                            node.name,
                            crate::engine::rules::d_of(graph, id)
                        )
                    } else {
                        format!("backward at {} (Version B: push into {})", node.name, into.join(", "))
                    }
                }
            }
        }
        (Phase::Update, Some(id)) => {
            let t = sym(graph, id);
            format!("update {}: {t} ← {t} − η·{}", graph.node(id).name, crate::engine::rules::d_of(graph, id))
        }
        (Phase::Evaluate, _) => format!(
            "evaluate epoch {}: mean {} on the {} data",
            s.epoch(),
            crate::engine::rules::out(graph),
            match s.model().test_data() {
                Some(_) => format!("train and {}", s.model().test_key()),
                None => "train".to_string(),
            }
        ),
        _ => "nothing: training is finished (q quits)".to_string(),
    }
}

fn phase_text(s: &Session) -> String {
    let graph = s.graph();
    match s.phase() {
        Phase::Forward => format!("forward {}/{}", s.index(), graph.forward_order().len()),
        Phase::Backward => format!("backward {}/{}", s.index(), graph.backward_order().len()),
        Phase::Update => format!("update {}/{}", s.index(), graph.params().len()),
        Phase::Evaluate => "evaluate".to_string(),
        Phase::Finished => "finished".to_string(),
    }
}

fn algorithm_text(s: &Session) -> String {
    if s.backward_version() != s.next_algorithm() {
        format!("{} ({} from next backward)", s.backward_version().letter(), s.next_algorithm().letter())
    } else {
        s.backward_version().letter().to_string()
    }
}

/// "1: train 0.6931 test 0.7012 · 2: …" for the finished epochs (the last few that fit).
fn epoch_means(s: &Session, width: usize, digits: Digits) -> String {
    let parts: Vec<String> = s
        .metrics()
        .iter()
        .map(|m| {
            let mut p = format!("{}:", m.epoch);
            // The mean loss, and the error rate of a classifier.
            let score = |t: crate::session::Score| match t.error {
                Some(e) => format!("{} (err {})", digits.number(t.loss), digits.number(e)),
                None => digits.number(t.loss),
            };
            if let Some(t) = m.train {
                p.push_str(&format!(" train {}", score(t)));
            }
            if let Some(t) = m.test {
                p.push_str(&format!(" {} {}", s.model().test_key(), score(t)));
            }
            p
        })
        .collect();
    if parts.is_empty() {
        return "epoch means: none yet (E finishes an epoch)".to_string();
    }
    let mut out = String::new();
    for p in parts.iter().rev() {
        let candidate = if out.is_empty() { p.clone() } else { format!("{p} · {out}") };
        if candidate.chars().count() + 14 > width {
            break;
        }
        out = candidate;
    }
    format!("epoch means  {out}")
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let lines = vec![
        Line::from(position(app, width)),
        Line::from(next_and_keys(app, width)),
        Line::from(last_step(app, width)),
        Line::styled(format!(" {}", epoch_means(app.session(), width, app.digits())), app.theme.text()),
    ];
    Paragraph::new(lines).style(app.theme.bar()).render(area, buf);
}

/// Between the fields of a line.
fn separator(app: &App) -> Span<'static> {
    Span::styled(" │ ", app.theme.dim())
}

/// The first line: model, epoch, example (row, label, class), phase, J and the version.
fn position(app: &App, width: usize) -> Vec<Span<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let short = |x: f64| app.digits().number(x);
    let sep = || separator(app);
    let mut first = vec![
        Span::styled(format!(" {}", s.model().name()), theme.heading()),
        sep(),
        Span::raw(format!("epoch {}/{}", s.epoch(), s.epochs())),
        sep(),
    ];
    first.push(Span::raw(example_text(app)));
    first.push(sep());
    first.push(Span::styled(phase_text(s), theme.heading()));
    first.push(sep());
    let loss = graph.loss();
    // The differentiated output by its own name (J in networks, y in the quiz).
    let j = &graph.node(loss).name;
    if s.value_ready(loss) && (s.steps() > 0 || !s.losses().is_empty()) {
        first.push(Span::styled(format!("{j} = {}", short(s.workspace().loss_value(graph))), theme.heading()));
    } else if let Some(last) = s.losses().last() {
        first.push(Span::raw(format!("{j} = … (last example: {})", short(last.loss))));
    } else {
        first.push(Span::raw(format!("{j} = … (not computed yet)")));
    }
    first.push(sep());
    first.push(Span::raw(format!("Version {}", algorithm_text(s))));
    if width < 110 {
        // Narrow: shorter words, same facts.
        for span in first.iter_mut() {
            let short_text = span
                .content
                .replace("epoch ", "ep ")
                .replace("example ", "ex ")
                .replace(" (last example: ", " (last ")
                .replace(" (not computed yet)", "")
                .replace("Version ", "")
                .replace(" from next backward", " next");
            span.content = short_text.into();
        }
    }
    first
}

/// "example 3/10 (row 7 from 0, y*=2 'two')": the example, its data row (from 0, as `g row R`
/// counts; a CSV error counts lines from 1) and its label.
fn example_text(app: &App) -> String {
    let s = app.session();
    let short = |x: f64| app.digits().number(x);
    match s.label() {
        Some(l) => format!(
            "example {}/{} (row {} from 0, y*={}{})",
            s.position().example.min(s.examples_per_epoch()),
            s.examples_per_epoch(),
            s.row(),
            short(l),
            match s.class() {
                // The class the loss reads is computed from y* (`t - 1`).
                Some(c) if c != l => {
                    format!(
                        ", class {}{}",
                        short(c),
                        class_name(s.model(), c).map(|n| format!(" '{n}'")).unwrap_or_default()
                    )
                }
                _ => class_name(s.model(), l).map(|c| format!(" '{c}'")).unwrap_or_default(),
            }
        ),
        None => format!("example {}/{}", s.position().example, s.examples_per_epoch()),
    }
}

/// The second line: what `n` does next, then as many key hints as fit.
fn next_and_keys(app: &App, width: usize) -> Vec<Span<'static>> {
    let s = app.session();
    let theme = &app.theme;
    // The next step's text gives way so that "? help" always shows.
    let next = next_action(s, app.digits());
    let next = if next.chars().count() + 14 > width { fit(&next, width.saturating_sub(14)) } else { next };
    let mut second = vec![Span::styled(" n", theme.key()), Span::raw(": "), Span::styled(next, theme.key())];
    let rest = crate::tui::keys::hints(app.debugger().theirs().is_some());
    let used: usize = second.iter().map(|sp| sp.content.chars().count()).sum();
    if used + rest.chars().count() <= width {
        second.push(Span::styled(rest, theme.dim()));
    } else if app.debugger().theirs().is_some() && used + 27 <= width {
        second.push(Span::styled("   d divergence · ? help", theme.dim()));
    } else if used + 10 <= width {
        second.push(Span::styled("   ? help", theme.dim()));
    }
    second
}

/// The third line: a NaN or infinity if one appeared, the last step's message, the selection.
fn last_step(app: &App, width: usize) -> Vec<Span<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let sep = || separator(app);
    let mut third = Vec::new();
    if let Some(nf) = s.first_non_finite() {
        third.push(Span::styled(
            format!(
                " ⚠ first NaN/Inf: {} (epoch {}, example {}, {})",
                match nf.phase {
                    Phase::Backward => crate::engine::rules::d_of(graph, nf.node),
                    _ => graph.node(nf.node).name.clone(),
                },
                nf.epoch,
                nf.example,
                nf.phase.label()
            ),
            theme.bad(),
        ));
        third.push(sep());
    }
    let last = app.view.last.clone().unwrap_or_else(|| "ready: press n to take the first step".to_string());
    let follow = if app.view.follow { "selection follows the steps" } else { "selection pinned (. follows again)" };
    // The message is cut to the width (a divergence's full text stays in its pane).
    let used: usize = third.iter().map(|s| s.content.chars().count()).sum::<usize>() + " last: ".len();
    let room = width.saturating_sub(used);
    let with_follow = room >= last.chars().count() + 3 + follow.chars().count();
    third.push(Span::raw(format!(" last: {}", fit(&last, room))));
    if with_follow {
        third.push(sep());
        third.push(Span::styled(follow, theme.dim()));
    }
    third
}

/// A label's class name, when the model names its classes (`classes:`).
pub fn class_name(model: &crate::model::Model, label: f64) -> Option<&str> {
    let classes = model.classes()?;
    (label >= 0.0 && label.fract() == 0.0).then(|| classes.get(label as usize).map(String::as_str)).flatten()
}

/// `text` in at most `room` characters, cut with "…".
fn fit(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let mut out: String = text.chars().take(room.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Names of the inputs a node pushes into under Version B.
fn pushed_names(graph: &Graph, id: NodeId) -> Vec<&str> {
    graph.pushes(id).map(|(_, v)| graph.node(v).name.as_str()).collect()
}
