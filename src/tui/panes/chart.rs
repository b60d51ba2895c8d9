//! The loss chart (`C`): J of every finished example, and each epoch's mean train and test
//! loss, against the number of examples seen; a classifier's error rates below it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::session::{EpochMetrics, Score};

use crate::tui::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.session();
    let theme = &app.theme;
    let short = |x: f64| app.pane_digits().number(x);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(vec![Span::styled(" Loss ", theme.heading()), Span::raw("(C or Esc closes) ")]));
    let n = s.examples_per_epoch() as f64;
    let per_example: Vec<(f64, f64)> =
        s.losses().iter().enumerate().map(|(i, l)| ((i + 1) as f64, l.loss)).filter(|p| p.1.is_finite()).collect();
    if per_example.is_empty() {
        let inner = block.inner(area);
        block.render(area, buf);
        Paragraph::new(
            "No example finished yet: the chart shows J of each example once its update is done (e finishes one).",
        )
        .wrap(ratatui::widgets::Wrap { trim: true })
        .render(inner, buf);
        return;
    }
    // Each epoch's mean loss, at the examples seen by its end.
    let means = |score: fn(&EpochMetrics) -> Option<Score>| -> Vec<(f64, f64)> {
        s.metrics().iter().filter_map(|m| score(m).map(|t| (m.epoch as f64 * n, t.loss))).collect()
    };
    let (train, test) = (means(|m| m.train), means(|m| m.test));
    let (lo, hi) = y_bounds(per_example.iter().chain(&train).chain(&test).map(|p| p.1));
    let x_max = (per_example.len() as f64).max(n);
    let style = |c: ratatui::style::Color| if theme.color { Style::default().fg(c) } else { Style::default() };
    use ratatui::style::Color;
    let mut sets = vec![Dataset::default()
        .name(format!("⠂ {} per example", crate::engine::rules::out(app.session().graph())))
        .marker(Marker::Braille)
        .graph_type(GraphType::Scatter)
        .style(style(Color::Gray))
        .data(&per_example)];
    let test_name = format!("• {} mean", s.model().test_key());
    let mean_lines = [
        (&train, "█ train mean".to_string(), Marker::Block, Color::Green),
        (&test, test_name, Marker::Dot, Color::Magenta),
    ];
    for (data, name, marker, color) in mean_lines {
        if !data.is_empty() {
            sets.push(
                Dataset::default().name(name).marker(marker).graph_type(GraphType::Line).style(style(color)).data(data),
            );
        }
    }
    // A classifier's error rate per epoch, on its own line under the chart (another scale).
    let errors = error_rates(app);
    let (area, error_line) = if errors.is_empty() || area.height < 8 {
        (area, None)
    } else {
        let line = Rect::new(area.x + 1, area.y + area.height - 1, area.width.saturating_sub(2), 1);
        (Rect { height: area.height - 1, ..area }, Some(line))
    };
    if let Some(line) = error_line {
        Paragraph::new(format!("error rate per epoch  {}", errors.join(" · "))).style(theme.text()).render(line, buf);
    }
    Chart::new(sets)
        .block(block)
        // The legend stays at 80×24; the markers tell the lines apart without colour.
        .hidden_legend_constraints((ratatui::layout::Constraint::Ratio(2, 3), ratatui::layout::Constraint::Ratio(2, 3)))
        .x_axis(Axis::default().title("examples seen").bounds([0.0, x_max]).labels(vec![
            Line::raw("0"),
            Line::raw(short(x_max / 2.0)),
            Line::raw(short(x_max)),
        ]))
        .y_axis(Axis::default().title(crate::engine::rules::out(app.session().graph())).bounds([lo, hi]).labels(vec![
            Line::raw(short(lo)),
            Line::raw(short((lo + hi) / 2.0)),
            Line::raw(short(hi)),
        ]))
        .render(area, buf);
}

/// The y axis's range: the losses with a margin; a loss that is never negative keeps its axis
/// at 0 and above.
fn y_bounds(losses: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = losses.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad }, hi + pad)
}

/// "1: train 0.25 test 0.3" per epoch, for a classifier (none for other models).
fn error_rates(app: &App) -> Vec<String> {
    let s = app.session();
    let short = |x: f64| app.pane_digits().number(x);
    s.metrics()
        .iter()
        .filter_map(|m| {
            let train = m.train.and_then(|t| t.error)?;
            let key = &s.model().test_key();
            let test = m.test.and_then(|t| t.error).map(|e| format!(" {key} {}", short(e))).unwrap_or_default();
            Some(format!("{}: train {}{test}", m.epoch, short(train)))
        })
        .collect()
}
