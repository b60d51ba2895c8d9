//! e^x, the same number on every machine, and four at a time.
//!
//! bptui's exponentials (sigmoid, softmax, the cross-entropy's log-sum-exp, `exp`) come from
//! here, so that they do not depend on the system's maths library and the fast path can
//! compute four at once. The algorithm is the one glibc (since 2.28) and musl use, from Arm's
//! optimized-routines (MIT licence): e^x = 2^(k/128) · e^r with |r| ≤ ln 2 / 256, 2^(k/128)
//! from a table and e^r from a polynomial, evaluated with fused multiply-adds as glibc's x86_64
//! build for CPUs with FMA and AVX2 does it, special cases included. On such a system every
//! result is bit for bit the system's `exp` (a test checks it). Elsewhere the result is the
//! same number still (within 0.51 ulp of e^x), given an exactly rounded `fma` where the CPU has
//! none (glibc's, musl's and macOS's are); the system's own `exp` may differ there in the last
//! bit.

/// N/ln 2 with N = 128 table entries.
const INV_LN2_N: f64 = f64::from_bits(0x40671547652b82fe);
/// −ln 2/N in two parts, hi + lo.
const NEG_LN2_HI_N: f64 = f64::from_bits(0xbf762e42fefa0000);
const NEG_LN2_LO_N: f64 = f64::from_bits(0xbd0cf79abc9e3b3a);
/// 1.5 · 2^52: adding it rounds to an integer, kept in the low bits.
const SHIFT: f64 = f64::from_bits(0x4338000000000000);
/// The polynomial e^r − 1 − r ≈ C2 r² + C3 r³ + C4 r⁴ + C5 r⁵.
const C2: f64 = f64::from_bits(0x3fdffffffffffdbd);
const C3: f64 = f64::from_bits(0x3fc555555555543c);
const C4: f64 = f64::from_bits(0x3fa55555cf172b91);
const C5: f64 = f64::from_bits(0x3f81111167a4d017);

/// For k in 0..128: the bits of tail_k, then those of 2^(k/128) less k·2^45, so that
/// adding the exponent's bits gives the scale; 2^(k/128) ≈ scale · (1 + tail).
static TABLE: [u64; 256] = [
    0x0000000000000000,
    0x3ff0000000000000,
    0x3c9b3b4f1a88bf6e,
    0x3feff63da9fb3335,
    0xbc7160139cd8dc5d,
    0x3fefec9a3e778061,
    0xbc905e7a108766d1,
    0x3fefe315e86e7f85,
    0x3c8cd2523567f613,
    0x3fefd9b0d3158574,
    0xbc8bce8023f98efa,
    0x3fefd06b29ddf6de,
    0x3c60f74e61e6c861,
    0x3fefc74518759bc8,
    0x3c90a3e45b33d399,
    0x3fefbe3ecac6f383,
    0x3c979aa65d837b6d,
    0x3fefb5586cf9890f,
    0x3c8eb51a92fdeffc,
    0x3fefac922b7247f7,
    0x3c3ebe3d702f9cd1,
    0x3fefa3ec32d3d1a2,
    0xbc6a033489906e0b,
    0x3fef9b66affed31b,
    0xbc9556522a2fbd0e,
    0x3fef9301d0125b51,
    0xbc5080ef8c4eea55,
    0x3fef8abdc06c31cc,
    0xbc91c923b9d5f416,
    0x3fef829aaea92de0,
    0x3c80d3e3e95c55af,
    0x3fef7a98c8a58e51,
    0xbc801b15eaa59348,
    0x3fef72b83c7d517b,
    0xbc8f1ff055de323d,
    0x3fef6af9388c8dea,
    0x3c8b898c3f1353bf,
    0x3fef635beb6fcb75,
    0xbc96d99c7611eb26,
    0x3fef5be084045cd4,
    0x3c9aecf73e3a2f60,
    0x3fef54873168b9aa,
    0xbc8fe782cb86389d,
    0x3fef4d5022fcd91d,
    0x3c8a6f4144a6c38d,
    0x3fef463b88628cd6,
    0x3c807a05b0e4047d,
    0x3fef3f49917ddc96,
    0x3c968efde3a8a894,
    0x3fef387a6e756238,
    0x3c875e18f274487d,
    0x3fef31ce4fb2a63f,
    0x3c80472b981fe7f2,
    0x3fef2b4565e27cdd,
    0xbc96b87b3f71085e,
    0x3fef24dfe1f56381,
    0x3c82f7e16d09ab31,
    0x3fef1e9df51fdee1,
    0xbc3d219b1a6fbffa,
    0x3fef187fd0dad990,
    0x3c8b3782720c0ab4,
    0x3fef1285a6e4030b,
    0x3c6e149289cecb8f,
    0x3fef0cafa93e2f56,
    0x3c834d754db0abb6,
    0x3fef06fe0a31b715,
    0x3c864201e2ac744c,
    0x3fef0170fc4cd831,
    0x3c8fdd395dd3f84a,
    0x3feefc08b26416ff,
    0xbc86a3803b8e5b04,
    0x3feef6c55f929ff1,
    0xbc924aedcc4b5068,
    0x3feef1a7373aa9cb,
    0xbc9907f81b512d8e,
    0x3feeecae6d05d866,
    0xbc71d1e83e9436d2,
    0x3feee7db34e59ff7,
    0xbc991919b3ce1b15,
    0x3feee32dc313a8e5,
    0x3c859f48a72a4c6d,
    0x3feedea64c123422,
    0xbc9312607a28698a,
    0x3feeda4504ac801c,
    0xbc58a78f4817895b,
    0x3feed60a21f72e2a,
    0xbc7c2c9b67499a1b,
    0x3feed1f5d950a897,
    0x3c4363ed60c2ac11,
    0x3feece086061892d,
    0x3c9666093b0664ef,
    0x3feeca41ed1d0057,
    0x3c6ecce1daa10379,
    0x3feec6a2b5c13cd0,
    0x3c93ff8e3f0f1230,
    0x3feec32af0d7d3de,
    0x3c7690cebb7aafb0,
    0x3feebfdad5362a27,
    0x3c931dbdeb54e077,
    0x3feebcb299fddd0d,
    0xbc8f94340071a38e,
    0x3feeb9b2769d2ca7,
    0xbc87deccdc93a349,
    0x3feeb6daa2cf6642,
    0xbc78dec6bd0f385f,
    0x3feeb42b569d4f82,
    0xbc861246ec7b5cf6,
    0x3feeb1a4ca5d920f,
    0x3c93350518fdd78e,
    0x3feeaf4736b527da,
    0x3c7b98b72f8a9b05,
    0x3feead12d497c7fd,
    0x3c9063e1e21c5409,
    0x3feeab07dd485429,
    0x3c34c7855019c6ea,
    0x3feea9268a5946b7,
    0x3c9432e62b64c035,
    0x3feea76f15ad2148,
    0xbc8ce44a6199769f,
    0x3feea5e1b976dc09,
    0xbc8c33c53bef4da8,
    0x3feea47eb03a5585,
    0xbc845378892be9ae,
    0x3feea34634ccc320,
    0xbc93cedd78565858,
    0x3feea23882552225,
    0x3c5710aa807e1964,
    0x3feea155d44ca973,
    0xbc93b3efbf5e2228,
    0x3feea09e667f3bcd,
    0xbc6a12ad8734b982,
    0x3feea012750bdabf,
    0xbc6367efb86da9ee,
    0x3fee9fb23c651a2f,
    0xbc80dc3d54e08851,
    0x3fee9f7df9519484,
    0xbc781f647e5a3ecf,
    0x3fee9f75e8ec5f74,
    0xbc86ee4ac08b7db0,
    0x3fee9f9a48a58174,
    0xbc8619321e55e68a,
    0x3fee9feb564267c9,
    0x3c909ccb5e09d4d3,
    0x3feea0694fde5d3f,
    0xbc7b32dcb94da51d,
    0x3feea11473eb0187,
    0x3c94ecfd5467c06b,
    0x3feea1ed0130c132,
    0x3c65ebe1abd66c55,
    0x3feea2f336cf4e62,
    0xbc88a1c52fb3cf42,
    0x3feea427543e1a12,
    0xbc9369b6f13b3734,
    0x3feea589994cce13,
    0xbc805e843a19ff1e,
    0x3feea71a4623c7ad,
    0xbc94d450d872576e,
    0x3feea8d99b4492ed,
    0x3c90ad675b0e8a00,
    0x3feeaac7d98a6699,
    0x3c8db72fc1f0eab4,
    0x3feeace5422aa0db,
    0xbc65b6609cc5e7ff,
    0x3feeaf3216b5448c,
    0x3c7bf68359f35f44,
    0x3feeb1ae99157736,
    0xbc93091fa71e3d83,
    0x3feeb45b0b91ffc6,
    0xbc5da9b88b6c1e29,
    0x3feeb737b0cdc5e5,
    0xbc6c23f97c90b959,
    0x3feeba44cbc8520f,
    0xbc92434322f4f9aa,
    0x3feebd829fde4e50,
    0xbc85ca6cd7668e4b,
    0x3feec0f170ca07ba,
    0x3c71affc2b91ce27,
    0x3feec49182a3f090,
    0x3c6dd235e10a73bb,
    0x3feec86319e32323,
    0xbc87c50422622263,
    0x3feecc667b5de565,
    0x3c8b1c86e3e231d5,
    0x3feed09bec4a2d33,
    0xbc91bbd1d3bcbb15,
    0x3feed503b23e255d,
    0x3c90cc319cee31d2,
    0x3feed99e1330b358,
    0x3c8469846e735ab3,
    0x3feede6b5579fdbf,
    0xbc82dfcd978e9db4,
    0x3feee36bbfd3f37a,
    0x3c8c1a7792cb3387,
    0x3feee89f995ad3ad,
    0xbc907b8f4ad1d9fa,
    0x3feeee07298db666,
    0xbc55c3d956dcaeba,
    0x3feef3a2b84f15fb,
    0xbc90a40e3da6f640,
    0x3feef9728de5593a,
    0xbc68d6f438ad9334,
    0x3feeff76f2fb5e47,
    0xbc91eee26b588a35,
    0x3fef05b030a1064a,
    0x3c74ffd70a5fddcd,
    0x3fef0c1e904bc1d2,
    0xbc91bdfbfa9298ac,
    0x3fef12c25bd71e09,
    0x3c736eae30af0cb3,
    0x3fef199bdd85529c,
    0x3c8ee3325c9ffd94,
    0x3fef20ab5fffd07a,
    0x3c84e08fd10959ac,
    0x3fef27f12e57d14b,
    0x3c63cdaf384e1a67,
    0x3fef2f6d9406e7b5,
    0x3c676b2c6c921968,
    0x3fef3720dcef9069,
    0xbc808a1883ccb5d2,
    0x3fef3f0b555dc3fa,
    0xbc8fad5d3ffffa6f,
    0x3fef472d4a07897c,
    0xbc900dae3875a949,
    0x3fef4f87080d89f2,
    0x3c74a385a63d07a7,
    0x3fef5818dcfba487,
    0xbc82919e2040220f,
    0x3fef60e316c98398,
    0x3c8e5a50d5c192ac,
    0x3fef69e603db3285,
    0x3c843a59ac016b4b,
    0x3fef7321f301b460,
    0xbc82d52107b43e1f,
    0x3fef7c97337b9b5f,
    0xbc892ab93b470dc9,
    0x3fef864614f5a129,
    0x3c74b604603a88d3,
    0x3fef902ee78b3ff6,
    0x3c83c5ec519d7271,
    0x3fef9a51fbc74c83,
    0xbc8ff7128fd391f0,
    0x3fefa4afa2a490da,
    0xbc8dae98e223747d,
    0x3fefaf482d8e67f1,
    0x3c8ec3bc41aa2008,
    0x3fefba1bee615a27,
    0x3c842b94c3a9eb32,
    0x3fefc52b376bba97,
    0x3c8a64a931d185ee,
    0x3fefd0765b6e4540,
    0xbc8e37bae43be3ed,
    0x3fefdbfdad9cbe14,
    0x3c77893b4d91cd9d,
    0x3fefe7c1819e90d8,
    0x3c5305c14160cc89,
    0x3feff3c22b8f71f1,
];

/// Whether x lies where the table and polynomial apply: 2^−54 ≤ |x| < 512.
#[inline(always)]
fn in_range(x: f64) -> bool {
    let top = (x.to_bits() >> 52) & 0x7ff;
    top.wrapping_sub(0x3c9) < 0x3f
}

/// 2^1009 and 2^−1022, for scales beyond the exponent's range.
const TWO_1009: f64 = f64::from_bits(0x7f00000000000000);
const TWO_M1022: f64 = f64::from_bits(0x0010000000000000);

/// e^x with `mul_add` a fused multiply-add (an instruction where the CPU has one, else the
/// maths library's exactly rounded `fma`).
#[inline(always)]
fn core(x: f64) -> f64 {
    let top = (x.to_bits() >> 52) & 0x7ff;
    let mut far = false;
    if !in_range(x) {
        if top < 0x3c9 {
            // |x| < 2^−54: e^x rounds to 1 + x.
            return 1.0 + x;
        }
        if top >= 0x409 {
            // |x| ≥ 1024, ±∞ or NaN.
            if x == f64::NEG_INFINITY {
                return 0.0;
            }
            if top == 0x7ff {
                return 1.0 + x;
            }
            return if x.is_sign_negative() { 0.0 } else { f64::INFINITY };
        }
        // 512 ≤ |x| < 1024: the scale below may leave the exponent's range.
        far = true;
    }
    // x = k ln2/N + r: k = round(x N/ln 2), r = x − k ln2/N.
    let kd = x.mul_add(INV_LN2_N, SHIFT);
    let ki = kd.to_bits();
    let kd = kd - SHIFT;
    let r = kd.mul_add(NEG_LN2_LO_N, kd.mul_add(NEG_LN2_HI_N, x));
    // 2^(k/N) = 2^(k div N) · 2^((k mod N)/N) ≈ scale · (1 + tail).
    let idx = 2 * (ki % 128) as usize;
    let tail = f64::from_bits(TABLE[idx]);
    let sbits = TABLE[idx + 1].wrapping_add(ki << 45);
    // e^x ≈ scale + scale · (tail + e^r − 1).
    let r2 = r * r;
    let tmp = (r2 * r2).mul_add(r.mul_add(C5, C4), r.mul_add(C3, C2).mul_add(r2, r + tail));
    if far {
        return far_scale(tmp, sbits, ki);
    }
    let scale = f64::from_bits(sbits);
    scale.mul_add(tmp, scale)
}

/// scale + scale · tmp where the scale's exponent overflowed (k > 0) or underflowed (k < 0):
/// computed with the exponent shifted back, and for a subnormal result rounded once.
#[inline(never)]
fn far_scale(tmp: f64, sbits: u64, ki: u64) -> f64 {
    if ki & 0x8000_0000 == 0 {
        let scale = f64::from_bits(sbits.wrapping_sub(1009 << 52));
        return scale.mul_add(tmp, scale) * TWO_1009;
    }
    let scale = f64::from_bits(sbits.wrapping_add(1022 << 52));
    let st = scale * tmp;
    let mut y = scale + st;
    if y < 1.0 {
        let hi = y + 1.0;
        let lo = scale - y + st;
        let lo = 1.0 - hi + y + lo;
        y = (lo + hi) - 1.0;
        if y == 0.0 {
            return 0.0;
        }
    }
    y * TWO_M1022
}

#[cfg(target_arch = "x86_64")]
fn has_fma() -> bool {
    std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn exp_fma(x: f64) -> f64 {
    core(x)
}

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU has FMA.
        return unsafe { exp_fma(x) };
    }
    core(x)
}

/// v_i ← e^(v_i) for every entry, four at a time where the CPU has AVX2 and FMA.
pub fn exp_in_place(v: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::exp_in_place(v) };
    }
    for x in v.iter_mut() {
        *x = exp(*x);
    }
}

/// Σ_i e^(v_i − shift), added in order as `Iterator::sum` adds.
pub fn sum_exp(v: &[f64], shift: f64) -> f64 {
    let mut total: f64 = std::iter::empty::<f64>().sum();
    let mut e = [0.0f64; 32];
    for chunk in v.chunks(e.len()) {
        let e = &mut e[..chunk.len()];
        for (e, &vi) in e.iter_mut().zip(chunk) {
            *e = vi - shift;
        }
        exp_in_place(e);
        for &ei in e.iter() {
            total += ei;
        }
    }
    total
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub fn exp_in_place(v: &mut [f64]) {
        // Four at a time; the last one to three loaded into a chunk with zeros in its other
        // lanes, and only they stored.
        let whole = v.len() / 4 * 4;
        for c in (0..whole).step_by(4) {
            let p = v[c..].as_mut_ptr();
            // SAFETY: `p` points to four f64 of `v`.
            let x = unsafe { _mm256_loadu_pd(p) };
            if in_range4(x) {
                // SAFETY: as above.
                unsafe { _mm256_storeu_pd(p, exp4(x)) };
            } else {
                for x in &mut v[c..c + 4] {
                    *x = core(*x);
                }
            }
        }
        let rest = v.len() - whole;
        if rest > 0 {
            let mask = _mm256_setr_epi64x(-1, if rest > 1 { -1 } else { 0 }, if rest > 2 { -1 } else { 0 }, 0);
            let p = v[whole..].as_mut_ptr();
            // SAFETY: the lanes the mask keeps are the last `rest` f64 of `v`; the others are
            // neither read nor written.
            let x = unsafe { _mm256_maskload_pd(p, mask) };
            if in_range4(x) {
                // SAFETY: as above.
                unsafe { _mm256_maskstore_pd(p, mask, exp4(x)) };
            } else {
                for x in &mut v[whole..] {
                    *x = core(*x);
                }
            }
        }
    }

    /// Whether every lane is in [`in_range`]'s range, 2^−54 ≤ |x| < 2^9, or ±0 ([`core`] gives
    /// 1 for ±0, as exp4 does): exp4 then gives [`core`]'s numbers.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn in_range4(x: __m256d) -> bool {
        let a = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
        let low = _mm256_cmp_pd::<_CMP_GE_OQ>(a, _mm256_set1_pd(f64::from_bits(0x3c90000000000000)));
        let high = _mm256_cmp_pd::<_CMP_LT_OQ>(a, _mm256_set1_pd(512.0));
        let zero = _mm256_cmp_pd::<_CMP_EQ_OQ>(x, _mm256_setzero_pd());
        _mm256_movemask_pd(_mm256_or_pd(_mm256_and_pd(low, high), zero)) == 0b1111
    }

    /// [`core`] in four lanes, operation for operation.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn exp4(x: __m256d) -> __m256d {
        let shift = _mm256_set1_pd(SHIFT);
        let kd = _mm256_fmadd_pd(x, _mm256_set1_pd(INV_LN2_N), shift);
        let ki = _mm256_castpd_si256(kd);
        let kd = _mm256_sub_pd(kd, shift);
        let r = _mm256_fmadd_pd(kd, _mm256_set1_pd(NEG_LN2_HI_N), x);
        let r = _mm256_fmadd_pd(kd, _mm256_set1_pd(NEG_LN2_LO_N), r);
        let idx = _mm256_slli_epi64::<1>(_mm256_and_si256(ki, _mm256_set1_epi64x(127)));
        // SAFETY: idx is even and below 256, so both reads lie inside the table.
        let (tail, bits) = unsafe {
            let base = TABLE.as_ptr().cast::<i64>();
            (_mm256_i64gather_pd::<8>(base.cast::<f64>(), idx), _mm256_i64gather_epi64::<8>(base.add(1), idx))
        };
        let scale = _mm256_castsi256_pd(_mm256_add_epi64(bits, _mm256_slli_epi64::<45>(ki)));
        let r2 = _mm256_mul_pd(r, r);
        let low =
            _mm256_fmadd_pd(_mm256_fmadd_pd(r, _mm256_set1_pd(C3), _mm256_set1_pd(C2)), r2, _mm256_add_pd(r, tail));
        let tmp =
            _mm256_fmadd_pd(_mm256_mul_pd(r2, r2), _mm256_fmadd_pd(r, _mm256_set1_pd(C5), _mm256_set1_pd(C4)), low);
        _mm256_fmadd_pd(scale, tmp, scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn inputs() -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut xs: Vec<f64> = (0..200_000).map(|_| rng.random_range(-750.0..720.0)).collect();
        // Where the scale leaves the exponent's range, subnormal results and beyond.
        xs.extend((0..100_000).map(|_| rng.random_range(-1100.0..-500.0)));
        xs.extend((0..50_000).map(|_| rng.random_range(500.0..1100.0)));
        xs.extend((0..20_000).map(|_| rng.random_range(-745.2..-708.3)));
        xs.extend((0..1_000).map(|_| f64::from_bits(rng.random::<u64>())));
        xs.extend((0..200_000).map(|_| rng.random_range(-40.0..40.0)));
        xs.extend((0..100_000).map(|_| rng.random_range(-1e-3..1e-3)));
        // Around the range's ends, the specials, and the exponent boundaries.
        for e in -60..12 {
            let p = 2f64.powi(e);
            xs.extend([p, -p, p.next_up(), -p.next_down(), p.next_down(), -p.next_up()]);
        }
        xs.extend([
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            709.78,
            -745.2,
            1e-320,
            -1e-320,
            1e300,
            -1e300,
        ]);
        xs.extend([709.782712893384, 709.7827128933841, -745.1332191019411, -745.1332191019412, 512.0, -512.0]);
        xs
    }

    /// Within 1 ulp of e^x everywhere (the system's `exp` as the reference), and the same
    /// number one at a time and four at a time.
    #[test]
    fn exp_is_e_to_the_x_one_or_four_at_a_time() {
        let xs = inputs();
        let mut four = xs.clone();
        exp_in_place(&mut four);
        for (&x, &y4) in xs.iter().zip(&four) {
            let (y, reference) = (exp(x), x.exp());
            assert!(
                y.to_bits() == y4.to_bits() || (y.is_nan() && y4.is_nan()),
                "e^{x:e}: {y:e} one at a time, {y4:e} four"
            );
            if reference.is_nan() {
                assert!(y.is_nan());
            } else {
                let ulps = (y.to_bits() as i64 - reference.to_bits() as i64).abs();
                assert!(ulps <= 1, "e^{x:e} = {y:e}, the system says {reference:e}");
            }
        }
    }

    /// Slices of every length up to 11 (a last one to three taken on their own), each number
    /// the one at a time number: the inputs in windows, out-of-range ones among them.
    #[test]
    fn exp_of_short_slices_is_one_at_a_time() {
        let xs = inputs();
        for n in 1..=11 {
            for start in (0..xs.len() - n).step_by(997) {
                let mut v = xs[start..start + n].to_vec();
                exp_in_place(&mut v);
                for (&x, &y) in xs[start..start + n].iter().zip(&v) {
                    let one = exp(x);
                    assert!(y.to_bits() == one.to_bits() || (y.is_nan() && one.is_nan()), "e^{x:e}, n = {n}");
                }
            }
        }
    }

    /// Bit for bit the system's `exp` where that is glibc's build for CPUs with FMA, whose
    /// numbers bptui kept before it had its own.
    #[test]
    #[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
    fn exp_is_glibcs_exp() {
        if !has_fma() {
            return;
        }
        let differ: Vec<f64> = inputs().into_iter().filter(|&x| exp(x).to_bits() != x.exp().to_bits()).collect();
        assert!(differ.is_empty(), "{} of the inputs differ, such as {:e}", differ.len(), differ[0]);
    }

    /// The table is 2^(k/128) split as described.
    #[test]
    fn the_table_holds_the_powers_of_two() {
        for k in 0..128u64 {
            let scale = f64::from_bits(TABLE[2 * k as usize + 1].wrapping_add(k << 45));
            let tail = f64::from_bits(TABLE[2 * k as usize]);
            let exact = (k as f64 / 128.0).exp2();
            assert!((scale - exact).abs() <= exact * f64::EPSILON, "k = {k}");
            assert!(tail.abs() <= f64::EPSILON, "k = {k}");
        }
    }
}
