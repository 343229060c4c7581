//! Distribution functions used by the tests and intervals: normal, beta,
//! chi-square, binomial and the limiting Kolmogorov distribution.
//!
//! The complementary error function comes from `libm` (the musl/FreeBSD
//! implementation, accurate to about one unit in the last place; `statrs`'s
//! is off by up to 1e-10 relative), the regularised incomplete beta and gamma
//! functions from `statrs`; quantiles that `statrs` only approximates are
//! polished here by safeguarded root finding so that intervals agree with
//! SciPy to about 1e-12.

use libm::erfc;
use statrs::function::beta::beta_reg;
use statrs::function::erf::erfc_inv;
use statrs::function::gamma::gamma_ur;

/// Standard normal cumulative distribution function Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal survival function 1 − Φ(x), accurate in the far tail.
pub fn normal_sf(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Two-sided p-value of a standard normal statistic, 2·(1 − Φ(|z|)).
pub fn normal_two_sided_p(z: f64) -> f64 {
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// Standard normal quantile Φ⁻¹(p) for 0 < p < 1.
///
/// The inverse error function gives a first value, and two Newton steps on
/// the lower tail (where Φ is computed without cancellation) bring it to full
/// relative precision, even far in the tails.
pub fn normal_quantile(p: f64) -> f64 {
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }
    let mut x = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p);
    for _ in 0..2 {
        let density = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        if !(density.is_finite() && density > 0.0) {
            break;
        }
        x -= (normal_cdf(x) - p) / density;
    }
    x
}

/// Regularised incomplete beta function I_x(a, b), the beta distribution's
/// cumulative distribution function.
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else if x >= 1.0 {
        1.0
    } else {
        beta_reg(a, b, x)
    }
}

/// Quantile of the beta(a, b) distribution: the x with I_x(a, b) = p.
///
/// Bisection on the monotone CDF, finished by Newton steps, gives full double
/// precision without relying on an approximate inverse.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    let mut x = 0.5;
    for _ in 0..200 {
        x = 0.5 * (low + high);
        let value = beta_cdf(x, a, b);
        if value < p {
            low = x;
        } else {
            high = x;
        }
        if high - low <= 1e-15 * x.max(1e-300) {
            break;
        }
    }
    // Newton polish on the log-density scale; keep inside the bracket.
    let ln_beta = statrs::function::beta::ln_beta(a, b);
    for _ in 0..4 {
        let density = ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_beta).exp();
        if !(density.is_finite() && density > 0.0) {
            break;
        }
        let next = x - (beta_cdf(x, a, b) - p) / density;
        if next <= low || next >= high || !next.is_finite() {
            break;
        }
        x = next;
    }
    x
}

/// Survival function of the chi-square distribution with `degrees_of_freedom`
/// degrees of freedom, P(X ≥ x).
pub fn chi_square_sf(x: f64, degrees_of_freedom: f64) -> f64 {
    if x <= 0.0 {
        1.0
    } else {
        gamma_ur(degrees_of_freedom / 2.0, x / 2.0)
    }
}

/// Binomial cumulative distribution function P(X ≤ k) for X ~ Bin(n, p).
pub fn binomial_cdf(k: i64, n: u64, p: f64) -> f64 {
    if k < 0 {
        return 0.0;
    }
    let k = k as u64;
    if k >= n {
        return 1.0;
    }
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    // P(X ≤ k) = I_{1−p}(n − k, k + 1).
    beta_reg((n - k) as f64, (k + 1) as f64, 1.0 - p)
}

/// Smallest integer r with P(X ≤ r) ≥ q for X ~ Bin(n, p), as SciPy's
/// `binom.ppf`.
pub fn binomial_quantile(q: f64, n: u64, p: f64) -> u64 {
    if q <= 0.0 {
        return 0;
    }
    let (mut low, mut high) = (0_u64, n);
    while low < high {
        let middle = low + (high - low) / 2;
        if binomial_cdf(middle as i64, n, p) >= q {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    low
}

/// Survival function of the limiting Kolmogorov distribution,
/// P(K > x) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²x²), as `scipy.special.kolmogorov`
/// and R's asymptotic `ks.test`.
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < 1.0 {
        // For small x the alternating series converges slowly; use the
        // Jacobi theta form of the CDF instead:
        // P(K ≤ x) = √(2π)/x Σ_{k≥1} exp(−(2k−1)²π²/(8x²)).
        let factor = (2.0 * std::f64::consts::PI).sqrt() / x;
        let base = -std::f64::consts::PI * std::f64::consts::PI / (8.0 * x * x);
        let mut cdf = 0.0;
        for k in 1..=100 {
            let odd = (2 * k - 1) as f64;
            let term = (base * odd * odd).exp();
            cdf += term;
            if term < 1e-300 || term < cdf * 1e-17 {
                break;
            }
        }
        return (1.0 - factor * cdf).clamp(0.0, 1.0);
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * x * x).exp();
        if k % 2 == 1 {
            sum += term;
        } else {
            sum -= term;
        }
        if term < 1e-300 || term < sum.abs() * 1e-17 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for p in [1e-10, 0.025, 0.3, 0.5, 0.9, 0.975, 1.0 - 1e-9] {
            let x = normal_quantile(p);
            let error = (normal_cdf(x) - p).abs() / p;
            assert!(error <= 1e-13, "p = {p}: relative error {error:e}");
        }
        let z = normal_quantile(0.975);
        assert!((z - 1.959_963_984_540_054).abs() < 1e-14, "{z:.17}");
    }

    #[test]
    fn beta_quantile_inverts_the_cdf() {
        for (p, a, b) in [(0.025, 5.0, 16.0), (0.975, 88.0, 13.0), (0.5, 0.5, 0.5)] {
            let x = beta_quantile(p, a, b);
            assert!((beta_cdf(x, a, b) - p).abs() < 1e-13, "{p} {a} {b}");
        }
    }

    #[test]
    fn binomial_quantile_is_the_smallest_covering_count() {
        let n = 50;
        let p = 0.3;
        for q in [0.001, 0.025, 0.5, 0.975, 0.999] {
            let r = binomial_quantile(q, n, p);
            assert!(binomial_cdf(r as i64, n, p) >= q);
            assert!(r == 0 || binomial_cdf(r as i64 - 1, n, p) < q);
        }
    }

    #[test]
    fn kolmogorov_series_agree_where_they_meet() {
        // Both forms at x = 1 must agree closely (scipy: 0.26999967167735456).
        assert!((kolmogorov_sf(1.0) - 0.269_999_671_677_354_56).abs() < 1e-13);
        assert!((kolmogorov_sf(0.999_999_9) - kolmogorov_sf(1.0)).abs() < 1e-6);
    }
}
