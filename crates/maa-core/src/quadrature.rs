//! Gauss–Legendre quadrature on `[0, 1]`, computed in `f64`.
//!
//! With `n` nodes the rule integrates every polynomial of degree `2n - 1` exactly, which is
//! what makes the closed form of MAA exact: its integrand has degree `T - 1`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Nodes and weights of an `n`-point Gauss–Legendre rule on `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussLegendre {
    /// The nodes `u_g`, strictly inside `(0, 1)`, ascending.
    pub nodes: Vec<f64>,
    /// `u_g - 1`, computed without cancellation (for `log1p` of `p (u - 1)`).
    pub nodes_minus_one: Vec<f64>,
    /// The weights `w_g`, positive, summing to 1.
    pub weights: Vec<f64>,
}

impl GaussLegendre {
    /// Computes the `n`-point rule by Newton's method on the Legendre polynomial `P_n`
    /// (Golub–Welsch accuracy: nodes to about 1e-15 for `n` up to several thousands).
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn new(n: usize) -> Self {
        assert!(n > 0, "a Gauss-Legendre rule needs at least one node");
        let mut nodes = vec![0.0; n];
        let mut nodes_minus_one = vec![0.0; n];
        let mut weights = vec![0.0; n];
        let nf = n as f64;
        // Roots are symmetric around 0 on [-1, 1]; compute the positive half.
        for i in 0..n.div_ceil(2) {
            // Tricomi's initial guess for the i-th largest root.
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (p, d) = legendre_and_derivative(n, x);
                dp = d;
                let dx = p / d;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            let (_, d) = legendre_and_derivative(n, x);
            if d != 0.0 {
                dp = d;
            }
            let w = 2.0 / ((1.0 - x * x) * dp * dp);
            // Map [-1, 1] -> [0, 1]: u = (1 + x) / 2, weight halves.
            let hi = n - 1 - i;
            nodes[hi] = 0.5 * (1.0 + x);
            nodes_minus_one[hi] = -0.5 * (1.0 - x);
            weights[hi] = 0.5 * w;
            nodes[i] = 0.5 * (1.0 - x);
            nodes_minus_one[i] = -0.5 * (1.0 + x);
            weights[i] = 0.5 * w;
        }
        Self {
            nodes,
            nodes_minus_one,
            weights,
        }
    }

    /// The rule for a sequence of `time` snippets: `ceil(time / 2)` nodes (at least one),
    /// exact for the degree `time - 1` integrand of MAA. Rules are cached per size.
    pub fn for_time(time: usize) -> std::sync::Arc<GaussLegendre> {
        static CACHE: OnceLock<Mutex<HashMap<usize, std::sync::Arc<GaussLegendre>>>> =
            OnceLock::new();
        let n = time.div_ceil(2).max(1);
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(n)
            .or_insert_with(|| std::sync::Arc::new(GaussLegendre::new(n)))
            .clone()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a rule has at least one node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Integrates `f` over `[0, 1]` with this rule.
    pub fn integrate(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&u, &w)| w * f(u))
            .sum()
    }
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence.
fn legendre_and_derivative(n: usize, x: f64) -> (f64, f64) {
    let mut p0 = 1.0;
    let mut p1 = x;
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let kf = k as f64;
        let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
        p0 = p1;
        p1 = p2;
    }
    let nf = n as f64;
    let d = nf * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_monomials_exactly_up_to_degree_2n_minus_1() {
        for n in [1usize, 2, 3, 5, 10, 37] {
            let rule = GaussLegendre::new(n);
            assert!((rule.weights.iter().sum::<f64>() - 1.0).abs() < 1e-13);
            for k in 0..(2 * n) {
                let got = rule.integrate(|u| u.powi(k as i32));
                let want = 1.0 / (k as f64 + 1.0);
                assert!(
                    (got - want).abs() < 1e-12 * want.max(1e-3) * 10.0,
                    "n={n} k={k}: {got} vs {want}"
                );
            }
            // Degree 2n is NOT exact (checked where the error is above rounding).
            if n <= 5 {
                let k = 2 * n;
                let err = (rule.integrate(|u| u.powi(k as i32)) - 1.0 / (k as f64 + 1.0)).abs();
                assert!(err > 1e-12, "n={n}: degree {k} should not be exact");
            }
        }
    }

    #[test]
    fn nodes_are_inside_the_interval_and_sorted() {
        let rule = GaussLegendre::new(4000);
        assert!(rule.nodes.windows(2).all(|w| w[0] < w[1]));
        assert!(rule.nodes[0] > 0.0 && rule.nodes[rule.len() - 1] < 1.0);
        for (u, v) in rule.nodes.iter().zip(&rule.nodes_minus_one) {
            assert!((u - 1.0 - v).abs() < 1e-15);
        }
        // u^(7999) integrates to 1/8000 exactly with 4000 nodes.
        let got = rule.integrate(|u| u.powi(7999));
        assert!((got * 8000.0 - 1.0).abs() < 1e-9, "{got}");
    }
}
