//! `kulanz value fit` and `kulanz value predict --customer ID`.

use crate::service::value::{fit_and_store, FitRequest, ValueView};
use crate::store::Store;
use crate::value::TimeUnit;
use chrono::NaiveDate;
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
            let store = Store::open(&data.data_dir)?;
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
        ValueCommand::Predict { customer, data } => {
            let store = Store::open(&data.data_dir)?;
            let Some(summary) = store.get_order_summary(&customer)? else {
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
