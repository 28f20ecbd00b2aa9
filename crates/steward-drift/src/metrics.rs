//! Drift metrics on aligned count vectors (same bins or categories, same order).
//! Each returns `None` when either side has no counts: no distribution, no score.

use crate::gamma::upper_regularized;

/// Shares below this are raised to it in PSI and in chi-squared's expected
/// frequencies, so that an empty bin gives a large but finite score.
pub const PROPORTION_FLOOR: f64 = 1e-4;

fn shares(counts: &[u64]) -> Option<Vec<f64>> {
    let total: u64 = counts.iter().sum();
    (total > 0).then(|| counts.iter().map(|&c| c as f64 / total as f64).collect())
}

/// Population stability index: Σ (q' − p') ln(q'/p'), `x' = max(x, 1e-4)`.
pub fn psi(baseline: &[u64], window: &[u64]) -> Option<f64> {
    let (p, q) = (shares(baseline)?, shares(window)?);
    Some(
        p.iter()
            .zip(&q)
            .map(|(&p, &q)| {
                let (p, q) = (p.max(PROPORTION_FLOOR), q.max(PROPORTION_FLOOR));
                (q - p) * (q / p).ln()
            })
            .sum(),
    )
}

/// Kolmogorov–Smirnov statistic on the binned CDFs: the largest gap between
/// the cumulative shares at any bin boundary.
pub fn ks_binned(baseline: &[u64], window: &[u64]) -> Option<f64> {
    let (p, q) = (shares(baseline)?, shares(window)?);
    let (mut cp, mut cq, mut max) = (0.0f64, 0.0f64, 0.0f64);
    for (p, q) in p.iter().zip(&q) {
        cp += p;
        cq += q;
        max = max.max((cp - cq).abs());
    }
    Some(max)
}

/// Jensen–Shannon distance, log base 2 (0 = same, 1 = disjoint).
pub fn jensen_shannon(baseline: &[u64], window: &[u64]) -> Option<f64> {
    let (p, q) = (shares(baseline)?, shares(window)?);
    let kl = |a: f64, m: f64| if a > 0.0 { a * (a / m).log2() } else { 0.0 };
    let divergence: f64 = p
        .iter()
        .zip(&q)
        .map(|(&p, &q)| {
            let m = (p + q) / 2.0;
            (kl(p, m) + kl(q, m)) / 2.0
        })
        .sum();
    Some(divergence.max(0.0).sqrt())
}

/// Chi-squared goodness of fit of the window's counts to the baseline's shares:
/// (statistic, p-value) with `k − 1` degrees of freedom.
pub fn chi_squared(baseline: &[u64], window: &[u64]) -> Option<(f64, f64)> {
    let p = shares(baseline)?;
    let total: u64 = window.iter().sum();
    if total == 0 {
        return None;
    }
    let statistic: f64 = p
        .iter()
        .zip(window)
        .map(|(&p, &w)| {
            let expected = total as f64 * p.max(PROPORTION_FLOOR);
            let diff = w as f64 - expected;
            diff * diff / expected
        })
        .sum();
    let dof = p.len().saturating_sub(1);
    let p_value = if dof == 0 {
        1.0
    } else {
        upper_regularized(dof as f64 / 2.0, statistic / 2.0)
    };
    Some((statistic, p_value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-6 * expected.abs().max(1e-12),
            "{actual} != {expected}"
        );
    }

    // Hand computation for p = [.5, .5], q = [.25, .75]:
    // PSI = (.25−.5)·ln(.5) + (.75−.5)·ln(1.5) = .1732868 + .1013663
    // KS  = |.5 − .25| = .25
    // JS: m = [.375, .625]; KL(p‖m) = .5·log2(4/3) + .5·log2(.8) = .0465547;
    //     KL(q‖m) = .25·log2(2/3) + .75·log2(1.2) = .0510352; √(mean) = .2208958
    // χ² with W = 100, expected [50, 50]: 2·25²/50 = 25, 1 dof, p = erfc(√12.5)
    #[test]
    fn two_bins_by_hand() {
        let (base, window) = ([50, 50], [25, 75]);
        close(psi(&base, &window).unwrap(), 0.274_653_072_167_027);
        close(ks_binned(&base, &window).unwrap(), 0.25);
        close(
            jensen_shannon(&base, &window).unwrap(),
            0.220_895_768_849_017,
        );
        let (stat, p) = chi_squared(&base, &window).unwrap();
        close(stat, 25.0);
        close(p, 5.733_031_437_583_88e-7);
    }

    #[test]
    fn identical_distributions_score_zero() {
        let counts = [10, 20, 30, 40];
        let scaled = [100, 200, 300, 400];
        close(psi(&counts, &scaled).unwrap() + 1.0, 1.0);
        assert_eq!(ks_binned(&counts, &scaled).unwrap(), 0.0);
        assert!(jensen_shannon(&counts, &scaled).unwrap() < 1e-9);
        let (stat, p) = chi_squared(&counts, &scaled).unwrap();
        assert!(stat < 1e-9);
        close(p, 1.0);
    }

    #[test]
    fn empty_bins_are_floored_not_infinite() {
        // p = [1, 0], q = [0, 1] → p' = [1, 1e-4], q' = [1e-4, 1]:
        // PSI = (1e-4 − 1)·ln(1e-4) + (1 − 1e-4)·ln(1e4) = 2·0.9999·ln(1e4)
        let value = psi(&[10, 0], &[0, 10]).unwrap();
        close(value, 2.0 * 0.9999 * 1e4f64.ln());
        close(ks_binned(&[10, 0], &[0, 10]).unwrap(), 1.0);
        close(jensen_shannon(&[10, 0], &[0, 10]).unwrap(), 1.0);
        // expected = [10, 10·1e-4]: (0−10)²/10 + (10−0.001)²/0.001
        let (stat, _) = chi_squared(&[10, 0], &[0, 10]).unwrap();
        close(stat, 10.0 + (10.0f64 - 0.001).powi(2) / 0.001);
    }

    #[test]
    fn ks_is_the_largest_cumulative_gap() {
        // CDFs: p = [.2, .5, 1], q = [.1, .2, 1] → gaps .1, .3, 0
        close(ks_binned(&[2, 3, 5], &[1, 1, 8]).unwrap(), 0.3);
    }

    #[test]
    fn no_counts_no_score() {
        assert_eq!(psi(&[0, 0], &[1, 2]), None);
        assert_eq!(ks_binned(&[1, 2], &[0, 0]), None);
        assert_eq!(jensen_shannon(&[], &[]), None);
        assert_eq!(chi_squared(&[1, 1], &[0, 0]), None);
        // One category: nothing can differ.
        assert_eq!(chi_squared(&[5], &[7]), Some((0.0, 1.0)));
    }
}
