//! What their trace has shown of how they store each of their names: the storage conventions
//! (see [`super::layout`]) under which every value of that name seen so far agrees with ours.
//! A convention is learned only from values that tell conventions apart: an all-zero init (the
//! homework's INIT_FLAG 2) or an all-zero gradient fits every one, so it narrows nothing, and the
//! next value that does tell decides. Until then, a value that differs is shown in the layout the
//! same layer's other names settled (x stored with its 1 last means α with its bias column last).

use std::collections::HashMap;

use ndarray::ArrayD;

use super::layout::{distance, judge, Layout, Ours};
use super::tolerance::Tolerance;
use super::verdict::Verdict;
use super::{Section, Theirs};

/// A name's place in their trace: (a parameter, section, our name). A parameter and its gradient
/// share one key, since denominator layout stores a gradient as its parameter.
pub type Key = (bool, Section, String);

/// A parameter's key, shared by its value and its gradient.
pub fn param_key(name: &str) -> Key {
    (true, Section::Param, name.to_string())
}

/// The conventions still possible for each name.
#[derive(Debug, Default)]
pub struct Learned {
    known: HashMap<Key, Vec<Layout>>,
}

impl Learned {
    /// The conventions every value of `key` seen so far agrees under (most natural first);
    /// `None` before any has agreed.
    pub fn candidates(&self, key: &Key) -> Option<&[Layout]> {
        self.known.get(key).map(Vec::as_slice)
    }

    /// Whether `key` is settled: a single convention remains.
    pub fn settled(&self, key: &Key) -> Option<Layout> {
        match self.candidates(key) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }

    /// Where the bias sits in `key`'s settled layout, when that says anything: for a matrix any
    /// settled layout says it (the bias column first or last), for a vector only a stored bias
    /// entry does.
    pub fn bias_last(&self, key: &Key, matrix: bool) -> Option<bool> {
        let l = self.settled(key)?;
        (matrix || l.places_bias()).then(|| l.bias_last())
    }

    /// Where their trace keeps the bias wherever it has settled that (a student stores every
    /// layer alike): `None` when nothing says, or when their names disagree.
    pub fn bias_last_anywhere(&self) -> Option<bool> {
        let mut seen = None;
        for ((param, _, _), layouts) in &self.known {
            let &[l] = layouts.as_slice() else { continue };
            if !*param && !l.places_bias() {
                continue;
            }
            match seen {
                None => seen = Some(l.bias_last()),
                Some(s) if s != l.bias_last() => return None,
                _ => {}
            }
        }
        seen
    }

    /// Limits `key` to `layouts` (their init record stored it one of these ways).
    pub fn restrict(&mut self, key: Key, layouts: Vec<Layout>) {
        if !layouts.is_empty() {
            self.known.insert(key, layouts);
        }
    }

    /// Judges one more value of `key` and narrows its conventions to those it agrees under,
    /// among those in `only` when given. `prefer_last` (from the same layer) orders the
    /// candidates when several remain. `None` when their array is no arrangement of ours under
    /// any candidate.
    pub fn judge(
        &mut self,
        key: &Key,
        ours: Ours,
        theirs: &ArrayD<f64>,
        tol: &Tolerance,
        prefer_last: Option<bool>,
        only: Option<&[Layout]>,
    ) -> Option<Verdict> {
        let start: Vec<Layout> = match self.known.get(key) {
            Some(c) => c.clone(),
            None => Layout::conventions(ours.carried.is_some()).collect(),
        };
        let start: Vec<Layout> = start.into_iter().filter(|l| only.is_none_or(|o| o.contains(l))).collect();
        let mut order = start.clone();
        if let Some(last) = prefer_last {
            order.sort_by_key(|l| l.bias_last() != last);
        }
        let mut agreeing = Vec::new();
        let (mut shown, mut fit) = (None, None);
        for layout in order {
            let Some((agrees, aligned)) = judge(layout, ours, theirs, |o, t| tol.agree(o, t)) else { continue };
            if agrees {
                agreeing.push(layout);
                shown.get_or_insert(Verdict { agrees, layout, aligned });
            } else {
                // Shown where the layer's hint puts the bias, else where their numbers are nearest.
                let d = if prefer_last.is_some() { 0.0 } else { distance(ours.value, &aligned) };
                if fit.as_ref().is_none_or(|(best, _)| d < *best) {
                    fit = Some((d, Verdict { agrees, layout, aligned }));
                }
            }
        }
        if shown.is_some() {
            self.known.insert(key.clone(), start.into_iter().filter(|l| agreeing.contains(l)).collect());
            return shown;
        }
        fit.map(|(_, v)| v)
    }

    /// Of `key`'s candidates, the one under which their array is nearest ours (the largest
    /// difference the smallest), when one is strictly nearest: a parameter whose value is wrong
    /// after an update still shows how it is stored, where its numbers are far from the other
    /// arrangements'.
    pub fn nearest(&self, key: &Key, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> Option<Layout> {
        let candidates: Vec<Layout> = match self.known.get(key) {
            Some(c) => c.clone(),
            None => Layout::CONVENTIONS.to_vec(),
        };
        let mut distances: Vec<(f64, Layout)> = candidates
            .into_iter()
            .filter_map(|l| {
                let a = l.undo(ours.shape(), theirs)?;
                Some((distance(ours, &a), l))
            })
            .collect();
        distances.sort_by(|a, b| a.0.total_cmp(&b.0));
        match distances.as_slice() {
            [(_, only)] => Some(*only),
            [(d0, best), (d1, _), ..] if d0 < d1 => Some(*best),
            _ => None,
        }
    }

    /// The conventions learned, as notes: a name whose values all agree only in another layout
    /// than bptui's.
    pub fn notes(&self, theirs: &Theirs) -> Vec<String> {
        let mut out = Vec::new();
        for ((param, section, name), layouts) in &self.known {
            let Some(&first) = layouts.first() else { continue };
            if layouts.contains(&Layout::Same) {
                continue;
            }
            let their = if *param { theirs.their_name(name) } else { theirs.their_name_in(*section, name) };
            let what = match (param, section) {
                (true, _) => "parameter ",
                (false, Section::Adjoint) => "adjoint ",
                _ => "",
            };
            out.push(format!("your {what}{their} is stored {}; compared in that layout", first.describe()));
        }
        out
    }
}
