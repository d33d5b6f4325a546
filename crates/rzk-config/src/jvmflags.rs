//! The `-D` flags a ZooKeeper server would have been started with, taken from the environment and
//! from the server's own arguments, into the starting `SystemProps`.
//!
//! `zkServer.sh` runs `java $ZOO_DATADIR_AUTOCREATE ... $JVMFLAGS QuorumPeerMain zoo.cfg` after
//! `JVMFLAGS="$SERVER_JVMFLAGS $JVMFLAGS"`, and the JVM lets a later `-D` win. So the order here is:
//! `ZOO_DATADIR_AUTOCREATE_DISABLE` (which means `-Dzookeeper.datadir.autocreate=false`), then
//! `SERVER_JVMFLAGS`, then `JVMFLAGS`, then `-D` arguments on rzk's command line. zoo.cfg is read
//! after all of them and overrides them (`QuorumPeerConfig` calls `System.setProperty`).
//!
//! The variables are split into words like a shell would split a command line: on whitespace,
//! with `'...'`, `"..."` and backslash quoting. (zkServer.sh itself expands `$JVMFLAGS` unquoted,
//! so there quotes stay literal and a quoted space breaks the java command; a quote can therefore
//! only change a value that ZooKeeper would have read with the quote characters in it.)

use crate::error::{ConfigWarning, Origin, WarningKind};
use crate::sysprops::SystemProps;

/// The environment variables read, in the order they are applied.
pub const JVMFLAGS_VARS: [&str; 2] = ["SERVER_JVMFLAGS", "JVMFLAGS"];

/// Builds the system properties from the environment and the command-line arguments. Only `-D`
/// words are used; other JVM flags (`-Xmx...`) and other arguments are skipped.
pub fn system_props_from_launch<I, K, V>(env: I, args: &[String]) -> (SystemProps, Vec<ConfigWarning>)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut props = SystemProps::new();
    let mut warnings = Vec::new();
    let mut vars: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        vars.push((k.as_ref().to_string(), v.as_ref().to_string()));
    }
    let var = |name: &str| vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());

    // zkServer.sh: `[ -n "$ZOO_DATADIR_AUTOCREATE_DISABLE" ]`, i.e. set and non-empty.
    if var("ZOO_DATADIR_AUTOCREATE_DISABLE").is_some_and(|v| !v.is_empty()) {
        let origin = Origin::EnvVar("ZOO_DATADIR_AUTOCREATE_DISABLE".into());
        props.set("zookeeper.datadir.autocreate", "false", origin);
    }
    for name in JVMFLAGS_VARS {
        let Some(text) = var(name) else { continue };
        let origin = Origin::EnvVar(name.to_string());
        let (words, unbalanced) = split_words(text);
        if unbalanced {
            let message = format!("${name} has an unbalanced quote; the rest was read literally");
            warnings.push(ConfigWarning::new(&origin, name, WarningKind::LaunchFlag, message));
        }
        apply_words(&mut props, &mut warnings, words.iter().map(String::as_str), &origin);
    }
    apply_words(&mut props, &mut warnings, args.iter().map(String::as_str), &Origin::CommandLine);
    (props, warnings)
}

fn apply_words<'a>(
    props: &mut SystemProps,
    warnings: &mut Vec<ConfigWarning>,
    words: impl Iterator<Item = &'a str>,
    origin: &Origin,
) {
    for word in words {
        match parse_define(word) {
            Some(Ok((name, value))) => props.set(name, value, origin.clone()),
            Some(Err(())) => {
                let message = format!("ignoring \"{word}\": no property name");
                warnings.push(ConfigWarning::new(origin, word, WarningKind::LaunchFlag, message));
            }
            None => {}
        }
    }
}

/// `-Dname=value` gives (name, value); `-Dname` gives (name, "") as the java launcher does; a word
/// that is not `-D...` gives None; `-D` or `-D=x` is an error.
pub fn parse_define(word: &str) -> Option<Result<(&str, &str), ()>> {
    let rest = word.strip_prefix("-D")?;
    let (name, value) = rest.split_once('=').unwrap_or((rest, ""));
    if name.is_empty() {
        return Some(Err(()));
    }
    Some(Ok((name, value)))
}

/// Splits `text` into words as a POSIX shell splits a command line (without expansions). The flag
/// is true when a quote was left open (the rest of the text is then taken literally).
pub fn split_words(text: &str) -> (Vec<String>, bool) {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    word.push(q);
                }
                if !closed {
                    words.push(word);
                    return (words, true);
                }
            }
            '"' => {
                in_word = true;
                if !read_double_quoted(&mut chars, &mut word) {
                    words.push(word);
                    return (words, true);
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(escaped) => word.push(escaped),
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    (words, false)
}

/// Reads up to the closing `"`; inside, a backslash escapes only `$`, `` ` ``, `"`, `\` and a
/// newline. Returns false if the quote is never closed.
fn read_double_quoted(chars: &mut std::str::Chars<'_>, word: &mut String) -> bool {
    while let Some(q) = chars.next() {
        match q {
            '"' => return true,
            '\\' => match chars.next() {
                Some(e @ ('$' | '`' | '"' | '\\')) => word.push(e),
                Some('\n') => {}
                Some(other) => {
                    word.push('\\');
                    word.push(other);
                }
                None => {
                    word.push('\\');
                    return false;
                }
            },
            other => word.push(other),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let (w, unbalanced) = split_words(s);
        assert!(!unbalanced, "{s:?}");
        w
    }

    #[test]
    fn split_on_whitespace() {
        assert_eq!(words("  -Xmx1g\t-Da=b \n -Dc  "), ["-Xmx1g", "-Da=b", "-Dc"]);
        assert!(words("   ").is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(words("-Da='x y' -Db=\"p q\""), ["-Da=x y", "-Db=p q"]);
        assert_eq!(words("'-Dk=a'\"b\"c"), ["-Dk=abc"]);
        assert_eq!(words(r#"-Da=\"x\" -Db="\"q\" \n" -Dc=a\ b"#), [r#"-Da="x""#, r#"-Db="q" \n"#, "-Dc=a b"]);
        assert_eq!(words("-Da='it\\s'"), ["-Da=it\\s"]);
        assert_eq!(words("''"), [""]);
    }

    #[test]
    fn unbalanced_quote_is_reported() {
        let (w, unbalanced) = split_words("-Da=1 -Db='x y");
        assert!(unbalanced);
        assert_eq!(w, ["-Da=1", "-Db=x y"]);
    }

    #[test]
    fn defines() {
        assert_eq!(parse_define("-Da=b=c"), Some(Ok(("a", "b=c"))));
        assert_eq!(parse_define("-Dflag"), Some(Ok(("flag", ""))));
        assert_eq!(parse_define("-Da="), Some(Ok(("a", ""))));
        assert_eq!(parse_define("-D"), Some(Err(())));
        assert_eq!(parse_define("-D=x"), Some(Err(())));
        assert_eq!(parse_define("-Xmx1g"), None);
        assert_eq!(parse_define("zoo.cfg"), None);
    }

    #[test]
    fn precedence_env_then_jvmflags_then_command_line() {
        let env = [
            ("SERVER_JVMFLAGS", "-Da=server -Db=server -Dc=server -Xmx2g"),
            ("JVMFLAGS", "-Db=jvm -Dc=jvm"),
            ("UNRELATED", "-Dd=nope"),
        ];
        let args = vec!["-Dc=arg".to_string(), "zoo.cfg".to_string()];
        let (props, warnings) = system_props_from_launch(env, &args);
        assert!(warnings.is_empty());
        assert_eq!(props.get("a"), Some("server"));
        assert_eq!(props.get("b"), Some("jvm"));
        assert_eq!(props.get("c"), Some("arg"));
        assert_eq!(props.get("d"), None);
        assert_eq!(props.len(), 3);
        assert_eq!(props.entry("a").map(|p| &p.origin), Some(&Origin::EnvVar("SERVER_JVMFLAGS".into())));
        assert_eq!(props.entry("c").map(|p| &p.origin), Some(&Origin::CommandLine));
    }

    #[test]
    fn datadir_autocreate_disable() {
        let (props, _) = system_props_from_launch([("ZOO_DATADIR_AUTOCREATE_DISABLE", "1")], &[]);
        assert_eq!(props.get("zookeeper.datadir.autocreate"), Some("false"));
        let (props, _) = system_props_from_launch([("ZOO_DATADIR_AUTOCREATE_DISABLE", "")], &[]);
        assert_eq!(props.get("zookeeper.datadir.autocreate"), None);
        // A later -D overrides it, as on zkServer.sh's java command line.
        let env =
            [("ZOO_DATADIR_AUTOCREATE_DISABLE", "yes"), ("JVMFLAGS", "-Dzookeeper.datadir.autocreate=true")];
        let (props, _) = system_props_from_launch(env, &[]);
        assert_eq!(props.get("zookeeper.datadir.autocreate"), Some("true"));
    }

    #[test]
    fn bad_defines_are_warned_about() {
        let (props, warnings) = system_props_from_launch([("JVMFLAGS", "-D -Dok=1 '-Dbad")], &[]);
        assert_eq!(props.get("ok"), Some("1"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().all(|w| w.kind == WarningKind::LaunchFlag));
        assert_eq!(props.get("bad"), Some(""));
    }
}
