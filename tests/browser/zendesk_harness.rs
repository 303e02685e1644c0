//! A stand-in for Zendesk around the ZAF app: serves `integrations/zendesk/assets` with a
//! fake `ZAFClient` in place of Zendesk's SDK, and a proxy that, like Zendesk's, swaps
//! `{{setting.api_key}}` for the secure setting server-side. So the browser test runs the
//! app's real `zendesk.js` and proves the key never reaches the page. For the signed app,
//! `/signed.html` does what Zendesk does on the iframe's first load: it posts a token to
//! the app's URL (kulanz's `/zendesk/app`), whose page then loads `/fake_zaf.js` from here.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, Mutex};

const FAKE_ZAF: &str = r#"
window.ZAFClient = { init: function () {
  var D = window.__ZAF;
  return {
    metadata: function () { return Promise.resolve({ settings: D.settings }); },
    get: function (paths) {
      var out = {}; paths.forEach(function (p) { out[p] = D.data[p]; });
      return Promise.resolve(out);
    },
    invoke: function () { return Promise.resolve(); },
    on: function () {},
    request: function (opts) {
      return fetch('/proxy', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(opts) })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          if (res.status >= 200 && res.status < 300) return res.body;
          return Promise.reject({ status: res.status, responseJSON: res.body });
        });
    }
  };
} };
"#;

#[derive(Clone)]
struct Harness {
    key: String,
    zaf: Value,
    /// Every request the app sent through the proxy, as the app sent it.
    seen: Arc<Mutex<Vec<Value>>>,
}

fn asset(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/zendesk/assets");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Serve the app with `zaf` as the ticket data and settings; returns the base URL and
/// the log of proxied requests.
pub async fn start(key: String, zaf: Value) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let h = Harness {
        key,
        zaf,
        seen: seen.clone(),
    };
    let js = |name: &'static str| {
        get(move || async move { ([(header::CONTENT_TYPE, "text/javascript")], asset(name)) })
    };
    let app = Router::new()
        .route(
            "/iframe.html",
            get(|| async {
                let html = asset("iframe.html");
                let sdk =
                    "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js";
                assert!(html.contains(sdk), "iframe.html loads the SDK from Zendesk");
                let html = html.replace(sdk, "fake_zaf.js");
                ([(header::CONTENT_TYPE, "text/html")], html)
            }),
        )
        .route("/widget.js", js("widget.js"))
        .route("/zendesk.js", js("zendesk.js"))
        .route(
            "/widget.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], asset("widget.css")) }),
        )
        .route("/fake_zaf.js", get(fake_zaf))
        .route("/signed.html", get(signed))
        .route("/proxy", post(proxy))
        .with_state(h);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), seen)
}

async fn fake_zaf(State(h): State<Harness>) -> impl IntoResponse {
    let js = format!("window.__ZAF = {};\n{FAKE_ZAF}", h.zaf);
    ([(header::CONTENT_TYPE, "text/javascript")], js)
}

/// Post `token` to the app's URL `to`, as Zendesk loads a signed-URL app (here into the
/// top window rather than an iframe: the page cannot tell, and the test reads it simply).
async fn signed(Query(q): Query<std::collections::HashMap<String, String>>) -> impl IntoResponse {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let html = format!(
        r#"<!doctype html><form id="zd" method="post" action="{}"><input type="hidden" name="token" value="{}"></form><script>document.getElementById('zd').submit();</script>"#,
        esc(&q["to"]),
        esc(&q["token"])
    );
    ([(header::CONTENT_TYPE, "text/html")], html)
}

/// Zendesk's proxy: only `secure: true` requests get the secret, substituted here.
async fn proxy(State(h): State<Harness>, Json(opts): Json<Value>) -> Json<Value> {
    h.seen.lock().unwrap().push(opts.clone());
    let auth = opts["headers"]["Authorization"]
        .as_str()
        .unwrap_or_default();
    let auth = if opts["secure"] == true {
        auth.replace("{{setting.api_key}}", &h.key)
    } else {
        auth.to_string()
    };
    let client = reqwest::Client::new();
    let url = opts["url"].as_str().unwrap();
    let mut req = match opts["type"].as_str().unwrap_or("GET") {
        "POST" => client.post(url),
        _ => client.get(url),
    }
    .header("authorization", auth);
    if let Some(data) = opts["data"].as_str() {
        req = req
            .header(
                "content-type",
                opts["contentType"].as_str().unwrap_or("application/json"),
            )
            .body(data.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    Json(json!({"status": status, "body": body}))
}
