//! Two pieces of independent work at once, on this thread and a second one: loading the
//! training and test files, or the two halves of a large file.

use std::sync::Mutex;

/// Runs `a` on this thread and `b` on another (or on this one after `a`, when no thread can be
/// had), and returns both results. A panic in `b` is resumed here.
pub fn join<A, B: Send>(a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
    let job = Mutex::new(Some(b));
    let take = || job.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new().spawn_scoped(scope, || take().map(|b| b()));
        let a = a();
        let done = worker.ok().and_then(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        let b = done.unwrap_or_else(|| take().expect("b runs once")());
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_run_and_return_in_order() {
        let (a, b) = super::join(|| (0..1000u64).sum::<u64>(), || (1..5u64).product::<u64>() + 7);
        assert_eq!((a, b), (499_500, 31));
    }
}
