//! A student's Python program run as it is, under the recorder bptui carries
//! (`python/bptui_record.py`): the process, and the stream of numbers it binds read from a
//! pipe as they come. What the numbers mean is [`infer`]'s business.

pub mod homework;
pub mod infer;

use std::collections::{HashSet, VecDeque};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, Result};

/// The recorder, written to a temporary file and run by the student's own Python.
pub const RECORDER: &str = include_str!("../../python/bptui_record.py");

/// A place in the student's source that binds values.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub file: String,
    pub line: usize,
    /// The line's source text.
    pub text: String,
    /// What it binds: `g_z`, `self.W1`, `cache["z"]`, an argument's name, `return`.
    pub target: String,
    /// `assign`, `argument` or `return`.
    pub kind: String,
}

/// One value bound at a site.
#[derive(Debug, Clone)]
pub struct Value {
    pub site: usize,
    pub array: ArrayD<f64>,
    /// 0 float64, 1 float32, 2 an integer.
    pub dtype: u8,
}

/// What the recorder says.
#[derive(Debug)]
pub enum Event {
    Site(usize, Site),
    Value(Value),
    /// The tracer that ran: `sys.monitoring` or `sys.settrace`.
    Tracer(String),
    /// The program ended with this status (and its traceback when it crashed).
    Exit {
        code: i32,
        traceback: Option<String>,
    },
    /// The stream ended or broke without an end message.
    Closed(Option<String>),
}

/// The program running under the recorder.
pub struct Running {
    child: Arc<Mutex<Child>>,
    /// The signal handler's hold on `child` (see [`crate::signals::register_ender`]).
    ender: u64,
    pub events: Receiver<Event>,
    /// The last lines the program wrote (its standard output and error).
    pub output: Arc<Mutex<VecDeque<String>>>,
    recorder: PathBuf,
    /// Where bptui tells the recorder which sites it still needs ([`Running::keep_only`]).
    keep: PathBuf,
}

/// Lines of the program's output kept to show when it crashes.
const KEPT_LINES: usize = 40;

impl Running {
    /// Starts `command` (`python3 SCRIPT ARGS...`, or `SCRIPT.py ARGS...`) in the current
    /// directory under the recorder. `pass_output` copies its output to bptui's standard error
    /// as it comes (else it is only kept).
    pub fn start(command: &[String], pass_output: bool) -> Result<Running> {
        let (python, script, args) = split_command(command)?;
        let recorder = std::env::temp_dir().join(format!("bptui-record-{}.py", std::process::id()));
        std::fs::write(&recorder, RECORDER)
            .map_err(|e| Error::Usage(format!("cannot write the recorder to {}: {e}", recorder.display())))?;
        crate::signals::register_temp(&recorder);
        let keep = std::env::temp_dir().join(format!("bptui-record-{}.keep.json", std::process::id()));
        let _ = std::fs::remove_file(&keep);
        crate::signals::register_temp(&keep);
        let mut child = Command::new(&python)
            .env("BPTUI_RECORD_KEEP", &keep)
            .arg(&recorder)
            .arg(&script)
            .args(&args)
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Usage(format!("cannot run `{python}`: {e}")))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let (send, events) = channel();
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || read_stream(BufReader::with_capacity(1 << 20, stdout), |e| send.send(e).is_ok()))
            .map_err(|e| Error::Usage(format!("cannot start a thread: {e}")))?;
        let output = Arc::new(Mutex::new(VecDeque::new()));
        let kept = output.clone();
        std::thread::Builder::new()
            .name("program output".into())
            .spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match std::io::BufRead::read_until(&mut reader, b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    if pass_output {
                        let _ = std::io::stderr().write_all(&line);
                    }
                    let mut k = kept.lock().unwrap_or_else(|p| p.into_inner());
                    if k.len() == KEPT_LINES {
                        k.pop_front();
                    }
                    k.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
                }
            })
            .map_err(|e| Error::Usage(format!("cannot start a thread: {e}")))?;
        let child = Arc::new(Mutex::new(child));
        let held = child.clone();
        let ender = crate::signals::register_ender(move || {
            let mut c = held.lock().unwrap_or_else(|p| p.into_inner());
            let _ = c.kill();
            let _ = c.wait();
        });
        Ok(Running { child, ender, events, output, recorder, keep })
    }

    /// Tells the recorder to send only these sites from now on (the names are known, the other
    /// values are not needed): the program runs at nearly its own speed from then on. Written
    /// whole and renamed into place, so the recorder never reads half of it.
    pub fn keep_only(&self, sites: &HashSet<usize>) {
        let mut list: Vec<usize> = sites.iter().copied().collect();
        list.sort_unstable();
        let tmp = self.keep.with_extension("partial");
        crate::signals::register_temp(&tmp);
        let text = serde_json::json!({ "keep": list }).to_string();
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &self.keep);
        }
        let _ = std::fs::remove_file(&tmp);
    }

    /// Stops the program (it is not needed any more, or bptui is ending).
    pub fn stop(&mut self) {
        let mut c = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = c.kill();
        let _ = c.wait();
    }

    /// The program's last lines of output.
    pub fn last_output(&self) -> Vec<String> {
        self.output.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
        crate::signals::forget_ender(self.ender);
        let _ = std::fs::remove_file(&self.recorder);
        let _ = std::fs::remove_file(&self.keep);
    }
}

/// The Python, the script and its arguments of a command line (or what is wrong with it).
pub fn split_command(command: &[String]) -> Result<(String, String, Vec<String>)> {
    let Some(first) = command.first() else {
        return Err(Error::Usage(
            "after `--`, the command that runs your program: python3 neuralnet.py ARGS...".into(),
        ));
    };
    let base = Path::new(first).file_name().and_then(|n| n.to_str()).unwrap_or("");
    if base.starts_with("python") {
        let rest = &command[1..];
        match rest.first() {
            Some(s) if !s.starts_with('-') => Ok((first.clone(), s.clone(), rest[1..].to_vec())),
            Some(s) => Err(Error::Usage(format!(
                "`{first} {s} ...`: bptui runs a script file (`{first} neuralnet.py ARGS...`), not Python's options"
            ))),
            None => Err(Error::Usage(format!("`{first}` with no script: expected `{first} neuralnet.py ARGS...`"))),
        }
    } else if first.ends_with(".py") {
        let python = std::env::var("BPTUI_PYTHON").unwrap_or_else(|_| "python3".into());
        Ok((python, first.clone(), command[1..].to_vec()))
    } else {
        Err(Error::Usage(format!(
            "`{first}`: bptui records Python programs: expected `python3 SCRIPT.py ARGS...` after `--`"
        )))
    }
}

/// Reads the recorder's messages until the stream ends; `send` returns false to stop.
fn read_stream(mut r: impl Read, mut send: impl FnMut(Event) -> bool) {
    let mut head = [0u8; 5];
    let mut payload = Vec::new();
    loop {
        if let Err(e) = r.read_exact(&mut head) {
            let why = (e.kind() != std::io::ErrorKind::UnexpectedEof).then(|| e.to_string());
            send(Event::Closed(why));
            return;
        }
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        payload.resize(len, 0);
        if r.read_exact(&mut payload).is_err() {
            send(Event::Closed(Some("the recorder's stream ended inside a message".into())));
            return;
        }
        let event = match head[0] {
            b'S' => parse_site(&payload),
            b'V' => parse_value(&payload).map(Event::Value),
            b'T' => Some(Event::Tracer(String::from_utf8_lossy(&payload).into_owned())),
            b'X' => parse_exit(&payload),
            _ => None,
        };
        let Some(event) = event else {
            send(Event::Closed(Some(format!(
                "the recorder sent a message bptui cannot read (tag {:?})",
                head[0] as char
            ))));
            return;
        };
        let end = matches!(event, Event::Exit { .. });
        if !send(event) || end {
            return;
        }
    }
}

fn parse_site(payload: &[u8]) -> Option<Event> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let id = v.get("site")?.as_u64()? as usize;
    let line = v.get("line").and_then(|l| l.as_u64()).unwrap_or(0) as usize;
    Some(Event::Site(id, Site { file: s("file"), line, text: s("text"), target: s("target"), kind: s("kind") }))
}

fn parse_exit(payload: &[u8]) -> Option<Event> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let code = v.get("code").and_then(|c| c.as_i64()).unwrap_or(1) as i32;
    let traceback = v.get("traceback").and_then(|t| t.as_str()).map(str::to_string);
    Some(Event::Exit { code, traceback })
}

fn parse_value(p: &[u8]) -> Option<Value> {
    let site = u32::from_le_bytes(p.get(0..4)?.try_into().ok()?) as usize;
    let dtype = *p.get(4)?;
    let ndim = *p.get(5)? as usize;
    let mut shape = Vec::with_capacity(ndim);
    for d in 0..ndim {
        let at = 6 + 4 * d;
        shape.push(u32::from_le_bytes(p.get(at..at + 4)?.try_into().ok()?) as usize);
    }
    let data = p.get(6 + 4 * ndim..)?;
    let n: usize = shape.iter().product();
    let numbers: Vec<f64> = match dtype {
        0 if data.len() == 8 * n => data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect(),
        1 if data.len() == 4 * n => {
            data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect()
        }
        2 if data.len() == 8 * n => {
            data.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64).collect()
        }
        _ => return None,
    };
    Some(Value { site, array: ArrayD::from_shape_vec(IxDyn(&shape), numbers).ok()?, dtype })
}
