//! What the step path's kernels and the column kernels share: the sparse vector they read,
//! the macro that compiles a kernel for AVX2 too, and the switch to the AVX-512 kernels (with
//! the tests' way to run a kernel both ways).

/// A vector's nonzero entries (every other entry is ±0): ascending indices, their values,
/// and the vector's length.
#[derive(Debug, Clone, Copy)]
pub struct Sparse<'a> {
    pub index: &'a [u32],
    pub value: &'a [f64],
    pub len: usize,
}

impl Sparse<'_> {
    /// How many of the entries fall before `main`, the end of [`dot8`](super::dot8)'s blocks of eight.
    #[inline]
    pub(super) fn split(&self, main: usize) -> usize {
        match self.index.last() {
            Some(&j) if (j as usize) < main => self.index.len(),
            _ => self.index.partition_point(|&j| (j as usize) < main),
        }
    }
}

/// `fn $name` (of any visibility) whose body is compiled twice: for AVX2, run when the CPU has it, and for
/// any x86_64. The operations are the same, four lanes wide with AVX2 (Rust never fuses a
/// multiply and an add), so the numbers are the same.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        with_avx2! { $(#[$doc])* $vis fn $name($($arg: $ty),*) -> () $body }
    };
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn body($($arg: $ty),*) -> $ret $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) -> $ret {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(super) use with_avx2;

/// Whether the column kernels run with AVX-512. A test turns it off on its own thread, to
/// check the four-lane path against it.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn wide() -> bool {
    #[cfg(test)]
    if testing::NARROW.with(std::cell::Cell::get) {
        return false;
    }
    std::arch::is_x86_feature_detected!("avx512f")
}

/// The lanes below `n − from` of a register of eight starting at `from`.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn below(n: usize, from: usize) -> std::arch::x86_64::__mmask8 {
    match n.saturating_sub(from) {
        left @ 0..=7 => (1u8 << left).wrapping_sub(1),
        _ => 0xff,
    }
}

/// The tests' arrays, and their way to run a kernel with AVX-512 and without.
#[cfg(test)]
pub(super) mod testing {
    use std::cell::Cell;

    use rand::Rng;

    thread_local! {
        /// Set: this thread's column kernels leave AVX-512 out.
        pub(crate) static NARROW: Cell<bool> = const { Cell::new(false) };
    }

    /// `f`'s result with AVX-512 (where the CPU has it), and without.
    pub(crate) fn both_ways<T>(f: impl Fn() -> T) -> [T; 2] {
        let wide = f();
        NARROW.with(|n| n.set(true));
        let narrow = f();
        NARROW.with(|n| n.set(false));
        [wide, narrow]
    }

    pub(crate) fn random(rng: &mut rand_chacha::ChaCha8Rng, n: usize, zeros: bool) -> Vec<f64> {
        (0..n).map(|_| if zeros && rng.random_bool(0.6) { 0.0 } else { rng.random_range(-3.0..3.0) }).collect()
    }

    /// x's entries other than +0 (a −0 is kept, as a dataset keeps it), appended to `index`
    /// and `value`.
    pub(crate) fn nonzeros(x: &[f64], index: &mut Vec<u32>, value: &mut Vec<f64>) {
        for (j, &v) in x.iter().enumerate().filter(|&(_, &v)| v.to_bits() != 0) {
            index.push(j as u32);
            value.push(v);
        }
    }

    pub(crate) fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|v| v.to_bits()).collect()
    }
}
