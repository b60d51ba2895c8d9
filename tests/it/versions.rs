//! The lecture's Version A (pull) and Version B (push) give identical adjoints, bit for bit,
//! on every bundled model; and a whole run is the same either way.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::{Phase, Session};

fn models() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    assert!(out.len() >= 6, "bundled models missing: {out:?}");
    out
}

#[test]
fn version_a_and_b_agree_bit_for_bit_on_every_model() {
    for path in models() {
        let model = Model::load(&path).unwrap();
        let mut a = Session::new(model.clone(), Backward::A);
        let mut b = Session::new(model, Backward::B);
        for _ in 0..20 {
            if a.phase() == Phase::Finished {
                break;
            }
            if a.phase() == Phase::Evaluate {
                a.step();
                b.step();
                continue;
            }
            // Stop right after the backward phase, before the update changes anything.
            a.step_until(|s, _| s.phase() == Phase::Update || s.phase() == Phase::Finished);
            b.step_until(|s, _| s.phase() == Phase::Update || s.phase() == Phase::Finished);
            let g = a.graph();
            for &id in g.backward_order() {
                let (x, y) = (&a.workspace().adjoints[id], &b.workspace().adjoints[id]);
                assert!(
                    x.iter().zip(y.iter()).all(|(p, q)| p.to_bits() == q.to_bits()),
                    "{}: dJ/d{} differs between A and B at epoch {} example {}",
                    path.display(),
                    g.node(id).name,
                    a.epoch(),
                    a.example()
                );
            }
            a.finish_example();
            b.finish_example();
        }
    }
}

#[test]
fn switching_version_mid_run_changes_nothing_but_the_order_of_visits() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
    let model = Model::load(&path).unwrap();
    let mut steady = Session::new(model.clone(), Backward::B);
    let mut switching = Session::new(model, Backward::B);
    steady.run_to_end();
    let mut n = 0;
    while switching.phase() != Phase::Finished {
        switching.step();
        n += 1;
        if n % 7 == 0 {
            let next = switching.next_algorithm().toggled();
            switching.set_algorithm(next);
        }
    }
    let g = steady.graph();
    for &p in g.params() {
        assert_eq!(steady.workspace().values[p], switching.workspace().values[p]);
    }
    assert_eq!(steady.metrics(), switching.metrics());
}
