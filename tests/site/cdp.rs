//! Debian's Chromium, headless, driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: commands go in on fd 3, answers and events come out on fd 4, each
//! message JSON ended by a NUL byte). No port, no npm, no driver: the test talks to the browser
//! the way Puppeteer and Playwright do underneath.
//!
//! Every console message of level error or warning, uncaught exception, failed or non-file
//! request and JavaScript dialog on the page is recorded as a problem; a dialog is dismissed so
//! that the page goes on.

use std::fs::File;
use std::io::{BufRead as _, BufReader, PipeWriter, Write as _};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long one command or one page load may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where Chromium is: `STRATA_CHROMIUM`, else `chromium` on PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STRATA_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

pub struct Browser {
    child: Child,
    commands: PipeWriter,
    messages: Receiver<Value>,
    next_id: u64,
    session: Option<String>,
    /// Request id → URL, to name a failed request.
    requests: std::collections::BTreeMap<String, String>,
    problems: Vec<String>,
    stderr: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(chromium: &Path) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| format!("profile dir: {e}"))?;
        let stderr = profile.path().join("chromium.stderr");
        let log = File::create(&stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
        let (to_chromium, commands) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
        let (answers, from_chromium) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
        let to_chromium: OwnedFd = to_chromium.into();
        let from_chromium: OwnedFd = from_chromium.into();
        let (read_fd, write_fd) = (to_chromium.as_raw_fd(), from_chromium.as_raw_fd());
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--force-color-profile=srgb",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: between fork and exec only async-signal-safe calls: fcntl, dup2, setpgid.
        unsafe {
            command.pre_exec(move || {
                // Its own process group, so that the whole browser can be ended by its id.
                if libc::setpgid(0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Move both ends above 10 first: either may already be fd 3 or 4.
                let r = libc::fcntl(read_fd, libc::F_DUPFD_CLOEXEC, 10);
                let w = libc::fcntl(write_fd, libc::F_DUPFD_CLOEXEC, 10);
                if r < 0 || w < 0 || libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", chromium.display()))?;
        drop(to_chromium);
        drop(from_chromium);
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(answers);
            let mut message = Vec::new();
            while let Ok(n) = reader.read_until(0, &mut message) {
                if n == 0 {
                    break;
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && tx.send(value).is_err()
                {
                    break;
                }
                message.clear();
            }
        });
        let mut browser = Browser {
            child,
            commands,
            messages,
            next_id: 0,
            session: None,
            requests: Default::default(),
            problems: Vec::new(),
            stderr,
            _profile: profile,
        };
        browser.open_page()?;
        Ok(browser)
    }

    /// A new tab, attached, with the domains that report problems enabled.
    fn open_page(&mut self) -> Result<(), String> {
        let target = self.browser_call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target = target["targetId"]
            .as_str()
            .ok_or("no targetId")?
            .to_string();
        let attached = self.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )?;
        self.session = Some(
            attached["sessionId"]
                .as_str()
                .ok_or("no sessionId")?
                .to_string(),
        );
        for domain in ["Page", "Runtime", "Log", "Network"] {
            self.call(&format!("{domain}.enable"), json!({}))?;
        }
        Ok(())
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Result<u64, String> {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .map_err(|e| format!("{method}: chromium's pipe: {e}{}", self.stderr_tail()))?;
        Ok(self.next_id)
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.send(method, params, None)?;
        self.wait(|m| m["id"] == json!(id), method)
            .and_then(|m| answer(method, m))
    }

    /// A command to the page.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let session = self.session.clone();
        let id = self.send(method, params, session.as_deref())?;
        self.wait(|m| m["id"] == json!(id), method)
            .and_then(|m| answer(method, m))
    }

    /// Reads messages until one matches, recording the problems it passes.
    fn wait(&mut self, done: impl Fn(&Value) -> bool, what: &str) -> Result<Value, String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.messages.recv_timeout(left) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "{what}: no answer from chromium in {TIMEOUT:?}{}",
                        self.stderr_tail()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "{what}: chromium closed its pipe{}",
                        self.stderr_tail()
                    ));
                }
            };
            self.observe(&message)?;
            if done(&message) {
                return Ok(message);
            }
        }
    }

    fn observe(&mut self, message: &Value) -> Result<(), String> {
        let params = &message["params"];
        match message["method"].as_str().unwrap_or("") {
            "Runtime.consoleAPICalled" => {
                let kind = params["type"].as_str().unwrap_or("");
                if matches!(kind, "error" | "warning" | "assert") {
                    let text: Vec<String> = params["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            a["value"]
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| a["description"].to_string())
                        })
                        .collect();
                    self.problems
                        .push(format!("console.{kind}: {}", text.join(" ")));
                }
            }
            "Runtime.exceptionThrown" => self.problems.push(format!(
                "uncaught exception: {}",
                params["exceptionDetails"]["exception"]["description"]
                    .as_str()
                    .or(params["exceptionDetails"]["text"].as_str())
                    .unwrap_or("?")
            )),
            "Log.entryAdded" => {
                let entry = &params["entry"];
                if matches!(entry["level"].as_str(), Some("error" | "warning")) {
                    self.problems.push(format!(
                        "log {}: {} {}",
                        entry["level"].as_str().unwrap_or(""),
                        entry["text"].as_str().unwrap_or(""),
                        entry["url"].as_str().unwrap_or("")
                    ));
                }
            }
            "Network.requestWillBeSent" => {
                let url = params["request"]["url"].as_str().unwrap_or("").to_string();
                if !(url.starts_with("file:") || url.starts_with("data:") || url == "about:blank") {
                    self.problems
                        .push(format!("a request leaves the site: {url}"));
                }
                if let Some(id) = params["requestId"].as_str() {
                    self.requests.insert(id.to_string(), url);
                }
            }
            "Network.loadingFailed" => {
                let id = params["requestId"].as_str().unwrap_or("");
                let url = self.requests.get(id).cloned().unwrap_or_default();
                self.problems.push(format!(
                    "request failed: {url}: {}",
                    params["errorText"].as_str().unwrap_or("")
                ));
            }
            "Page.javascriptDialogOpening" => {
                self.problems.push(format!(
                    "a JavaScript {} opened: {}",
                    params["type"].as_str().unwrap_or("dialog"),
                    params["message"].as_str().unwrap_or("")
                ));
                let session = self.session.clone();
                self.send(
                    "Page.handleJavaScriptDialog",
                    json!({"accept": false}),
                    session.as_deref(),
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Loads `url` and waits for its load event, which may come before or after the answer.
    pub fn navigate(&mut self, url: &str) -> Result<(), String> {
        let session = self.session.clone();
        let id = self.send("Page.navigate", json!({"url": url}), session.as_deref())?;
        let (mut answered, mut loaded) = (false, false);
        while !(answered && loaded) {
            let message = self.wait(
                |m| m["id"] == json!(id) || m["method"] == "Page.loadEventFired",
                url,
            )?;
            if message["id"] == json!(id) {
                if let Some(error) = message["result"]["errorText"].as_str() {
                    return Err(format!("{url}: {error}"));
                }
                answered = true;
            } else {
                loaded = true;
            }
        }
        Ok(())
    }

    /// The value of a JavaScript expression on the page.
    pub fn evaluate(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )?;
        if let Some(e) = result.get("exceptionDetails") {
            return Err(format!("{expression}: {e}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Sets the viewport, the colour scheme and the media type for the next load.
    pub fn emulate(
        &mut self,
        width: u32,
        height: u32,
        dark: bool,
        print: bool,
    ) -> Result<(), String> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
        )?;
        self.call(
            "Emulation.setEmulatedMedia",
            json!({
                "media": if print { "print" } else { "" },
                "features": [{"name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" }}]
            }),
        )?;
        Ok(())
    }

    /// A PNG of the viewport.
    pub fn screenshot(&mut self) -> Result<Vec<u8>, String> {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data)
            .map_err(|e| format!("screenshot: {e}"))
    }

    /// A PNG of the page from its top, at most `max_height` pixels of it.
    pub fn screenshot_page(&mut self, max_height: u32) -> Result<Vec<u8>, String> {
        let metrics = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1280.0);
        let height = size["height"]
            .as_f64()
            .unwrap_or(900.0)
            .min(f64::from(max_height));
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            }),
        )?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data)
            .map_err(|e| format!("screenshot: {e}"))
    }

    /// A PNG of the first element that matches `selector`.
    pub fn screenshot_element(&mut self, selector: &str) -> Result<Vec<u8>, String> {
        let rect = self.evaluate(&format!(
            "(() => {{ const r = document.querySelector({}).getBoundingClientRect(); \
             return [r.left + scrollX, r.top + scrollY, r.width, r.height]; }})()",
            serde_json::to_string(selector).map_err(|e| e.to_string())?
        ))?;
        let n = |i: usize| rect[i].as_f64().unwrap_or(0.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": n(0), "y": n(1), "width": n(2), "height": n(3), "scale": 1}
            }),
        )?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data)
            .map_err(|e| format!("screenshot: {e}"))
    }

    /// The page printed to PDF, as Ctrl-P would on A4.
    pub fn pdf(&mut self) -> Result<Vec<u8>, String> {
        let pdf = self.call(
            "Page.printToPDF",
            json!({"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": true, "preferCSSPageSize": true}),
        )?;
        let data = pdf["data"].as_str().ok_or("no PDF data")?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data)
            .map_err(|e| format!("pdf: {e}"))
    }

    /// Presses a key on the page.
    pub fn key(&mut self, key: &str, code: &str, key_code: u32) -> Result<(), String> {
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code}),
            )?;
        }
        Ok(())
    }

    /// The problems seen since the last call.
    pub fn problems(&mut self) -> Vec<String> {
        // Messages that arrived after the last answer belong to the page just loaded.
        while let Ok(m) = self.messages.recv_timeout(Duration::from_millis(200)) {
            if let Err(e) = self.observe(&m) {
                self.problems.push(e);
            }
        }
        std::mem::take(&mut self.problems)
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("\nchromium's stderr ends with:\n{tail}")
        }
    }
}

fn answer(method: &str, message: Value) -> Result<Value, String> {
    if let Some(error) = message.get("error") {
        return Err(format!("{method}: {error}"));
    }
    Ok(message["result"].clone())
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.send("Browser.close", json!({}), None);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The browser and the processes it started, by its process group.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: a plain syscall on the group this test started.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}
