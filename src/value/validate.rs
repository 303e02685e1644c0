//! Holdout validation of fitted models: what they predicted for a holdout period against
//! what the customers did (Fader, Hardie & Lee 2005, section 5).
//!
//! Pure: per-customer calibration summaries and holdout facts in, comparisons out. The
//! service gathers the facts from the store and fits the models on the calibration period.

use super::bgnbd::{BgNbd, Rfm};
use super::gamma_gamma::GammaGamma;
use serde::Serialize;

/// Highest calibration frequency with its own row; higher ones share the last row.
pub const TABLE_ROWS: u32 = 7;

/// One customer of the calibration period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldoutCustomer {
    /// As of the calibration end.
    pub rfm: Rfm,
    /// Mean spend per repeat purchase day in the calibration period.
    pub mean_spend: Option<f64>,
    /// Purchase days in the holdout period.
    pub holdout_purchases: f64,
    /// Mean spend per holdout purchase day.
    pub holdout_mean_spend: Option<f64>,
}

/// Actual against predicted, over customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub customers: usize,
    pub actual_total: f64,
    pub predicted_total: f64,
    pub actual_mean: f64,
    pub predicted_mean: f64,
    /// Mean over customers of |actual − predicted|.
    pub mean_absolute_error: f64,
    /// Pearson correlation of actual and predicted across customers; null when either
    /// does not vary.
    pub correlation: Option<f64>,
}

/// One row of the table by calibration frequency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FrequencyRow {
    /// Repeat purchases in the calibration period; the last row holds this many or more.
    pub frequency: u32,
    pub or_more: bool,
    pub customers: usize,
    /// Mean holdout purchases, actual and expected; null for an empty row.
    pub actual_mean: Option<f64>,
    pub predicted_mean: Option<f64>,
}

/// Each customer's expected purchases over `duration` time units after the calibration.
pub fn predicted_purchases(bg: &BgNbd, customers: &[HoldoutCustomer], duration: f64) -> Vec<f64> {
    customers
        .iter()
        .map(|c| bg.expected_purchases(c.rfm, duration))
        .collect()
}

/// Compare pairs of (actual, predicted).
pub fn compare(pairs: &[(f64, f64)]) -> Comparison {
    let n = pairs.len();
    // A fold from +0.0: `Iterator::sum` of no floats is -0.0, which JSON would show.
    let total = |f: fn(&(f64, f64)) -> f64| pairs.iter().map(f).fold(0.0, |a, b| a + b);
    let (actual_total, predicted_total) = (total(|p| p.0), total(|p| p.1));
    let mean = |t: f64| if n == 0 { 0.0 } else { t / n as f64 };
    let (ma, mp) = (mean(actual_total), mean(predicted_total));
    let mae = mean(total(|p| (p.0 - p.1).abs()));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, p) in pairs {
        sxy += (a - ma) * (p - mp);
        sxx += (a - ma) * (a - ma);
        syy += (p - mp) * (p - mp);
    }
    let correlation = (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt());
    Comparison {
        customers: n,
        actual_total,
        predicted_total,
        actual_mean: ma,
        predicted_mean: mp,
        mean_absolute_error: mae,
        correlation,
    }
}

/// Mean actual and predicted holdout purchases by calibration frequency 0, 1, … 7+.
pub fn by_frequency(customers: &[HoldoutCustomer], predicted: &[f64]) -> Vec<FrequencyRow> {
    (0..=TABLE_ROWS)
        .map(|k| {
            let in_row = |x: f64| {
                let x = x as u32;
                if k == TABLE_ROWS {
                    x >= k
                } else {
                    x == k
                }
            };
            let rows: Vec<(f64, f64)> = customers
                .iter()
                .zip(predicted)
                .filter(|(c, _)| in_row(c.rfm.x))
                .map(|(c, p)| (c.holdout_purchases, *p))
                .collect();
            let c = compare(&rows);
            let some = |v: f64| (!rows.is_empty()).then_some(v);
            FrequencyRow {
                frequency: k,
                or_more: k == TABLE_ROWS,
                customers: rows.len(),
                actual_mean: some(c.actual_mean),
                predicted_mean: some(c.predicted_mean),
            }
        })
        .collect()
}

/// Expected against actual mean spend per holdout purchase day, for the customers the
/// spend model speaks for (a repeat purchase with positive spend in the calibration) who
/// bought in the holdout.
pub fn spend(gg: &GammaGamma, customers: &[HoldoutCustomer]) -> Comparison {
    let pairs: Vec<(f64, f64)> = customers
        .iter()
        .filter_map(|c| {
            let m = c.mean_spend.filter(|m| c.rfm.x > 0.0 && *m > 0.0)?;
            let actual = c.holdout_mean_spend.filter(|_| c.holdout_purchases > 0.0)?;
            Some((actual, gg.expected_spend(c.rfm.x, m)))
        })
        .collect();
    compare(&pairs)
}

/// One point of the tracking curve: cumulative repeat purchases up to the end of a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrackingPoint {
    /// Periods (time units) since the earliest first purchase.
    pub period: u32,
    /// Days since the earliest first purchase at the end of the period (exclusive).
    pub day: i64,
    pub actual: f64,
    pub predicted: f64,
}

/// Cumulative repeat purchases over `periods` periods of `unit_days` days, actual against
/// the model's expectation, as `lifetimes.utils.expected_cumulative_transactions` computes
/// it: the expectation sums, over customers whose first purchase is before the period's
/// end, E[X(t)] for the time `t` since that first purchase.
///
/// `first_days` holds (days since the start, customers) for each first-purchase day;
/// `repeat_days` (days since the start, repeat purchase days) for each day with repeats.
pub fn tracking(
    bg: &BgNbd,
    unit_days: f64,
    periods: u32,
    first_days: &[(i64, u64)],
    repeat_days: &[(i64, u64)],
) -> Vec<TrackingPoint> {
    (1..=periods)
        .map(|k| {
            let end = (f64::from(k) * unit_days).round() as i64;
            let predicted = first_days
                .iter()
                .filter(|(d, _)| *d < end)
                .map(|(d, n)| *n as f64 * bg.expected_purchases_new((end - d) as f64 / unit_days))
                .fold(0.0, |a, b| a + b);
            let actual = repeat_days
                .iter()
                .filter(|(d, _)| *d < end)
                .map(|(_, n)| *n as f64)
                .fold(0.0, |a, b| a + b);
            TrackingPoint {
                period: k,
                day: end,
                actual,
                predicted,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::bgnbd::tests::PAPER;

    fn customer(x: f64, holdout: f64) -> HoldoutCustomer {
        HoldoutCustomer {
            rfm: Rfm {
                x,
                t_x: 30.0,
                t: 39.0,
            },
            mean_spend: Some(20.0),
            holdout_purchases: holdout,
            holdout_mean_spend: Some(25.0),
        }
    }

    #[test]
    fn comparisons_add_up() {
        let c = compare(&[(1.0, 2.0), (2.0, 4.0), (3.0, 5.0)]);
        assert_eq!((c.actual_total, c.predicted_total), (6.0, 11.0));
        assert_eq!(c.mean_absolute_error, 5.0 / 3.0);
        // Deviations (-1, 0, 1) and (-5/3, 1/3, 4/3): r = 3 / √(2 · 42/9).
        let r = 3.0 / (2.0f64 * 42.0 / 9.0).sqrt();
        assert!((c.correlation.unwrap() - r).abs() < 1e-12);
        assert_eq!(compare(&[(1.0, 1.0), (2.0, 1.0)]).correlation, None);
        assert_eq!(compare(&[]).customers, 0);
    }

    #[test]
    fn the_table_has_a_row_for_each_frequency_and_one_for_seven_or_more() {
        let cs = [
            customer(0.0, 0.0),
            customer(2.0, 1.0),
            customer(9.0, 4.0),
            customer(7.0, 2.0),
        ];
        let predicted = predicted_purchases(&PAPER, &cs, 39.0);
        let rows = by_frequency(&cs, &predicted);
        assert_eq!(rows.len(), 8);
        assert_eq!(rows[1].customers, 0);
        assert_eq!(rows[1].actual_mean, None);
        assert_eq!((rows[2].customers, rows[2].actual_mean), (1, Some(1.0)));
        assert!(rows[7].or_more && rows[7].customers == 2);
        assert_eq!(rows[7].actual_mean, Some(3.0));
    }

    #[test]
    fn the_tracking_curve_rises_and_counts_only_earlier_cohorts() {
        let points = tracking(&PAPER, 7.0, 4, &[(0, 100), (10, 50)], &[(3, 2), (12, 5)]);
        assert_eq!(points.len(), 4);
        assert_eq!((points[0].day, points[0].actual), (7, 2.0));
        assert_eq!(points[1].actual, 7.0);
        // Week 1: only the first cohort, one week old.
        let one_week = 100.0 * PAPER.expected_purchases_new(1.0);
        assert!((points[0].predicted - one_week).abs() < 1e-12);
        assert!(points.windows(2).all(|w| w[1].predicted > w[0].predicted));
    }
}
