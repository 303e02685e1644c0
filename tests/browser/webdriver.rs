//! A minimal W3C WebDriver client over reqwest, enough to drive Debian's chromedriver:
//! no extra crate, so the browser test costs the build nothing.

use base64::Engine;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a6e7-4b5c-a4b3-2d7d8b1e7f0b";
const WAIT: Duration = Duration::from_secs(20);

/// The window a session opens.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// 320 × 1600, emulating a help-desk sidebar.
    Sidebar,
    /// A desktop window, e.g. 1280 × 800 for a laptop, in a browser set to `lang`.
    #[allow(dead_code)]
    Laptop {
        width: u32,
        height: u32,
        lang: &'static str,
    },
}

pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    /// Set by `quit`, so `drop` does not end the session a second time.
    ended: std::sync::atomic::AtomicBool,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed assertion skips `quit`; end the session here too, or chromedriver's
        // death would orphan Chromium. Drop cannot await, so speak HTTP/1.1 by hand.
        let target = if self.ended.load(std::sync::atomic::Ordering::Relaxed) {
            None
        } else {
            self.session
                .strip_prefix("http://")
                .and_then(|r| r.split_once('/'))
        };
        if let Some((host, path)) = target {
            if let Ok(mut conn) = std::net::TcpStream::connect(host) {
                use std::io::{Read, Write};
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let req = format!(
                    "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = conn.write_all(req.as_bytes());
                let _ = conn.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Start chromedriver on a free port and open a headless Chromium session sized like
    /// a help-desk sidebar.
    pub async fn start() -> Browser {
        Browser::start_with(Window::Sidebar).await
    }

    /// A session in a window of this kind: a sidebar, or a laptop screen.
    pub async fn start_with(window: Window) -> Browser {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: run scripts/install-test-deps.sh (installs Debian's chromium and chromium-driver)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut b = Browser {
            driver,
            http: reqwest::Client::new(),
            session: format!("http://127.0.0.1:{port}"),
            ended: std::sync::atomic::AtomicBool::new(false),
            _profile: profile,
        };
        let base = b.session.clone();
        let start = Instant::now();
        while b.http.get(format!("{base}/status")).send().await.is_err() {
            assert!(start.elapsed() < WAIT, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            "--force-device-scale-factor=1".into(),
            format!("--user-data-dir={}", b._profile.path().display()),
        ];
        let mut options = json!({"binary": CHROMIUM});
        match window {
            Window::Sidebar => {
                // A help-desk sidebar is about 320 px wide; a desktop window cannot be that narrow.
                options["mobileEmulation"] =
                    json!({"deviceMetrics": {"width": 320, "height": 1600, "pixelRatio": 1.0}});
                args.push("--window-size=320,1600".into());
                args.push("--lang=en-US".into());
            }
            Window::Laptop {
                width,
                height,
                lang,
            } => {
                args.push(format!("--window-size={width},{height}"));
                args.push(format!("--lang={lang}"));
                options["prefs"] = json!({"intl.accept_languages": lang});
            }
        }
        options["args"] = json!(args);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options
        }}});
        let v = b.call("POST", &format!("{base}/session"), Some(caps)).await;
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        b.session = format!("{base}/session/{id}");
        b
    }

    async fn call(&self, method: &str, url: &str, body: Option<Value>) -> Value {
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v.get("value").cloned().unwrap_or(Value::Null)
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self
            .call(method, &format!("{}{path}", self.session), body)
            .await;
        if let Some(err) = v.get("error") {
            panic!("webdriver {path}: {err} {}", v["message"]);
        }
        v
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url}))).await;
    }

    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        // The W3C element reference is the single value of the returned object.
        v.get(ELEMENT)
            .or_else(|| v.as_object().and_then(|o| o.values().next()))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element for `{css}`: {v}"))
            .to_string()
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.script(
            "return document.querySelector(arguments[0]) !== null",
            json!([css]),
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    pub async fn wait_for(&self, css: &str) {
        let start = Instant::now();
        while !self.exists(css).await {
            assert!(start.elapsed() < WAIT, "`{css}` never appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the widget root reports `state`; fail with what it shows instead.
    pub async fn wait_state(&self, state: &str) {
        let start = Instant::now();
        loop {
            let now = self.attr("#kulanz", "data-state").await;
            if now == state {
                return;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "widget stayed `{now}`, expected `{state}`: {}",
                    self.text("#kulanz").await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn attr(&self, css: &str, name: &str) -> String {
        self.script(
            "var e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) || '' : '';",
            json!([css, name]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd("GET", &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})))
            .await;
    }

    /// Focus the element and press Enter, as a keyboard-only agent would.
    pub async fn press_enter(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": "\u{E007}"})),
        )
        .await;
    }

    /// Type into a field, as an agent would.
    pub async fn type_text(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Wait until the element's attribute has `value`; fail with what it has instead.
    #[allow(dead_code)]
    pub async fn wait_attr(&self, css: &str, name: &str, value: &str) {
        let start = Instant::now();
        loop {
            let now = self.attr(css, name).await;
            if now == value {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "`{css}` kept {name}=`{now}`, expected `{value}`"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until `script` (a function body with `arguments`) returns true.
    #[allow(dead_code)]
    pub async fn wait_true(&self, script: &str, args: Value) {
        let start = Instant::now();
        while self.script(script, args.clone()).await != json!(true) {
            assert!(start.elapsed() < WAIT, "never true: {script} {args}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Set a form field's value as the page sees a user's input (an `input` and a
    /// `change` event), for fields WebDriver cannot type into reliably (dates, selects).
    #[allow(dead_code)]
    pub async fn set_value(&self, css: &str, value: &str) {
        let done = self
            .script(
                "var e = document.querySelector(arguments[0]); if (!e) return false; e.value = arguments[1];
                 e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));
                 return e.value === arguments[1];",
                json!([css, value]),
            )
            .await;
        assert_eq!(done, json!(true), "could not set `{css}` to `{value}`");
    }

    /// The whole visible window as a PNG.
    #[allow(dead_code)]
    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn screenshot_of(&self, css: &str, path: &Path) {
        let id = self.find(css).await;
        let b64 = self
            .cmd("GET", &format!("/element/{id}/screenshot"), None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn quit(&self) {
        self.cmd("DELETE", "", None).await;
        self.ended.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
