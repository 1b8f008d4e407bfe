//! The web dashboard in a real headless Chromium, driven over the WebDriver protocol
//! (chromedriver, plain HTTP), against `aidlc server` started in a folder `aidlc demo` built:
//! the demo's year and a half of replayed traffic (alerts, two dozen retraining runs, a canary
//! promoted), plus a retraining run waiting for approval (the team asks for approval from now
//! on) and a sweep of MLflow runs. Every page loads with no console error or uncaught
//! exception and its charts render as SVG; filtering, sorting and paging runs work; and the
//! decisions are clicked with a typed reason — reject one retraining run, approve the next
//! and roll its canary back, promote a version that failed its gates (refused, then
//! overridden) — each changing state and landing in the audit trail. Screenshots of every page
//! are kept under `target/tmp/dashboard-screenshots/` (the path is printed).
//!
//! Chromium and chromedriver come from Debian's `chromium` and `chromium-driver` packages
//! (`AIDLC_CHROMIUM`, `AIDLC_CHROMEDRIVER` override the paths). Without them the test skips,
//! unless `AIDLC_REQUIRE_BROWSER=1` (CI), where it fails.

#[path = "common/binary.rs"]
#[allow(dead_code)] // each test binary uses a part of it
mod binary;

use base64::Engine;
use binary::{run, start};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// The demo's folder, and a retraining run waiting for approval in it: the team asks for
/// approval of retraining runs from now on (and retrains on demand, not monthly), and the run
/// retrains on the data of the demo's one successful retraining, so its challenger passes the
/// gates against the champion that retraining made. Answers the demo's timeline.
fn seed(dir: &Path) -> String {
    run(
        dir,
        &["demo", "--days", "700", "--dir", &dir.display().to_string()],
    );
    let timeline = std::fs::read_to_string(dir.join("timeline.txt")).unwrap();
    let spec = std::fs::read_to_string(dir.join("aidlc.toml")).unwrap();
    let spec = spec
        .replace("[iterate]\n", "[iterate]\napproval = \"required\"\n")
        .replace("schedule = \"0 0 1 * *\"\n", "");
    std::fs::write(dir.join("aidlc.toml"), spec).unwrap();
    let all = std::fs::read_to_string(dir.join("data/rainfall.csv")).unwrap();
    // The demo wrote the data known on the day of its retraining that passed (day 12448).
    let seen: Vec<&str> = all.lines().take(12_449).collect();
    std::fs::write(dir.join("data/seen.csv"), seen.join("\n") + "\n").unwrap();
    wait_for_approval(dir);
    timeline
}

/// Runs the retraining pipeline on the current data; it must stop for approval.
fn wait_for_approval(dir: &Path) -> Value {
    let out: Value = serde_json::from_str(&run(dir, &["--json", "loop", "run"])).unwrap();
    assert_eq!(out["status"], "awaiting_approval", "{out:#}");
    out
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

fn get(addr: &str, path: &str) -> Value {
    let (status, text) = http(addr, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The newest retraining run of the demo's model, through the API.
fn latest_pipeline(addr: &str) -> Value {
    get(addr, "/api/v1/pipelines?model=rainfall&limit=1")["pipelines"][0].clone()
}

/// The texts of the rows of the table under `css`.
fn rows(b: &Browser, css: &str) -> Vec<String> {
    let v = b.eval(&format!(
        "return Array.from(document.querySelectorAll({css:?})).map(tr => tr.textContent)"
    ));
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

impl Browser {
    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Types `reason` into the decision form `form` and presses its button; the page reloads
    /// when the API accepted the decision.
    fn decide(&self, form: &str, reason: &str) {
        self.type_into(&format!("{form} input[name=reason]"), reason);
        self.mark_stale();
        self.click(&format!("{form} button"));
        let started = Instant::now();
        while self.eval(
            "return !!document.body && !document.body.hasAttribute('data-stale') && document.body.getAttribute('data-ready') === '1'",
        ) != json!(true)
        {
            let result = self.eval(&format!(
                "var f = document.querySelector({form:?}); return f && f.getAttribute('data-result') !== 'ok' && f.getAttribute('data-result') ? f.querySelector('output').textContent : null"
            ));
            assert!(result.is_null(), "{form}: the decision was refused: {result}");
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{form}: no new page after the decision"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let errors = self.eval("return document.body.getAttribute('data-errors')");
        assert_eq!(errors, json!("[]"), "after {form}: page errors {errors}");
    }
}

#[test]
fn the_demo_story_renders_clean_and_decisions_land_in_the_audit_trail() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let timeline = seed(d);
    assert!(timeline.contains(": promoted"), "{timeline}");
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
    let model = get(&addr, "/api/v1/models/rainfall");
    let versions = model["versions"].as_array().unwrap().len();
    let champion = model["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alias"] == "champion")
        .unwrap()["version"]
        .as_i64()
        .unwrap();
    assert!(champion > 1, "the demo promoted a retrained champion");
    let waiting = latest_pipeline(&addr);
    let challenger = waiting["state"]["challenger"].as_i64().unwrap();
    assert_eq!(
        challenger as usize, versions,
        "the waiting run's challenger is the newest"
    );

    let b = Browser::start(&chromium, &chromedriver);
    println!("dashboard screenshots: {}", b.shots.display());

    // The root redirects to the home page: the loop at a glance and what needs a decision.
    b.check_page(&base, "/", "home");
    assert_eq!(b.eval("return location.pathname"), json!("/ui"));
    assert_eq!(
        b.eval("return document.querySelector('#pending-approvals .big').textContent"),
        json!("1")
    );
    let stages = b.eval(
        "return Array.from(document.querySelectorAll('article.model li.stage')).map(li => li.getAttribute('data-stage'))",
    );
    assert_eq!(
        stages,
        json!([
            "framing",
            "data",
            "development",
            "evaluation",
            "deployment",
            "monitoring",
            "iteration"
        ]),
        "the stages of the loop"
    );
    let stage = |name: &str| {
        b.eval(&format!(
            "return document.querySelector('li.stage[data-stage={name}]').textContent"
        ))
        .as_str()
        .unwrap()
        .to_string()
    };
    assert!(
        stage("framing").contains("check passed"),
        "{}",
        stage("framing")
    );
    let deployment = stage("deployment");
    assert!(
        deployment.contains(&format!("champion v{champion}"))
            && deployment.contains(&format!(
                "challenger v{challenger} (pipeline, awaiting approval)"
            ))
            && deployment.contains(&format!("rain serves v{champion}")),
        "{deployment}"
    );
    let monitoring = stage("monitoring");
    assert!(
        monitoring.contains("open alerts") && monitoring.contains("features drifted"),
        "the demo's alerts and the last window's drift: {monitoring}"
    );
    assert!(stage("iteration").contains("awaiting_approval"));
    let pending = b.eval(
        "return Array.from(document.querySelectorAll('ul.pending li')).map(li => [li.getAttribute('data-kind'), li.querySelector('a').getAttribute('href')])",
    );
    assert_eq!(
        pending,
        json!([["pipeline", "/ui/models/rainfall#pipeline-approval"]])
    );

    // Datasets: a histogram per numeric column of the early years.
    b.check_page(&base, "/ui/datasets", "datasets");
    let svgs = b.check_page(&base, "/ui/datasets/early", "dataset-early");
    assert!(svgs >= 9, "{svgs} charts on the dataset page");
    let bars = b.eval("return document.querySelectorAll('.chart svg rect.bar').length");
    assert!(bars.as_u64().unwrap() >= 9 * 10, "histogram bars: {bars}");
    b.check_page(&base, "/ui/datasets/rainfall-recent", "dataset-recent");

    // Runs: the table, a filter typed into the form, sorting and paging.
    b.check_page(&base, "/ui/runs", "runs");
    let table = b.eval("return document.querySelectorAll('#runs tbody tr').length");
    assert_eq!(
        table,
        json!(versions + 13),
        "a training run per version, 12 sweep runs, the markup one"
    );
    assert_eq!(
        b.eval("return document.querySelector('#injected') === null && document.body.textContent.includes('<b id=injected>bold</b>')"),
        json!(true),
        "a run name is escaped, not interpreted"
    );
    b.type_into(
        "#run-filter input[name=filter]",
        "metrics.acc > 0.8 and params.lr = '0.1'",
    );
    b.mark_stale();
    b.click("#run-filter button[type=submit]");
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
    b.mark_stale();
    b.click("#next-page");
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

    // Models: the champion's lineage graph, from its data to its deployment, and its card.
    b.check_page(&base, "/ui/models", "models");
    b.check_page(
        &base,
        &format!("/ui/models/rainfall/versions/{champion}"),
        "version-champion",
    );
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
        "the lineage of the champion (the demo folder is no git repository)"
    );
    // The card is the same self-contained page `aidlc report` writes: no dashboard script.
    b.go(&format!(
        "{base}/ui/models/rainfall/versions/{champion}/card"
    ));
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

    // Deployments: the demo's canary, its analyses charted.
    b.check_page(&base, "/ui/deployments", "deployments");
    let svgs = b.check_page(&base, "/ui/deployments/rain", "deployment");
    assert_eq!(svgs, 2, "disagreement and latency charts");
    assert_eq!(
        b.eval("return document.querySelector('#rollout').getAttribute('data-status')"),
        json!("promoted")
    );
    assert!(
        b.eval("return document.querySelectorAll('table tbody tr').length")
            .as_u64()
            .unwrap()
            >= 2,
        "the canary's analyses"
    );

    // Monitoring: the demo's history drawn on the page — the drift heatmap with a cell per
    // feature and window, the performance chart, and the alerts marked on them.
    b.go(&format!("{base}/ui/monitoring"));
    b.wait_ready();
    assert_eq!(
        b.eval("return document.body.getAttribute('data-errors')"),
        json!("[]")
    );
    assert!(b.console().iter().all(|e| e["level"] != "SEVERE"));
    assert_eq!(
        b.eval("return document.querySelectorAll('h1').length"),
        json!(1)
    );
    let heatmap = b.eval(
        "const s = document.querySelector('svg.mh-heatmap'); return s ? [Number(s.getAttribute('data-features')), Number(s.getAttribute('data-windows')), s.querySelectorAll('.mh-cell').length] : null",
    );
    let [features, windows, cells] = [0, 1, 2].map(|i| heatmap[i].as_u64().unwrap_or(0));
    assert!(features > 0 && windows > 10, "{heatmap}");
    assert_eq!(cells, features * windows, "a cell per feature and window");
    assert!(
        b.eval("return document.querySelectorAll('svg.mh-performance').length")
            .as_u64()
            .unwrap()
            >= 1,
        "realized vs estimated performance"
    );
    assert!(
        b.eval("return document.querySelectorAll('svg .mh-alert').length")
            .as_u64()
            .unwrap()
            >= 1,
        "alert markers on the charts"
    );
    b.screenshot("monitoring");
    b.check_page(&base, "/ui/alerts", "alerts");
    let alerts = rows(&b, "tbody tr");
    assert!(
        alerts.iter().any(|r| r.contains("performance_decay"))
            && alerts.iter().any(|r| r.contains("data_drift")),
        "{alerts:?}"
    );

    // Decision 1: the pending link leads to the run waiting for approval; reject it.
    b.check_page(&base, "/ui", "home-pending");
    b.mark_stale();
    b.click("ul.pending li a");
    b.wait_navigated();
    assert_eq!(
        b.eval("return location.pathname + location.hash"),
        json!("/ui/models/rainfall#pipeline-approval")
    );
    b.screenshot("model-pending");
    b.decide(
        "#pipeline-approval form[data-action=reject]",
        "retraining on data we already trained on",
    );
    b.screenshot("model-rejected");
    assert_eq!(
        b.eval("return document.querySelector('#pipeline-approval')"),
        Value::Null,
        "nothing waits any more"
    );
    let rejected = latest_pipeline(&addr);
    assert_eq!(rejected["id"], waiting["id"]);
    assert_eq!(rejected["status"], "rejected");
    assert!(
        rejected["state"]["reason"]
            .as_str()
            .unwrap()
            .contains("retraining on data we already trained on"),
        "{rejected:#}"
    );
    let first_row = rows(&b, "#pipelines ~ table tbody tr");
    assert!(first_row[0].contains("rejected"), "{first_row:?}");
    assert_eq!(
        get(&addr, "/api/v1/deployments/rain/rollout")["production_version"],
        champion,
        "a rejected challenger is not deployed"
    );

    // Decision 2: the next run's challenger approved; its canary starts, then is rolled back.
    let next = wait_for_approval(d);
    let candidate = next["state"]["challenger"].as_i64().unwrap();
    b.check_page(&base, "/ui/models/rainfall", "model-pending-again");
    b.decide(
        "#pipeline-approval form[data-action=approve]",
        "the canary will tell",
    );
    assert_eq!(latest_pipeline(&addr)["status"], "handed_off");
    b.check_page(&base, "/ui/deployments/rain", "deployment-canary");
    assert_eq!(
        b.eval("return document.querySelector('#rollout').getAttribute('data-status')"),
        json!("running")
    );
    assert!(
        b.eval("return document.querySelector('#rollout').textContent")
            .as_str()
            .unwrap()
            .starts_with(&format!("Version v{candidate} replacing v{champion}")),
        "the approved challenger is the canary"
    );
    assert_eq!(
        b.eval("return document.querySelector('.split .cand').textContent"),
        json!("cand 50%"),
        "the canary's traffic share"
    );
    b.decide(
        "form[data-action=rollback]",
        "holiday week: canary traffic is not representative",
    );
    b.screenshot("deployment-rolled-back");
    assert_eq!(
        b.eval("return document.querySelector('#rollout').getAttribute('data-status')"),
        json!("rolled_back")
    );
    assert_eq!(
        b.eval("return document.querySelector('#production-version').textContent"),
        json!(format!("v{champion}"))
    );

    // Decision 3: promoting a version that failed its gates is refused with the reason why;
    // with the override box ticked it goes through, audited as an override.
    let failed = versions - 1;
    b.check_page(&base, "/ui/models/rainfall", "model-promote");
    b.click(&format!(
        "form[data-action=promote] select[name=version] option[value='{failed}']"
    ));
    b.type_into(
        "form[data-action=promote] input[name=reason]",
        "the newest data matters more",
    );
    b.click("form[data-action=promote] button");
    let started = Instant::now();
    let refusal = loop {
        let r = b.eval(
            "var f = document.querySelector('form[data-action=promote]'); return f.getAttribute('data-result') === 'refused' ? f.querySelector('output').textContent : null",
        );
        if let Some(text) = r.as_str() {
            break text.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the promotion was neither refused nor done"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        refusal.contains("is protected") && refusal.contains("failed"),
        "{refusal}"
    );
    b.screenshot("model-promote-refused");
    // The browser reports the refused request itself (a 403) on its console; nothing else.
    let logged: Vec<Value> = b
        .console()
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(
        logged.iter().all(|e| {
            let m = e["message"].as_str().unwrap_or("");
            m.contains("/api/v1/models/rainfall/promote") && m.contains("403")
        }),
        "{logged:?}"
    );
    b.click("form[data-action=promote] input[name=override]");
    b.mark_stale();
    b.click("form[data-action=promote] button");
    b.wait_navigated();
    b.screenshot("model-promoted");
    let model = get(&addr, "/api/v1/models/rainfall");
    assert!(
        model["aliases"]
            .as_array()
            .unwrap()
            .contains(&json!({"alias": "champion", "version": failed})),
        "{model:#}"
    );

    // Every decision is in the audit trail with its reason, and the chain verifies.
    let check_audit = |object: &str, action: &str, reason: &str, shot: &str| {
        b.check_page(&base, &format!("/ui/audit?object={object}"), shot);
        let found: Vec<String> = rows(&b, "tbody tr")
            .into_iter()
            .filter(|r| r.contains(action) && r.contains(reason))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{action} with its reason on {object}: {found:?}"
        );
        assert_eq!(
            b.eval("return document.querySelector('#audit-verify').getAttribute('data-ok')"),
            json!("true")
        );
    };
    let waiting_id = waiting["id"].as_str().unwrap();
    check_audit(
        &format!("pipeline:{waiting_id}"),
        "pipeline.reject",
        "retraining on data we already trained on",
        "audit-reject",
    );
    check_audit(
        &format!("pipeline:{}", next["id"].as_str().unwrap()),
        "pipeline.approval",
        "the canary will tell",
        "audit-approve",
    );
    check_audit(
        "deployment:rain",
        "rollout.rollback",
        "holiday week",
        "audit-rollback",
    );
    let shown: Value = serde_json::from_str(&run(
        d,
        &["--json", "models", "show", &format!("rainfall/{failed}")],
    ))
    .unwrap();
    let version_id = shown[0]["id"].as_str().unwrap().to_string();
    check_audit(
        &format!("model_version:{version_id}"),
        "alias.set_override",
        "the newest data matters more",
        "audit-promote",
    );
    let cli = run(
        d,
        &[
            "--json",
            "audit",
            "list",
            "--object",
            &format!("pipeline:{waiting_id}"),
        ],
    );
    assert!(
        cli.contains("retraining on data we already trained on"),
        "{cli}"
    );

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
