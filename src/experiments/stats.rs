//! Small statistics the experiments share: means over finite values, log-log slopes,
//! CSV cells for missing numbers.

/// Mean of the finite values, `None` when there are none.
pub fn finite_mean(v: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (s, n) = v
        .into_iter()
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// `Some(x)` when finite.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Least-squares slope of `y` against `x`.
pub fn fit_slope(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for i in 0..n {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx).powi(2);
    }
    (sxx > 0.0).then(|| sxy / sxx).and_then(finite)
}

/// Format an optional number for CSV (empty when missing).
pub fn opt_csv(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line() {
        let x = [1.0, 2.0, 3.0];
        let y = [3.0, 1.0, -1.0];
        assert!((fit_slope(&x, &y).unwrap() + 2.0).abs() < 1e-12);
    }
}
