//! `--against THEIRS`: the other implementation's number beside bptui's, lined up in bptui's
//! layout, with a verdict line ("yours: agrees …" / "yours: DIFFERS at …") and, where `d`
//! landed, the diagnosis of the divergence.
//!
//! Their numbers are shown only when they mean the same as ours on screen: a forward value
//! once ours is computed in this example, an adjoint once ours is final, a parameter once the
//! update whose result is shown has happened (then beside that update's record).

use ndarray::ArrayD;
use ratatui::text::Line;

use crate::diff::layout::Ours;
use crate::diff::ours::carried_adjoint;
use crate::diff::{Layout, Section, Tolerance, Verdict};
use crate::engine::NodeId;
use crate::session::{Phase, Session};

use super::grid::wrapped;
use crate::tui::app::{App, Kind};

/// Their array next to one of ours.
pub struct Beside {
    /// Their numbers in our array's shape, when the two can be lined up.
    pub theirs: Option<ArrayD<f64>>,
    /// Per entry of ours (row-major): whether theirs differs beyond the tolerance.
    pub mismatch: Vec<bool>,
    /// The verdict ("yours: agrees …").
    pub lines: Vec<Line<'static>>,
    /// At a divergence `d` landed on (this node, this section): what it is and why.
    pub diagnosis: Vec<Line<'static>>,
}

/// The example (epoch, example from 1) whose update produced parameter number `p`'s current
/// value, if it has been updated at all.
fn updated_in(s: &Session, p: usize) -> Option<(usize, usize)> {
    if s.phase() == Phase::Update && s.index() > p {
        return Some((s.epoch(), s.position().example));
    }
    s.losses().last().map(|l| (l.epoch, l.example))
}

/// Which of their records to show beside node `id`'s value or adjoint now: the section and
/// (epoch, example from 1); `None` while ours is not yet comparable.
pub fn source(app: &App, kind: Kind, id: NodeId) -> Option<(Section, usize, usize)> {
    let s = app.session();
    let current = (s.epoch(), s.position().example);
    match kind {
        Kind::Adjoint => s.adjoint_ready(id).then_some((Section::Adjoint, current.0, current.1)),
        Kind::Value => match s.graph().param_index(id) {
            Some(p) => updated_in(s, p).map(|(e, x)| (Section::Param, e, x)),
            None => s.value_ready(id).then_some((Section::Forward, current.0, current.1)),
        },
    }
}

/// Our array `ours` (node `id`'s value or adjoint) compared with theirs, as far as there is
/// anything to compare; `None` without `--against` or while ours is not comparable yet.
pub fn beside(app: &App, kind: Kind, id: NodeId, ours: &ArrayD<f64>, width: usize) -> Option<Beside> {
    let theirs = app.debugger().theirs()?;
    let (section, epoch, example) = source(app, kind, id)?;
    let theme = &app.theme;
    let name = app.session().graph().node(id).name.clone();
    let their_name = theirs.their_name_in(section, &name);
    let who = if their_name != name { format!("yours (`{their_name}`)") } else { "yours".to_string() };
    let found = theirs.value(epoch, example, section, &name);
    let Ok(Some(t)) = found else {
        let why = if let Err(why) = found {
            format!("{who}: {why}")
        } else if theirs.example(epoch, example).is_none() {
            format!("{who}: THEIRS has no record of epoch {epoch} example {example}")
        } else {
            format!(
                "{who}: THEIRS has no {} in epoch {epoch} example {example}",
                section.describe(&name, &app.session().graph().node(app.session().graph().loss()).name)
            )
        };
        let lines = wrapped(&why, width, 2, theme.dim());
        return Some(Beside { theirs: None, mismatch: Vec::new(), lines, diagnosis: Vec::new() });
    };
    let after = if section == Section::Param { format!(" (after example {example}'s update)") } else { String::new() };
    let (mut lines, aligned, mismatch) = verdict(app, &format!("{who}{after}"), section, id, ours, &t, width);
    // Recorded from their program: the line that bound it.
    if let Some(at) = theirs.sources.get(&(section, name.clone())) {
        lines.extend(wrapped(&format!("your line {at}"), width, 4, theme.dim()));
    }
    let diagnosis = diagnosis(app, section, &name, width);
    Some(Beside { theirs: aligned, mismatch, lines, diagnosis })
}

/// The verdict on their array `t` beside our `ours` (`who` says whose, and after what): the
/// lines, their numbers lined up in our layout, and which entries differ.
fn verdict(
    app: &App,
    who: &str,
    section: Section,
    id: NodeId,
    ours: &ArrayD<f64>,
    t: &ArrayD<f64>,
    width: usize,
) -> (Vec<Line<'static>>, Option<ArrayD<f64>>, Vec<bool>) {
    let theme = &app.theme;
    let mut lines = Vec::new();
    let mut aligned = None;
    let mut mismatch = Vec::new();
    let theirs = app.debugger().theirs().expect("compared with THEIRS");
    let tol = Tolerance { tol: app.debugger().tol(), float32: theirs.float32 };
    // The one rule `diff` judges by: a gradient may carry its bias entry's adjoint (dJ/d[1; z]).
    let with = Ours { value: ours, carried: carried_adjoint(app.session(), section, id) };
    match Verdict::of(with, t, &tol) {
        None => {
            let msg = format!(
                "{who}: shape {} where bptui's is {} — compare with `bptui diff`",
                crate::notation::shape_str(t.shape()),
                crate::notation::shape_str(ours.shape())
            );
            lines.extend(wrapped(&msg, width, 2, theme.dim()));
        }
        Some(v) => {
            let how = if v.layout == Layout::Same {
                String::new()
            } else {
                format!(", stored {}, shown in bptui's layout", v.layout.describe())
            };
            mismatch = v.mismatches(ours, &tol);
            let wrong = mismatch.iter().filter(|&&m| m).count();
            let msg = match v.worst(ours, &tol) {
                None if !v.agrees => {
                    format!("{who}{how}: DIFFERS at the bias entry it carries (its other entries agree)")
                }
                None => {
                    let delta = ours.iter().zip(v.aligned.iter()).map(|(o, t)| (o - t).abs()).fold(0.0, f64::max);
                    let delta = if delta == 0.0 { "0".to_string() } else { format!("{delta:.0e}") };
                    format!("{who}{how}: agrees (max |Δ| {delta})")
                }
                Some((i, o, t)) => {
                    let at = index(ours.shape(), i);
                    let count =
                        if wrong > 1 { format!("; {wrong} of {} entries differ", ours.len()) } else { String::new() };
                    format!(
                        "{who}{how}: DIFFERS at {at}(bptui {}, yours {}){count}",
                        app.pane_digits().number(o),
                        app.pane_digits().number(t)
                    )
                }
            };
            let style = if v.agrees { theme.done() } else { theme.bad() };
            lines.extend(wrapped(&msg, width, 2, style));
            aligned = Some(v.aligned);
        }
    }
    (lines, aligned, mismatch)
}

/// Where `d` landed on this value (`section`, node `name`): why theirs may differ.
fn diagnosis(app: &App, section: Section, name: &str, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut diagnosis = Vec::new();
    if let Some(d) = app.debugger().landed().filter(|d| d.value() == Some((section, name))) {
        diagnosis.extend(wrapped(
            &format!("why yours may differ (d, epoch {} example {}):", d.epoch, d.example.unwrap_or(0)),
            width,
            2,
            theme.heading(),
        ));
        // The pane itself shows bptui's rule with its numbers.
        for l in d.diagnosis.iter().filter(|l| !l.starts_with("bptui's rule")) {
            diagnosis.extend(wrapped(&format!("• {l}"), width, 2, theme.text()));
        }
    }
    diagnosis
}

/// "[2] " or "[1,3] " for the flat position `i` in `shape` ("" for a scalar).
fn index(shape: &[usize], i: usize) -> String {
    if shape.is_empty() {
        return String::new();
    }
    format!("{} ", crate::notation::entry_str(shape, i))
}
