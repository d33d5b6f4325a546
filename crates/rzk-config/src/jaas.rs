//! JAAS login configuration files (`-Djava.security.auth.login.config=…`), read as the JDK's
//! `sun.security.provider.ConfigFile` reads them, so that a file ZooKeeper accepts gives the same
//! entries here and a file it rejects is rejected with its line:
//!
//! ```text
//! Server {                                   // an entry: a name and its login modules
//!     org.apache.zookeeper.server.auth.DigestLoginModule required
//!         user_super="adminsecret"           /* options: key=value, value quoted or a word */
//!         user_bob="bobsecret";
//! };
//! ```
//!
//! The tokenizer is `java.io.StreamTokenizer` as `ConfigFile` sets it up: `//`, `/* */` and a
//! lone `/` (to the end of the line) are comments; words are letters, `$ _ * -`, characters from
//! U+00A0 up, and inside a word also digits and `.`; `"…"` strings take Java's escapes (`\n`,
//! `\t`, octal, `\x` = `x`) and end at a line break. So `#` is not a comment, `'…'` is not a
//! string and an unquoted value may not start with a digit (all errors, as in Java). The control
//! flag is `required`, `requisite`, `sufficient` or `optional` in any case; an option repeated
//! keeps its last value; an entry named twice is an error; `${name}` in a value is replaced by the
//! system property `name` (`${/}` by `/`), and an unknown property is an error.

use std::fmt;

/// A JAAS file larger than this is refused (real ones are a few hundred bytes).
pub const JAAS_FILE_BYTES_MAX: usize = 1024 * 1024;

/// One login module of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginModule {
    pub class: String,
    pub flag: ControlFlag,
    /// Options in file order, each key once (a repeated key keeps its last value).
    pub options: Vec<(String, String)>,
}

impl LoginModule {
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlFlag {
    Required,
    Requisite,
    Sufficient,
    Optional,
}

/// One named entry (`Server { … };`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasEntry {
    pub name: String,
    /// The line its name is on.
    pub line: u32,
    pub modules: Vec<LoginModule>,
}

/// A parsed JAAS file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JaasConfig {
    pub entries: Vec<JaasEntry>,
}

impl JaasConfig {
    /// The entry called `name` (case-sensitive), as `Configuration.getAppConfigurationEntry`
    /// finds it: `None` also for an entry without modules.
    pub fn entry(&self, name: &str) -> Option<&JaasEntry> {
        self.entries.iter().find(|e| e.name == name && !e.modules.is_empty())
    }
}

/// A syntax error, with the line it was found on (0 when at the end of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasError {
    pub line: u32,
    pub message: String,
}

impl fmt::Display for JaasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for JaasError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Char(char),
    /// A token Java reads as a number (an unquoted digit, `.` or `-` start).
    Number(String),
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(s) | Tok::Quoted(s) => s.clone(),
            Tok::Char(c) => c.to_string(),
            Tok::Number(n) => format!("the number {n}"),
            Tok::Eof => "end of file".into(),
        }
    }
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '$' | '_' | '*') || (c as u32) >= 0xa0
}

fn is_word_part(c: char) -> bool {
    is_word_start(c) || c.is_ascii_digit() || matches!(c, '.' | '-')
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_line(&mut self) {
        while self.chars.peek().is_some_and(|&c| c != '\n' && c != '\r') {
            self.bump();
        }
    }

    /// The next token and the line it starts on.
    fn next(&mut self) -> Result<(Tok, u32), JaasError> {
        loop {
            let Some(&c) = self.chars.peek() else { return Ok((Tok::Eof, self.line)) };
            let line = self.line;
            if (c as u32) <= 0x20 {
                self.bump();
                continue;
            }
            if c == '/' {
                self.bump();
                match self.chars.peek() {
                    Some('*') => {
                        self.bump();
                        let mut prev = '\0';
                        loop {
                            let Some(c) = self.bump() else {
                                return Ok((Tok::Eof, self.line));
                            };
                            if prev == '*' && c == '/' {
                                break;
                            }
                            prev = c;
                        }
                    }
                    // `//` and a lone `/` (StreamTokenizer's comment character) end the line.
                    _ => self.skip_line(),
                }
                continue;
            }
            if c == '"' {
                self.bump();
                return Ok((Tok::Quoted(self.quoted()), line));
            }
            if c.is_ascii_digit() || c == '.' || c == '-' {
                let mut n = String::new();
                while let Some(&d) =
                    self.chars.peek().filter(|d| d.is_ascii_digit() || **d == '.' || **d == '-')
                {
                    n.push(d);
                    self.bump();
                }
                return Ok((Tok::Number(n), line));
            }
            if is_word_start(c) {
                let mut w = String::new();
                while let Some(&d) = self.chars.peek().filter(|d| is_word_part(**d)) {
                    w.push(d);
                    self.bump();
                }
                return Ok((Tok::Word(w), line));
            }
            self.bump();
            return Ok((Tok::Char(c), line));
        }
    }

    /// The rest of a `"` string, with StreamTokenizer's escapes; it also ends at a line break.
    fn quoted(&mut self) -> String {
        let mut s = String::new();
        while let Some(&c) = self.chars.peek() {
            if c == '\n' || c == '\r' {
                break;
            }
            self.bump();
            match c {
                '"' => break,
                '\\' => {
                    let Some(e) = self.bump() else { break };
                    s.push(match e {
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'v' => '\u{b}',
                        '0'..='7' => self.octal(e),
                        other => other,
                    });
                }
                c => s.push(c),
            }
        }
        s
    }

    /// An octal escape: up to three digits when the first is 0-3, else up to two.
    fn octal(&mut self, first: char) -> char {
        let mut v = first as u32 - '0' as u32;
        let max_digits = if first <= '3' { 3 } else { 2 };
        for _ in 1..max_digits {
            match self.chars.peek() {
                Some(&d @ '0'..='7') => {
                    v = v * 8 + (d as u32 - '0' as u32);
                    self.bump();
                }
                _ => break,
            }
        }
        char::from_u32(v).unwrap_or('\u{fffd}')
    }
}

struct Parser<'a, F> {
    lex: Lexer<'a>,
    look: Tok,
    line: u32,
    expand: F,
}

impl<F: Fn(&str) -> Option<String>> Parser<'_, F> {
    fn advance(&mut self) -> Result<(), JaasError> {
        let (t, line) = self.lex.next()?;
        self.look = t;
        self.line = line;
        Ok(())
    }

    fn error(&self, expected: &str) -> JaasError {
        let line = if self.look == Tok::Eof { 0 } else { self.line };
        JaasError { line, message: format!("expected [{expected}], found [{}]", self.look.describe()) }
    }

    /// A word or a quoted string.
    fn text(&mut self, expected: &str) -> Result<String, JaasError> {
        match &self.look {
            Tok::Word(s) | Tok::Quoted(s) => {
                let s = s.clone();
                self.advance()?;
                Ok(s)
            }
            _ => Err(self.error(expected)),
        }
    }

    fn punct(&mut self, c: char) -> Result<(), JaasError> {
        if self.look != Tok::Char(c) {
            return Err(self.error(&c.to_string()));
        }
        self.advance()
    }

    fn entry(&mut self) -> Result<JaasEntry, JaasError> {
        let line = self.line;
        let name = self.text("app name")?;
        self.punct('{')?;
        let mut modules = Vec::new();
        while self.look != Tok::Char('}') {
            modules.push(self.module()?);
        }
        self.punct('}')?;
        self.punct(';')?;
        Ok(JaasEntry { name, line, modules })
    }

    fn module(&mut self) -> Result<LoginModule, JaasError> {
        let class = self.text("module class name")?;
        let flag_line = self.line;
        let flag = match self.text("controlFlag")?.to_ascii_uppercase().as_str() {
            "REQUIRED" => ControlFlag::Required,
            "REQUISITE" => ControlFlag::Requisite,
            "SUFFICIENT" => ControlFlag::Sufficient,
            "OPTIONAL" => ControlFlag::Optional,
            other => {
                return Err(JaasError { line: flag_line, message: format!("invalid control flag, {other}") });
            }
        };
        let mut options: Vec<(String, String)> = Vec::new();
        while self.look != Tok::Char(';') {
            let key = self.text("option key")?;
            self.punct('=')?;
            let value_line = self.line;
            let raw = self.text("option value")?;
            let value = expand(&raw, &self.expand).map_err(|name| JaasError {
                line: value_line,
                message: format!("unable to expand property {name}"),
            })?;
            options.retain(|(k, _)| *k != key);
            options.push((key, value));
        }
        self.punct(';')?;
        Ok(LoginModule { class, flag, options })
    }
}

/// `PropertyExpander.expand`: `${name}` → the property, `${/}` → `/`. Err(name) if unknown.
fn expand(value: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // No closing brace: the rest is literal.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        if name == "/" {
            out.push('/');
        } else {
            out.push_str(&lookup(name).ok_or_else(|| name.to_owned())?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses a JAAS file. `lookup` gives the system properties for `${…}` in values.
pub fn parse_jaas(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<JaasConfig, JaasError> {
    if text.len() > JAAS_FILE_BYTES_MAX {
        return Err(JaasError { line: 0, message: format!("larger than {JAAS_FILE_BYTES_MAX} bytes") });
    }
    let lex = Lexer { chars: text.chars().peekable(), line: 1 };
    let mut p = Parser { lex, look: Tok::Eof, line: 1, expand: lookup };
    p.advance()?;
    let mut cfg = JaasConfig::default();
    while p.look != Tok::Eof {
        let e = p.entry()?;
        if cfg.entries.iter().any(|x| x.name == e.name) {
            return Err(JaasError {
                line: e.line,
                message: format!("can not specify multiple entries for {}", e.name),
            });
        }
        cfg.entries.push(e);
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JaasConfig, JaasError> {
        parse_jaas(text, |name| (name == "user.home").then(|| "/root".to_owned()))
    }

    fn server_options(text: &str) -> Vec<(String, String)> {
        let cfg = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        cfg.entry("Server")
            .map(|e| e.modules.iter().flat_map(|m| m.options.clone()).collect())
            .unwrap_or_default()
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// Files Java 17's `ConfigFile` accepts, and what it reads from them.
    #[test]
    fn accepted_as_java_does() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("Server { M rEqUiReD user_a=\"x\"; };", &[("user_a", "x")]),
            ("Server { M required user_a=\"${user.home}\"; };", &[("user_a", "/root")]),
            (
                "Server { M required user_a=\"a\\\"b\\\\c\\nd\" user_b=\"t\\tx\"; };",
                &[("user_a", "a\"b\\c\nd"), ("user_b", "t\tx")],
            ),
            ("Server { M required \"user_a\"=\"x\"; };", &[("user_a", "x")]),
            ("Server { M required user_a=\"x\"; }; / comment\nClient { M required; };", &[("user_a", "x")]),
            (
                "Server { M required user_a=pa-ss user_b=a.b user_c=x_y$z; };",
                &[("user_a", "pa-ss"), ("user_b", "a.b"), ("user_c", "x_y$z")],
            ),
            ("Server { M required user_a=\"x\" user_a=\"y\"; };", &[("user_a", "y")]),
            ("// c\n/* block\n */ Server { M required user_a=\"x\" ; } ;", &[("user_a", "x")]),
            ("Server { M required user_a=\"\"; };", &[("user_a", "")]),
            ("Server { M required user_a=\"é€\"; };", &[("user_a", "é€")]),
            ("Server { M required user_a = \"x\" ; };", &[("user_a", "x")]),
            ("Server { M required user_a=abc123; };", &[("user_a", "abc123")]),
            ("Server { M required user_a=\"\\101\\u0041\"; };", &[("user_a", "Au0041")]),
            ("Server { };", &[]),
            ("server { M required user_a=\"x\"; };", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(server_options(text), opts(want), "{text}");
        }
    }

    #[test]
    fn several_modules() {
        let cfg = parse(
            "Server {\n  org.x.M required user_a=\"x\";\n  com.sun.K optional user_b=\"y\";\n};\n\
             Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"u\" password=\"p\"; };",
        )
        .unwrap();
        let server = cfg.entry("Server").unwrap();
        assert_eq!(server.modules.len(), 2);
        assert_eq!(server.modules[1].class, "com.sun.K");
        assert_eq!(server.modules[1].flag, ControlFlag::Optional);
        assert_eq!(cfg.entry("Client").unwrap().modules[0].option("password"), Some("p"));
        assert_eq!(cfg.entry("Client").unwrap().line, 5);
    }

    /// Files Java 17's `ConfigFile` rejects.
    #[test]
    fn rejected_as_java_does() {
        let cases = [
            ("Server { M required user_a=123; };", 1),
            ("Server { M required user_a='x'; };", 1),
            ("# c\nServer { M required user_a=\"x\"; };", 1),
            ("Server { M required user_a=p@ss; };", 1),
            ("Server { M required user_a=\"x\"; };\nServer { M required; };", 2),
            ("Server { M required user_a=\"x\"; }", 0),
            ("Server { M required user_a=-1; };", 1),
            ("Server { M required user_a=\"x\"};", 1),
            ("Server { M user_a=\"x\"; };", 1),
            ("Server { M required user_a=\"${nope}\"; };", 1),
            ("Server { M required user_a=x\"y\"; };", 1),
            ("\n\nServer { M required user_a=\"x\" }; };", 3),
        ];
        for (text, line) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
        }
    }

    #[test]
    fn a_string_ends_at_the_line_break() {
        assert_eq!(server_options("Server { M required user_a=\"x\n; };"), opts(&[("user_a", "x")]));
    }

    #[test]
    fn unterminated_comment_is_the_end() {
        assert!(parse("Server { M required; }; /* never closed").is_ok());
        assert!(parse("Server { M required /* never closed").is_err());
    }

    proptest::proptest! {
        /// Any text: a configuration or an error, never a panic.
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }
    }
}
