//! The web dashboard in a real headless Chromium, driven over the WebDriver protocol
//! (chromedriver, plain HTTP): a project seeded through the real binary — two trained and
//! evaluated versions, a deployment with a shadow rollout waiting for approval, a sweep of
//! MLflow runs — then every page loads with no console error or uncaught exception, its charts
//! render as SVG, filtering, sorting and paging runs work, and clicking "approve" (with a typed
//! reason) promotes the candidate and lands in the audit trail. Screenshots of every page are
//! kept under `target/tmp/dashboard-screenshots/`.
//!
//! Chromium and chromedriver come from Debian's `chromium` and `chromium-driver` packages
//! (`AIDLC_CHROMIUM`, `AIDLC_CHROMEDRIVER` override the paths). Without them the test skips,
//! unless `AIDLC_REQUIRE_BROWSER=1` (CI), where it fails.

#[path = "common/binary.rs"]
#[allow(dead_code)] // each test binary uses a part of it
mod binary;

use base64::Engine;
use binary::{aidlc, run, start};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The browser and its driver, or `None` (the test skips) when they are not installed.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let path = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(default))
    };
    let chromium = path("AIDLC_CHROMIUM", "/usr/bin/chromium");
    let driver = path("AIDLC_CHROMEDRIVER", "/usr/bin/chromedriver");
    if chromium.is_file() && driver.is_file() {
        return Some((chromium, driver));
    }
    assert!(
        std::env::var("AIDLC_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "AIDLC_REQUIRE_BROWSER=1 but {} or {} is missing (apt-get install chromium chromium-driver)",
        chromium.display(),
        driver.display()
    );
    eprintln!("skipping the browser test: chromium or chromedriver is not installed");
    None
}

/// One HTTP/1.1 request on its own connection; the status and the body. The body is read by
/// its length or its chunks, since a server may keep the connection open.
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let payload = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"));
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body).unwrap();
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn api(addr: &str, path: &str, body: Value) -> Value {
    let (status, text) = http(addr, "POST", path, Some(&body));
    assert_eq!(status, 200, "POST {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A chromedriver process and one browser session in it.
struct Browser {
    driver: Child,
    addr: String,
    session: String,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while TcpStream::connect(&addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--disable-background-networking", "--window-size=1400,1100",
                ],
            },
        }}});
        let (status, body) = http(&addr, "POST", "/session", Some(&caps));
        assert_eq!(status, 200, "new session: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let session = v["value"]["sessionId"].as_str().unwrap().to_string();
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            addr,
            session,
            shots,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let (status, text) = http(&self.addr, method, &full, body.as_ref());
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Waits for the dashboard script to have run on the current page.
    fn wait_ready(&self) {
        let started = Instant::now();
        while self.eval("return document.body && document.body.getAttribute('data-ready')")
            != json!("1")
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the dashboard script did not finish on {}",
                self.eval("return location.href")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Marks the current document, so [`Browser::wait_navigated`] can tell the next one from it
    /// (after a click the old page still says it is ready until the new one replaces it).
    fn mark_stale(&self) {
        self.eval("document.body.setAttribute('data-stale', '1'); return null");
    }

    /// Waits until a new document replaced the marked one and its script finished.
    fn wait_navigated(&self) {
        let started = Instant::now();
        while self.eval(
            "return !!document.body && !document.body.hasAttribute('data-stale') && document.body.getAttribute('data-ready') === '1'",
        ) != json!(true)
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no new page after the click on {}",
                self.eval("return location.href")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {v}"))
            .to_string()
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// The browser's console since the last call, as chromedriver collects it.
    fn console(&self) -> Vec<Value> {
        self.call("POST", "/se/log", Some(json!({"type": "browser"})))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Opens a page, waits for its script, checks it ran clean and its charts rendered, and
    /// keeps a screenshot. Answers the number of SVG elements drawn.
    fn check_page(&self, base: &str, path: &str, name: &str) -> u64 {
        self.go(&format!("{base}{path}"));
        self.wait_ready();
        let errors = self.eval("return document.body.getAttribute('data-errors')");
        assert_eq!(errors, json!("[]"), "{path}: page errors {errors}");
        let severe: Vec<Value> = self
            .console()
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .collect();
        assert!(severe.is_empty(), "{path}: console errors {severe:?}");
        let charts = self.eval("return document.querySelectorAll('[data-chart]').length");
        let rendered =
            self.eval("return document.querySelectorAll('[data-chart][data-rendered] svg').length");
        assert_eq!(charts, rendered, "{path}: every chart renders an SVG");
        let status = self.eval("return document.title");
        assert!(
            !status.as_str().unwrap_or("").starts_with("Not Found"),
            "{path}: {status}"
        );
        self.screenshot(name);
        self.eval("return document.querySelectorAll('svg').length")
            .as_u64()
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = std::panic::catch_unwind(|| http(&self.addr, "DELETE", &path, None));
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The rainfall project: v1 trained on the early days and serving `rain` as champion, v2
/// trained on all days as challenger, rolled out through a shadow step that needs approval.
fn project(dir: &Path) {
    run(dir, &["init", "--example", "rainfall"]);
    let spec = std::fs::read_to_string(dir.join("aidlc.toml"))
        .unwrap()
        .replace("n_trees = 300", "n_trees = 40");
    let spec = spec
        + "\n[deploy]\nsteps = [\"shadow\"]\ninterval = \"1s\"\nmin_requests = 20\napproval = \"required\"\n";
    std::fs::write(dir.join("aidlc.toml"), spec).unwrap();
    run(dir, &["check"]);
    let all = std::fs::read_to_string(dir.join("data/rainfall.csv")).unwrap();
    let early: Vec<&str> = all.lines().take(6001).collect();
    std::fs::write(dir.join("data/early.csv"), early.join("\n") + "\n").unwrap();
    run(dir, &["train", "--data", "data/early.csv"]);
    // The gates may or may not pass for a small model; the dashboard shows either.
    let _ = aidlc(dir)
        .args(["evaluate", "rainfall/1"])
        .output()
        .unwrap();
    run(
        dir,
        &[
            "models",
            "alias",
            "rainfall",
            "champion",
            "1",
            "--override",
            "first model",
        ],
    );
    run(dir, &["deploy", "rain", "--model", "rainfall"]);
    run(dir, &["train", "--data", "data/rainfall.csv"]);
    let _ = aidlc(dir)
        .args(["evaluate", "rainfall/2"])
        .output()
        .unwrap();
    run(dir, &["models", "alias", "rainfall", "challenger", "2"]);
}

/// The server process, stopped when the test ends, whether it passed or not.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A sweep of 12 MLflow runs in experiment `sweep`: `lr` in {0.01, 0.1, 1}, `acc` logged at
/// steps 0..5 ending at `0.4 + i / 20`. Answers the run ids in creation order.
fn sweep(addr: &str) -> Vec<String> {
    let exp = api(
        addr,
        "/api/2.0/mlflow/experiments/create",
        json!({"name": "sweep"}),
    )["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    (0..12)
        .map(|i| {
            let run = api(
                addr,
                "/api/2.0/mlflow/runs/create",
                json!({"experiment_id": exp, "run_name": format!("sweep-{i:02}"), "start_time": 1_000 + i}),
            );
            let id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
            let lr = ["0.01", "0.1", "1"][i % 3];
            let last = 0.4 + i as f64 / 20.0;
            let metrics: Vec<Value> = (0..6)
                .map(|step| {
                    json!({"key": "acc", "value": last - (5 - step) as f64 * 0.03, "timestamp": 2_000 + step, "step": step})
                })
                .collect();
            api(
                addr,
                "/api/2.0/mlflow/runs/log-batch",
                json!({"run_id": id, "params": [{"key": "lr", "value": lr}], "metrics": metrics}),
            );
            api(
                addr,
                "/api/2.0/mlflow/runs/update",
                json!({"run_id": id, "status": "FINISHED", "end_time": 5_000 + i}),
            );
            id
        })
        .collect()
}

/// Rows of the rainfall file as one-row scoring bodies.
fn bodies(dir: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("data/rainfall.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .take(n)
        .map(|line| {
            let pairs: Vec<String> = header
                .iter()
                .zip(line.split(','))
                .filter(|(h, _)| **h != "rain")
                .map(|(h, v)| format!("\"{h}\": {v}"))
                .collect();
            format!(r#"{{"dataframe_records": [{{{}}}]}}"#, pairs.join(", "))
        })
        .collect()
}

fn rollout_status(dir: &Path) -> Value {
    serde_json::from_str(&run(dir, &["--json", "deploy", "status", "rain"])).unwrap()
}

#[test]
fn every_page_renders_clean_and_an_approval_click_promotes() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    let (server, addr) = start(d);
    let mut server = Server(server);
    let base = format!("http://{addr}");
    let runs = sweep(&addr);
    // A run whose name is markup: the pages must show it as text.
    api(
        &addr,
        "/api/2.0/mlflow/runs/create",
        json!({"experiment_id": "0", "run_name": "<b id=injected>bold</b>", "start_time": 500}),
    );

    // Shadow traffic until the rollout has passed its step and waits for a person.
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (addr, stop, bodies) = (addr.clone(), Arc::clone(&stop), bodies(d, 200));
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                // An answer that is not a 200 shows up as a rollout that never passes.
                http(
                    &addr,
                    "POST",
                    "/endpoints/rain/invocations",
                    Some(&serde_json::from_str(&bodies[i % bodies.len()]).unwrap()),
                );
                i += 1;
            }
        })
    };
    run(
        d,
        &[
            "deploy",
            "rain",
            "--version",
            "2",
            "--strategy",
            "shadow",
            "--override",
            "dashboard test",
        ],
    );
    let started = Instant::now();
    loop {
        let s = rollout_status(d);
        if s["rollout"]["status"] == "awaiting_approval" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "rollout did not reach approval: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();

    let b = Browser::start(&chromium, &chromedriver);

    // The root redirects to the dashboard, whose home shows the pending approval.
    b.check_page(&base, "/", "home");
    assert_eq!(b.eval("return location.pathname"), json!("/ui"));
    assert_eq!(
        b.eval("return document.querySelector('#pending-approvals .big').textContent"),
        json!("1")
    );
    let stages = b.eval("return document.querySelectorAll('article.model li.stage').length");
    assert_eq!(stages, json!(6), "the six stages of the loop");

    // Datasets: a histogram per numeric column of the rainfall data.
    b.check_page(&base, "/ui/datasets", "datasets");
    let svgs = b.check_page(&base, "/ui/datasets/rainfall", "dataset-rainfall");
    assert!(svgs >= 9, "{svgs} charts on the dataset page");
    let bars = b.eval("return document.querySelectorAll('.chart svg rect.bar').length");
    assert!(bars.as_u64().unwrap() >= 9 * 10, "histogram bars: {bars}");

    // Runs: the table, a filter typed into the form, sorting and paging.
    b.check_page(&base, "/ui/runs", "runs");
    let rows = b.eval("return document.querySelectorAll('#runs tbody tr').length");
    assert_eq!(
        rows,
        json!(15),
        "12 sweep runs, 2 training runs, the markup one"
    );
    assert_eq!(
        b.eval("return document.querySelector('#injected') === null && document.body.textContent.includes('<b id=injected>bold</b>')"),
        json!(true),
        "a run name is escaped, not interpreted"
    );
    let input = b.find("#run-filter input[name=filter]");
    b.call(
        "POST",
        &format!("/element/{input}/value"),
        Some(json!({"text": "metrics.acc > 0.8 and params.lr = '0.1'"})),
    );
    let submit = b.find("#run-filter button[type=submit]");
    b.mark_stale();
    b.call("POST", &format!("/element/{submit}/click"), Some(json!({})));
    b.wait_navigated();
    // acc ends at 0.4 + i/20: above 0.8 for i ≥ 9; lr = 0.1 for i ≡ 1 (mod 3): run 10 only.
    let names = b.eval(
        "return Array.from(document.querySelectorAll('#runs tbody tr td:nth-child(2)')).map(td => td.textContent)",
    );
    assert_eq!(names, json!(["sweep-10"]), "filtered runs");
    assert!(
        b.eval("return location.search")
            .as_str()
            .unwrap()
            .contains("filter="),
        "the filter is in the URL"
    );
    b.screenshot("runs-filtered");
    b.check_page(
        &base,
        "/ui/runs?filter=params.lr%20%3D%20%271%27&order=metrics.acc%20DESC",
        "runs-sorted",
    );
    let names = b.eval(
        "return Array.from(document.querySelectorAll('#runs tbody tr td:nth-child(2)')).map(td => td.textContent)",
    );
    assert_eq!(
        names,
        json!(["sweep-11", "sweep-08", "sweep-05", "sweep-02"]),
        "lr = 1 runs, best accuracy first"
    );
    b.check_page(
        &base,
        "/ui/runs?filter=attributes.run_name%20LIKE%20%27sweep%25%27&order=attributes.run_name%20ASC&size=5",
        "runs-page-1",
    );
    let next = b.find("#next-page");
    b.mark_stale();
    b.call("POST", &format!("/element/{next}/click"), Some(json!({})));
    b.wait_navigated();
    let names = b.eval(
        "return Array.from(document.querySelectorAll('#runs tbody tr td:nth-child(2)')).map(td => td.textContent)",
    );
    assert_eq!(
        names,
        json!(["sweep-05", "sweep-06", "sweep-07", "sweep-08", "sweep-09"]),
        "the second page"
    );
    let invalid = b.check_page(
        &base,
        "/ui/runs?filter=metrics.acc%20%3E%20",
        "runs-invalid",
    );
    assert_eq!(invalid, 0);
    assert!(
        b.eval("return document.querySelector('#filter-error').textContent")
            .as_str()
            .unwrap()
            .contains("Invalid filter")
    );

    // A run's metric history and two runs compared.
    let svgs = b.check_page(&base, &format!("/ui/runs/{}", runs[3]), "run");
    assert_eq!(svgs, 1, "the acc history chart");
    let points = b.eval("return document.querySelectorAll('.chart svg circle').length");
    assert_eq!(points, json!(6), "one point per logged step");
    let svgs = b.check_page(
        &base,
        &format!("/ui/compare?run={}&run={}", runs[0], runs[11]),
        "compare",
    );
    assert_eq!(svgs, 1);
    let lines = b.eval("return document.querySelectorAll('.chart svg path.line').length");
    assert_eq!(lines, json!(2), "one line per compared run");

    // Models, a version's lineage graph with its card, the evaluations.
    b.check_page(&base, "/ui/models", "models");
    b.check_page(&base, "/ui/models/rainfall", "model");
    b.check_page(&base, "/ui/models/rainfall/versions/1", "version-1");
    let nodes = b.eval(
        "return Array.from(document.querySelectorAll('svg.lineage g.node')).map(g => g.getAttribute('data-stage') + (g.classList.contains('missing') ? ':missing' : ''))",
    );
    assert_eq!(
        nodes,
        json!([
            "dataset",
            "split",
            "run",
            "commit:missing",
            "evaluation",
            "approval",
            "deployment"
        ]),
        "the lineage of version 1 (no git repository in the test folder)"
    );
    // The card is the same self-contained page `aidlc report` writes: no dashboard script.
    b.go(&format!("{base}/ui/models/rainfall/versions/1/card"));
    assert!(
        b.eval("return document.title")
            .as_str()
            .unwrap()
            .starts_with("Model card"),
    );
    assert!(
        b.console().iter().all(|e| e["level"] != "SEVERE"),
        "the card loads clean"
    );
    b.screenshot("card");
    b.check_page(&base, "/ui/evaluations", "evaluations");

    // Deployments: the rollout waiting for approval, with its analyses charted.
    b.check_page(&base, "/ui/deployments", "deployments");
    let svgs = b.check_page(&base, "/ui/deployments/rain", "deployment-before");
    assert_eq!(svgs, 2, "disagreement and latency charts");
    assert_eq!(
        b.eval("return document.querySelector('#rollout').getAttribute('data-status')"),
        json!("awaiting_approval")
    );

    // The approval click: the reason typed into the form, the button pressed, the page reloads
    // with the candidate promoted.
    let reason = b.find("form[data-action=approve] input[name=reason]");
    b.call(
        "POST",
        &format!("/element/{reason}/value"),
        Some(json!({"text": "shadow agreed with production"})),
    );
    let approve = b.find("form[data-action=approve] button");
    b.call(
        "POST",
        &format!("/element/{approve}/click"),
        Some(json!({})),
    );
    let started = Instant::now();
    loop {
        let status = b.eval(
            "var r = document.querySelector('#rollout'); return r && document.body.getAttribute('data-ready') === '1' ? r.getAttribute('data-status') : null",
        );
        if status == json!("promoted") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the approval did not promote: {status}, form result {}",
            b.eval("var f = document.querySelector('form[data-action=approve]'); return f && f.getAttribute('data-result') + ' ' + f.querySelector('output').textContent")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    b.check_page(&base, "/ui/deployments/rain", "deployment-after");
    assert_eq!(
        b.eval("return document.querySelector('#production-version').textContent"),
        json!("v2")
    );
    assert_eq!(rollout_status(d)["production_version"], 2);

    // The decision is in the audit trail, with its reason, and the chain verifies.
    b.check_page(&base, "/ui/audit?object=deployment:rain", "audit");
    let approvals = b.eval(
        "return Array.from(document.querySelectorAll('tbody tr')).filter(tr => tr.textContent.includes('rollout.approve')).map(tr => tr.textContent)",
    );
    let approvals = approvals.as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert!(
        approvals[0]
            .as_str()
            .unwrap()
            .contains("shadow agreed with production"),
        "{approvals:?}"
    );
    assert_eq!(
        b.eval("return document.querySelector('#audit-verify').getAttribute('data-ok')"),
        json!("true")
    );
    let cli = run(
        d,
        &["--json", "audit", "list", "--object", "deployment:rain"],
    );
    assert!(cli.contains("shadow agreed with production"), "{cli}");

    b.check_page(&base, "/ui/alerts", "alerts");
    b.check_page(&base, "/ui/monitoring", "monitoring");

    drop(b);
    // A clean shutdown after all of it.
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.0.wait().unwrap().success());
}
