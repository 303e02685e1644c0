//! `kulanz policy validate PATH` and `kulanz policy test [PATH]`.

use crate::policy::{cases, load, Problem};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file or every policy of a folder: schema, semantics, example cases.
    Validate {
        /// A policy file or a folder of them.
        path: PathBuf,
    },
    /// Static checks: dead rules, uncovered cases, the most each role can grant, and the
    /// monotonicity check (more value never gets less). Exit 1 on errors, not on warnings.
    Check {
        /// A policy file or a folder of them.
        #[arg(env = "KULANZ_POLICY_DIR", default_value = "./policies")]
        path: PathBuf,
    },
    /// Replay stored decisions under a candidate (a stored version or a policy file) and
    /// report what would change. Opens the store: run it while the server is stopped, or
    /// use `POST /v1/policies/{version}/backtest`.
    Backtest {
        /// A stored version (e.g. `2026.12.0`) or a policy file.
        version: String,
        /// First day to replay, `YYYY-MM-DD`.
        #[arg(long)]
        since: Option<String>,
        /// Day to stop before, `YYYY-MM-DD`.
        #[arg(long)]
        until: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: super::DataDir,
    },
    /// What changed between two policy files, rule by rule, in words.
    Diff {
        /// The old policy file.
        a: PathBuf,
        /// The new policy file.
        b: PathBuf,
    },
    /// Run every policy's example cases; prints `N passed, N failed` last.
    Test {
        /// A policy file or a folder of them.
        #[arg(env = "KULANZ_POLICY_DIR", default_value = "./policies")]
        path: PathBuf,
    },
}

fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let files = load::policy_files(path)?;
        if files.is_empty() {
            anyhow::bail!("no policy files (*.json) in `{}`", path.display());
        }
        Ok(files)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        anyhow::bail!("`{}` does not exist", path.display())
    }
}

fn print_problems(file: &Path, problems: &[Problem]) {
    for p in problems {
        println!("{}: {}: {}", file.display(), p.path, p.message);
    }
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Validate { path } => {
            let mut bad = 0;
            for file in files(&path)? {
                match load::from_file(&file) {
                    Ok(p) => eprintln!("ok: {} ({} {})", file.display(), p.id, p.version),
                    Err(e) => {
                        bad += 1;
                        print_problems(&file, &e.problems());
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        PolicyCommand::Backtest {
            version,
            since,
            until,
            json,
            data,
        } => super::backtest::run(&version, &since, &until, &data.data_dir, json),
        PolicyCommand::Diff { a, b } => {
            let read = |p: &Path| {
                load::read_file(p).map_err(|e| {
                    anyhow::anyhow!(
                        "{}: {}",
                        p.display(),
                        e.problems()
                            .iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                })
            };
            let (va, vb) = (read(&a)?, read(&b)?);
            let changes = crate::policy::diff::diff(&va, &vb);
            for line in &changes {
                println!("{line}");
            }
            println!("{} change(s)", changes.len());
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Check { path } => {
            let mut errors = 0;
            for file in files(&path)? {
                let policy = match load::read_file(&file).and_then(load::compile_value) {
                    Ok(p) => p,
                    Err(e) => {
                        print_problems(&file, &e.problems());
                        errors += 1;
                        continue;
                    }
                };
                let report = crate::policy::check::check(&policy);
                println!("{}: {} {}", file.display(), policy.id, policy.version);
                for p in &report.errors {
                    println!("  error:   {}: {}", p.path, p.message);
                }
                for p in &report.warnings {
                    println!("  warning: {}: {}", p.path, p.message);
                }
                let largest = report.largest_amount.as_deref().unwrap_or("0.00");
                println!(
                    "  largest single recommendation: {largest} {}",
                    policy.currency
                );
                for r in &report.by_role {
                    println!(
                        "  {:<10} grants alone up to {} {} (limit maximum {})",
                        r.role, r.alone_up_to, policy.currency, r.limit_max
                    );
                }
                println!(
                    "  monotonicity: {}",
                    if report.errors.is_empty() {
                        format!(
                            "no counterexample in {} sampled cases",
                            crate::policy::check::SAMPLES
                        )
                    } else {
                        "counterexample found (see error above)".to_string()
                    }
                );
                errors += report.errors.len();
            }
            Ok(if errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        PolicyCommand::Test { path } => {
            let (mut passed, mut failed) = (0usize, 0usize);
            for file in files(&path)? {
                let policy = match load::read_file(&file).and_then(load::compile_value) {
                    Ok(p) => p,
                    Err(e) => {
                        print_problems(&file, &e.problems());
                        failed += 1;
                        continue;
                    }
                };
                for r in cases::run(&policy) {
                    if r.passed() {
                        passed += 1;
                        println!("ok    {} {}: {}", policy.id, policy.version, r.name);
                    } else {
                        failed += 1;
                        println!("FAIL  {} {}: {}", policy.id, policy.version, r.name);
                        for f in &r.failures {
                            println!("        {f}");
                        }
                    }
                }
            }
            println!("{passed} passed, {failed} failed");
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
