//! Differential test of `rzk_config::Properties` against the real `java.util.Properties.load`:
//! a fixed set of tricky files, then random files from an alphabet of the characters that matter,
//! all checked by one JVM run each.

mod common;

use common::{JavaProgram, utf16_hex};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rzk_config::Properties;

/// Reads file paths from stdin, loads each with Properties.load(InputStream), and prints
/// "FILE", then either "ERR" or the sorted entries as UTF-16 hex, then "END".
const PROPS_DUMP: &str = r#"
import java.io.*;
import java.util.*;

public class PropsDump {
    public static void main(String[] args) throws Exception {
        BufferedReader list = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        String path;
        while ((path = list.readLine()) != null) {
            out.append("FILE\n");
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(path)) {
                p.load(in);
            } catch (IllegalArgumentException e) {
                out.append("ERR\nEND\n");
                continue;
            }
            TreeMap<String, String> sorted = new TreeMap<>();
            for (String k : p.stringPropertyNames()) sorted.put(k, p.getProperty(k));
            for (Map.Entry<String, String> e : sorted.entrySet()) {
                out.append(hex(e.getKey())).append(' ').append(hex(e.getValue())).append('\n');
            }
            out.append("END\n");
        }
        System.out.print(out);
    }

    static String hex(String s) {
        StringBuilder b = new StringBuilder("x");
        for (char c : s.toCharArray()) b.append(String.format("%04x", (int) c));
        return b.toString();
    }
}
"#;

/// What rzk's parser gives, in the dump's format.
fn rzk_dump(bytes: &[u8]) -> String {
    match Properties::parse(bytes) {
        Err(_) => "ERR\n".to_string(),
        Ok(props) => {
            let mut lines: Vec<String> =
                props.iter().map(|p| format!("{} {}\n", utf16_hex(&p.key), utf16_hex(&p.value))).collect();
            lines.sort();
            lines.concat()
        }
    }
}

/// Runs Java on every file at once and compares file by file.
fn compare_with_java(java: &JavaProgram, files: &[Vec<u8>]) {
    let dir = common::scratch(java).join("inputs");
    std::fs::create_dir_all(&dir).expect("inputs dir");
    let mut list = String::new();
    for (i, bytes) in files.iter().enumerate() {
        let path = dir.join(format!("{i}.properties"));
        std::fs::write(&path, bytes).expect("write input");
        list.push_str(&format!("{}\n", path.display()));
    }
    let out = java.run(&[], &list);
    let java_dumps: Vec<&str> = out.split("FILE\n").skip(1).collect();
    assert_eq!(java_dumps.len(), files.len(), "one dump per file");
    let mut mismatches = Vec::new();
    for (bytes, java_dump) in files.iter().zip(&java_dumps) {
        let java_dump = java_dump.strip_suffix("END\n").expect("dump ends with END");
        let ours = rzk_dump(bytes);
        if ours != java_dump {
            mismatches.push(format!(
                "input {:?}\n  java: {java_dump:?}\n  rzk:  {ours:?}",
                String::from_utf8_lossy(bytes)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} files differ:\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
}

fn tricky_files() -> Vec<Vec<u8>> {
    let texts: &[&[u8]] = &[
        b"a=b\n",
        b"a = b  \n",
        b"a:b\nc d\ne\tf\ng\x0ch\n",
        b"key\\=x=1\nk\\:y:2\n",
        b"key\\ with\\ spaces = v\n",
        b"a=b\\\n   c\\\n\td\n",
        b"a=b\\\r\n  c\r\nd=e\r\n",
        b"a=b\\\rc=d\r",
        b"a=1\\",
        b"a=1\\\\",
        b"a=1\\\\\\\nb",
        b"# comment\n! bang\n  # indented\nk=v\n",
        b"k=v\\\n# not a comment\n",
        b"\\\n#x=y\nk=v",
        b"a=\\u0041\\u00e9\\u20AC\n",
        b"a=\\t\\n\\r\\f\\x\\\\\\q\n",
        b"caf\xe9=\xff\xfe\n",
        b"dup=1\ndup=2\n",
        b"   \n\t\n\x0c\n\n",
        b"",
        b"=v\n",
        b":\n",
        b"key\n",
        b"k==v\n",
        b"k = = v",
        b"k\\\n=v",
        b"a=b\\\n\nc=d",
        b"a=\\u00",
        b"a=\\uzzzz\n",
        b"a\\u003db=c\n",
        b"k=v\r\n\r\n\rq=r",
        b"\\ k=v",
        b"k=v\\ \n",
        b"# c\\\nk=v",
        b"k=v #x\n",
        b"\tk\t\tv\t\n",
        b"k:v:w=x\n",
        b"a=b\\\r",
        b"k=\x00\x01\n",
        b"a\\\\=b",
        b"server.1=zk1:2888:3888;2181 \ntickTime = 2000\n",
        b"\\u0041=\\u0042\\\n  \\u0043",
    ];
    texts.iter().map(|t| t.to_vec()).collect()
}

fn props_dump() -> Option<JavaProgram> {
    JavaProgram::compile("PropsDump", PROPS_DUMP, &[])
}

#[test]
fn tricky_files_match_java() {
    let Some(java) = props_dump() else { return };
    compare_with_java(&java, &tricky_files());
}

/// The characters that steer the parser, plus a few plain and non-ASCII ones. No 'd'/'D', so a
/// `\uXXXX` escape never makes a lone surrogate (which Rust strings cannot hold).
const ALPHABET: &[u8] = b" \t\x0c\r\n\\=:#!abu04Ffrtn\xe9\xff";

fn random_files(runner: &mut TestRunner, count: usize) -> Vec<Vec<u8>> {
    let strategy = proptest::collection::vec(proptest::sample::select(ALPHABET), 0..48);
    (0..count).map(|_| strategy.new_tree(runner).expect("generate").current()).collect()
}

#[test]
fn random_files_match_java() {
    let Some(java) = props_dump() else { return };
    // A fixed seed for a reproducible batch, and a fresh one to keep exploring.
    let mut fixed =
        TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let mut fresh = TestRunner::new(Config::default());
    let mut files = random_files(&mut fixed, 2000);
    files.extend(random_files(&mut fresh, 1000));
    compare_with_java(&java, &files);
}
