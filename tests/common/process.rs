//! The `segments-api` binary as a child process, for tests that run it as operators do.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_segments-api");

/// A URL for a SQLite file in `dir`.
pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("server.db").display()
    )
}

/// A running server process, with its stderr lines collected on a thread.
pub struct ServerProcess {
    pub child: Child,
    pub addr: String,
    /// The API key the server made, when this was the database's first start: stdout is not a
    /// terminal here, so the server wrote it to the file its log names.
    pub key: Option<String>,
    /// The log lines up to the one that announced the address.
    pub startup_lines: Vec<String>,
    lines: mpsc::Receiver<String>,
    stdout_lines: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the server on a loopback port with its own SQLite file (unless `env` names a
    /// `DATABASE_URL`) and waits until it listens.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(BIN);
        command
            // The default key file lands in the test's own directory.
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("FIRST_KEY_FILE")
            .env("DATABASE_URL", sqlite_url(&dir))
            .env("BIND_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start segments-api");
        // Nothing is printed on stdout, which is not a terminal; it is kept drained all the same.
        let stdout = child.stdout.take().unwrap();
        let (stdout_tx, stdout_lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = stdout_tx.send(line);
            }
        });

        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The server logs that it made a key (and the file it wrote it to) before it logs the
        // address it listens on.
        let mut key_file = None;
        let mut startup_lines = Vec::new();
        let addr = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("server announces its address");
            startup_lines.push(line.clone());
            if line.contains("first start: made an API key") {
                key_file = Some(logged_field(&line, "file").expect("the log names the key's file"));
            }
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.split('/').next().unwrap().to_owned();
            }
        };
        let key = key_file.map(|file| {
            let file = std::path::Path::new(&file);
            assert!(file.is_absolute(), "{file:?}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "the key file is its owner's alone");
            }
            std::fs::read_to_string(file).unwrap().trim().to_owned()
        });
        Self {
            child,
            addr,
            key,
            startup_lines,
            lines,
            stdout_lines,
            _dir: dir,
        }
    }

    /// What the server wrote on stdout so far.
    pub fn stdout_so_far(&self) -> Vec<String> {
        self.stdout_lines.try_iter().collect()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Blocks until the server logs a line containing `needle`.
    pub fn wait_for_line(&self, needle: &str) {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no log line with {needle:?}"));
            if line.contains(needle) {
                return;
            }
        }
    }

    /// Blocks until the server logs a line containing `needle`; returns the lines up to it.
    pub fn lines_until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no log line with {needle:?} in {seen:#?}"));
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }

    /// Waits for the process to exit and returns its status and remaining stderr lines.
    pub fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let status = self.child.wait().unwrap();
        let rest = self.lines.try_iter().collect();
        (status, rest)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A whole `GET path` on a new connection to `addr` (closed after it): the raw response.
pub fn raw_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// The value of `field` in a log line, text (`field=value`) or JSON (`"field":"value"`).
fn logged_field(line: &str, field: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(line) {
        // Fields are flattened into the event's object (`LOG_FORMAT=json`).
        return json[field].as_str().map(str::to_owned);
    }
    let start = line.find(&format!("{field}="))? + field.len() + 1;
    Some(
        line[start..]
            .split_whitespace()
            .next()?
            .trim_matches('"')
            .to_owned(),
    )
}
