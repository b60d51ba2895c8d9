//! The loss chart (`c`): J of every finished example, and each epoch's mean train and test
//! loss, against the number of examples seen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::numfmt::short;

use super::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let s = &app.session;
    let theme = &app.theme;
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(vec![Span::styled(" Loss ", theme.heading()), Span::raw("(c or Esc closes) ")]));
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
    let train: Vec<(f64, f64)> =
        s.metrics().iter().filter_map(|m| m.train.map(|t| (m.epoch as f64 * n, t.loss))).collect();
    let test: Vec<(f64, f64)> =
        s.metrics().iter().filter_map(|m| m.test.map(|t| (m.epoch as f64 * n, t.loss))).collect();
    let all = per_example.iter().chain(&train).chain(&test).map(|p| p.1);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let (lo, hi) = (lo - pad, hi + pad);
    let x_max = (per_example.len() as f64).max(n);
    let style = |c: ratatui::style::Color| if theme.color { Style::default().fg(c) } else { Style::default() };
    use ratatui::style::Color;
    let mut sets = vec![Dataset::default()
        .name(format!("{} per example", crate::engine::rules::out(app.session.graph())))
        .marker(Marker::Braille)
        .graph_type(GraphType::Scatter)
        .style(style(Color::Gray))
        .data(&per_example)];
    if !train.is_empty() {
        sets.push(
            Dataset::default()
                .name("train mean")
                .marker(Marker::Block)
                .graph_type(GraphType::Line)
                .style(style(Color::Green))
                .data(&train),
        );
    }
    if !test.is_empty() {
        sets.push(
            Dataset::default()
                .name("test mean")
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(style(Color::Magenta))
                .data(&test),
        );
    }
    Chart::new(sets)
        .block(block)
        .x_axis(Axis::default().title("examples seen").bounds([0.0, x_max]).labels(vec![
            Line::raw("0"),
            Line::raw(short(x_max / 2.0)),
            Line::raw(short(x_max)),
        ]))
        .y_axis(Axis::default().title(crate::engine::rules::out(app.session.graph())).bounds([lo, hi]).labels(vec![
            Line::raw(short(lo)),
            Line::raw(short((lo + hi) / 2.0)),
            Line::raw(short(hi)),
        ]))
        .render(area, buf);
}
