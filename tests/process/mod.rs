//! The real `kulanz` binary as a child process, for tests that need what only a process
//! has: SIGKILL, its own memory and metric registry, its own open-file limit.
#![allow(dead_code)]

use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kulanz");
pub const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");

pub struct Server {
    pub child: Child,
    pub base: String,
    pub addr: String,
}

impl Server {
    /// `kulanz serve` on a free port over `data_dir`, with `extra` flags; `open_files`
    /// runs it under that `ulimit -n`. Returns once it logged the address it listens on.
    pub fn start(data_dir: &Path, extra: &[&str], open_files: Option<u32>) -> Server {
        let mut cmd = match open_files {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--policy-dir", POLICIES])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Result<String, String>>();
        // The server logs to this pipe until it dies; keep draining it so it never blocks.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let mut seen = Vec::new();
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(t) = tx.as_ref() {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["fields"]["message"] == "kulanz listening" {
                            let addr = v["fields"]["addr"].as_str().unwrap_or("").to_string();
                            let _ = t.send(Ok(addr));
                            tx = None;
                            continue;
                        }
                    }
                    seen.push(line);
                }
            }
            if let Some(t) = tx {
                let _ = t.send(Err(seen.join("\n")));
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(addr)) => addr,
            Ok(Err(log)) => panic!("server exited before listening:\n{log}"),
            Err(e) => panic!("server did not report its address: {e}"),
        };
        Server {
            child,
            base: format!("http://{addr}"),
            addr,
        }
    }

    pub async fn wait_ready(&self, client: &reqwest::Client) {
        // A guard against hanging forever, not a performance assertion.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server never became ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process's resident memory, in KiB (`VmRSS` in /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    pub fn kill(mut self) {
        // `Child::kill` is SIGKILL on Unix: no shutdown hook, no final flush.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
