//! A checked matrix product on host slices over the `gemm` crate (the kernels Burn's flex
//! backend multiplies with), writing into a row-strided part of a larger buffer.
//!
//! The only `unsafe` code of the crate: `gemm::gemm` takes raw pointers and strides, and
//! [`matmul`] checks every slice against the shapes and strides it is given first, so a wrong
//! shape panics instead of reading or writing out of bounds.
#![allow(unsafe_code)]

/// Products of at least this many multiply-adds (`m·n·k`) use every core (rayon); smaller ones
/// run on the calling thread.
const PARALLEL_MACS: usize = 64 * 64 * 64;

/// `c = a · b` with `a` row-major `[m, k]`, `b` row-major `[k, n]` and `c` the `[m, n]`
/// matrix whose row `i` is `c[i·c_stride .. i·c_stride + n]` (`c_stride >= n`; the elements
/// between rows are left as they are).
///
/// # Panics
/// If `a` or `b` do not hold exactly `m·k` or `k·n` elements, if `c_stride < n`, or if `c`
/// is too short for `m` rows of that stride.
pub(crate) fn matmul(c: &mut [f32], c_stride: usize, a: &[f32], b: &[f32], [m, n, k]: [usize; 3]) {
    assert_eq!(a.len(), m * k, "matmul: lhs is not [{m}, {k}]");
    assert_eq!(b.len(), k * n, "matmul: rhs is not [{k}, {n}]");
    assert!(c_stride >= n, "matmul: row stride {c_stride} < {n} columns");
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        c.len() >= (m - 1) * c_stride + n,
        "matmul: output of {} elements is too short for {m} rows of stride {c_stride}",
        c.len()
    );
    if k == 0 {
        for row in c.chunks_mut(c_stride).take(m) {
            row[..n].fill(0.0);
        }
        return;
    }
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MACS {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `a` holds `m·k` and `b` `k·n` elements (checked above), and with row-major
    // strides `(k, 1)` and `(n, 1)` every index `(i, p)` / `(p, j)` inside those shapes is
    // below the length. Output element `(i, j)`, `i < m`, `j < n`, is at
    // `i·c_stride + j <= (m-1)·c_stride + n - 1 < c.len()` (checked above). `c` is borrowed
    // mutably, so nothing else reads or writes it during the call; `read_dst` is false, so
    // its previous contents are not read.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            c_stride as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0f32,
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

    /// Small and threaded shapes, into a strided output whose gaps stay untouched, against
    /// an `f64` triple loop.
    #[test]
    fn matmul_into_a_strided_output_equals_a_triple_loop() {
        for [m, n, k] in [[3, 5, 7], [1, 1, 1], [17, 4, 33], [70, 90, 80], [4, 3, 0]] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
                .collect();
            let stride = n + 3;
            let mut c = vec![f32::NAN; m * stride];
            matmul(&mut c, stride, &a, &b, [m, n, k]);
            for i in 0..m {
                for j in 0..stride {
                    let got = c[i * stride + j];
                    if j >= n {
                        assert!(got.is_nan(), "gap ({i}, {j}) was written");
                        continue;
                    }
                    let want: f64 = (0..k)
                        .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                        .sum();
                    assert!(
                        (got as f64 - want).abs() <= 1e-4 * (1.0 + want.abs()),
                        "[{m}, {n}, {k}] ({i}, {j}): {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "too short")]
    fn a_short_output_panics_before_the_product() {
        let mut c = vec![0.0; 5];
        matmul(&mut c, 3, &[1.0; 4], &[1.0; 6], [2, 3, 2]);
    }
}
