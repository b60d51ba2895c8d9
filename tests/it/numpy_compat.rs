//! numpy's legacy generator, reproduced bit for bit: against numbers numpy itself wrote
//! (tests/fixtures/numpy_random.json, made by tests/fixtures/make_numpy_random.py).

use bptui::numpy_rng::NumpyRandomState;

fn fixture() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/numpy_random.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn uniform_matches_numpy_for_several_seeds_and_sizes() {
    let f = fixture();
    for case in f["uniform"].as_array().unwrap() {
        let seed = case["seed"].as_u64().unwrap() as u32;
        let (lo, hi) = (case["lo"].as_f64().unwrap(), case["hi"].as_f64().unwrap());
        let want: Vec<f64> = case["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let mut rng = NumpyRandomState::new(seed);
        let got: Vec<f64> = (0..want.len()).map(|_| rng.uniform(lo, hi)).collect();
        assert_eq!(got, want, "np.random.seed({seed}); uniform({lo}, {hi}, {})", case["shape"]);
    }
}

#[test]
fn permutation_matches_numpy_for_several_seeds_and_sizes() {
    let f = fixture();
    for case in f["permutation"].as_array().unwrap() {
        let seed = case["seed"].as_u64().unwrap() as u32;
        let n = case["n"].as_u64().unwrap() as usize;
        let want: Vec<usize> = case["order"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(NumpyRandomState::new(seed).permutation(n), want, "np.random.seed({seed}); permutation({n})");
    }
}
