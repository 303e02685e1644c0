//! `kulanz serve`: run the service; `--demo` seeds demo data and prints a key and requests.

use crate::startup::{shutdown_signal, Application};
use crate::telemetry::{self, LogFormat};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KULANZ_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub data: super::DataDir,
    /// Folder of policy files (`*.json`); every valid one is stored as a version.
    #[arg(long, env = "KULANZ_POLICY_DIR", default_value = "./policies")]
    pub policy_dir: PathBuf,
    /// Seed demo customers into an empty store and print a full-scope key and example requests.
    #[arg(long)]
    pub demo: bool,
    /// Log format.
    #[arg(long, env = "KULANZ_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Signing secret of the Zendesk webhook; unset switches `/v1/webhooks/zendesk` off.
    #[arg(long, env = "KULANZ_ZENDESK_WEBHOOK_SECRET", hide_env_values = true)]
    pub zendesk_webhook_secret: Option<String>,
    /// Signing secret of the generic webhook; unset switches `/v1/webhooks/generic` off.
    #[arg(long, env = "KULANZ_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Accepted difference, in seconds, between a webhook's signed timestamp and now.
    #[arg(long, env = "KULANZ_WEBHOOK_TOLERANCE_SECS", default_value_t = crate::service::webhooks::DEFAULT_TOLERANCE_SECS)]
    pub webhook_tolerance_secs: u64,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    telemetry::init(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Application::build(&args.listen, &args.data.data_dir, &args.policy_dir).await?;
        let app = app.with_webhooks(crate::service::webhooks::WebhookConfig {
            zendesk_secret: args.zendesk_webhook_secret.clone(),
            generic_secret: args.webhook_secret.clone(),
            tolerance_secs: args.webhook_tolerance_secs,
        });
        for line in &app.report.refused {
            tracing::warn!(problem = %line, "policy refused");
        }
        let addr = app.local_addr()?;
        tracing::info!(%addr, policy = ?app.report.active, "kulanz listening");
        if args.demo {
            let demo = crate::demo::seed(&app.state.store, chrono::Utc::now())?;
            println!("{}", crate::demo::banner(&addr.to_string(), &demo));
            println!(
                "# The agent sidebar for S6, in German (open in a browser):\n{}\n",
                crate::http::widget::demo_url(&addr.to_string(), &demo.secret)
            );
        }
        app.run_until(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}
