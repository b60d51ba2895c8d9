//! The model file as written: serde structs that mirror the YAML one to one.
//!
//! Nothing is checked here beyond what the YAML's shape says; [`super::Model::load`] turns a
//! [`ModelFile`] into an engine graph and reports what does not fit, with its location.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub name: String,
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub network: Option<NetworkSpec>,
    #[serde(default)]
    pub graph: Option<GraphSpec>,
    #[serde(default)]
    pub data: Option<DataSpec>,
    #[serde(default)]
    pub train: Option<TrainSpec>,
    /// Names another implementation uses for our nodes: their name → our name.
    #[serde(default)]
    pub aliases: Ordered<String>,
    /// The classes' names, label 0 first (an extension: the debugger shows labels by name).
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// The features as an image of rows × columns (an extension: the debugger draws x so).
    #[serde(default)]
    pub image: Option<[usize; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub inputs: usize,
    pub layers: Vec<LayerSpec>,
    pub loss: LossSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerOp {
    Linear,
    Sigmoid,
    Tanh,
    Relu,
    Softmax,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BiasMode {
    #[default]
    Folded,
    Separate,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    pub op: LayerOp,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub weights: Option<String>,
    #[serde(default)]
    pub units: Option<usize>,
    #[serde(default)]
    pub bias: Option<BiasMode>,
    #[serde(default)]
    pub init: Option<InitSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossOp {
    BinaryCrossEntropy,
    CrossEntropy,
    SquaredError,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSpec {
    pub op: LossOp,
    #[serde(default)]
    pub name: Option<String>,
}

/// How a parameter starts: `zeros` or one of the map forms.
#[derive(Debug, Clone)]
pub enum InitSpec {
    Zeros,
    Map(InitMap),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitMap {
    #[serde(default)]
    pub values: Option<serde_yaml::Value>,
    #[serde(default)]
    pub uniform: Option<[f64; 2]>,
    #[serde(default)]
    pub normal: Option<[f64; 2]>,
    #[serde(default)]
    pub npy: Option<String>,
    #[serde(default)]
    pub numpy_uniform: Option<[f64; 2]>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// With `numpy_uniform` and a folded bias: how the bias column is made.
    #[serde(default)]
    pub bias_column: Option<BiasColumn>,
    /// With `npy`: how the file stores the parameter (bptui's layout when absent, or
    /// transposed when only the transpose fits).
    #[serde(default)]
    pub layout: Option<StoredLayout>,
}

/// How `numpy_uniform` makes the bias column of a folded weight matrix (units × (in + 1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BiasColumn {
    /// The units × in block is drawn (seed units·in by default) and a zero column prepended:
    /// the homework's INIT_FLAG 1.
    #[default]
    Prepended,
    /// The whole units × (in + 1) block is drawn (seed units·(in + 1)), then column 0 set to zero.
    Zeroed,
    /// The whole units × (in + 1) block is drawn (seed units·(in + 1)) and kept as drawn.
    Drawn,
}

/// How an `.npy` file of initial weights is laid out, relative to bptui's units × (in + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredLayout {
    /// As bptui stores it.
    Same,
    /// (in + 1) × units.
    Transposed,
    /// The bias column last instead of first.
    BiasLast,
    /// (in + 1) × units with the bias row last.
    BiasLastTransposed,
}

impl<'de> Deserialize<'de> for InitSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = InitSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`zeros` or a map: {values: [[...]]}, {uniform: [lo, hi]}, {normal: [mean, std]}, {npy: FILE, layout: L}, {numpy_uniform: [lo, hi], seed: S, bias_column: B}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<InitSpec, E> {
                if s == "zeros" {
                    Ok(InitSpec::Zeros)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(s), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<InitSpec, A::Error> {
                let m = InitMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let given = [
                    m.values.is_some(),
                    m.uniform.is_some(),
                    m.normal.is_some(),
                    m.npy.is_some(),
                    m.numpy_uniform.is_some(),
                ]
                .iter()
                .filter(|&&b| b)
                .count();
                if given != 1 {
                    return Err(de::Error::custom(
                        "init takes exactly one of values, uniform, normal, npy, numpy_uniform",
                    ));
                }
                if m.seed.is_some() && m.numpy_uniform.is_none() {
                    return Err(de::Error::custom("`seed` goes with numpy_uniform only (other inits use train.seed)"));
                }
                if m.bias_column.is_some() && m.numpy_uniform.is_none() {
                    return Err(de::Error::custom("`bias_column` goes with numpy_uniform only"));
                }
                if m.layout.is_some() && m.npy.is_none() {
                    return Err(de::Error::custom("`layout` goes with npy only"));
                }
                Ok(InitSpec::Map(m))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    #[serde(default)]
    pub inputs: Ordered<serde_yaml::Value>,
    #[serde(default)]
    pub params: Ordered<ParamSpec>,
    pub compute: Vec<String>,
    pub output: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub shape: Vec<usize>,
    #[serde(default)]
    pub init: Option<InitSpec>,
}

/// A YAML mapping kept in file order.
#[derive(Debug)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out: Vec<(String, V)> = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    if out.iter().any(|(n, _)| *n == k) {
                        return Err(de::Error::custom(format!("`{k}` is declared twice")));
                    }
                    let v = map.next_value()?;
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    #[serde(default)]
    pub train: Option<DataSource>,
    #[serde(default)]
    pub test: Option<DataSource>,
    #[serde(default)]
    pub validation: Option<DataSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    #[serde(default)]
    pub csv: Option<String>,
    #[serde(default)]
    pub rows: Option<Vec<Vec<f64>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerName {
    #[default]
    Sgd,
    Adagrad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Shuffle {
    /// File order every epoch.
    #[default]
    None,
    /// bptui's own generator, from `seed` and the epoch.
    Seeded,
    /// `np.random.seed(e); np.random.permutation(N)` for epoch e counted from 0.
    NumpyEpoch,
}

impl Shuffle {
    /// The setting as a model file spells it (`shuffle: numpy_epoch`).
    pub fn name(self) -> &'static str {
        match self {
            Shuffle::None => "none",
            Shuffle::Seeded => "seeded",
            Shuffle::NumpyEpoch => "numpy_epoch",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    #[serde(default)]
    pub learning_rate: Option<f64>,
    #[serde(default)]
    pub epochs: Option<usize>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub optimizer: Option<OptimizerName>,
    #[serde(default)]
    pub epsilon: Option<f64>,
    #[serde(default)]
    pub shuffle: Option<Shuffle>,
}

#[cfg(test)]
mod tests {
    use super::Shuffle;

    #[test]
    fn shuffle_names_are_the_yaml_spellings() {
        for shuffle in [Shuffle::None, Shuffle::Seeded, Shuffle::NumpyEpoch] {
            let read: Shuffle = serde_yaml::from_str(shuffle.name()).unwrap();
            assert_eq!(read, shuffle, "{}", shuffle.name());
        }
    }
}
