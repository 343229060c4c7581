//! Distribution functions used by the tests and intervals: normal, beta,
//! chi-square, binomial and the limiting Kolmogorov distribution.
//!
//! The complementary error function comes from `libm` (the musl/FreeBSD
//! implementation, accurate to about one unit in the last place; `statrs`'s
//! is off by up to 1e-10 relative), the regularised incomplete beta and gamma
//! functions from `statrs`; quantiles that `statrs` only approximates are
//! polished here by safeguarded root finding so that intervals agree with
//! SciPy to about 1e-12.
//!
//! Every function that takes a distribution parameter checks it and returns
//! `StatsError::InvalidParameter` for a value outside its domain (including
//! NaN), so no result is a NaN and nothing panics inside `statrs`.

use libm::erfc;
use statrs::function::beta::{checked_beta_reg, checked_ln_beta};
use statrs::function::erf::erfc_inv;
use statrs::function::gamma::checked_gamma_ur;

use crate::StatsError;

/// Checks that a shape or degrees-of-freedom parameter is finite and
/// positive.
fn require_positive(name: &'static str, value: f64) -> Result<(), StatsError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name,
            value,
            reason: "must be a finite number above zero",
        })
    }
}

/// Checks that a probability lies in [0, 1] (and is not NaN).
fn require_probability(name: &'static str, value: f64) -> Result<(), StatsError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name,
            value,
            reason: "must lie in [0, 1]",
        })
    }
}

/// Checks that an argument is not NaN.
fn require_not_nan(name: &'static str, value: f64) -> Result<(), StatsError> {
    if value.is_nan() {
        Err(StatsError::InvalidParameter {
            name,
            value,
            reason: "must be a number, not NaN",
        })
    } else {
        Ok(())
    }
}

/// The error of a `statrs` special function whose parameters were checked
/// beforehand; kept as an error rather than a panic should it ever happen.
fn special_function_error(what: &'static str) -> StatsError {
    StatsError::Undefined {
        what,
        reason: "the special function rejected its arguments",
    }
}

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
/// cumulative distribution function, for shape parameters a, b > 0 (any x
/// that is not NaN; below 0 it is 0, above 1 it is 1).
pub fn beta_cdf(x: f64, a: f64, b: f64) -> Result<f64, StatsError> {
    require_not_nan("beta argument x", x)?;
    require_positive("beta shape a", a)?;
    require_positive("beta shape b", b)?;
    beta_cdf_checked(x, a, b)
}

/// [`beta_cdf`] for parameters already checked: a and b finite and above
/// zero, x not NaN.
fn beta_cdf_checked(x: f64, a: f64, b: f64) -> Result<f64, StatsError> {
    if x <= 0.0 {
        Ok(0.0)
    } else if x >= 1.0 {
        Ok(1.0)
    } else {
        checked_beta_reg(a, b, x)
            .map_err(|_| special_function_error("regularised incomplete beta function"))
    }
}

/// Quantile of the beta(a, b) distribution: the x with I_x(a, b) = p, for
/// p in [0, 1] and shape parameters a, b > 0.
///
/// Bisection on the monotone CDF, finished by Newton steps, gives full double
/// precision without relying on an approximate inverse.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> Result<f64, StatsError> {
    require_probability("beta quantile probability", p)?;
    require_positive("beta shape a", a)?;
    require_positive("beta shape b", b)?;
    if p == 0.0 {
        return Ok(0.0);
    }
    if p == 1.0 {
        return Ok(1.0);
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    let mut x = 0.5;
    for _ in 0..200 {
        x = 0.5 * (low + high);
        let value = beta_cdf_checked(x, a, b)?;
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
    let ln_beta = checked_ln_beta(a, b)
        .map_err(|_| special_function_error("logarithm of the beta function"))?;
    for _ in 0..4 {
        let density = ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_beta).exp();
        if !(density.is_finite() && density > 0.0) {
            break;
        }
        let next = x - (beta_cdf_checked(x, a, b)? - p) / density;
        if next <= low || next >= high || !next.is_finite() {
            break;
        }
        x = next;
    }
    Ok(x)
}

/// Survival function of the chi-square distribution with `degrees_of_freedom`
/// degrees of freedom, P(X ≥ x), for degrees of freedom above zero and any x
/// that is not NaN.
pub fn chi_square_sf(x: f64, degrees_of_freedom: f64) -> Result<f64, StatsError> {
    require_not_nan("chi-square statistic", x)?;
    require_positive("chi-square degrees of freedom", degrees_of_freedom)?;
    if x <= 0.0 {
        Ok(1.0)
    } else if x == f64::INFINITY {
        Ok(0.0)
    } else {
        checked_gamma_ur(degrees_of_freedom / 2.0, x / 2.0)
            .map_err(|_| special_function_error("upper incomplete gamma function"))
    }
}

/// Binomial cumulative distribution function P(X ≤ k) for X ~ Bin(n, p),
/// with p in [0, 1].
pub fn binomial_cdf(k: i64, n: u64, p: f64) -> Result<f64, StatsError> {
    require_probability("binomial probability", p)?;
    binomial_cdf_checked(k, n, p)
}

/// [`binomial_cdf`] for a probability already checked to lie in [0, 1].
fn binomial_cdf_checked(k: i64, n: u64, p: f64) -> Result<f64, StatsError> {
    if k < 0 {
        return Ok(0.0);
    }
    let k = k as u64;
    if k >= n {
        return Ok(1.0);
    }
    if p == 0.0 {
        return Ok(1.0);
    }
    if p == 1.0 {
        return Ok(0.0);
    }
    // P(X ≤ k) = I_{1−p}(n − k, k + 1), with both shapes at least 1.
    beta_cdf_checked(1.0 - p, (n - k) as f64, (k + 1) as f64)
}

/// Smallest integer r with P(X ≤ r) ≥ q for X ~ Bin(n, p), as SciPy's
/// `binom.ppf`, for q and p in [0, 1].
pub fn binomial_quantile(q: f64, n: u64, p: f64) -> Result<u64, StatsError> {
    require_probability("binomial quantile probability", q)?;
    require_probability("binomial probability", p)?;
    if q == 0.0 {
        return Ok(0);
    }
    let (mut low, mut high) = (0_u64, n);
    while low < high {
        let middle = low + (high - low) / 2;
        if binomial_cdf_checked(middle as i64, n, p)? >= q {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    Ok(low)
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
            let x = beta_quantile(p, a, b).expect("valid parameters");
            let cdf = beta_cdf(x, a, b).expect("valid parameters");
            assert!((cdf - p).abs() < 1e-13, "{p} {a} {b}");
        }
    }

    #[test]
    fn binomial_quantile_is_the_smallest_covering_count() {
        let n = 50;
        let p = 0.3;
        let cdf = |k: i64| binomial_cdf(k, n, p).expect("valid parameters");
        for q in [0.001, 0.025, 0.5, 0.975, 0.999] {
            let r = binomial_quantile(q, n, p).expect("valid parameters");
            assert!(cdf(r as i64) >= q);
            assert!(r == 0 || cdf(r as i64 - 1) < q);
        }
    }

    fn is_invalid_parameter<T: std::fmt::Debug>(result: Result<T, StatsError>) -> bool {
        matches!(result, Err(StatsError::InvalidParameter { .. }))
    }

    #[test]
    fn parameters_that_made_statrs_panic_are_typed_errors() {
        // Each of these used to reach an unwrap inside statrs.
        assert!(is_invalid_parameter(binomial_cdf(3, 10, f64::NAN)));
        assert!(is_invalid_parameter(binomial_cdf(3, 10, 1.5)));
        assert!(is_invalid_parameter(beta_quantile(0.5, 0.0, 2.0)));
        assert!(is_invalid_parameter(beta_quantile(0.5, 2.0, -1.0)));
        assert!(is_invalid_parameter(beta_quantile(f64::NAN, 2.0, 2.0)));
        assert!(is_invalid_parameter(beta_quantile(1.5, 2.0, 2.0)));
        assert!(is_invalid_parameter(beta_cdf(0.5, 0.0, 2.0)));
        assert!(is_invalid_parameter(beta_cdf(0.5, 2.0, f64::NAN)));
        assert!(is_invalid_parameter(beta_cdf(f64::NAN, 2.0, 2.0)));
        assert!(is_invalid_parameter(chi_square_sf(1.0, 0.0)));
        assert!(is_invalid_parameter(chi_square_sf(1.0, f64::INFINITY)));
        assert!(is_invalid_parameter(chi_square_sf(f64::NAN, 2.0)));
        assert!(is_invalid_parameter(binomial_quantile(0.5, 10, f64::NAN)));
        assert!(is_invalid_parameter(binomial_quantile(f64::NAN, 10, 0.5)));
    }

    #[test]
    fn boundary_arguments_keep_their_limits() {
        assert_eq!(beta_cdf(-1.0, 2.0, 3.0), Ok(0.0));
        assert_eq!(beta_cdf(2.0, 2.0, 3.0), Ok(1.0));
        assert_eq!(beta_quantile(0.0, 2.0, 3.0), Ok(0.0));
        assert_eq!(beta_quantile(1.0, 2.0, 3.0), Ok(1.0));
        assert_eq!(chi_square_sf(0.0, 3.0), Ok(1.0));
        assert_eq!(chi_square_sf(f64::INFINITY, 3.0), Ok(0.0));
        assert_eq!(binomial_cdf(-1, 10, 0.5), Ok(0.0));
        assert_eq!(binomial_cdf(10, 10, 0.5), Ok(1.0));
        assert_eq!(binomial_cdf(3, 10, 0.0), Ok(1.0));
        assert_eq!(binomial_cdf(3, 10, 1.0), Ok(0.0));
        assert_eq!(binomial_quantile(0.0, 10, 0.5), Ok(0));
    }

    #[test]
    fn kolmogorov_series_agree_where_they_meet() {
        // Both forms at x = 1 must agree closely (scipy: 0.26999967167735456).
        assert!((kolmogorov_sf(1.0) - 0.269_999_671_677_354_56).abs() < 1e-13);
        assert!((kolmogorov_sf(0.999_999_9) - kolmogorov_sf(1.0)).abs() < 1e-6);
    }
}
