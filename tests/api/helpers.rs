//! `spawn_app()`: the real application, on a free port, over a fresh store.

use kulanz::startup::Application;
use kulanz::store::keys::Scope;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// Keys with exactly one scope each, and one with every scope.
    pub decide_key: String,
    pub ingest_key: String,
    pub admin_key: String,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

pub fn policy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

/// Start the app over a new data directory with the shipped policies and the seed
/// scenarios' customers.
pub async fn spawn_app() -> TestApp {
    seeded(start(tempfile::tempdir().unwrap()).await).await
}

/// `spawn_app`, pushing at-risk customers to a webhook.
pub async fn spawn_app_pushing(push: kulanz::service::at_risk_push::PushConfig) -> TestApp {
    let app = start_full(
        tempfile::tempdir().unwrap(),
        &policy_dir(),
        None,
        Some(push),
        None,
    )
    .await;
    seeded(app).await
}

/// `spawn_app`, serving the Zendesk app's signed page.
pub async fn spawn_app_with_zendesk(zendesk: kulanz::service::zendesk_app::ZendeskApp) -> TestApp {
    let app = start_full(
        tempfile::tempdir().unwrap(),
        &policy_dir(),
        None,
        None,
        Some(zendesk),
    )
    .await;
    seeded(app).await
}

async fn seeded(app: TestApp) -> TestApp {
    for (id, record) in kulanz::demo::scenario_customers().unwrap() {
        let r = app
            .put_customer(&id, serde_json::to_value(record).unwrap())
            .await;
        assert_eq!(r.status(), 201, "seeding {id}");
    }
    app
}

/// Start the app over an existing data directory (for restart tests).
pub async fn start(dir: tempfile::TempDir) -> TestApp {
    start_with(dir, &policy_dir(), None).await
}

/// Start over `dir` with the policies of `policies`, optionally watching that folder.
pub async fn start_with(
    dir: tempfile::TempDir,
    policies: &Path,
    watch: Option<std::time::Duration>,
) -> TestApp {
    start_full(dir, policies, watch, None, None).await
}

async fn start_full(
    dir: tempfile::TempDir,
    policies: &Path,
    watch: Option<std::time::Duration>,
    push: Option<kulanz::service::at_risk_push::PushConfig>,
    zendesk: Option<kulanz::service::zendesk_app::ZendeskApp>,
) -> TestApp {
    let mut app = Application::build("127.0.0.1:0", dir.path(), policies)
        .await
        .expect("app builds");
    if let Some(zendesk) = zendesk {
        app = app.with_zendesk_app(zendesk);
    }
    if let Some(interval) = watch {
        app.watch_policies(policies, interval);
    }
    if let Some(cfg) = push {
        app.push_at_risk(cfg);
    }
    let store = app.state.store.clone();
    let key =
        |name: &str, scopes: Vec<Scope>| kulanz::cli::create_key(&store, name, scopes).unwrap();
    let decide_key = key("test-decide", vec![Scope::Decide]);
    let ingest_key = key("test-ingest", vec![Scope::Ingest]);
    let admin_key = key("test-admin", Scope::ALL.to_vec());
    drop(store);
    let addr = app.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        decide_key,
        ingest_key,
        admin_key,
        data_dir: dir,
        stop: Some(tx),
        done: Some(done),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stop gracefully (flushing the store) and hand back the data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data_dir, dir)
    }

    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/customers/import` with an NDJSON body.
    pub async fn import(&self, body: String) -> reqwest::Response {
        self.client
            .post(self.url("/v1/customers/import"))
            .bearer_auth(&self.ingest_key)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A raw body with a content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: String,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.decide_key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// GET and parse the body as JSON (whatever the status).
    pub async fn get_json(&self, path: &str, key: &str) -> Value {
        self.get(path, key).await.json().await.unwrap()
    }

    /// Activate a stored policy version.
    pub async fn activate(&self, version: &str) -> reqwest::Response {
        let path = format!("/v1/policies/{version}/activate");
        self.post_json(&path, &self.admin_key, &serde_json::json!({}))
            .await
    }

    /// The Prometheus text of `/metrics` (no key needed).
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_customer(&self, id: &str, record: Value) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/v1/customers/{id}")))
            .bearer_auth(&self.ingest_key)
            .json(&record)
            .send()
            .await
            .unwrap()
    }

    pub async fn decide(&self, body: &Value) -> reqwest::Response {
        self.post_json("/v1/decisions", &self.decide_key, body)
            .await
    }

    /// Decide and return the JSON answer, failing the test on a non-200.
    pub async fn decide_ok(&self, body: &Value) -> Value {
        let r = self.decide(body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{v:#}");
        v
    }
}

/// A decision request; callers adjust fields.
pub fn request(customer: &str, category: &str, fault: &str, amount: &str) -> Value {
    json!({
        "ticket_id": "T-1",
        "customer_id": customer,
        "agent": {"id": "a-17", "role": "agent"},
        "complaint": {
            "category": category, "severity": "medium", "channel": "email", "fault": fault,
            "amount_at_stake": {"amount": amount, "currency": "EUR"}
        }
    })
}

pub fn eur(amount: &str) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

/// Assert the contract's error body and return its message.
pub async fn expect_error(r: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], code, "{v:#}");
    assert!(v["error"]["details"].is_array(), "{v:#}");
    v["error"]["message"].as_str().unwrap().to_string()
}
