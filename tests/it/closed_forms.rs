//! The lecture's two worked graphs against their derivatives written out by hand.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::Session;

fn finished(name: &str, algorithm: Backward) -> Session {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name);
    let mut s = Session::new(Model::load(&path).unwrap(), algorithm);
    s.run_to_end();
    s
}

fn adjoint(s: &Session, name: &str) -> f64 {
    let id = s.graph().find(name).unwrap();
    s.workspace().adjoints[id][[]]
}

fn value(s: &Session, name: &str) -> f64 {
    let id = s.graph().find(name).unwrap();
    s.workspace().values[id][[]]
}

fn assert_rel(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-12 * want.abs(), "{what}: bptui {got}, closed form {want}");
}

#[test]
fn quiz1_derivatives_match_the_closed_form() {
    // y = e^{xz} + xz/ln x + sin(ln x)/(xz)
    // dy/dx = z e^{xz} + z(ln x − 1)/(ln x)² + (cos(ln x) − sin(ln x))/(x² z)
    // dy/dz = x e^{xz} + x/ln x − sin(ln x)/(x z²)
    let (x, z) = (2.0f64, 3.0f64);
    let l = x.ln();
    let y = (x * z).exp() + x * z / l + l.sin() / (x * z);
    let dydx = z * (x * z).exp() + z * (l - 1.0) / (l * l) + (l.cos() - l.sin()) / (x * x * z);
    let dydz = x * (x * z).exp() + x / l - l.sin() / (x * z * z);
    for algorithm in [Backward::A, Backward::B] {
        let s = finished("quiz1.yaml", algorithm);
        assert_rel(value(&s, "y"), y, "y");
        assert_rel(adjoint(&s, "x"), dydx, "dy/dx");
        assert_rel(adjoint(&s, "z"), dydz, "dy/dz");
    }
    // The quiz asks for the nearest integers.
    assert_eq!((dydx.round(), dydz.round()), (1208.0, 810.0));
}

#[test]
fn simple_example_derivative_matches_the_closed_form() {
    // J = cos(sin(x²) + 3x²), dJ/dx = −sin(sin(x²) + 3x²)·(2x cos(x²) + 6x)
    let x = 2.0f64;
    let inner = (x * x).sin() + 3.0 * x * x;
    let dj = -inner.sin() * (2.0 * x * (x * x).cos() + 6.0 * x);
    for algorithm in [Backward::A, Backward::B] {
        let s = finished("simple.yaml", algorithm);
        assert_rel(value(&s, "J"), inner.cos(), "J");
        assert_rel(adjoint(&s, "x"), dj, "dJ/dx");
    }
}

#[test]
fn shared_sub_expression_has_one_node_with_several_consumers() {
    // log(x) appears twice in the quiz: one node, read by two consumers, whose contributions
    // the chain rule adds.
    let s = finished("quiz1.yaml", Backward::B);
    let g = s.graph();
    let log_x = g.find("log(x)").unwrap();
    assert_eq!(g.consumers(log_x).len(), 2);
    let sum: f64 = g.consumers(log_x).iter().map(|&(u, k)| s.workspace().contribution(g, u, k)[[]]).sum();
    assert_rel(sum, s.workspace().adjoints[log_x][[]], "Σ contributions");
}
