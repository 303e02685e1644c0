//! `kulanz value fit`, `kulanz value validate` and `kulanz value predict --customer ID`.

use crate::service::value::{fit_and_store, FitRequest, ValueView};
use crate::service::value_charts::{self, ChartLanguage, ValueCharts};
use crate::service::value_validate::{validate, ValidateRequest, ValidationReport};
use crate::store::Store;
use crate::value::TimeUnit;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ValueCommand {
    /// Fit BG/NBD and Gamma-Gamma on the stored orders, store them as a new model version
    /// and refresh every cached prediction; prints a JSON report. A failed fit keeps the
    /// previous model and exits non-zero.
    Fit {
        #[arg(long, value_enum, default_value = "week")]
        time_unit: TimeUnit,
        /// End of the observation period, `YYYY-MM-DD`; default today (UTC).
        #[arg(long)]
        observation_end: Option<NaiveDate>,
        /// Months ahead for expected purchases and the predicted value.
        #[arg(long, default_value_t = 12)]
        horizon: u32,
        /// Monthly discount rate of the predicted value.
        #[arg(long, default_value_t = 0.01)]
        discount_rate: f64,
        /// Fit the customers buying in this currency; default the most common one.
        #[arg(long)]
        currency: Option<String>,
        #[command(flatten)]
        data: super::DataDir,
    },
    /// Fit both models on the purchases up to the calibration end, predict each customer's
    /// holdout, and print the comparison with what they did as JSON. Stores nothing.
    Validate {
        /// Last day of the calibration period, `YYYY-MM-DD`.
        #[arg(long)]
        calibration_end: NaiveDate,
        /// Last day of the holdout period, `YYYY-MM-DD`.
        #[arg(long)]
        holdout_end: NaiveDate,
        #[arg(long, value_enum, default_value = "week")]
        time_unit: TimeUnit,
        /// Validate the customers buying in this currency; default the most common one.
        #[arg(long)]
        currency: Option<String>,
        /// Write the tracking and conditional-expectation charts as SVG into this folder.
        #[arg(long)]
        plot: Option<PathBuf>,
        #[command(flatten)]
        data: super::DataDir,
    },
    /// Print a customer's order summary and cached prediction as JSON.
    Predict {
        #[arg(long)]
        customer: String,
        #[command(flatten)]
        data: super::DataDir,
    },
}

pub fn run(cmd: ValueCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ValueCommand::Fit {
            time_unit,
            observation_end,
            horizon,
            discount_rate,
            currency,
            data,
        } => {
            let store = super::open_for_writes(&data.data_dir)?;
            let req = FitRequest {
                time_unit: Some(time_unit),
                observation_end,
                horizon_months: Some(horizon),
                monthly_discount_rate: Some(discount_rate),
                currency,
            };
            let report = fit_and_store(&store, &req, chrono::Utc::now())?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        ValueCommand::Validate {
            calibration_end,
            holdout_end,
            time_unit,
            currency,
            plot,
            data,
        } => {
            let store = Store::open(&data.data_dir)?;
            let req = ValidateRequest {
                calibration_end,
                holdout_end,
                time_unit: Some(time_unit),
                currency,
                charts: None,
            };
            let report = validate(&store, &req)?;
            if let Some(dir) = plot {
                write_plots(&dir, &report)?;
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        ValueCommand::Predict { customer, data } => {
            let store = Store::open(&data.data_dir)?;
            let Some(summary) = crate::service::order_history::get(&store, &customer)? else {
                anyhow::bail!(
                    "no orders for customer `{}`",
                    crate::money::truncate(&customer)
                );
            };
            let view = ValueView::from(&summary);
            if view.prediction.is_none() {
                eprintln!("no prediction yet: run `kulanz value fit` first");
            }
            println!("{}", serde_json::to_string_pretty(&view)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `tracking.svg` and `conditional_expectations.svg` in `dir`; their paths go to stderr,
/// since stdout carries the report alone.
fn write_plots(dir: &Path, r: &ValidationReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let ValueCharts {
        tracking,
        conditional,
    } = value_charts::render_charts(&r.chart_data(), ChartLanguage::En);
    for (name, svg) in [
        ("tracking.svg", tracking),
        ("conditional_expectations.svg", conditional),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, svg)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
