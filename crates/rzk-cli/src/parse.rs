//! Command lines as zkCli reads them: a line is split by `MyCommandOptions.ARGS_PATTERN`
//! (whitespace, with "double" or 'single' quoted words kept whole and unquoted), and a
//! command's words are parsed as Apache commons-cli's `DefaultParser` does for short options
//! (options anywhere, `-sw` bundles, `-v 3` and `-v3`, `--` ends options), with its exception
//! messages, which zkCli prints as `org.apache.commons.cli.XxxException: message`.

/// One short option a command knows.
#[derive(Debug, Clone, Copy)]
pub struct OptSpec {
    pub name: char,
    pub takes_arg: bool,
    /// The description (shown by `ls -?` and in option-group errors).
    pub desc: &'static str,
}

pub const fn flag(name: char, desc: &'static str) -> OptSpec {
    OptSpec { name, takes_arg: false, desc }
}

pub const fn valued(name: char, desc: &'static str) -> OptSpec {
    OptSpec { name, takes_arg: true, desc }
}

/// A group of mutually exclusive options (commons-cli `OptionGroup`).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub members: &'static [char],
    pub required: bool,
}

/// The parsed words: options seen (in order, with values) and the other words (the command
/// name first).
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub opts: Vec<(char, Option<String>)>,
    pub args: Vec<String>,
}

impl CommandLine {
    pub fn has(&self, c: char) -> bool {
        self.opts.iter().any(|(o, _)| *o == c)
    }

    /// The first value given for `c`.
    pub fn value(&self, c: char) -> Option<&str> {
        self.opts.iter().find(|(o, _)| *o == c).and_then(|(_, v)| v.as_deref())
    }
}

/// Splits a line as `MyCommandOptions.parseCommand` does.
pub fn split_line(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        let q = chars[i];
        if q == '"' || q == '\'' {
            match chars[i + 1..].iter().position(|&c| c == q) {
                Some(off) => {
                    let end = i + 1 + off;
                    out.push(chars[start + 1..end].iter().collect());
                    i = end + 1;
                    continue;
                }
                // An unclosed quote starts an ordinary word ([^"']\S* does not match it, so the
                // regex skips the quote character itself).
                None => {
                    i += 1;
                    continue;
                }
            }
        }
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

fn spec(specs: &[OptSpec], c: char) -> Option<OptSpec> {
    specs.iter().copied().find(|s| s.name == c)
}

fn unrecognized(token: &str) -> String {
    format!("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: {token}")
}

fn missing_argument(c: char) -> String {
    format!("org.apache.commons.cli.MissingArgumentException: Missing argument for option: {c}")
}

/// Whether `token` would be taken as an option's value (`DefaultParser.isArgument`).
fn is_value(specs: &[OptSpec], token: &str) -> bool {
    let is_negative_number = token.len() > 1 && token.parse::<f64>().is_ok();
    if is_negative_number || !token.starts_with('-') || token == "-" {
        return true;
    }
    let mut cs = token[1..].chars();
    !(matches!((cs.next(), cs.next()), (Some(c), _) if spec(specs, c).is_some()) || token.starts_with("--"))
}

/// Parses `words` (the command name first) against `specs` and `groups`.
pub fn parse(specs: &[OptSpec], groups: &[Group], words: &[String]) -> Result<CommandLine, String> {
    let mut cl = CommandLine::default();
    let mut it = words.iter().peekable();
    let mut no_more_options = false;
    while let Some(w) = it.next() {
        if no_more_options || !w.starts_with('-') || w == "-" {
            cl.args.push(w.clone());
            continue;
        }
        if w == "--" {
            no_more_options = true;
            continue;
        }
        if w.starts_with("--") {
            return Err(unrecognized(w));
        }
        let body: Vec<char> = w[1..].chars().collect();
        let Some(first) = spec(specs, body[0]) else { return Err(unrecognized(w)) };
        if first.takes_arg {
            if body.len() > 1 {
                let rest: String = body[1..].iter().collect();
                cl.opts.push((first.name, Some(rest.trim_start_matches('=').to_owned())));
            } else {
                match it.peek() {
                    Some(v) if is_value(specs, v) => {
                        let v = it.next().cloned();
                        cl.opts.push((first.name, v));
                    }
                    _ => return Err(missing_argument(first.name)),
                }
            }
            continue;
        }
        // A bundle of flags; a valued option inside takes the rest of the word.
        let mut i = 0;
        while i < body.len() {
            let Some(s) = spec(specs, body[i]) else { return Err(unrecognized(w)) };
            if s.takes_arg {
                let rest: String = body[i + 1..].iter().collect();
                if rest.is_empty() {
                    return Err(missing_argument(s.name));
                }
                cl.opts.push((s.name, Some(rest)));
                break;
            }
            cl.opts.push((s.name, None));
            i += 1;
        }
    }
    check_groups(specs, groups, &cl)?;
    Ok(cl)
}

fn check_groups(specs: &[OptSpec], groups: &[Group], cl: &CommandLine) -> Result<(), String> {
    for g in groups {
        let mut selected: Option<char> = None;
        for (o, _) in &cl.opts {
            if !g.members.contains(o) {
                continue;
            }
            match selected {
                Some(prev) if prev != *o => {
                    return Err(format!(
                        "org.apache.commons.cli.AlreadySelectedException: The option '{o}' was specified but an \
                         option from this group has already been selected: '{prev}'"
                    ));
                }
                _ => selected = Some(*o),
            }
        }
        if g.required && selected.is_none() {
            let names: Vec<String> = g
                .members
                .iter()
                .filter_map(|c| spec(specs, *c))
                .map(|s| format!("-{} {}", s.name, s.desc))
                .collect();
            return Err(format!(
                "org.apache.commons.cli.MissingOptionException: Missing required option: [{}]",
                names.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        split_line(s)
    }

    #[test]
    fn splits_like_zkcli() {
        assert_eq!(w("  create /a \"hello world\" 'x y'  "), ["create", "/a", "hello world", "x y"]);
        assert_eq!(w("set /a b\"c"), ["set", "/a", "b\"c"]);
        assert!(w("   ").is_empty());
    }

    #[test]
    fn options_like_commons_cli() {
        let specs = [flag('s', "stats"), flag('w', "watch"), valued('v', "version")];
        let cl = parse(&specs, &[], &w("set /a -s data -v 3")).unwrap();
        assert_eq!(cl.args, ["set", "/a", "data"]);
        assert!(cl.has('s'));
        assert_eq!(cl.value('v'), Some("3"));
        let cl = parse(&specs, &[], &w("get -sw /a")).unwrap();
        assert!(cl.has('s') && cl.has('w'));
        assert_eq!(parse(&specs, &[], &w("set -v7 /a d")).unwrap().value('v'), Some("7"));
        assert_eq!(parse(&specs, &[], &w("set -v -1 /a d")).unwrap().value('v'), Some("-1"));
        assert_eq!(
            parse(&specs, &[], &w("ls -x /")).unwrap_err(),
            "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"
        );
        assert_eq!(
            parse(&specs, &[], &w("set /a -v")).unwrap_err(),
            "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"
        );
        assert_eq!(parse(&specs, &[], &w("set -- /a -x")).unwrap().args, ["set", "/a", "-x"]);
    }

    #[test]
    fn required_groups() {
        let specs = [valued('n', "num soft quota"), valued('b', "bytes soft quota")];
        let g = [Group { members: &['n', 'b'], required: true }];
        assert_eq!(
            parse(&specs, &g, &w("setquota /a")).unwrap_err(),
            "org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota]"
        );
        assert!(
            parse(&specs, &g, &w("setquota -n 1 -b 2 /a")).unwrap_err().contains("AlreadySelectedException")
        );
    }
}
