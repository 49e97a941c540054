//! RSA arithmetic shaped for wasm32 inside workerd: Montgomery multiplication over 28-bit limbs,
//! CRT with the mod-p and mod-q halves computed side by side, blinding, and a fault check.
//! No worker types: everything here is unit-tested natively (`cargo test`).
//!
//! Why this shape (see shared/TOOLCHAIN.md): wasm has no 64×64→128 multiply, so 64-bit-limb
//! bignum code emulates 128-bit products. A u32×u32→u64 product is native, and with 28-bit
//! limbs a column of up to 2·127 products plus a carry fits in a u64, so carries are taken
//! once per column ("lazy carries") and each product costs one multiply and one add.
//!
//! * Montgomery multiplication by product scanning (FIPS), with a dedicated squaring that
//!   computes each cross product once. `R = 2^(28·L) ≥ 16·m`, so inputs below `4m` give
//!   outputs below `2m` without the data-dependent final subtraction ("almost Montgomery");
//!   values are brought below `m` only where needed, by a masked subtraction.
//! * The two CRT exponentiations run in lockstep in the two 64-bit lanes of one SIMD register
//!   (lane 0 mod p, lane 1 mod q): on wasm32 each step is `i64x2.extmul_{low,high}_i32x4_u`
//!   (one `pmuludq` in V8) plus `i64x2.add`. Elsewhere the same code runs on `[u64; 2]`.
//!   Limb pairs are interleaved (`[p0, q0, p1, q1, …]`); the right operand of a product is
//!   kept in reversed order so that both operands of a column are read with rising addresses.
//! * Fixed-window (5-bit) exponentiation over the public bit length; each window's table entry
//!   is selected by reading every entry under a mask (no secret-dependent address or branch).
//! * Blinding with a pair `(r^e, r^-1) mod n` that is squared after each use and replaced by a
//!   fresh random one every [`BLINDING_REFRESH`] uses (the inverse comes from two CRT
//!   exponentiations by `p-2` and `q-2`, so it is constant-time too).
//! * Every signature is checked with the public exponent before it is returned (the RSA-CRT
//!   fault attack); a mismatch returns `None` and the caller falls back to the reference code.
//!
//! Constant-time scope: the secret inputs are p, q, dP, dQ, qInv and the blinding values. Loop
//! bounds and addresses depend only on limb counts and bit lengths (public); selections use
//! masks. Key loading (limb conversion, `R² mod p`) runs once per isolate.
// Fixed-size limb arithmetic on the server's own keys (never request data): every index is
// bounded by the limb count fixed when the key is loaded, and the fuzz target `rsa_kernel`
// drives it with arbitrary moduli and messages. The crate-wide no-indexing rule is lifted here.
#![allow(clippy::indexing_slicing)]

// Index loops mirror the column formulas (a_i·b_{k-i}) more plainly than iterator chains.
#![allow(clippy::needless_range_loop)]

use std::sync::Mutex;

/// Limb width in bits.
const W: u32 = 28;
const MASK: u32 = (1 << W) - 1;
/// Largest limb count for which a product-scanning column (≤ 2L products of 56 bits plus a
/// carry) cannot overflow a u64: (2·127+1)·2^56 < 2^64. 127 limbs = 3556 bits.
pub const MAX_LIMBS: usize = 127;
/// Fixed window width of the private exponentiation.
const WINDOW: usize = 5;
const TABLE: usize = 1 << WINDOW;
/// A fresh blinding pair (one extra private-key-sized operation) every this many signatures;
/// OpenSSL's RSA blinding uses the same count.
pub const BLINDING_REFRESH: u32 = 32;

/// Limbs for a modulus of `bits` bits with `R = 2^(28·L) ≥ 16·m`.
fn limbs_for(bits: usize) -> usize {
    (bits + 4).div_ceil(W as usize)
}

// ------------------------------------------------------------------------------------------
// Conversions and constant-time helpers (scalar)
// ------------------------------------------------------------------------------------------

/// Big-endian bytes to `l` little-endian 28-bit limbs; `None` if the value does not fit.
pub(crate) fn from_be(bytes: &[u8], l: usize) -> Option<Vec<u32>> {
    let mut out = vec![0u32; l];
    let mut acc: u64 = 0;
    let mut nbits = 0u32;
    let mut i = 0usize;
    let mut overflow = 0u64;
    for &b in bytes.iter().rev() {
        acc |= (b as u64) << nbits;
        nbits += 8;
        if nbits >= W {
            if i < l {
                out[i] = acc as u32 & MASK;
            } else {
                overflow |= acc & MASK as u64;
            }
            i += 1;
            acc >>= W;
            nbits -= W;
        }
    }
    if i < l {
        out[i] = acc as u32;
    } else {
        overflow |= acc;
    }
    (overflow == 0).then_some(out)
}

/// Limbs to exactly `len` big-endian bytes (the value must fit).
pub(crate) fn to_be(limbs: &[u32], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut acc: u64 = 0;
    let mut nbits = 0u32;
    let mut pos = len;
    for &limb in limbs {
        acc |= (limb as u64) << nbits;
        nbits += W;
        while nbits >= 8 && pos > 0 {
            pos -= 1;
            out[pos] = acc as u8;
            acc >>= 8;
            nbits -= 8;
        }
    }
    while pos > 0 {
        pos -= 1;
        out[pos] = acc as u8;
        acc >>= 8;
    }
    out
}

/// All-ones when `x == 0`, else zero; no branch (used by the portable lanes).
#[cfg(not(target_arch = "wasm32"))]
#[inline]
fn ct_is_zero_mask(x: u32) -> u32 {
    let t = x | x.wrapping_neg();
    // `black_box` keeps LLVM from turning the mask back into a boolean and a branch.
    core::hint::black_box((t >> 31).wrapping_sub(1))
}

/// `x := x - m` if `x ≥ m`, without branches on `x` or `m` (requires `x < 2m`).
fn ct_reduce(x: &mut [u32], m: &[u32]) {
    let mut d = [0u32; MAX_LIMBS];
    let mut borrow: i64 = 0;
    for i in 0..m.len() {
        let t = x[i] as i64 - m[i] as i64 + borrow;
        d[i] = t as u32 & MASK;
        borrow = t >> W;
    }
    // borrow is -1 when x < m (keep x), 0 otherwise (take d).
    let keep = core::hint::black_box(borrow as u32);
    for i in 0..m.len() {
        x[i] = (x[i] & keep) | (d[i] & !keep);
    }
}

/// `out = a + b`, normalised to 28-bit limbs (the sum must fit in `out.len()` limbs).
fn add_norm(a: &[u32], b: &[u32], out: &mut [u32]) {
    let mut c: u64 = 0;
    for i in 0..out.len() {
        c += a[i] as u64 + b[i] as u64;
        out[i] = c as u32 & MASK;
        c >>= W;
    }
}

/// `out = a + 2m - b` (non-negative when `b < 2m`), normalised.
fn add_2m_sub(a: &[u32], m: &[u32], b: &[u32], out: &mut [u32]) {
    let mut c: i64 = 0;
    for i in 0..out.len() {
        c += a[i] as i64 + 2 * m[i] as i64 - b[i] as i64;
        out[i] = c as u32 & MASK;
        c >>= W;
    }
}

/// Variable-time `a < b` for public values.
fn lt_public(a: &[u32], b: &[u32]) -> bool {
    for i in (0..a.len()).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

fn bit_len(limbs: &[u32]) -> usize {
    for i in (0..limbs.len()).rev() {
        if limbs[i] != 0 {
            return i * W as usize + (32 - limbs[i].leading_zeros()) as usize;
        }
    }
    0
}

/// `-m0^-1 mod 2^28` for odd `m0` (Newton's iteration, no branches).
fn neg_inv28(m0: u32) -> u32 {
    let mut inv = m0; // correct to 3 bits
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(m0.wrapping_mul(inv)));
    }
    inv.wrapping_neg() & MASK
}

/// Big-endian bytes to 32-bit little-endian words plus one zero word (window extraction
/// reads one word past the top).
fn exp_words(bytes: &[u8], bits: usize) -> Vec<u32> {
    let mut w = vec![0u32; bits.div_ceil(32) + 1];
    for (i, &b) in bytes.iter().rev().enumerate() {
        if i / 4 < w.len() {
            w[i / 4] |= (b as u32) << (8 * (i % 4));
        }
    }
    w
}

/// The 5-bit window at bit `pos` of an exponent (public position, secret value).
#[inline]
fn window_at(e: &[u32], pos: usize) -> u32 {
    let wi = pos / 32;
    let v = e[wi] as u64 | (e[wi + 1] as u64) << 32;
    ((v >> (pos % 32)) as u32) & (TABLE as u32 - 1)
}

// ------------------------------------------------------------------------------------------
// One modulus, scalar (n-domain operations, the CRT recombination, public-key operations)
// ------------------------------------------------------------------------------------------

/// Montgomery arithmetic modulo one odd `m` with `L` limbs.
#[derive(Clone)]
pub(crate) struct Mont {
    l: usize,
    m: Vec<u32>,
    m0inv: u64,
    /// `R² mod m`, canonical.
    r2: Vec<u32>,
    bits: usize,
}

impl Mont {
    /// `m` odd, as limbs; `l` limbs of working size (`None` if `m` is even or too large).
    fn new(m: &[u32], l: usize) -> Option<Mont> {
        if l > MAX_LIMBS || m.is_empty() || m[0] & 1 == 0 {
            return None;
        }
        let mut ml = m.to_vec();
        ml.resize(l, 0);
        let bits = bit_len(&ml);
        if bits < 3 || 28 * l < bits + 4 {
            return None;
        }
        let mut mont = Mont {
            l,
            m0inv: neg_inv28(ml[0]) as u64,
            m: ml,
            r2: vec![0; l],
            bits,
        };
        // R mod m: 2^(bits-1) < m, doubled up to 2^(28l).
        let mut x = vec![0u32; l];
        x[(bits - 1) / 28] = 1 << ((bits - 1) % 28);
        for _ in 0..(28 * l - (bits - 1)) {
            mont.double(&mut x);
        }
        // x = Mont(1). Square-and-double up to Mont(2^(28l)) = R² mod m (public exponent 28l),
        // starting from Mont(2) for the top bit.
        let e = 28 * l;
        let top = usize::BITS - e.leading_zeros();
        mont.double(&mut x);
        let mut t = vec![0u32; l];
        for i in (0..top - 1).rev() {
            mont.mul(&x, &x, &mut t);
            ct_reduce(&mut t, &mont.m);
            std::mem::swap(&mut x, &mut t);
            if (e >> i) & 1 == 1 {
                mont.double(&mut x);
            }
        }
        mont.r2 = x;
        Some(mont)
    }

    /// `x := 2x mod m` for canonical `x`.
    fn double(&self, x: &mut [u32]) {
        let mut c = 0u32;
        for v in x.iter_mut() {
            let t = (*v << 1) | c;
            c = t >> W;
            *v = t & MASK;
        }
        ct_reduce(x, &self.m);
    }

    /// `out = a·b/R mod m`, almost reduced: `out < 2m` when `a·b < 4m·R` (e.g. `a, b < 4m`, or
    /// `a < R` and `b < m`). Product scanning over u64 columns.
    fn mul(&self, a: &[u32], b: &[u32], out: &mut [u32]) {
        let l = self.l;
        let m = &self.m[..l];
        let (a, b) = (&a[..l], &b[..l]);
        let mut q = [0u32; MAX_LIMBS];
        let mut acc: u64 = 0;
        for k in 0..l {
            for i in 0..k {
                acc += a[i] as u64 * b[k - i] as u64 + q[i] as u64 * m[k - i] as u64;
            }
            acc += a[k] as u64 * b[0] as u64;
            let qk = ((acc & MASK as u64) * self.m0inv) as u32 & MASK;
            q[k] = qk;
            acc += qk as u64 * m[0] as u64;
            acc >>= W;
        }
        for k in l..2 * l - 1 {
            for i in k + 1 - l..l {
                acc += a[i] as u64 * b[k - i] as u64 + q[i] as u64 * m[k - i] as u64;
            }
            out[k - l] = acc as u32 & MASK;
            acc >>= W;
        }
        out[l - 1] = acc as u32;
    }

    /// `x·R mod m` for `x < R`, canonical.
    fn to_mont(&self, x: &[u32]) -> Vec<u32> {
        let mut out = vec![0; self.l];
        self.mul(x, &self.r2, &mut out);
        ct_reduce(&mut out, &self.m);
        out
    }

    /// `x/R mod m`, canonical.
    fn leave_mont(&self, x: &[u32]) -> Vec<u32> {
        let mut one = vec![0; self.l];
        one[0] = 1;
        let mut out = vec![0; self.l];
        self.mul(x, &one, &mut out);
        ct_reduce(&mut out, &self.m);
        out
    }

    /// `base^e` in the Montgomery domain for a public exponent (variable time in `e` only).
    fn pow_public(&self, base_mont: &[u32], e: u64) -> Vec<u32> {
        let mut acc = base_mont.to_vec();
        let mut t = vec![0; self.l];
        let top = 64 - e.leading_zeros();
        for i in (0..top.saturating_sub(1)).rev() {
            self.mul(&acc, &acc, &mut t);
            std::mem::swap(&mut acc, &mut t);
            if (e >> i) & 1 == 1 {
                self.mul(&acc, base_mont, &mut t);
                std::mem::swap(&mut acc, &mut t);
            }
        }
        ct_reduce(&mut acc, &self.m);
        acc
    }
}

// ------------------------------------------------------------------------------------------
// Two moduli side by side: the lane primitives
// ------------------------------------------------------------------------------------------

#[cfg(target_arch = "wasm32")]
mod lanes {
    //! wasm32 simd128: the accumulator is an `i64x2` (lane 0 mod p, lane 1 mod q); a limb
    //! pair is two `u32`s, a 128-bit load holds two pairs. LLVM rewrites an extending multiply
    //! into the slow `i64x2.mul` when it can narrow or hoist one operand (a 64-bit load, a
    //! loop-invariant vector), so every `extmul` here takes full 128-bit loads used by both its
    //! low and high halves, every dot product has an even length (the callers pad with zero
    //! limbs), and the low-only product of the reduction uses `i32x4.mul`. The built module is
    //! checked for `i64x2.mul` (see the module tests' notes).
    use super::{MASK, TABLE, W};
    use core::arch::wasm32::*;

    pub type Acc = v128;
    pub type Pair = v128;
    /// Two limb pairs that stay fixed over a loop, re-read each iteration (see `fixed_load`).
    pub type Fixed = v128;

    /// Copies two limb pairs from `p` into a 16-byte aligned slot.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn fixed(p: *const u32) -> Fixed {
        v128_load(p as *const v128)
    }

    /// A volatile read: LLVM can neither hoist it out of the loop nor narrow it, either of which
    /// would turn the `extmul` that uses it into `i64x2.mul`.
    #[inline]
    #[target_feature(enable = "simd128")]
    unsafe fn fixed_load(f: &Fixed) -> v128 {
        core::ptr::read_volatile(f)
    }

    /// `acc + x[0]·f[0] + x[1]·f[1]`.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn dot_fixed(acc: Acc, x: *const u32, f: &Fixed) -> Acc {
        let a = v128_load(x as *const v128);
        let b = fixed_load(f);
        i64x2_add(
            acc,
            i64x2_add(u64x2_extmul_low_u32x4(a, b), u64x2_extmul_high_u32x4(a, b)),
        )
    }

    #[inline]
    #[target_feature(enable = "simd128")]
    pub fn zero() -> Acc {
        u64x2_splat(0)
    }

    #[inline]
    #[target_feature(enable = "simd128")]
    pub fn pair(p: u32, q: u32) -> Pair {
        u32x4(p, q, p, q)
    }

    #[inline]
    #[target_feature(enable = "simd128")]
    pub fn shl1(a: Acc) -> Acc {
        i64x2_shl(a, 1)
    }

    #[inline]
    #[target_feature(enable = "simd128")]
    pub fn add(a: Acc, b: Acc) -> Acc {
        i64x2_add(a, b)
    }

    /// `acc + Σ_{t<n} x[t]·y[t]` over limb pairs; `n` even.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn dot(acc: Acc, x: *const u32, y: *const u32, n: usize) -> Acc {
        debug_assert!(n % 2 == 0);
        let mut s0 = acc;
        let mut s1 = zero();
        let mut t = 0;
        while t < n {
            let a = v128_load(x.add(2 * t) as *const v128);
            let b = v128_load(y.add(2 * t) as *const v128);
            s0 = i64x2_add(s0, u64x2_extmul_low_u32x4(a, b));
            s1 = i64x2_add(s1, u64x2_extmul_high_u32x4(a, b));
            t += 2;
        }
        i64x2_add(s0, s1)
    }

    /// `acc + Σ_{t<n} x[t]·y[t] + u[t]·v[t]`; `n` even.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn dot2(
        acc: Acc,
        x: *const u32,
        y: *const u32,
        u: *const u32,
        v: *const u32,
        n: usize,
    ) -> Acc {
        debug_assert!(n % 2 == 0);
        let mut s0 = acc;
        let mut s1 = zero();
        let mut t = 0;
        while t < n {
            let a = v128_load(x.add(2 * t) as *const v128);
            let b = v128_load(y.add(2 * t) as *const v128);
            let c = v128_load(u.add(2 * t) as *const v128);
            let d = v128_load(v.add(2 * t) as *const v128);
            s0 = i64x2_add(s0, u64x2_extmul_low_u32x4(a, b));
            s1 = i64x2_add(s1, u64x2_extmul_high_u32x4(a, b));
            s0 = i64x2_add(s0, u64x2_extmul_low_u32x4(c, d));
            s1 = i64x2_add(s1, u64x2_extmul_high_u32x4(c, d));
            t += 2;
        }
        i64x2_add(s0, s1)
    }

    /// Montgomery step of column k: `m = (acc mod 2^28)·m0inv mod 2^28` per lane, stored at
    /// `mout`. `n01` holds `[n0 pair, n1 pair]`. Returns `((acc + m·n0) >> 28, m·n1)`; the
    /// second belongs to column k+1.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn reduce_step(acc: Acc, m0inv: Pair, n01: &Fixed, mout: *mut u32) -> (Acc, Acc) {
        let lo = i32x4_shuffle::<0, 2, 0, 2>(acc, acc);
        let m = v128_and(i32x4_mul(lo, m0inv), u32x4_splat(MASK));
        v128_store64_lane::<0>(m, mout as *mut u64);
        let n = fixed_load(n01);
        let this = u64x2_extmul_low_u32x4(m, n);
        let next = u64x2_extmul_high_u32x4(m, n);
        (u64x2_shr(i64x2_add(acc, this), W), next)
    }

    /// Stores the low 28 bits of each lane at `out` and `out_rev`; returns `acc >> 28`.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn emit(acc: Acc, out: *mut u32, out_rev: *mut u32) -> Acc {
        let lo = i32x4_shuffle::<0, 2, 0, 2>(acc, acc);
        let lo = v128_and(lo, u32x4_splat(MASK));
        v128_store64_lane::<0>(lo, out as *mut u64);
        v128_store64_lane::<0>(lo, out_rev as *mut u64);
        u64x2_shr(acc, W)
    }

    /// Stores the (already < 2^28) lanes at `out` and `out_rev`.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn emit_top(acc: Acc, out: *mut u32, out_rev: *mut u32) {
        let lo = i32x4_shuffle::<0, 2, 0, 2>(acc, acc);
        v128_store64_lane::<0>(lo, out as *mut u64);
        v128_store64_lane::<0>(lo, out_rev as *mut u64);
    }

    /// `sq[i] = x[i]²` (both lanes) for the `n` limb pairs at `x`, `n` even.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn squares(x: *const u32, n: usize, sq: *mut Acc) {
        let mut t = 0;
        while t < n {
            let a = v128_load(x.add(2 * t) as *const v128);
            v128_store(sq.add(t), u64x2_extmul_low_u32x4(a, a));
            v128_store(sq.add(t + 1), u64x2_extmul_high_u32x4(a, a));
            t += 2;
        }
    }

    /// `out = table[ip]` in lane 0 and `table[iq]` in lane 1, reading every entry under a mask.
    /// `stride` (u32s per entry) is a multiple of 4.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub unsafe fn select(table: &[u32], stride: usize, ip: u32, iq: u32, out: &mut [u32]) {
        assert!(stride % 4 == 0 && table.len() >= TABLE * stride && out.len() >= stride);
        let idx = u32x4(ip, iq, ip, iq);
        let chunks = stride / 4;
        let o = out.as_mut_ptr() as *mut v128;
        for c in 0..chunks {
            v128_store(o.add(c), u64x2_splat(0));
        }
        let t = table.as_ptr() as *const v128;
        for j in 0..TABLE {
            let mask = i32x4_eq(idx, u32x4_splat(j as u32));
            let e = t.add(j * chunks);
            for c in 0..chunks {
                let v = v128_or(v128_load(o.add(c)), v128_and(v128_load(e.add(c)), mask));
                v128_store(o.add(c), v);
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod lanes {
    //! Portable lanes with the same semantics as the wasm32 simd128 ones.
    use super::{ct_is_zero_mask, MASK, TABLE, W};

    pub type Acc = [u64; 2];
    pub type Pair = [u32; 2];
    pub type Fixed = [u32; 4];

    #[inline(always)]
    pub unsafe fn fixed(p: *const u32) -> Fixed {
        [*p, *p.add(1), *p.add(2), *p.add(3)]
    }
    #[inline(always)]
    pub unsafe fn dot_fixed(acc: Acc, x: *const u32, f: &Fixed) -> Acc {
        dot(acc, x, f.as_ptr(), 2)
    }

    #[inline(always)]
    pub fn zero() -> Acc {
        [0, 0]
    }
    #[inline(always)]
    pub fn pair(p: u32, q: u32) -> Pair {
        [p, q]
    }
    #[inline(always)]
    pub fn shl1(a: Acc) -> Acc {
        [a[0] << 1, a[1] << 1]
    }
    #[inline(always)]
    pub fn add(a: Acc, b: Acc) -> Acc {
        [a[0] + b[0], a[1] + b[1]]
    }
    #[inline(always)]
    pub unsafe fn dot(mut acc: Acc, x: *const u32, y: *const u32, n: usize) -> Acc {
        debug_assert!(n % 2 == 0);
        for t in 0..2 * n {
            acc[t & 1] += *x.add(t) as u64 * *y.add(t) as u64;
        }
        acc
    }
    #[inline(always)]
    pub unsafe fn dot2(
        acc: Acc,
        x: *const u32,
        y: *const u32,
        u: *const u32,
        v: *const u32,
        n: usize,
    ) -> Acc {
        dot(dot(acc, x, y, n), u, v, n)
    }
    #[inline(always)]
    pub unsafe fn reduce_step(mut acc: Acc, m0inv: Pair, n01: &Fixed, mout: *mut u32) -> (Acc, Acc) {
        let n01 = n01.as_ptr();
        let mut next = [0u64; 2];
        for lane in 0..2 {
            let m = ((acc[lane] & MASK as u64) * m0inv[lane] as u64) as u32 & MASK;
            *mout.add(lane) = m;
            acc[lane] = (acc[lane] + m as u64 * *n01.add(lane) as u64) >> W;
            next[lane] = m as u64 * *n01.add(2 + lane) as u64;
        }
        (acc, next)
    }
    #[inline(always)]
    pub unsafe fn emit(acc: Acc, out: *mut u32, out_rev: *mut u32) -> Acc {
        for lane in 0..2 {
            *out.add(lane) = acc[lane] as u32 & MASK;
            *out_rev.add(lane) = acc[lane] as u32 & MASK;
        }
        [acc[0] >> W, acc[1] >> W]
    }
    #[inline(always)]
    pub unsafe fn emit_top(acc: Acc, out: *mut u32, out_rev: *mut u32) {
        for lane in 0..2 {
            *out.add(lane) = acc[lane] as u32;
            *out_rev.add(lane) = acc[lane] as u32;
        }
    }
    #[inline(always)]
    pub unsafe fn squares(x: *const u32, n: usize, sq: *mut Acc) {
        for t in 0..n {
            let (a, b) = (*x.add(2 * t) as u64, *x.add(2 * t + 1) as u64);
            *sq.add(t) = [a * a, b * b];
        }
    }
    pub unsafe fn select(table: &[u32], stride: usize, ip: u32, iq: u32, out: &mut [u32]) {
        out[..stride].fill(0);
        for j in 0..TABLE {
            let e = &table[j * stride..(j + 1) * stride];
            let mp = ct_is_zero_mask(ip ^ j as u32);
            let mq = ct_is_zero_mask(iq ^ j as u32);
            for c in 0..stride / 2 {
                out[2 * c] |= e[2 * c] & mp;
                out[2 * c + 1] |= e[2 * c + 1] & mq;
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Two moduli side by side: Montgomery multiplication, squaring and exponentiation
// ------------------------------------------------------------------------------------------

/// u32 offset of limb pair 0 in a pair vector: one zero pair in front lets every dot product
/// be padded to an even length with a zero term.
const OFF: usize = 2;

/// Montgomery arithmetic modulo `p` (lane 0) and `q` (lane 1) at once, both with `L` limbs.
/// A "pair vector" is `len` u32s: a zero pair, then limb i of lane 0 at `OFF+2i` and of lane 1
/// at `OFF+2i+1` for i < L, then zeros (`len` is a multiple of 4 with at least one zero pair
/// after the limbs). "Forward" keeps limb 0 first, "reversed" keeps limb L-1 first.
struct PairMont {
    l: usize,
    len: usize,
    m_rev: Vec<u32>,
    m0inv: [u32; 2],
    /// `[m0 pair, m1 pair]` of the moduli.
    m01: [u32; 4],
    /// `R² mod m` and `R³ mod m`, reversed (right operands of the input conversion).
    r2_rev: Vec<u32>,
    r3_rev: Vec<u32>,
    /// `R mod m` (the Montgomery form of 1), reversed: table entry 0.
    one_mont_rev: Vec<u32>,
    /// Plain 1, reversed (right operand that leaves the Montgomery domain).
    one_rev: Vec<u32>,
}

fn interleave(p: &[u32], q: &[u32], len: usize) -> Vec<u32> {
    let mut v = vec![0u32; len];
    for i in 0..p.len() {
        v[OFF + 2 * i] = p[i];
    }
    for i in 0..q.len() {
        v[OFF + 2 * i + 1] = q[i];
    }
    v
}

/// Reverses the first `l` limb pairs of a pair vector.
fn reversed(fwd: &[u32], l: usize) -> Vec<u32> {
    let mut v = vec![0u32; fwd.len()];
    for i in 0..l {
        v[OFF + 2 * (l - 1 - i)] = fwd[OFF + 2 * i];
        v[OFF + 2 * (l - 1 - i) + 1] = fwd[OFF + 2 * i + 1];
    }
    v
}

fn split(pair: &[u32], l: usize) -> (Vec<u32>, Vec<u32>) {
    let p = (0..l).map(|i| pair[OFF + 2 * i]).collect();
    let q = (0..l).map(|i| pair[OFF + 2 * i + 1]).collect();
    (p, q)
}

/// A pair vector in both orders.
#[derive(Clone)]
struct Both {
    fwd: Vec<u32>,
    rev: Vec<u32>,
}

impl PairMont {
    fn new(p: &Mont, q: &Mont) -> PairMont {
        let l = p.l;
        debug_assert_eq!(l, q.l);
        let len = (OFF + 2 * (l + 1)).next_multiple_of(4);
        let lanes = |f: &dyn Fn(&Mont) -> Vec<u32>| reversed(&interleave(&f(p), &f(q), len), l);
        let r3 = |m: &Mont| {
            let mut out = vec![0; m.l];
            m.mul(&m.r2, &m.r2, &mut out);
            ct_reduce(&mut out, &m.m);
            out
        };
        let mut one = vec![0u32; l];
        one[0] = 1;
        PairMont {
            l,
            len,
            m_rev: lanes(&|m| m.m.clone()),
            m0inv: [p.m0inv as u32, q.m0inv as u32],
            m01: [p.m[0], q.m[0], p.m[1], q.m[1]],
            r2_rev: lanes(&|m| m.r2.clone()),
            r3_rev: lanes(&r3),
            one_mont_rev: lanes(&|m| m.leave_mont(&m.r2)),
            one_rev: reversed(&interleave(&one, &one, len), l),
        }
    }

    fn zero(&self) -> Both {
        Both {
            fwd: vec![0; self.len],
            rev: vec![0; self.len],
        }
    }

    /// `out = a·b/R` per lane (almost reduced, see [`Mont::mul`]). `b_rev` is reversed.
    fn mul(&self, a: &[u32], b_rev: &[u32], out: &mut Both) {
        assert!(a.len() == self.len && b_rev.len() == self.len);
        assert!(out.fwd.len() == self.len && out.rev.len() == self.len);
        // SAFETY: every pointer offset in `pair_mul` stays within `len`-long vectors.
        unsafe { pair_mul(self, a.as_ptr(), b_rev.as_ptr(), out) }
    }

    /// `out = a²/R` per lane.
    fn sqr(&self, a: &Both, out: &mut Both) {
        assert!(a.fwd.len() == self.len && a.rev.len() == self.len);
        assert!(out.fwd.len() == self.len && out.rev.len() == self.len);
        // SAFETY: as in `mul`.
        unsafe { pair_sqr(self, a, out) }
    }

    /// `base^e` per lane (lane 0 by `ep`, lane 1 by `eq`, both read over `ebits` bits) in the
    /// Montgomery domain; `base < 4m`, result `< 2m`. Constant-time in `ep`, `eq` and `base`.
    fn pow(&self, base: &Both, ep: &[u32], eq: &[u32], ebits: usize) -> Both {
        let len = self.len;
        // Table of base^j, j < 32, reversed (the right operand of the window multiply).
        let mut table = vec![0u32; TABLE * len];
        let mut fwd: Vec<Both> = Vec::with_capacity(TABLE);
        table[..len].copy_from_slice(&self.one_mont_rev);
        fwd.push(self.zero()); // entry 0 is never an operand below
        fwd.push(base.clone());
        table[len..2 * len].copy_from_slice(&base.rev);
        for j in 2..TABLE {
            let mut t = self.zero();
            if j % 2 == 0 {
                self.sqr(&fwd[j / 2], &mut t);
            } else {
                self.mul(&fwd[j - 1].fwd, &base.rev, &mut t);
            }
            table[j * len..(j + 1) * len].copy_from_slice(&t.rev);
            fwd.push(t);
        }
        drop(fwd);

        let nwin = ebits.div_ceil(WINDOW);
        let mut acc = self.zero();
        let mut tmp = self.zero();
        let mut sel = vec![0u32; len];
        let top = (nwin - 1) * WINDOW;
        // SAFETY: `select` reads `TABLE` entries of `len` u32s; `len` is a multiple of 4.
        unsafe { lanes::select(&table, len, window_at(ep, top), window_at(eq, top), &mut acc.rev) };
        acc.fwd = reversed(&acc.rev, self.l);
        for w in (0..nwin - 1).rev() {
            for _ in 0..WINDOW {
                self.sqr(&acc, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            }
            let pos = w * WINDOW;
            // SAFETY: as above.
            unsafe { lanes::select(&table, len, window_at(ep, pos), window_at(eq, pos), &mut sel) };
            self.mul(&acc.fwd, &sel, &mut tmp);
            std::mem::swap(&mut acc, &mut tmp);
        }
        acc
    }
}

/// Start index and length of a dot product over limb pairs `[i0, i0+n)`, moved one pair
/// earlier when `n` is odd (the extra term's left or right operand is a zero limb).
#[inline(always)]
fn even(i0: usize, n: usize) -> (isize, usize) {
    (i0 as isize - (n & 1) as isize, n + (n & 1))
}

/// Montgomery multiplication of both lanes by finely integrated product scanning.
///
/// Column k sums `a_i·b_{k-i}` and `m_i·n_{k-i}`; `m_k` is chosen to clear its low 28 bits.
/// The term `m_k·n_1` of column k+1 is computed together with `m_k·n_0` and carried, so a
/// column never reads back the `m` it just stored.
///
/// # Safety
/// `a`, `b_rev` point to pair vectors of `pm.len` u32s; `out` holds two such vectors.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
unsafe fn pair_mul(pm: &PairMont, a: *const u32, b_rev: *const u32, out: &mut Both) {
    use lanes::*;
    let l = pm.l;
    // Pair index i of a vector is at u32 offset OFF + 2i (i may be -1: the zero pair).
    let at = |p: *const u32, i: isize| p.offset(OFF as isize + 2 * i);
    let n_rev = pm.m_rev.as_ptr();
    let m0inv = pair(pm.m0inv[0], pm.m0inv[1]);
    let mut mbuf = [0u32; OFF + 2 * MAX_LIMBS + 2];
    let mb = mbuf.as_mut_ptr();
    let of = out.fwd.as_mut_ptr();
    let or = out.rev.as_mut_ptr();
    let m01 = fixed(pm.m01.as_ptr());
    let b10 = fixed(at(b_rev, l as isize - 2));
    let mut acc = zero();
    let mut carried = zero();
    for k in 0..l {
        // a_i·b_{k-i} for i ≤ k and m_i·n_{k-i} for i ≤ k-2; b_{k-i} is b_rev[l-1-k+i].
        let j0 = (l - 1 - k) as isize;
        let (s, c) = even(0, k.saturating_sub(1));
        acc = dot2(acc, at(a, s), at(b_rev, j0 + s), at(mb, s), at(n_rev, j0 + s), c);
        // a_{k-1}·b_1 + a_k·b_0
        acc = dot_fixed(acc, at(a, k as isize - 1), &b10);
        acc = add(acc, carried);
        let (next_acc, next) = reduce_step(acc, m0inv, &m01, at(mb, k as isize) as *mut u32);
        acc = next_acc;
        carried = next;
    }
    // Column l gets m_{l-1}·n_1 from its dot product below: `carried` is dropped.
    for k in l..2 * l - 1 {
        let (s, c) = even(k + 1 - l, 2 * l - 1 - k);
        let j = s - (k + 1 - l) as isize;
        acc = dot2(acc, at(a, s), at(b_rev, j), at(mb, s), at(n_rev, j), c);
        acc = emit(
            acc,
            at(of, (k - l) as isize) as *mut u32,
            at(or, (2 * l - 1 - k) as isize) as *mut u32,
        );
    }
    emit_top(acc, at(of, l as isize - 1) as *mut u32, at(or, 0) as *mut u32);
}

/// Montgomery squaring of both lanes (each cross product computed once and doubled).
///
/// # Safety
/// `a` and `out` hold pair vectors of `pm.len` u32s.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
unsafe fn pair_sqr(pm: &PairMont, a: &Both, out: &mut Both) {
    use lanes::*;
    let l = pm.l;
    let at = |p: *const u32, i: isize| p.offset(OFF as isize + 2 * i);
    let n_rev = pm.m_rev.as_ptr();
    let m0inv = pair(pm.m0inv[0], pm.m0inv[1]);
    let mut mbuf = [0u32; OFF + 2 * MAX_LIMBS + 2];
    let mb = mbuf.as_mut_ptr();
    let mut sq = [zero(); MAX_LIMBS + 1];
    let af = a.fwd.as_ptr();
    let ar = a.rev.as_ptr();
    let of = out.fwd.as_mut_ptr();
    let or = out.rev.as_mut_ptr();
    squares(at(af, 0), (l + 1) & !1, sq.as_mut_ptr());
    let m01 = fixed(pm.m01.as_ptr());
    let mut acc = zero();
    let mut carried = zero();
    for k in 0..l {
        let j0 = (l - 1 - k) as isize;
        // Cross products a_i·a_{k-i}, i < k-i.
        let (s, c) = even(0, k.div_ceil(2));
        let cross = dot(zero(), at(af, s), at(ar, j0 + s), c);
        acc = add(acc, shl1(cross));
        if k % 2 == 0 {
            acc = add(acc, sq[k / 2]);
        }
        let (s, c) = even(0, k.saturating_sub(1));
        acc = dot(acc, at(mb, s), at(n_rev, j0 + s), c);
        acc = add(acc, carried);
        let (next_acc, next) = reduce_step(acc, m0inv, &m01, at(mb, k as isize) as *mut u32);
        acc = next_acc;
        carried = next;
    }
    for k in l..2 * l - 1 {
        let i0 = k + 1 - l;
        let (s, c) = even(i0, k.div_ceil(2) - i0);
        let cross = dot(zero(), at(af, s), at(ar, s - i0 as isize), c);
        acc = add(acc, shl1(cross));
        if k % 2 == 0 {
            acc = add(acc, sq[k / 2]);
        }
        let (s, c) = even(i0, 2 * l - 1 - k);
        acc = dot(acc, at(mb, s), at(n_rev, s - i0 as isize), c);
        acc = emit(
            acc,
            at(of, (k - l) as isize) as *mut u32,
            at(or, (2 * l - 1 - k) as isize) as *mut u32,
        );
    }
    emit_top(acc, at(of, l as isize - 1) as *mut u32, at(or, 0) as *mut u32);
}

// ------------------------------------------------------------------------------------------
// RSA keys
// ------------------------------------------------------------------------------------------

/// An RSA public key prepared for fast public-exponent operations.
pub struct PublicKey {
    len: usize,
    n: Mont,
    e: u64,
}

impl PublicKey {
    /// `n`, `e` as big-endian bytes. `None` for unsupported shapes (even or > 3556-bit
    /// modulus, exponent above 64 bits, or e < 3).
    pub fn new(n_be: &[u8], e_be: &[u8]) -> Option<PublicKey> {
        let n_be = strip(n_be);
        let e_be = strip(e_be);
        if e_be.len() > 8 || n_be.is_empty() {
            return None;
        }
        let e = e_be.iter().fold(0u64, |acc, &b| acc << 8 | b as u64);
        if e < 3 {
            return None;
        }
        let bits = n_be.len() * 8 - n_be[0].leading_zeros() as usize;
        let l = limbs_for(bits);
        if l > MAX_LIMBS {
            return None;
        }
        let n = Mont::new(&from_be(n_be, l)?, l)?;
        Some(PublicKey {
            len: bits.div_ceil(8),
            n,
            e,
        })
    }

    /// Modulus length in bytes.
    pub fn size(&self) -> usize {
        self.len
    }

    /// `sig^e mod n` as `size()` big-endian bytes; `None` if `sig` is not a representative
    /// (wrong length or not below n).
    pub fn public_op(&self, sig: &[u8]) -> Option<Vec<u8>> {
        if sig.len() != self.len {
            return None;
        }
        let s = from_be(sig, self.n.l)?;
        if !lt_public(&s, &self.n.m) {
            return None;
        }
        let sm = self.n.to_mont(&s);
        let r = self.n.pow_public(&sm, self.e);
        Some(to_be(&self.n.leave_mont(&r), self.len))
    }
}

fn strip(b: &[u8]) -> &[u8] {
    let z = b.iter().take_while(|&&x| x == 0).count();
    &b[z..]
}

struct Blinding {
    /// `r^e · R mod n`
    u: Vec<u32>,
    /// `r^-1 · R mod n`
    v: Vec<u32>,
    uses: u32,
}

/// An RSA private key (two primes) prepared for constant-time CRT signing.
pub struct PrivateKey {
    public: PublicKey,
    pm: PairMont,
    /// Single-lane arithmetic mod p for the recombination.
    p: Mont,
    q: Vec<u32>,
    /// `qInv = q^-1 mod p`, plain limbs.
    qinv: Vec<u32>,
    dp: Vec<u32>,
    dq: Vec<u32>,
    p_minus_2: Vec<u32>,
    q_minus_2: Vec<u32>,
    /// Public bit length of the CRT exponents (that of the larger prime).
    ebits: usize,
    blinding: Mutex<Option<Blinding>>,
}

impl Drop for PrivateKey {
    /// Wipes the secret limbs (the `rsa` crate zeroizes its keys the same way).
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in [
            &mut self.p.m,
            &mut self.p.r2,
            &mut self.q,
            &mut self.qinv,
            &mut self.dp,
            &mut self.dq,
            &mut self.p_minus_2,
            &mut self.q_minus_2,
            &mut self.pm.m_rev,
            &mut self.pm.r2_rev,
            &mut self.pm.r3_rev,
            &mut self.pm.one_mont_rev,
        ] {
            v.zeroize();
        }
        self.pm.m01.zeroize();
        self.pm.m0inv.zeroize();
        if let Ok(mut b) = self.blinding.lock() {
            if let Some(b) = b.as_mut() {
                b.u.zeroize();
                b.v.zeroize();
            }
        }
    }
}

/// Big-endian bytes of the private key components.
pub struct PrivateParts<'a> {
    pub n: &'a [u8],
    pub e: &'a [u8],
    pub p: &'a [u8],
    pub q: &'a [u8],
    pub dp: &'a [u8],
    pub dq: &'a [u8],
    pub qinv: &'a [u8],
}

impl PrivateKey {
    /// Prepares a key (once per isolate). `None` if the shape is unsupported; the caller then
    /// signs with the reference implementation.
    pub fn new(parts: &PrivateParts<'_>) -> Option<PrivateKey> {
        let public = PublicKey::new(parts.n, parts.e)?;
        let (p_be, q_be) = (strip(parts.p), strip(parts.q));
        if p_be.is_empty() || q_be.is_empty() {
            return None;
        }
        let bits = |b: &[u8]| b.len() * 8 - b[0].leading_zeros() as usize;
        let ebits = bits(p_be).max(bits(q_be));
        let l = limbs_for(ebits);
        // The reduction of a value below 2n into the lanes splits it at 28·l bits.
        if 2 * l < public.n.l || l >= public.n.l {
            return None;
        }
        let p = Mont::new(&from_be(p_be, l)?, l)?;
        let q = Mont::new(&from_be(q_be, l)?, l)?;
        let pm = PairMont::new(&p, &q);
        if strip(parts.dp).len() > ebits.div_ceil(8) || strip(parts.dq).len() > ebits.div_ceil(8) {
            return None;
        }
        // p - 2 and q - 2: the exponents of the inverse in a fresh blinding pair.
        let minus2 = |m: &Mont| {
            let mut v = m.m.clone();
            let mut c: i64 = -2;
            for x in v.iter_mut() {
                c += *x as i64;
                *x = c as u32 & MASK;
                c >>= W;
            }
            to_be(&v, ebits.div_ceil(8))
        };
        let key = PrivateKey {
            dp: exp_words(strip(parts.dp), ebits),
            dq: exp_words(strip(parts.dq), ebits),
            p_minus_2: exp_words(&minus2(&p), ebits),
            q_minus_2: exp_words(&minus2(&q), ebits),
            qinv: from_be(strip(parts.qinv), l)?,
            q: q.m.clone(),
            p,
            pm,
            ebits,
            public,
            blinding: Mutex::new(None),
        };
        Some(key)
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// `x·R mod p` and `x·R mod q` in the lanes (each `< 4m`) for n-domain limbs `x < 2n`.
    fn to_lanes(&self, x: &[u32]) -> Both {
        let pm = &self.pm;
        let l = pm.l;
        let ln = self.public.n.l;
        // x = hi·R + lo; x·R = hi·R² + lo·R, so Mont(x) = mul(lo, R²) + mul(hi, R³).
        let mut lo = vec![0u32; l];
        let mut hi = vec![0u32; l];
        lo.copy_from_slice(&x[..l]);
        hi[..ln - l].copy_from_slice(&x[l..ln]);
        let mut t1 = pm.zero();
        let mut t2 = pm.zero();
        pm.mul(&interleave(&lo, &lo, pm.len), &pm.r2_rev, &mut t1);
        pm.mul(&interleave(&hi, &hi, pm.len), &pm.r3_rev, &mut t2);
        let (mut bp, mut bq) = (vec![0u32; l], vec![0u32; l]);
        let (t1p, t1q) = split(&t1.fwd, l);
        let (t2p, t2q) = split(&t2.fwd, l);
        add_norm(&t1p, &t2p, &mut bp);
        add_norm(&t1q, &t2q, &mut bq);
        let fwd = interleave(&bp, &bq, pm.len);
        Both {
            rev: reversed(&fwd, l),
            fwd,
        }
    }

    /// Leaves the Montgomery domain: the canonical residues mod p and mod q.
    fn residues(&self, x: &Both) -> (Vec<u32>, Vec<u32>) {
        let mut z = self.pm.zero();
        self.pm.mul(&x.fwd, &self.pm.one_rev, &mut z);
        let (mut zp, mut zq) = split(&z.fwd, self.pm.l);
        ct_reduce(&mut zp, &self.p.m);
        ct_reduce(&mut zq, &self.q);
        (zp, zq)
    }

    /// The fault check of a signature: `s^e ≡ em` mod p and mod q (so mod n). Variable time
    /// only in `e`; `s` and `em` are public.
    fn check(&self, s: &[u32], em: &[u32]) -> bool {
        let pm = &self.pm;
        let base = self.to_lanes(s);
        let mut acc = base.clone();
        let mut t = pm.zero();
        let e = self.public.e;
        for i in (0..63 - e.leading_zeros()).rev() {
            pm.sqr(&acc, &mut t);
            std::mem::swap(&mut acc, &mut t);
            if (e >> i) & 1 == 1 {
                pm.mul(&acc.fwd, &base.rev, &mut t);
                std::mem::swap(&mut acc, &mut t);
            }
        }
        self.residues(&acc) == self.residues(&self.to_lanes(em))
    }

    /// `x^(dP, dQ)` recombined: `x` (n-domain limbs, `< 2n`) to the private exponent, canonical.
    fn crt(&self, x: &[u32], ep: &[u32], eq: &[u32]) -> Vec<u32> {
        let pm = &self.pm;
        let l = pm.l;
        let ln = self.public.n.l;
        let base = self.to_lanes(x);
        let y = pm.pow(&base, ep, eq, self.ebits);
        // Lane 0 stays in Montgomery form; lane 1 leaves it.
        let (_, mq) = self.residues(&y);
        let (yp, _) = split(&y.fwd, l);
        // h = (m_p - m_q)·qInv mod p, computed as mul(Mont(m_p) - Mont(m_q), qInv).
        let p = &self.p;
        let mut mq_mont = vec![0u32; l];
        p.mul(&mq, &p.r2, &mut mq_mont);
        let mut diff = vec![0u32; l];
        add_2m_sub(&yp, &p.m, &mq_mont, &mut diff);
        let mut h = vec![0u32; l];
        p.mul(&diff, &self.qinv, &mut h);
        ct_reduce(&mut h, &p.m);
        // m = m_q + h·q (< n).
        let mut m = vec![0u32; 2 * l];
        let mut acc: u64 = 0;
        for k in 0..2 * l {
            for i in k.saturating_sub(l - 1)..=k.min(l - 1) {
                acc += h[i] as u64 * self.q[k - i] as u64;
            }
            if k < l {
                acc += mq[k] as u64;
            }
            m[k] = acc as u32 & MASK;
            acc >>= W;
        }
        m.truncate(ln);
        m
    }

    fn new_blinding(&self) -> Option<Blinding> {
        let n = &self.public.n;
        for _ in 0..8 {
            // r < 2^(bits-1) < n.
            let mut bytes = vec![0u8; self.public.len];
            getrandom::getrandom(&mut bytes).ok()?;
            let excess = self.public.len * 8 - (n.bits - 1);
            for i in 0..excess {
                bytes[i / 8] &= !(0x80 >> (i % 8));
            }
            let r = from_be(&bytes, n.l)?;
            let r_mont = n.to_mont(&r);
            let u = n.pow_public(&r_mont, self.public.e);
            let v_plain = self.crt(&r, &self.p_minus_2, &self.q_minus_2);
            let mut check = vec![0u32; n.l];
            n.mul(&r_mont, &v_plain, &mut check);
            ct_reduce(&mut check, &n.m);
            let one = check[0] == 1 && check[1..].iter().all(|&x| x == 0);
            if one {
                return Some(Blinding {
                    u,
                    v: n.to_mont(&v_plain),
                    uses: 0,
                });
            }
        }
        None
    }

    /// `em^d mod n` for an encoded message `em` of `size()` bytes (below n), blinded, checked
    /// with the public exponent. `None` if `em` is out of range, randomness is unavailable,
    /// or the check fails.
    pub fn sign_raw(&self, em: &[u8]) -> Option<Vec<u8>> {
        let n = &self.public.n;
        if em.len() != self.public.len {
            return None;
        }
        let c = from_be(em, n.l)?;
        if !lt_public(&c, &n.m) {
            return None;
        }
        let mut guard = self.blinding.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(|b| b.uses >= BLINDING_REFRESH) {
            *guard = Some(self.new_blinding()?);
        }
        let b = guard.as_mut()?;
        let mut blinded = vec![0u32; n.l];
        n.mul(&c, &b.u, &mut blinded); // c·r^e mod n, < 2n
        let m = self.crt(&blinded, &self.dp, &self.dq);
        let mut s = vec![0u32; n.l];
        n.mul(&m, &b.v, &mut s); // ·r^-1
        ct_reduce(&mut s, &n.m);
        let mut t = vec![0u32; n.l];
        n.mul(&b.u, &b.u, &mut t);
        std::mem::swap(&mut b.u, &mut t);
        n.mul(&b.v, &b.v, &mut t);
        std::mem::swap(&mut b.v, &mut t);
        b.uses += 1;
        drop(guard);
        // Fault check (RSA-CRT fault attacks, and our own arithmetic): s^e must give back em.
        self.check(&s, &c).then(|| to_be(&s, self.public.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    use rsa::BigUint;

    fn big(l: &[u32]) -> BigUint {
        let mut v = BigUint::from(0u32);
        for &x in l.iter().rev() {
            v = (v << 28) + BigUint::from(x);
        }
        v
    }

    fn limbs(v: &BigUint, l: usize) -> Vec<u32> {
        from_be(&v.to_bytes_be(), l).unwrap()
    }

    #[test]
    fn limb_conversions_round_trip() {
        let bytes: Vec<u8> = (1..=200u8).collect();
        let l = limbs_for(1600);
        let x = from_be(&bytes, l).unwrap();
        assert_eq!(to_be(&x, 200), bytes);
        assert_eq!(big(&x), BigUint::from_bytes_be(&bytes));
        assert!(from_be(&[1, 0, 0, 0, 0], 1).is_none());
    }

    #[test]
    fn mont_mul_matches_bigint() {
        let m = BigUint::parse_bytes(
            b"f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff13",
            16,
        )
        .unwrap();
        let l = limbs_for(m.bits());
        let mont = Mont::new(&limbs(&m, l), l).unwrap();
        let r = BigUint::from(1u32) << (28 * l);
        assert_eq!(big(&mont.r2), (&r * &r) % &m);
        let a = BigUint::parse_bytes(b"123456789abcdef0fedcba9876543210123456789abcdef", 16).unwrap() % &m;
        let b = (&m - 5u32) % &m;
        let mut out = vec![0; l];
        mont.mul(&limbs(&a, l), &limbs(&b, l), &mut out);
        ct_reduce(&mut out, &mont.m);
        assert_eq!((big(&out) * &r) % &m, (&a * &b) % &m);
    }

    /// A reproducible key (generation is seeded, not secret: tests only).
    fn test_key(bits: usize, seed: u64) -> rsa::RsaPrivateKey {
        let mut rng = rand_core::block::BlockRng::new(Counter(seed));
        rsa::RsaPrivateKey::new(&mut rng, bits).unwrap()
    }

    /// A small deterministic RNG for reproducible test keys (not for production use).
    struct Counter(u64);
    impl rand_core::block::BlockRngCore for Counter {
        type Item = u32;
        type Results = [u32; 16];
        fn generate(&mut self, results: &mut Self::Results) {
            for r in results.iter_mut() {
                // SplitMix64
                self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.0;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                *r = (z ^ (z >> 31)) as u32;
            }
        }
    }
    impl rand_core::CryptoRng for Counter {}

    pub(crate) fn prepare(key: &rsa::RsaPrivateKey) -> PrivateKey {
        let primes = key.primes();
        let (dp, dq) = (key.dp().unwrap(), key.dq().unwrap());
        let qinv = key.crt_coefficient().unwrap();
        PrivateKey::new(&PrivateParts {
            n: &key.n().to_bytes_be(),
            e: &key.e().to_bytes_be(),
            p: &primes[0].to_bytes_be(),
            q: &primes[1].to_bytes_be(),
            dp: &dp.to_bytes_be(),
            dq: &dq.to_bytes_be(),
            qinv: &qinv.to_bytes_be(),
        })
        .unwrap()
    }

    #[test]
    fn raw_private_op_matches_reference_for_several_keys() {
        for (bits, seed) in [(1024, 1u64), (2048, 2), (2048, 3), (1536, 4), (3072, 5)] {
            let key = test_key(bits, seed);
            let fast = prepare(&key);
            let n = key.n().clone();
            for i in 0..(BLINDING_REFRESH as u64 + 3) {
                // Messages below n: hash-like values of full length with a zero top byte.
                let mut em = vec![0u8; fast.public().size()];
                for (j, b) in em.iter_mut().enumerate().skip(1) {
                    *b = (j as u64 * 131 + i * 7919 + seed) as u8;
                }
                let m = BigUint::from_bytes_be(&em);
                let want = m.modpow(key.d(), &n);
                let got = fast.sign_raw(&em).expect("signature");
                assert_eq!(BigUint::from_bytes_be(&got), want, "bits {bits} msg {i}");
            }
            // Edge values.
            for v in [0u32, 1, 2] {
                let mut em = vec![0u8; fast.public().size()];
                *em.last_mut().unwrap() = v as u8;
                let got = fast.sign_raw(&em).unwrap();
                assert_eq!(BigUint::from_bytes_be(&got), BigUint::from(v).modpow(key.d(), &n));
            }
            let over = n.to_bytes_be();
            assert!(fast.sign_raw(&over).is_none());
        }
    }

    #[test]
    fn public_op_matches_reference() {
        let key = test_key(2048, 9);
        let fast = prepare(&key);
        let s = vec![0x5a; 256];
        let want = BigUint::from_bytes_be(&s).modpow(key.e(), key.n());
        let got = fast.public().public_op(&s).unwrap();
        assert_eq!(BigUint::from_bytes_be(&got), want);
        assert!(fast.public().public_op(&[0xff; 256]).is_none());
        assert!(fast.public().public_op(&[1; 255]).is_none());
    }

    #[test]
    fn fault_check_rejects_a_wrong_signature() {
        let key = test_key(1024, 11);
        let fast = prepare(&key);
        let l = fast.public().n.l;
        let em = vec![0x33u8; fast.public().size()];
        let sig = fast.sign_raw(&em).unwrap();
        let (c, mut s) = (from_be(&em, l).unwrap(), from_be(&sig, l).unwrap());
        assert!(fast.check(&s, &c));
        s[3] ^= 1;
        assert!(!fast.check(&s, &c));
    }
}
