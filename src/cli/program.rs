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
    /// The site of their x: a new pass begins at each of its values.
    primary: usize,
}

impl Plan {
    /// The sites whose values are compared: their x and every named key's.
    fn sites(&self) -> HashSet<usize> {
        self.mapping.keys.iter().map(|(k, ..)| k.0).chain(std::iter::once(self.primary)).collect()
    }
}

/// A run of their program under the recorder, up to its end or to where bptui stopped it.
struct Recording {
    captured: Captured,
    plan: Option<Plan>,
    /// Its exit status and traceback (-1 when the stream ended without one).
    code: i32,
    traceback: Option<String>,
    /// Why bptui stopped it before its end, if it did (not a divergence).
    stopped: Option<String>,
    homework: Option<HomeworkArgs>,
    base: Model,
    rows: Rows,
    running: Running,
}

/// What the recording ended with.
enum Recorded {
    /// `diff --` stopped the program at a divergence: the exit status of the printed report.
    Reported(i32),
    /// Interrupted (Ctrl-C, a signal): bptui's exit status.
    Interrupted(i32),
    Ran(Box<Recording>),
}

pub(super) fn diff_program(args: DiffArgs) -> Result<i32> {
    let r = match record(&args, true)? {
        Recorded::Reported(status) | Recorded::Interrupted(status) => return Ok(status),
        Recorded::Ran(r) => r,
    };
    let Recording { captured, plan, code, traceback, stopped, homework, base, rows, running } = *r;
    let Some(p) = plan else {
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
    let Some(compared) = compare(&captured, &p, records, &args, true)? else {
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
    let labels_ok = match (&homework, &compared.predictions, crashed) {
        (Some(hw), Some(predictions), false) => labels_verdict(hw, predictions, &mut verdicts),
        _ => true,
    };
    for v in &verdicts {
        extra += &format!("  {v}\n");
    }
    let status = finish(&args, &captured, &p, compared.text + &extra, "")?;
    Ok(if compared.diverged || !labels_ok || crashed { 1 } else { status })
}

/// `bptui [MODEL.yaml] --against -- python3 neuralnet.py ...`: their program run to its end
/// under the recorder (its output passed through), then the model it was learned to run and
/// their values as a trace, each with the line of their source that bound it.
pub(super) fn capture_for_debugger(args: DiffArgs) -> Result<Option<(Model, Theirs)>> {
    eprintln!("bptui: recording your program (its output follows); the debugger opens when it ends");
    let r = match record(&args, false)? {
        Recorded::Reported(_) => unreachable!("the debugger's recording does not stop at a divergence"),
        Recorded::Interrupted(_) => return Ok(None),
        Recorded::Ran(r) => r,
    };
    let Recording { captured, plan, code, traceback, base, rows, running, stopped, .. } = *r;
    let Some(p) = plan else {
        return Err(nothing_recognised(&captured, &base, code, traceback.as_deref(), &running));
    };
    if let Some(s) = &stopped {
        eprintln!("bptui: {s}");
    } else if code != 0 {
        eprintln!("bptui: your program ended with status {code}: its values up to there are shown");
    }
    let (records, _) = example_records(&captured, &rows, &p, false);
    let mut theirs = Theirs::from_records("your program", records, p.model.graph(), &aliases(&p, &args))?;
    for (key, section, ours, _) in &p.mapping.keys {
        if let Some(site) = captured.sites.get(&key.0) {
            theirs
                .sources
                .insert((*section, ours.clone()), format!("{}:{}: {}", short(&site.file), site.line, site.text));
        }
    }
    let (model, _) = prepare(&p.model, &theirs)?;
    if let Some(path) = &args.save_model {
        save_model(&p, path)?;
    }
    Ok(Some((model, theirs)))
}

/// What a recording compares with, settled before their program starts.
struct Setup {
    /// Their command line read as the homework's, if it is.
    homework: Option<HomeworkArgs>,
    /// Whether the model was given (else it is the homework's, learned from their program).
    given: bool,
    base: Model,
    rows: Rows,
    /// How many examples an epoch has.
    train: usize,
}

impl Setup {
    /// The model given on the command line, or (without one) the homework's read from their
    /// program's arguments, which must then be the homework's.
    fn new(args: &DiffArgs, script_args: &[String]) -> Result<Setup> {
        let homework = match &args.model {
            Some(_) => HomeworkArgs::parse(script_args).ok(),
            None => Some(HomeworkArgs::parse(script_args)?),
        };
        let given = match &args.model {
            Some(path) => Some(load(path, &args.data, &args.alias, args.limits)?.0),
            None => None,
        };
        let base = match (&given, &homework) {
            (Some(m), _) => m.clone(),
            (None, Some(hw)) => {
                homework_model(hw, args, Learned { bias: Bias::Folded, adagrad: false, numpy_shuffle: false }, &[])?
            }
            (None, None) => unreachable!("parsed above"),
        };
        base.require_examples()?;
        let train = base.train_data().cloned().expect("required");
        let rows = Rows::new(&train);
        Ok(Setup { homework, given: given.is_some(), base, rows, train: train.len() })
    }
}

/// What one wait on the recorder's stream brought.
enum Heard {
    /// Something, or nothing yet: the program goes on.
    More,
    /// The stream ended: with the program's exit status and traceback when it said them.
    End(Option<(i32, Option<String>)>),
}

/// Waits a moment for the recorder's next event and keeps what it says.
fn hear(running: &Running, captured: &mut Captured, keep: Option<&HashSet<usize>>) -> Heard {
    match running.events.recv_timeout(Duration::from_millis(100)) {
        Ok(Event::Site(id, s)) => {
            captured.sites.insert(id, s);
        }
        // Once the names are known only their values are kept (the recorder is told to send
        // only those, but some are on their way).
        Ok(Event::Value(v)) => captured.take(v, keep),
        Ok(Event::Tracer(t)) => captured.tracer = Some(t),
        Ok(Event::Exit { code, traceback }) => return Heard::End(Some((code, traceback))),
        Ok(Event::Closed(why)) => return Heard::End(Some((-1, why))),
        Err(RecvTimeoutError::Timeout) => {}
        Err(RecvTimeoutError::Disconnected) => return Heard::End(None),
    }
    Heard::More
}

/// How far a recording has looked at the values that came.
struct Progress {
    plan: Option<Plan>,
    /// The number of examples at which the values are compared next.
    next_check: usize,
    /// How many values there were when they were last looked at.
    checked_values: usize,
    /// Once the names are known, the sites whose values are kept.
    keep: Option<HashSet<usize>>,
}

/// What looking at the values decided.
enum Look {
    /// The program goes on.
    Go,
    /// It is stopped, for this reason (not a divergence).
    Stop(String),
    /// It was stopped at a divergence: the exit status of the printed report.
    Reported(i32),
}

impl Progress {
    /// Learns the names when enough values came, compares the examples when enough more did
    /// (stopping at a divergence when `stop_at_divergence`), and stops a program that trains
    /// past what its command line asks for.
    fn look(
        &mut self,
        args: &DiffArgs,
        setup: &Setup,
        stop_at_divergence: bool,
        captured: &mut Captured,
        running: &mut Running,
    ) -> Result<Look> {
        // Until the names are known, looked at every few hundred values: the sooner they are,
        // the sooner the recorder sends only what is compared. Then checked at 1, 2, 4, ...
        // times as many: the work stays a few times one comparison of everything, and a
        // mistake in the first example stops the program within a moment.
        let step = if self.plan.is_none() { self.checked_values + 300 } else { self.checked_values * 2 + 2000 };
        if captured.values.len() < step {
            return Ok(Look::Go);
        }
        self.checked_values = captured.values.len();
        if self.plan.is_none() {
            self.plan = learn(captured, &setup.rows, &setup.base, setup.given, setup.homework.as_ref(), args, false)?;
            if let Some(p) = &self.plan {
                let sites = p.sites();
                running.keep_only(&sites);
                captured.keep_only(&sites);
                self.checked_values = captured.values.len();
                self.keep = Some(sites);
            }
        }
        let Some(p) = &self.plan else { return Ok(Look::Go) };
        let (records, n) = example_records(captured, &setup.rows, p, true);
        if n < self.next_check {
            return Ok(Look::Go);
        }
        self.next_check = n * 2;
        if stop_at_divergence {
            if let Some(c) = compare(captured, p, records, args, false)? {
                if c.diverged {
                    running.stop();
                    return finish(args, captured, p, c.text, "bptui stopped your program here").map(Look::Reported);
                }
            }
        }
        let needed = p.model.config().epochs * setup.train;
        if n > needed + setup.train {
            return Ok(Look::Stop(format!(
                "your program trained {n} examples, more than the {needed} its command line asks for: it was stopped"
            )));
        }
        Ok(Look::Go)
    }
}

/// Runs their program under the recorder: the names and the model learned from its first
/// passes, its values checked as they come (stopped at the first divergence when
/// `stop_at_divergence`), stopped when it runs past what the command line asks for.
fn record(args: &DiffArgs, stop_at_divergence: bool) -> Result<Recorded> {
    crate::signals::install();
    let program: Vec<String> = args.command.clone();
    // A command bptui cannot run is said before its arguments are read.
    let (_, _, script_args) = crate::capture::split_command(&program)?;
    let setup = Setup::new(args, &script_args)?;
    let started = Instant::now();
    let mut running = Running::start(&program, true)?;
    let mut captured = Captured::default();
    let mut exit: Option<(i32, Option<String>)> = None;
    let mut progress = Progress { plan: None, next_check: 1, checked_values: 0, keep: None };
    let mut stopped: Option<String> = None;
    let timeout = Duration::from_secs_f64(args.timeout);
    loop {
        if crate::signals::pending().is_some() {
            running.stop();
            return Ok(Recorded::Interrupted(130));
        }
        if let Heard::End(how) = hear(&running, &mut captured, progress.keep.as_ref()) {
            exit = how;
            break;
        }
        if started.elapsed() > timeout {
            stopped = Some(format!("your program ran longer than --timeout {} s and was stopped", args.timeout));
            break;
        }
        match progress.look(args, &setup, stop_at_divergence, &mut captured, &mut running)? {
            Look::Go => {}
            Look::Stop(why) => {
                stopped = Some(why);
                break;
            }
            Look::Reported(code) => return Ok(Recorded::Reported(code)),
        }
    }
    // Ended by a signal (its handler stops the program: the stream closes here first).
    if crate::signals::pending().is_some() {
        running.stop();
        return Ok(Recorded::Interrupted(130));
    }
    if stopped.is_some() {
        running.stop();
    }
    let (code, traceback) = exit.unwrap_or((-1, None));
    let Setup { homework, given, base, rows, .. } = setup;
    let mut plan = progress.plan;
    if plan.is_none() {
        plan = learn(&captured, &rows, &base, given, homework.as_ref(), args, true)?;
    }
    if plan.is_none() {
        running.stop();
    }
    Ok(Recorded::Ran(Box::new(Recording { captured, plan, code, traceback, stopped, homework, base, rows, running })))
}

/// Prints the report with the mapping and where their values come from; the exit status.
fn finish(args: &DiffArgs, captured: &Captured, plan: &Plan, report: String, stopped: &str) -> Result<i32> {
    let mut out = String::new();
    if let Some(t) = &captured.tracer {
        out += &format!("recorded your program with {t} ({} arrays and numbers)\n", captured.received);
    }
    for line in names_lines(plan) {
        out += &line;
        out.push('\n');
    }
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
        let (records, _) = example_records(captured, &Rows::new(plan.model.train_data().expect("data")), plan, false);
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
    for (site, shape) in &captured.last {
        if let Some(s) = captured.sites.get(site) {
            let shape = crate::diff::layout::numpy_shape(shape);
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

/// The mapping, a line per section and one for the keys placed by order, each wrapped to 80
/// columns (the report is read in a terminal, often 80 wide).
fn names_lines(plan: &Plan) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<String>)> =
        vec![("forward", vec![]), ("adjoints", vec![]), ("updates", vec![]), ("placed", vec![])];
    for (key, section, ours, theirs) in &plan.mapping.keys {
        let what = match section {
            Section::Forward => ours.clone(),
            Section::Adjoint => format!("dJ/d{ours}"),
            Section::Param => format!("{ours} after the update"),
        };
        let group = if plan.mapping.placed.contains(key) {
            3
        } else {
            match section {
                Section::Forward => 0,
                Section::Adjoint => 1,
                Section::Param => 2,
            }
        };
        groups[group].1.push(format!("`{theirs}` is {what}"));
    }
    let mut out = vec!["your names, found by value:".to_string()];
    for (label, items) in groups {
        if items.is_empty() {
            continue;
        }
        // Said as it is: a key placed by order holds none of bptui's values.
        let head = if label == "placed" {
            "  placed by line order and shape (their values are not bptui's):".to_string()
        } else {
            format!("  {label}:")
        };
        out.extend(wrap(&head, &items, 80));
    }
    if out.len() == 1 {
        out[0] += " none";
    }
    out
}

/// `head` then the `items` separated by commas, wrapped at `width` with a hanging indent.
fn wrap(head: &str, items: &[String], width: usize) -> Vec<String> {
    let mut lines = vec![head.to_string()];
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() { format!("{item},") } else { item.clone() };
        let last = lines.last_mut().expect("a line");
        if last.chars().count() + 1 + piece.chars().count() > width {
            lines.push(format!("    {piece}"));
        } else {
            last.push(' ');
            last.push_str(&piece);
        }
    }
    lines
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
    let mut model = Model::from_source(&here, &yaml, &data, args.limits)?;
    model.set_file(here);
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
        (base.clone(), std::fs::read_to_string(base.file()).unwrap_or_default())
    } else {
        let hw = hw.expect("no model: the homework's arguments");
        // The order of examples: file order, or numpy's permutation of each epoch.
        let n = base.train_data().map(|d| d.len()).unwrap_or(0);
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
    Ok(Some(Plan { model, yaml, mapping, notes, primary }))
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
    let graph = &model.graph();
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
                m.set_initial(id, v.clone());
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
    let graph = &model.graph();
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
    let passes = infer::passes(captured, plan.primary, rows);
    let model = &plan.model;
    let n = model.train_data().map(|d| d.len()).unwrap_or(1);
    let shuffle = model.config().shuffle;
    let seed = model.config().seed;
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

/// What bptui said of the records.
struct Compared {
    text: String,
    diverged: bool,
    /// bptui's labels of the training and test rows after the whole run (when asked for).
    predictions: Option<(Vec<usize>, Vec<usize>)>,
}

/// Their names for bptui's nodes: the mapping's, then the command line's.
fn aliases(plan: &Plan, args: &DiffArgs) -> Vec<(String, String)> {
    plan.mapping
        .keys
        .iter()
        .map(|(_, _, ours, theirs)| (theirs.clone(), ours.clone()))
        .chain(args.alias.iter().cloned())
        .collect()
}

/// Runs bptui beside the records (to the end of the run, with its predictions, when `whole`:
/// the program has ended); None when nothing could be compared.
fn compare(
    captured: &Captured,
    plan: &Plan,
    records: Vec<Record>,
    args: &DiffArgs,
    whole: bool,
) -> Result<Option<Compared>> {
    if records.is_empty() {
        return Ok(None);
    }
    let theirs = Theirs::from_records("your program", records, plan.model.graph(), &aliases(plan, args))?;
    let (model, notes) = prepare(&plan.model, &theirs)?;
    let mut session = Session::new(model, args.backward.into());
    let mut report = match crate::diff::run(&mut session, &theirs, args.tol) {
        Ok(r) => r,
        // While it runs: too little to say anything yet.
        Err(_) if !whole => return Ok(Some(Compared { text: String::new(), diverged: false, predictions: None })),
        Err(e) => return Err(e),
    };
    report.notes.splice(0..0, notes);
    let diverged = report.divergence.is_some();
    let predictions = whole.then(|| {
        if !diverged && session.phase() != crate::session::Phase::Finished {
            session.run_to_end();
        }
        predictions(&mut session)
    });
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
    Ok(Some(Compared { text, diverged, predictions }))
}

/// bptui's labels of the training and test rows, as the session predicts them now.
fn predictions(session: &mut Session) -> (Vec<usize>, Vec<usize>) {
    let model = session.model().clone();
    let train = model.train_data().and_then(|d| session.predict(d)).unwrap_or_default();
    let test = model.test_data().and_then(|d| session.predict(d)).unwrap_or_default();
    (train, test)
}

/// Their labels files against bptui's predictions; false when one differs.
fn labels_verdict(hw: &HomeworkArgs, (train, test): &(Vec<usize>, Vec<usize>), verdicts: &mut Vec<String>) -> bool {
    let mut ok = true;
    for (path, ours) in [(&hw.train_out, train), (&hw.validation_out, test)] {
        match homework::read_labels(path) {
            Err(why) => verdicts.push(format!("your {}: {why}", path.display())),
            Ok(theirs) if &theirs == ours => {
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
    let width = base.train_data().map(|d| d.width()).unwrap_or(0);
    msg += &format!(
        "nothing recognisable in what your program computed: bptui captured {} values from {} places of your code, and \
         expected an example's x (the {width} features of a row of {}) followed by its forward pass, gradients and \
         updated weights",
        captured.values.len(),
        captured.sites.len(),
        base.train_data().map(|d| d.source.clone()).unwrap_or_default()
    );
    Error::Usage(msg)
}
