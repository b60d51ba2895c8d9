//! Parameter updates: the lecture's SGD step θ ← θ − η g (η the learning rate), and Adagrad.

use ndarray::{ArrayD, Zip};

/// How a parameter moves given its gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// θ ← θ − η g
    Sgd,
    /// s ← s + g², θ ← θ − η g / √(s + ε)
    Adagrad { epsilon: f64 },
}

impl Optimizer {
    /// Applies one update to `theta` with gradient `grad`; `state` is the parameter's
    /// accumulated squared gradient (unused by SGD).
    pub fn step(&self, theta: &mut ArrayD<f64>, grad: &ArrayD<f64>, learning_rate: f64, state: &mut ArrayD<f64>) {
        match *self {
            Optimizer::Sgd => {
                Zip::from(theta).and(grad).for_each(|t, &g| *t -= learning_rate * g);
            }
            Optimizer::Adagrad { epsilon } => {
                Zip::from(theta).and(grad).and(state).for_each(|t, &g, s| {
                    *s += g * g;
                    *t -= learning_rate * g / (*s + epsilon).sqrt();
                });
            }
        }
    }

    /// The update rule in the lecture's notation.
    pub fn rule(&self) -> &'static str {
        match self {
            Optimizer::Sgd => "θ ← θ − η g",
            Optimizer::Adagrad { .. } => "s ← s + g², θ ← θ − η g / √(s + ε)",
        }
    }
}
