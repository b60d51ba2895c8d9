//! The homework's command line (`neuralnet.py TRAIN VALIDATION TRAIN_OUT VALIDATION_OUT
//! METRICS_OUT NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE`, hw5-conventions.md) read as a
//! model, and the program's own output files read back for comparison.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The nine arguments, as the program reads them.
#[derive(Debug, Clone)]
pub struct HomeworkArgs {
    pub train: PathBuf,
    pub validation: PathBuf,
    pub train_out: PathBuf,
    pub validation_out: PathBuf,
    pub metrics_out: PathBuf,
    pub epochs: usize,
    pub hidden_units: usize,
    pub init_flag: u8,
    pub learning_rate: f64,
}

/// How the model's layers keep their bias, as the captured arrays show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bias {
    Folded,
    Separate,
}

/// What the capture says about the run, beyond the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    pub bias: Bias,
    pub adagrad: bool,
    pub numpy_shuffle: bool,
}

impl HomeworkArgs {
    /// The nine positional arguments among the program's arguments (options such as
    /// `--bug NAME` aside), or a message saying what was expected.
    pub fn parse(args: &[String]) -> Result<HomeworkArgs> {
        let mut positional = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.starts_with("--") && a.len() > 2 {
                // An option of their own, with its value unless it is `--name=value`.
                i += if a.contains('=') { 1 } else { 2 };
                continue;
            }
            positional.push(a.clone());
            i += 1;
        }
        let usage = "the homework's nine arguments: TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
                     NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE";
        if positional.len() < 9 {
            return Err(Error::Usage(format!(
                "your program's command line has {} arguments where bptui expected {usage} (or give a model file before `--`)",
                positional.len()
            )));
        }
        let p = &positional[positional.len() - 9..];
        let number = |i: usize, what: &str| -> Result<f64> {
            p[i].parse::<f64>().map_err(|_| Error::Usage(format!("argument {} `{}`: expected {what}", i + 1, p[i])))
        };
        let epochs = number(5, "NUM_EPOCH, a whole number ≥ 1")?;
        let hidden = number(6, "HIDDEN_UNITS, a whole number ≥ 1")?;
        let flag = number(7, "INIT_FLAG, 1 (random) or 2 (zeros)")?;
        let lr = number(8, "LEARNING_RATE, a number ≥ 0")?;
        let whole = |x: f64| x >= 1.0 && x.fract() == 0.0 && x < 1e7;
        if !whole(epochs) {
            return Err(Error::Usage(format!("argument 6 `{}`: expected NUM_EPOCH, a whole number ≥ 1", p[5])));
        }
        if !whole(hidden) {
            return Err(Error::Usage(format!("argument 7 `{}`: expected HIDDEN_UNITS, a whole number ≥ 1", p[6])));
        }
        if flag != 1.0 && flag != 2.0 {
            return Err(Error::Usage(format!("argument 8 `{}`: expected INIT_FLAG, 1 (random) or 2 (zeros)", p[7])));
        }
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::Usage(format!("argument 9 `{}`: expected LEARNING_RATE, a number ≥ 0", p[8])));
        }
        Ok(HomeworkArgs {
            train: p[0].clone().into(),
            validation: p[1].clone().into(),
            train_out: p[2].clone().into(),
            validation_out: p[3].clone().into(),
            metrics_out: p[4].clone().into(),
            epochs: epochs as usize,
            hidden_units: hidden as usize,
            init_flag: flag as u8,
            learning_rate: lr,
        })
    }

    /// The model file's text for this run (models/hw_network.yaml with these settings), the
    /// data paths absolute.
    pub fn model_yaml(&self, inputs: usize, learned: Learned, init_values: &[(String, String)]) -> String {
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string();
        let bias = match learned.bias {
            Bias::Folded => "folded",
            Bias::Separate => "separate",
        };
        let init = |name: &str| {
            init_values.iter().find(|(n, _)| n == name).map(|(_, v)| format!("{{values: {v}}}")).unwrap_or_else(|| {
                if self.init_flag == 2 {
                    "zeros".into()
                } else {
                    "{numpy_uniform: [-0.1, 0.1]}".into()
                }
            })
        };
        let mut out = String::new();
        out += "name: homework\n";
        out += &format!(
            "about: \"The homework's network (hw5) as your command line sets it: {} hidden units, INIT_FLAG {}, learning rate \
             {}, {} epochs; what it does not say was learned from your program's numbers.\"\n",
            self.hidden_units, self.init_flag, self.learning_rate, self.epochs
        );
        out += &format!("network:\n  inputs: {inputs}\n  layers:\n");
        out += &format!(
            "    - {{op: linear, name: a, weights: alpha, units: {}, bias: {bias}, init: {}}}\n",
            self.hidden_units,
            init("alpha")
        );
        out += "    - {op: sigmoid, name: z}\n";
        out +=
            &format!("    - {{op: linear, name: b, weights: beta, units: 10, bias: {bias}, init: {}}}\n", init("beta"));
        out += "    - {op: softmax, name: y_hat}\n";
        out += "  loss: {op: cross_entropy, name: J}\n";
        out += &format!(
            "data:\n  train: {{csv: {:?}}}\n  validation: {{csv: {:?}}}\n",
            abs(&self.train),
            abs(&self.validation)
        );
        out += &format!(
            "train: {{learning_rate: {}, epochs: {}, shuffle: {}, optimizer: {}}}\n",
            self.learning_rate,
            self.epochs,
            if learned.numpy_shuffle { "numpy_epoch" } else { "none" },
            if learned.adagrad { "adagrad" } else { "sgd" }
        );
        out += "classes: [a, e, g, i, l, n, o, r, t, u]\nimage: [16, 8]\n";
        out
    }
}

/// A value as a YAML flow list (exact: shortest round-trip decimals).
pub fn yaml_values(a: &ndarray::ArrayD<f64>) -> String {
    crate::numfmt::nested_list(a, |x| format!("{x:?}"))
}

/// One epoch's metrics: its number and (key, value) pairs.
pub type EpochMetrics = (usize, Vec<(String, f64)>);

/// The program's metrics file as epoch metrics (train_loss, test_loss per epoch; the error
/// rates with the last epoch), or why it cannot be read.
pub fn read_metrics(path: &Path) -> std::result::Result<Vec<EpochMetrics>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut epochs: Vec<EpochMetrics> = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad =
            || format!("line {}: `{}`: expected `epoch=N crossentropy(train): X` or `error(train): X`", i + 1, line);
        let (key, value) = line.rsplit_once(':').ok_or_else(bad)?;
        let value: f64 = value.trim().parse().map_err(|_| bad())?;
        let set = |k: &str| if k.contains("(train)") { "train" } else { "test" };
        if let Some(rest) = key.strip_prefix("epoch=") {
            let (n, what) = rest.split_once(' ').ok_or_else(bad)?;
            let n: usize = n.parse().map_err(|_| bad())?;
            if !what.starts_with("crossentropy(") {
                return Err(bad());
            }
            let name = format!("{}_loss", set(what));
            match epochs.iter_mut().find(|(e, _)| *e == n) {
                Some((_, m)) => m.push((name, value)),
                None => epochs.push((n, vec![(name, value)])),
            }
        } else if key.starts_with("error(") {
            errors.push((format!("{}_error", set(key)), value));
        } else {
            return Err(bad());
        }
    }
    if let Some((_, last)) = epochs.iter_mut().max_by_key(|(e, _)| *e) {
        last.extend(errors);
    }
    Ok(epochs)
}

/// A labels file: one whole number per line.
pub fn read_labels(path: &Path) -> std::result::Result<Vec<usize>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let t = l.trim();
            t.parse::<usize>()
                .or_else(|_| {
                    t.parse::<f64>().map_err(|_| ()).and_then(|f| {
                        if f.fract() == 0.0 && f >= 0.0 {
                            Ok(f as usize)
                        } else {
                            Err(())
                        }
                    })
                })
                .map_err(|_| format!("line {}: `{t}`: expected a label (a whole number)", i + 1))
        })
        .collect()
}
