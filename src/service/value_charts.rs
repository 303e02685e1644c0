//! The value validation's two standard charts as SVG, in English or German: cumulative
//! repeat purchases over time, actual against BG/NBD, across calibration and holdout
//! (Fader, Hardie & Lee 2005, fig. 2), and the mean holdout purchases by calibration
//! frequency (fig. 4). `kulanz value validate --plot DIR` writes them; `POST
//! /v1/value/validate` with `charts` returns them for the console.

use crate::svg_chart::{render, Chart, Series};
use crate::value::validate::{FrequencyRow, TrackingPoint};
use crate::value::TimeUnit;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The language of the charts' titles and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChartLanguage {
    En,
    De,
}

/// The two charts, each a whole SVG document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueCharts {
    /// Cumulative repeat purchases, actual and BG/NBD, with the end of calibration marked.
    pub tracking: String,
    /// Mean holdout purchases by calibration frequency, actual and BG/NBD.
    pub conditional: String,
}

struct Words {
    tracking_title: &'static str,
    since: &'static str,
    cumulative: &'static str,
    end_of_calibration: &'static str,
    actual: &'static str,
    conditional_x: &'static str,
    conditional_y: &'static str,
}

const EN: Words = Words {
    tracking_title: "Cumulative repeat purchases: actual and BG/NBD",
    since: "since",
    cumulative: "cumulative repeat purchases",
    end_of_calibration: "end of calibration",
    actual: "actual",
    conditional_x: "repeat purchases in the calibration period",
    conditional_y: "mean repeat purchases in the holdout",
};

const DE: Words = Words {
    tracking_title: "Wiederholungskäufe kumuliert: tatsächlich und BG/NBD",
    since: "seit",
    cumulative: "Wiederholungskäufe, kumuliert",
    end_of_calibration: "Ende der Kalibrierung",
    actual: "tatsächlich",
    conditional_x: "Wiederholungskäufe im Kalibrierungszeitraum",
    conditional_y: "Ø Wiederholungskäufe im Prüfzeitraum",
};

fn unit_words(unit: TimeUnit, lang: ChartLanguage) -> &'static str {
    match (lang, unit) {
        (ChartLanguage::En, TimeUnit::Day) => "days",
        (ChartLanguage::En, TimeUnit::Week) => "weeks",
        (ChartLanguage::En, TimeUnit::Month) => "months",
        (ChartLanguage::De, TimeUnit::Day) => "Tage",
        (ChartLanguage::De, TimeUnit::Week) => "Wochen",
        (ChartLanguage::De, TimeUnit::Month) => "Monate",
    }
}

/// What the charts show, borrowed from a validation report.
pub struct ChartData<'a> {
    pub time_unit: TimeUnit,
    pub calibration_end: NaiveDate,
    pub tracking_start: NaiveDate,
    /// Length of the holdout in time units.
    pub holdout_duration: f64,
    pub tracking: &'a [TrackingPoint],
    pub by_calibration_frequency: &'a [FrequencyRow],
}

/// Both charts of a validation report.
pub fn render_charts(r: &ChartData<'_>, lang: ChartLanguage) -> ValueCharts {
    let w = match lang {
        ChartLanguage::En => &EN,
        ChartLanguage::De => &DE,
    };
    let units = unit_words(r.time_unit, lang);
    // Dates as each language writes them: 2025-12-31, 31.12.2025.
    let date = |d: NaiveDate| match lang {
        ChartLanguage::En => d.to_string(),
        ChartLanguage::De => d.format("%d.%m.%Y").to_string(),
    };
    let cal = (r.calibration_end - r.tracking_start).num_days() as f64 / r.time_unit.days();
    let x_label = format!("{units} {} {}", w.since, date(r.tracking_start));
    let line = |name, color, dashed, markers, points| Series {
        name,
        color,
        dashed,
        markers,
        points,
    };
    let tracking = render(
        &Chart {
            title: w.tracking_title,
            x_label: &x_label,
            y_label: w.cumulative,
            marker: Some((cal, w.end_of_calibration)),
            x_ticks: None,
        },
        &[
            line(
                w.actual,
                "#1f5fa8",
                false,
                false,
                r.tracking
                    .iter()
                    .map(|p| (f64::from(p.period), p.actual))
                    .collect(),
            ),
            line(
                "BG/NBD",
                "#c8372d",
                true,
                false,
                r.tracking
                    .iter()
                    .map(|p| (f64::from(p.period), p.predicted))
                    .collect(),
            ),
        ],
    );
    let rows = || {
        r.by_calibration_frequency
            .iter()
            .filter(|row| row.customers > 0)
    };
    let title = match lang {
        ChartLanguage::En => format!(
            "Mean purchases in the {:.0} {units} after {}, by purchases before",
            r.holdout_duration, r.calibration_end
        ),
        ChartLanguage::De => format!(
            "Ø Käufe in den {:.0} {units} nach dem {}, nach Käufen davor",
            r.holdout_duration,
            date(r.calibration_end)
        ),
    };
    let conditional = render(
        &Chart {
            title: &title,
            x_label: w.conditional_x,
            y_label: w.conditional_y,
            marker: None,
            x_ticks: Some(
                rows()
                    .map(|row| {
                        let plus = if row.or_more { "+" } else { "" };
                        (f64::from(row.frequency), format!("{}{plus}", row.frequency))
                    })
                    .collect(),
            ),
        },
        &[
            line(
                w.actual,
                "#1f5fa8",
                false,
                true,
                rows()
                    .filter_map(|row| Some((f64::from(row.frequency), row.actual_mean?)))
                    .collect(),
            ),
            line(
                "BG/NBD",
                "#c8372d",
                true,
                true,
                rows()
                    .filter_map(|row| Some((f64::from(row.frequency), row.predicted_mean?)))
                    .collect(),
            ),
        ],
    );
    ValueCharts {
        tracking,
        conditional,
    }
}

#[cfg(test)]
mod tests {
    use super::{render_charts, ChartData, ChartLanguage};
    use crate::value::validate::{FrequencyRow, TrackingPoint};
    use crate::value::TimeUnit;
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn both_charts_in_either_language_with_the_calibration_end_marked() {
        let tracking: Vec<TrackingPoint> = (0..10)
            .map(|p| TrackingPoint {
                period: p,
                day: i64::from(p) * 7,
                actual: f64::from(p * 3),
                predicted: f64::from(p) * 2.5,
            })
            .collect();
        let rows = [
            FrequencyRow {
                frequency: 0,
                or_more: false,
                customers: 10,
                actual_mean: Some(0.2),
                predicted_mean: Some(0.25),
            },
            FrequencyRow {
                frequency: 1,
                or_more: true,
                customers: 0,
                actual_mean: None,
                predicted_mean: None,
            },
        ];
        let data = ChartData {
            time_unit: TimeUnit::Week,
            calibration_end: day("2025-12-31"),
            tracking_start: day("2025-11-05"),
            holdout_duration: 26.0,
            tracking: &tracking,
            by_calibration_frequency: &rows,
        };
        let de = render_charts(&data, ChartLanguage::De);
        assert!(de.tracking.starts_with("<svg"));
        assert!(
            de.tracking.contains("Ende der Kalibrierung"),
            "{}",
            de.tracking
        );
        assert!(de.tracking.contains("Wochen seit 05.11.2025"));
        assert!(de
            .conditional
            .contains("Ø Käufe in den 26 Wochen nach dem 31.12.2025"));
        assert!(de.conditional.contains("tatsächlich"));
        let en = render_charts(&data, ChartLanguage::En);
        assert!(en
            .tracking
            .contains("Cumulative repeat purchases: actual and BG/NBD"));
        assert!(en.tracking.contains("weeks since 2025-11-05"));
        assert!(en
            .conditional
            .contains("Mean purchases in the 26 weeks after 2025-12-31"));
        // An empty row of the table is not drawn as a tick.
        assert!(!en.conditional.contains(">1+<"), "{}", en.conditional);
    }
}
