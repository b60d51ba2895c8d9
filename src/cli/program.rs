//! `bptui diff [MODEL.yaml] -- python3 neuralnet.py ARGS...`: the student's program run as it
//! is under the recorder, its numbers named by value, compared as they arrive; the program is
//! stopped at the first divergence, and its own metrics and labels files are compared too.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use super::{emit, load, DiffArgs};
use crate::capture::homework::{self, Bias, HomeworkArgs, Learned};
use crate::capture::infer::{self, Captured, Mapping, Pass, Rows, LEARN_FROM};
use crate::capture::{Event, Running};
use crate::diff::{prepare, render, Section, Theirs, Tolerance};
use crate::error::{Error, Result};
use crate::model::{DataOverride, Model};
use crate::session::Session;
use crate::trace::{EpochRecord, Record};

/// What was learned before anything is compared.
struct Plan {
    model: Model,
    /// The model's text, for --save-model.
    yaml: String,
    mapping: Mapping,
    notes: Vec<String>,
}

pub(super) fn diff_program(args: DiffArgs) -> Result<i32> {
    crate::signals::install();
    let program: Vec<String> = args.command.clone();
    // A command bptui cannot run is said before its arguments are read.
    let (_, _, script_args) = crate::capture::split_command(&program)?;
    let homework = match &args.model {
        Some(_) => HomeworkArgs::parse(&script_args).ok(),
        None => Some(HomeworkArgs::parse(&script_args)?),
    };
    let given = match &args.model {
        Some(path) => Some(load(path, &args.data, &args.alias)?.0),
        None => None,
    };
    let base = match (&given, &homework) {
        (Some(m), _) => m.clone(),
        (None, Some(hw)) => {
            homework_model(hw, &args, Learned { bias: Bias::Folded, adagrad: false, numpy_shuffle: false }, &[])?
        }
        (None, None) => unreachable!("parsed above"),
    };
    base.require_examples()?;
    let train = base.train_data.clone().expect("required");
    let rows = Rows::new(&train);
    let started = Instant::now();
    let mut running = Running::start(&program, true)?;
    let mut captured = Captured::default();
    let mut exit: Option<(i32, Option<String>)> = None;
    let mut plan: Option<Plan> = None;
    let mut next_check = 1usize;
    let mut checked_values = 0usize;
    let mut stopped: Option<String> = None;
    let timeout = Duration::from_secs_f64(args.timeout);
    loop {
        if crate::signals::pending().is_some() {
            running.stop();
            return Ok(130);
        }
        match running.events.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Site(id, s)) => {
                captured.sites.insert(id, s);
            }
            Ok(Event::Value(v)) => captured.values.push(v),
            Ok(Event::Tracer(t)) => captured.tracer = Some(t),
            Ok(Event::Exit { code, traceback }) => {
                exit = Some((code, traceback));
                break;
            }
            Ok(Event::Closed(why)) => {
                exit = Some((-1, why));
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if started.elapsed() > timeout {
            stopped = Some(format!("your program ran longer than --timeout {} s and was stopped", args.timeout));
            break;
        }
        // Checked as the values come, at 1, 2, 4, ... times as many: the work stays a few times
        // one comparison of everything, and a mistake in the first example stops the program
        // within a moment.
        if captured.values.len() < checked_values * 2 + 2000 {
            continue;
        }
        checked_values = captured.values.len();
        if plan.is_none() {
            plan = learn(&captured, &rows, &base, given.is_some(), homework.as_ref(), &args, false)?;
        }
        let Some(p) = &plan else { continue };
        let (records, n) = example_records(&captured, &rows, p, true);
        if n < next_check {
            continue;
        }
        next_check = n * 2;
        if let Some(d) = compare(&captured, p, records, &args, None)? {
            if d.1 {
                running.stop();
                return finish(&args, &captured, p, d.0, "bptui stopped your program here");
            }
        }
        let needed = p.model.config.epochs * train.len();
        if n > needed + train.len() {
            stopped = Some(format!(
                "your program trained {n} examples, more than the {needed} its command line asks for: it was stopped"
            ));
            break;
        }
    }
    if stopped.is_some() {
        running.stop();
    }
    let (code, traceback) = exit.clone().unwrap_or((-1, None));
    if plan.is_none() {
        plan = learn(&captured, &rows, &base, given.is_some(), homework.as_ref(), &args, true)?;
    }
    let Some(p) = plan else {
        running.stop();
        return Err(nothing_recognised(&captured, &base, code, traceback.as_deref(), &running));
    };
    let (mut records, _) = example_records(&captured, &rows, &p, false);
    let mut verdicts = Vec::new();
    let crashed = code != 0 || stopped.is_some();
    if let (Some(hw), false) = (&homework, crashed) {
        match homework::read_metrics(&hw.metrics_out) {
            Ok(epochs) => {
                for (epoch, metrics) in epochs {
                    records.push(Record::Epoch(EpochRecord { epoch, metrics }));
                }
            }
            Err(why) => verdicts.push(format!("your {}: {why}", hw.metrics_out.display())),
        }
    }
    let Some((report_text, diverged)) = compare(&captured, &p, records, &args, Some(&mut verdicts))? else {
        return Err(nothing_recognised(&captured, &base, code, traceback.as_deref(), &running));
    };
    let mut extra = String::new();
    if let Some(s) = &stopped {
        extra += &format!("  note: {s}\n");
    }
    if crashed && stopped.is_none() {
        extra += &format!("your program ended with status {code} before bptui had all of it:\n");
        match &traceback {
            Some(tb) => extra += &indent(tb),
            None => extra += &indent(&running.last_output().join("\n")),
        }
        extra += &last_values(&captured);
    }
    let labels_ok = labels_verdict(&p, homework.as_ref(), crashed, &mut verdicts);
    for v in &verdicts {
        extra += &format!("  {v}\n");
    }
    let status = finish(&args, &captured, &p, report_text + &extra, "");
    let status = status?;
    Ok(if diverged || !labels_ok || crashed { 1 } else { status })
}

/// Prints the report with the mapping and where their values come from; the exit status.
fn finish(args: &DiffArgs, captured: &Captured, plan: &Plan, report: String, stopped: &str) -> Result<i32> {
    let mut out = String::new();
    if let Some(t) = &captured.tracer {
        out += &format!("recorded your program with {t} ({} values)\n", captured.values.len());
    }
    out += &format!("your names, found by value: {}\n", names_line(plan));
    for n in &plan.notes {
        out += &format!("  learned: {n}\n");
    }
    let mut lines: Vec<String> = report.lines().map(str::to_string).collect();
    if !stopped.is_empty() && lines.first().is_some_and(|l| l.starts_with("first divergence")) {
        lines.insert(1, format!("  ({stopped})"));
    }
    out += &lines.join("\n");
    out.push('\n');
    if let Some(path) = &args.save_model {
        save_model(plan, path)?;
        out += &format!("  wrote the model used to {}\n", path.display());
    }
    if let Some(path) = &args.keep {
        let (records, _) =
            example_records(captured, &Rows::new(plan.model.train_data.as_ref().expect("data")), plan, false);
        crate::trace::write_file(path, &records)?;
        out += &format!("  kept what was captured as a trace in {} (your names)\n", path.display());
    }
    emit(&out)?;
    Ok(if out.contains("first divergence") { 1 } else { 0 })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  | {l}\n")).collect()
}

/// The last few values captured, often the answer when a program crashes.
fn last_values(captured: &Captured) -> String {
    let mut out = String::from("  the last values bptui captured:\n");
    for v in captured.values.iter().rev().take(5).collect::<Vec<_>>().into_iter().rev() {
        if let Some(s) = captured.sites.get(&v.site) {
            let shape = crate::diff::layout::numpy_shape(v.array.shape());
            out += &format!("    {}:{}: {} = {shape} array   ({})\n", short(&s.file), s.line, s.target, s.text);
        }
    }
    out
}

fn short(file: &str) -> String {
    let p = Path::new(file);
    std::env::current_dir()
        .ok()
        .and_then(|d| p.strip_prefix(&d).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| file.to_string())
}

fn names_line(plan: &Plan) -> String {
    let mut parts = Vec::new();
    for (key, section, ours, theirs) in &plan.mapping.keys {
        let what = match section {
            Section::Forward => ours.clone(),
            Section::Adjoint => format!("dJ/d{ours}"),
            Section::Param => format!("{ours} after the update"),
        };
        // Said as it is: a key placed by order holds none of bptui's values.
        let how = if plan.mapping.placed.contains(key) {
            " (placed by the order of your lines and its shape: its value is not bptui's)"
        } else {
            ""
        };
        parts.push(format!("`{theirs}` is {what}{how}"));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The homework model for `hw` with what was learned.
fn homework_model(hw: &HomeworkArgs, args: &DiffArgs, learned: Learned, init: &[(String, String)]) -> Result<Model> {
    homework_model_text(hw, args, learned, init).map(|(m, _)| m)
}

fn homework_model_text(
    hw: &HomeworkArgs,
    args: &DiffArgs,
    learned: Learned,
    init: &[(String, String)],
) -> Result<(Model, String)> {
    let data = DataOverride { train: args.data.train.clone(), test: args.data.test.clone() };
    let train = data.train.clone().unwrap_or_else(|| hw.train.clone());
    let inputs = crate::data::Dataset::from_csv(&train)?.width();
    let yaml = hw.model_yaml(inputs, learned, init);
    let here = std::env::current_dir().unwrap_or_default().join("(your command line).yaml");
    let mut model = Model::from_source(&here, &yaml, &data)?;
    model.file = here;
    Ok((model, yaml))
}

/// The model and names, once enough training passes are captured (or the program ended:
/// `last`); None while too few are.
fn learn(
    captured: &Captured,
    rows: &Rows,
    base: &Model,
    given: bool,
    hw: Option<&HomeworkArgs>,
    args: &DiffArgs,
    last: bool,
) -> Result<Option<Plan>> {
    let sizes = param_sizes(base);
    let Some(primary) = infer::primary_x(captured, rows, &sizes) else { return Ok(None) };
    let passes = infer::passes(captured, primary, rows);
    let training = infer::training_passes(captured, &passes, &sizes);
    // A pass is complete when the next one has begun.
    let complete = if last { training.len() } else { training.len().saturating_sub(1) };
    if complete < LEARN_FROM.min(if last { 1 } else { LEARN_FROM }) {
        return Ok(None);
    }
    let use_passes: Vec<&Pass> = training.iter().take(LEARN_FROM.min(complete)).map(|&k| &passes[k]).collect();
    let tol = Tolerance {
        tol: args.tol,
        float32: captured.values.iter().filter(|v| v.dtype == 1).count() * 2
            > captured.values.iter().filter(|v| v.dtype != 2).count(),
    };
    let mut notes = Vec::new();
    let (model, yaml) = if given {
        (base.clone(), std::fs::read_to_string(&base.file).unwrap_or_default())
    } else {
        let hw = hw.expect("no model: the homework's arguments");
        // The order of examples: file order, or numpy's permutation of each epoch.
        let n = base.train_data.as_ref().map(|d| d.len()).unwrap_or(0);
        let perm = crate::session::epoch_order(crate::model::spec::Shuffle::NumpyEpoch, 0, 1, n);
        let (mut file_order, mut numpy) = (0, 0);
        for (i, p) in use_passes.iter().enumerate() {
            file_order += usize::from(p.rows.contains(&i));
            numpy += usize::from(perm.get(i).is_some_and(|r| p.rows.contains(r)));
        }
        let numpy_shuffle = numpy > file_order;
        notes.push(if numpy_shuffle {
            "the order of examples: np.random.seed(e); np.random.permutation(N) each epoch e (from 0)".to_string()
        } else {
            "the order of examples: the file's, every epoch".to_string()
        });
        let mut learned = Learned { bias: Bias::Folded, adagrad: false, numpy_shuffle };
        let ordered = homework_model(hw, args, learned, &[])?;
        let (init, bias, note) = initial_weights(captured, &ordered, use_passes[0], &tol, hw);
        learned.bias = bias;
        notes.extend(note);
        let sgd = homework_model_text(hw, args, learned, &init)?;
        let ada = homework_model_text(hw, args, Learned { adagrad: true, ..learned }, &init)?;
        let score = |m: &Model| {
            let ours = infer::our_examples(m, use_passes.len());
            let mapping = infer::map_names(captured, &use_passes, &ours, m, &tol);
            mapping.matched
        };
        let (s_sgd, s_ada) = (score(&sgd.0), score(&ada.0));
        let first = infer::our_examples(&sgd.0, 1);
        let accumulator =
            first.first().is_some_and(|o| infer::holds_squared_gradient(captured, use_passes[0], o, &sgd.0, &tol));
        if s_ada > s_sgd || (accumulator && s_ada >= s_sgd) {
            notes.push("the optimizer: Adagrad (s ← s + g², θ ← θ − η g / √(s + ε)), from your updates".into());
            ada
        } else {
            sgd
        }
    };
    let ours = infer::our_examples(&model, use_passes.len());
    let mapping = infer::map_names(captured, &use_passes, &ours, &model, &tol);
    if mapping.keys.iter().all(|(_, s, ..)| *s == Section::Forward) && mapping.keys.len() <= 1 {
        return Ok(None);
    }
    Ok(Some(Plan { model, yaml, mapping, notes }))
}

/// Their initial weights: for each parameter, the array bound before the first training pass
/// whose forward pass gives the values their first example holds.
fn initial_weights(
    captured: &Captured,
    model: &Model,
    first: &Pass,
    tol: &Tolerance,
    hw: &HomeworkArgs,
) -> (Vec<(String, String)>, Bias, Vec<String>) {
    let graph = &model.graph;
    let mut chosen: Vec<(String, ndarray::ArrayD<f64>)> = Vec::new();
    let mut bias = Bias::Folded;
    let mut notes = Vec::new();
    let values: Vec<&ndarray::ArrayD<f64>> = captured.values[first.start..first.end].iter().map(|v| &v.array).collect();
    for &p in graph.params() {
        let name = graph.node(p).name.clone();
        let shape = graph.node(p).shape.clone();
        let candidates = infer::initial_candidates(captured, first.start, &shape);
        let mut best: Option<(usize, usize, ndarray::ArrayD<f64>)> = None;
        for (i, c) in candidates {
            let mut m = model.clone();
            for (n, v) in chosen.iter().chain(std::iter::once(&(name.clone(), c.clone()))) {
                let id = graph.find(n).expect("a parameter");
                match m.initial.iter_mut().find(|(q, _)| *q == id) {
                    Some((_, x)) => *x = v.clone(),
                    None => m.initial.push((id, v.clone())),
                }
            }
            let ours = infer::our_examples(&m, 1);
            let Some(o) = ours.first() else { continue };
            let score = o
                .record
                .forward
                .iter()
                .filter(|(n, _)| graph.find(n).is_some_and(|id| graph.features() != Some(id)))
                .filter(|(_, a)| values.iter().any(|v| infer::holds(a, None, v, tol)))
                .count();
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, i, c));
            }
        }
        if let Some((score, i, c)) = best {
            if score > 0 {
                let v = &captured.values[i];
                let site = &captured.sites[&v.site];
                if v.array.len() < c.len() && shape.len() == 2 {
                    bias = Bias::Separate;
                }
                notes.push(format!(
                    "the initial {name}: your `{}` at {}:{} before the first update",
                    site.target,
                    short(&site.file),
                    site.line
                ));
                if hw.init_flag == 2 && c.iter().any(|&x| x != 0.0) {
                    notes.push(format!("INIT_FLAG 2 means zeros, but your initial {name} is not all zeros"));
                }
                chosen.push((name, c));
            }
        }
    }
    let init: Vec<(String, String)> = chosen
        .iter()
        .map(|(n, v)| {
            let v = if bias == Bias::Separate && v.ndim() == 2 {
                v.slice_axis(ndarray::Axis(1), ndarray::Slice::from(1..)).to_owned().into_dyn()
            } else {
                v.clone()
            };
            (n.clone(), homework::yaml_values(&v))
        })
        .collect();
    (init, bias, notes)
}

/// The element counts a parameter's array may have: its own, without or with a bias column.
fn param_sizes(model: &Model) -> HashSet<usize> {
    let graph = &model.graph;
    let mut sizes = HashSet::new();
    for &p in graph.params() {
        let shape = &graph.node(p).shape;
        let n: usize = shape.iter().product();
        sizes.insert(n);
        if shape.len() == 2 {
            sizes.insert(n - shape[0]);
            sizes.insert(n + shape[0]);
        }
    }
    sizes
}

fn example_records(captured: &Captured, rows: &Rows, plan: &Plan, running: bool) -> (Vec<Record>, usize) {
    let Some(primary) = infer::primary_x(captured, rows, &param_sizes(&plan.model)) else { return (vec![], 0) };
    let passes = infer::passes(captured, primary, rows);
    let model = &plan.model;
    let n = model.train_data.as_ref().map(|d| d.len()).unwrap_or(1);
    let shuffle = model.config.shuffle;
    let seed = model.config.seed;
    let order = |epoch: usize, example: usize| {
        crate::session::epoch_order(shuffle, seed, epoch, n).get(example - 1).copied().unwrap_or(usize::MAX)
    };
    // The last pass may be incomplete while the program runs: left for the next check.
    let mut records = infer::records(captured, &passes, &plan.mapping, n, order);
    // While the program runs, its last pass may not be complete: left for the next check.
    if running && records.last().is_some_and(|r| matches!(r, Record::Example(e) if e.row.is_some())) {
        let last_training = passes.iter().rposition(|p| !p.rows.is_empty());
        if last_training.is_some_and(|k| k + 1 == passes.len()) {
            records.pop();
        }
    }
    let count = records.len();
    (records, count)
}

/// Runs bptui beside the records; (report, diverged), None when nothing could be compared.
fn compare(
    captured: &Captured,
    plan: &Plan,
    records: Vec<Record>,
    args: &DiffArgs,
    verdicts: Option<&mut Vec<String>>,
) -> Result<Option<(String, bool)>> {
    if records.is_empty() {
        return Ok(None);
    }
    let aliases: Vec<(String, String)> = plan
        .mapping
        .keys
        .iter()
        .map(|(_, _, ours, theirs)| (theirs.clone(), ours.clone()))
        .chain(args.alias.iter().cloned())
        .collect();
    let theirs = Theirs::from_records("your program", records, &plan.model.graph, &aliases)?;
    let (model, notes) = prepare(&plan.model, &theirs)?;
    let mut session = Session::new(model, args.backward.into());
    let mut report = match crate::diff::run(&mut session, &theirs, args.tol) {
        Ok(r) => r,
        Err(_) if verdicts.is_none() => return Ok(Some((String::new(), false))),
        Err(e) => return Err(e),
    };
    report.notes.splice(0..0, notes);
    let diverged = report.divergence.is_some();
    if let Some(v) = verdicts {
        if !diverged && session.phase() != crate::session::Phase::Finished {
            session.run_to_end();
        }
        v.push(format!("__session_predictions__{}", predictions(&mut session)));
    }
    let mut text = render(&report, &theirs);
    // The line of their source that bound the value.
    if let Some((section, name)) = report.divergence.as_ref().and_then(|d| d.value()) {
        let key = plan.mapping.keys.iter().find(|(_, s, ours, _)| *s == section && ours == name);
        if let Some(site) = key.and_then(|(k, ..)| captured.sites.get(&k.0)) {
            if let Some(end) = text.find('\n') {
                text.insert_str(end + 1, &format!("  at {}:{}: {}\n", short(&site.file), site.line, site.text));
            }
        }
    }
    Ok(Some((text, diverged)))
}

fn predictions(session: &mut Session) -> String {
    let model = session.model().clone();
    let train = model.train_data.as_ref().and_then(|d| session.predict(d)).unwrap_or_default();
    let test = model.test_data.as_ref().and_then(|d| session.predict(d)).unwrap_or_default();
    let j = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
    format!("{}|{}", j(&train), j(&test))
}

/// Their labels files against bptui's predictions; false when one differs.
fn labels_verdict(_plan: &Plan, hw: Option<&HomeworkArgs>, crashed: bool, verdicts: &mut Vec<String>) -> bool {
    let Some(pos) = verdicts.iter().position(|v| v.starts_with("__session_predictions__")) else { return true };
    let preds = verdicts.remove(pos);
    let Some(hw) = hw else { return true };
    if crashed {
        return true;
    }
    let body = preds.trim_start_matches("__session_predictions__");
    let (train, test) = body.split_once('|').unwrap_or((body, ""));
    let parse =
        |s: &str| -> Vec<usize> { s.split(',').filter(|x| !x.is_empty()).filter_map(|x| x.parse().ok()).collect() };
    let mut ok = true;
    for (path, ours) in [(&hw.train_out, parse(train)), (&hw.validation_out, parse(test))] {
        match homework::read_labels(path) {
            Err(why) => verdicts.push(format!("your {}: {why}", path.display())),
            Ok(theirs) if theirs == ours => {
                verdicts.push(format!("your {} agrees: all {} labels", path.display(), ours.len()))
            }
            Ok(theirs) => {
                ok = false;
                let wrong: Vec<usize> =
                    (0..ours.len().max(theirs.len())).filter(|&i| ours.get(i) != theirs.get(i)).collect();
                let first = wrong[0];
                verdicts.push(format!(
                    "your {}: {} of {} labels differ, first at line {}: yours {}, bptui's {}",
                    path.display(),
                    wrong.len(),
                    ours.len(),
                    first + 1,
                    theirs.get(first).map(|x| x.to_string()).unwrap_or_else(|| "(none)".into()),
                    ours.get(first).map(|x| x.to_string()).unwrap_or_else(|| "(none)".into()),
                ));
            }
        }
    }
    ok
}

fn save_model(plan: &Plan, path: &Path) -> Result<()> {
    crate::output::write_text(path, &plan.yaml)
}

fn nothing_recognised(
    captured: &Captured,
    base: &Model,
    code: i32,
    traceback: Option<&str>,
    running: &Running,
) -> Error {
    // The traceback as it is (an error message is one line).
    if let Some(tb) = traceback {
        eprint!("your program ended with status {code}:\n{}", indent(tb));
    } else if code != 0 {
        eprint!(
            "your program ended with status {code}; its last output:\n{}",
            indent(&running.last_output().join("\n"))
        );
    }
    let mut msg = String::new();
    let width = base.train_data.as_ref().map(|d| d.width()).unwrap_or(0);
    msg += &format!(
        "nothing recognisable in what your program computed: bptui captured {} values from {} places of your code, and \
         expected an example's x (the {width} features of a row of {}) followed by its forward pass, gradients and \
         updated weights",
        captured.values.len(),
        captured.sites.len(),
        base.train_data.as_ref().map(|d| d.source.clone()).unwrap_or_default()
    );
    Error::Usage(msg)
}
