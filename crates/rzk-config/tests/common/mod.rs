//! Runs small Java programs for differential tests: compiles a source file with `javac` into a
//! temporary directory and runs it with `java`. When no JDK is installed the tests print a note and
//! pass (CI has one).

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A compiled Java program.
pub struct JavaProgram {
    dir: tempfile::TempDir,
    class: String,
    classpath: Vec<PathBuf>,
}

fn tool_works(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl JavaProgram {
    /// Compiles `source` (defining public class `class`, a fully qualified name) against
    /// `classpath`; `None` when there is no JDK.
    pub fn compile(class: &str, source: &str, classpath: &[PathBuf]) -> Option<JavaProgram> {
        if !tool_works("javac") || !tool_works("java") {
            eprintln!("javac/java not found: skipping the differential test against Java");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let simple_name = class.rsplit('.').next().unwrap_or(class);
        let file = dir.path().join(format!("{simple_name}.java"));
        std::fs::write(&file, source).expect("write java source");
        let mut cmd = Command::new("javac");
        cmd.arg("-nowarn").arg("-d").arg(dir.path());
        if !classpath.is_empty() {
            cmd.arg("-cp").arg(join(classpath));
        }
        let out = cmd.arg(&file).output().expect("run javac");
        assert!(out.status.success(), "javac failed: {}", String::from_utf8_lossy(&out.stderr));
        Some(JavaProgram { dir, class: class.to_string(), classpath: classpath.to_vec() })
    }

    /// Runs the program with `args`, feeding `stdin`; returns stdout. Panics if it fails.
    pub fn run(&self, args: &[&str], stdin: &str) -> String {
        let mut cp = vec![self.dir.path().to_path_buf()];
        cp.extend(self.classpath.iter().cloned());
        let mut child = Command::new("java")
            .arg("-cp")
            .arg(join(&cp))
            .arg(&self.class)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn java");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        let out = child.wait_with_output().expect("wait for java");
        assert!(out.status.success(), "java failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("java prints UTF-8")
    }
}

fn join(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

/// `s` as Java's UTF-16 code units in hex, with an "x" so that an empty string is still a word.
pub fn utf16_hex(s: &str) -> String {
    let mut out = String::from("x");
    for unit in s.encode_utf16() {
        out.push_str(&format!("{unit:04x}"));
    }
    out
}

/// The temporary directory of a program, for input files.
pub fn scratch(program: &JavaProgram) -> &Path {
    program.dir.path()
}
