//! The server process: starts the built worker through `scripts/serve.sh` (the project's one
//! launcher), waits until it serves, restarts and stops it, and cleans up after the test process.

use super::*;

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

struct Proc {
    child: Child,
    watchdog: Child,
}

pub struct Server {
    /// `http://127.0.0.1:<port>`: also the issuer (development mode takes it from the origin).
    pub base: String,
    pub port: u16,
    /// `None` when the server was started without an admin token.
    pub admin_token: Option<String>,
    root: PathBuf,
    vars: Vec<(String, String)>,
    proc: Option<Proc>,
    /// False once the server has served: restarts must keep the port.
    first_start: bool,
    pub(super) agent: ureq::Agent,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn kill_group(pgid: u32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals one process group we created.
    unsafe {
        libc::kill(-(pgid as i32), sig);
    }
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// A server with a random admin token and default configuration.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// A server with extra `--var NAME:value` settings. `("ADMIN_TOKEN", "")` starts it without
    /// an admin token (the admin API answers 503).
    pub fn start_with(vars: &[(&str, &str)]) -> Server {
        let mut all: Vec<(String, String)> =
            vec![("ADMIN_TOKEN".into(), format!("e2e-admin-{}", rand_hex(16)))];
        for (k, v) in vars {
            all.retain(|(n, _)| n != k);
            all.push((k.to_string(), v.to_string()));
        }
        let admin_token = all
            .iter()
            .find(|(k, _)| k == "ADMIN_TOKEN")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "e2e-{}-{n}-{}",
            std::process::id(),
            rand_hex(3)
        ));
        std::fs::create_dir_all(root.join("state")).unwrap();
        let port = free_port();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are answers to check, never followed.
            .max_redirects(0)
            .allow_non_standard_methods(true)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .max_idle_connections_per_host(32)
            .max_idle_connections(64)
            .build()
            .into();
        let mut s = Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            admin_token,
            root,
            vars: all,
            proc: None,
            first_start: true,
            agent,
        };
        s.spawn();
        s.first_start = false;
        s
    }

    /// The server of this test binary, shared by its tests (started on first use; killed by
    /// its watchdog when the test process exits).
    pub fn shared() -> &'static Server {
        static SHARED: OnceLock<Server> = OnceLock::new();
        SHARED.get_or_init(Server::start)
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("wrangler.log")
    }

    /// What wrangler has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts wrangler and waits until it serves. A start that fails on a port already taken
    /// (another process won a race for a port we picked) is retried on fresh ports; a restart
    /// keeps its port, since the issuer is the origin.
    fn spawn(&mut self) {
        for attempt in 1..=3 {
            match self.spawn_once() {
                Ok(()) => return,
                // An early exit: most often a port race, or the worker being rebuilt meanwhile.
                Err(log) if attempt < 3 && !log.contains("was not ready after") => {
                    eprintln!(
                        "[e2e] wrangler failed to start (attempt {attempt}); retrying. Its output:\n{log}"
                    );
                    if self.first_start {
                        self.port = free_port();
                        self.base = format!("http://127.0.0.1:{}", self.port);
                    }
                }
                Err(log) => panic!("{log}"),
            }
        }
    }

    fn spawn_once(&mut self) -> Result<(), String> {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let path = format!(
            "{}/.cargo/bin:{}",
            std::env::var("HOME").unwrap_or_default(),
            std::env::var("PATH").unwrap_or_default()
        );
        // The one launcher (scripts/serve.sh): a private copy of build/ in self.root, under a
        // config without [build] (no rebuilds or reloads mid-test), the state in
        // self.root/state (kept across a restart), no .dev.vars.
        let mut cmd = Command::new("sh");
        cmd.arg(format!("{manifest}/scripts/serve.sh"))
            .arg("--dir")
            .arg(&self.root)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--timeout")
            .arg(READY_TIMEOUT.as_secs().to_string());
        for (k, v) in &self.vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        // A server that sends mail through a `send_email` binding gets that binding declared
        // (wrangler dev simulates it; the project's config declares none).
        if let Some((_, b)) = self.vars.iter().find(|(k, _)| k == "MAIL_BINDING") {
            cmd.arg("--send-email").arg(b);
        }
        cmd.current_dir(manifest)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start scripts/serve.sh in {manifest}: {e}"));
        let pgid = child.id();
        // Kills the group (and removes the state) once this test process is gone.
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; \
             kill -TERM -{pgid} 2>/dev/null; sleep 2; kill -KILL -{pgid} 2>/dev/null; rm -rf '{root}'",
            me = std::process::id(),
            root = self.root.display()
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cannot start the watchdog");
        self.proc = Some(Proc { child, watchdog });
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let url = self.url("/.well-known/jwks.json");
        loop {
            if let Some(p) = self.proc.as_mut() {
                if let Ok(Some(status)) = p.child.try_wait() {
                    let log = self.log();
                    self.stop();
                    // The next attempt's output starts afresh.
                    let _ = std::fs::remove_file(self.log_path());
                    return Err(format!(
                        "wrangler dev exited ({status}) before it was ready:\n{log}"
                    ));
                }
            }
            let r = self
                .agent
                .get(&url)
                .config()
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .call();
            if let Ok(mut resp) = r {
                // With ORG_DOMAIN, 127.0.0.1 is no organisation's host: the worker's 404 is
                // its answer, so it is up. A production configuration that lacks what it
                // needs answers 503 saying so (tests/production.rs starts one on purpose).
                let tenanted = self.vars.iter().any(|(k, _)| k == "ORG_DOMAIN");
                let status = resp.status().as_u16();
                if status == 200 || (tenanted && status == 404) {
                    return Ok(());
                }
                if status == 503 && resp.body_mut().read_to_string().is_ok_and(|b| b.contains("not configured to serve")) {
                    return Ok(());
                }
            }
            if start.elapsed() > READY_TIMEOUT {
                let log = self.log();
                self.stop();
                return Err(format!(
                    "wrangler dev was not ready after {READY_TIMEOUT:?} (is the worker built? \
                     run `sh scripts/build.sh`). Its output:\n{log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        let Some(mut p) = self.proc.take() else {
            return;
        };
        // The watchdog first, so it cannot remove the state of a restarting server.
        kill_group(p.watchdog.id(), libc::SIGKILL);
        let _ = p.watchdog.wait();
        let pgid = p.child.id();
        kill_group(pgid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = p.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (workerd children) goes now.
        kill_group(pgid, libc::SIGKILL);
        let _ = p.child.wait();
        // Wait until the port is free again (restart reuses it: the issuer is the origin).
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops wrangler and starts it again on the same port with the same persisted state.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The issuer identifier (development mode: the origin the server was reached at).
    pub fn issuer(&self) -> &str {
        &self.base
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
