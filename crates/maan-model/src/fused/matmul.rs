//! A safe matrix product on host slices, over the `gemm` crate (the kernels Burn's flex
//! backend multiplies with; AVX-512 where the CPU has it and the build enables `x86-v4`).
//!
//! This is the only `unsafe` code of the crate: `gemm::gemm` takes raw pointers and strides.
//! [`matmul`] checks every slice against the shapes it is given before calling it, so a wrong
//! shape panics instead of reading or writing out of bounds.
#![allow(unsafe_code)]

/// How an operand is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Row-major as its logical shape: `[rows, cols]`.
    Normal,
    /// The operand is the transpose of a row-major `[cols, rows]` array.
    Transposed,
}

impl Layout {
    /// `(row stride, column stride)` of a logical `[rows, cols]` operand.
    fn strides(self, rows: usize, cols: usize) -> (isize, isize) {
        match self {
            Layout::Normal => (cols as isize, 1),
            Layout::Transposed => (1, rows as isize),
        }
    }
}

/// Products of at least this many multiply-adds (`m·n·k`) use every core (the threshold of
/// Burn's flex backend: about 192³).
const PARALLEL_MACS: usize = 192 * 192 * 192;

/// `c = a · b` (or `c += a · b` when `accumulate`), with `c` row-major `[m, n]`, `a` logically
/// `[m, k]` and `b` logically `[k, n]`, each stored as its [`Layout`] says.
///
/// Large products run on every core (rayon), small ones on the calling thread. The result does
/// not depend on the number of threads: each output element is one thread's dot product in a
/// fixed order.
///
/// # Panics
/// If a slice's length differs from its shape's size.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    c: &mut [f32],
    a: &[f32],
    a_layout: Layout,
    b: &[f32],
    b_layout: Layout,
    [m, n, k]: [usize; 3],
    accumulate: bool,
) {
    assert_eq!(c.len(), m * n, "matmul: output is not [{m}, {n}]");
    assert_eq!(a.len(), m * k, "matmul: lhs is not [{m}, {k}]");
    assert_eq!(b.len(), k * n, "matmul: rhs is not [{k}, {n}]");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    let (a_rs, a_cs) = a_layout.strides(m, k);
    let (b_rs, b_cs) = b_layout.strides(k, n);
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MACS {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the three slices hold exactly `m·n`, `m·k` and `k·n` elements (checked above),
    // and with the strides of `Layout::strides` every index `(i, j)` inside those shapes maps
    // into its slice: row-major `i·cols + j` or transposed `i + j·rows`, both `< rows·cols`.
    // `c` is borrowed mutably, so nothing else reads or writes it during the call.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            if accumulate { 1.0f32 } else { 0.0 },
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], at: Layout, b: &[f32], bt: Layout, [m, n, k]: [usize; 3]) -> Vec<f64> {
        let get = |x: &[f32], l: Layout, rows: usize, cols: usize, i: usize, j: usize| match l {
            Layout::Normal => x[i * cols + j],
            Layout::Transposed => x[j * rows + i],
        }
            as f64;
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| get(a, at, m, k, i, p) * get(b, bt, k, n, p, j))
                    .sum();
            }
        }
        c
    }

    /// Every layout pair, small and large (threaded) shapes, and accumulation, against an `f64`
    /// triple loop.
    #[test]
    fn matmul_equals_a_triple_loop_for_every_layout() {
        let layouts = [Layout::Normal, Layout::Transposed];
        for [m, n, k] in [[3, 5, 7], [1, 1, 1], [17, 4, 33], [200, 190, 200]] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
                .collect();
            for at in layouts {
                for bt in layouts {
                    let want = naive(&a, at, &b, bt, [m, n, k]);
                    let mut c = vec![f32::NAN; m * n];
                    matmul(&mut c, &a, at, &b, bt, [m, n, k], false);
                    let mut acc = vec![1.0f32; m * n];
                    matmul(&mut acc, &a, at, &b, bt, [m, n, k], true);
                    for i in 0..m * n {
                        let tol = 1e-4 * (1.0 + want[i].abs());
                        assert!(
                            (c[i] as f64 - want[i]).abs() < tol,
                            "{at:?} {bt:?} [{m},{n},{k}]"
                        );
                        assert!((acc[i] as f64 - want[i] - 1.0).abs() < tol, "accumulate");
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "lhs is not")]
    fn matmul_refuses_a_slice_of_the_wrong_size() {
        let mut c = vec![0.0; 4];
        matmul(
            &mut c,
            &[0.0; 3],
            Layout::Normal,
            &[0.0; 4],
            Layout::Normal,
            [2, 2, 2],
            false,
        );
    }
}
