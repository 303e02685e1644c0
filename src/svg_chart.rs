//! A small line chart as SVG text: the value validation's charts, for `kulanz value
//! validate --plot DIR`, `POST /v1/value/validate` with `charts` and the console. Pure:
//! numbers in, an SVG document out.
//!
//! Written by hand rather than with `plotters`: two charts need axes, lines, markers and a
//! legend, which is less code than a plotting crate's dependencies, needs no font files
//! (text is left to the viewer's `sans-serif`), and is byte-for-byte deterministic.

use std::fmt::Write;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// One line of the chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub dashed: bool,
    /// Draw a dot at each point (for few points).
    pub markers: bool,
    pub points: Vec<(f64, f64)>,
}

/// What to draw besides the lines.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// A vertical line with its label, e.g. the end of the calibration period.
    pub marker: Option<(f64, &'a str)>,
    /// Tick labels for the x axis in place of numbers: (x, label).
    pub x_ticks: Option<Vec<(f64, String)>>,
}

/// Up to about six round tick values covering `0..=max`.
fn ticks(max: f64) -> Vec<f64> {
    if !(max > 0.0 && max.is_finite()) {
        return vec![0.0, 1.0];
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

fn label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart as an SVG document.
pub fn render(chart: &Chart<'_>, series: &[Series<'_>]) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min).min(0.0);
    let x_max = all().map(|p| p.0).fold(0.0, f64::max).max(x_min + 1.0);
    let y_ticks = ticks(all().map(|p| p.1).fold(0.0, f64::max));
    let y_max = y_ticks
        .last()
        .copied()
        .unwrap_or(1.0)
        .max(f64::MIN_POSITIVE);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * plot_w;
    let sy = |y: f64| TOP + plot_h - y / y_max * plot_h;
    let mut svg = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{}" y="28" text-anchor="middle" font-size="16" font-weight="bold">{}</text>
"##,
        WIDTH / 2.0,
        escape(chart.title)
    );
    for y in &y_ticks {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{0}" y1="{1:.1}" y2="{1:.1}" stroke="#e5e5e5"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            WIDTH - RIGHT,
            sy(*y),
            LEFT - 8.0,
            sy(*y) + 4.0,
            label(*y)
        );
    }
    let x_ticks = chart.x_ticks.clone().unwrap_or_else(|| {
        ticks(x_max)
            .into_iter()
            .filter(|x| *x >= x_min && *x <= x_max)
            .map(|x| (x, label(x)))
            .collect()
    });
    for (x, text) in &x_ticks {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="#999999"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"##,
            sx(*x),
            TOP + plot_h,
            TOP + plot_h + 5.0,
            TOP + plot_h + 20.0,
            escape(text)
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999999"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">{}</text>"##,
        LEFT + plot_w / 2.0,
        HEIGHT - 18.0,
        escape(chart.x_label),
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(chart.y_label)
    );
    if let Some((x, text)) = chart.marker {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{1}" stroke="#666666" stroke-dasharray="2 3"/><text x="{2:.1}" y="{3}" fill="#666666">{4}</text>"##,
            sx(x),
            TOP + plot_h,
            sx(x) + 4.0,
            TOP + 14.0,
            escape(text)
        );
    }
    for (i, s) in series.iter().enumerate() {
        let path: Vec<String> = s
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="7 4""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"##,
            path.join(" "),
            s.color
        );
        if s.markers {
            for (x, y) in &s.points {
                let _ = writeln!(
                    svg,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"/>"##,
                    sx(*x),
                    sy(*y),
                    s.color
                );
            }
        }
        let ly = TOP + 16.0 + 18.0 * i as f64;
        let _ = writeln!(
            svg,
            r##"<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{3}" stroke-width="2"{dash}/><text x="{4}" y="{5}">{6}</text>"##,
            LEFT + 14.0,
            LEFT + 44.0,
            ly,
            s.color,
            LEFT + 50.0,
            ly + 4.0,
            escape(s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(1882.0), vec![0.0, 500.0, 1000.0, 1500.0, 2000.0]);
        assert_eq!(ticks(2.3), vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
        assert_eq!(ticks(0.0), vec![0.0, 1.0]);
    }

    #[test]
    fn a_chart_is_one_svg_document_with_each_series_and_escaped_text() {
        let svg = render(
            &Chart {
                title: "Actual & predicted",
                x_label: "week",
                y_label: "purchases",
                marker: Some((39.0, "calibration end")),
                x_ticks: None,
            },
            &[
                Series {
                    name: "actual",
                    color: "#1f77b4",
                    dashed: false,
                    markers: false,
                    points: vec![(1.0, 10.0), (2.0, 30.0)],
                },
                Series {
                    name: "model",
                    color: "#d62728",
                    dashed: true,
                    markers: true,
                    points: vec![(1.0, 12.0), (2.0, 28.0)],
                },
            ],
        );
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("Actual &amp; predicted") && svg.contains("calibration end"));
    }
}
