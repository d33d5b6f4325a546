//! Java's text forms that zkCli output is made of: `StatPrinter`, `java.util.Date.toString()`
//! (in UTC), `ZKUtil.getPermString`, a jute record's `toString()` (for `Id`), `List.toString()`,
//! and `new String(bytes, UTF_8)`.

use rzk_proto::Stat;
use rzk_proto::codes::perms;

use crate::output::Out;

/// `StatPrinter.print`.
pub fn print_stat(out: &Out, s: &Stat) {
    let lines = [
        format!("cZxid = 0x{:x}", s.czxid),
        format!("ctime = {}", java_date(s.ctime)),
        format!("mZxid = 0x{:x}", s.mzxid),
        format!("mtime = {}", java_date(s.mtime)),
        format!("pZxid = 0x{:x}", s.pzxid),
        format!("cversion = {}", s.cversion),
        format!("dataVersion = {}", s.version),
        format!("aclVersion = {}", s.aversion),
        format!("ephemeralOwner = 0x{:x}", s.ephemeral_owner),
        format!("dataLength = {}", s.data_length),
        format!("numChildren = {}", s.num_children),
    ];
    out.print(&(lines.join("\n") + "\n"));
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `new Date(ms).toString()` with the default time zone taken as UTC:
/// `Thu Jan 01 00:00:00 UTC 1970`.
pub fn java_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[wd],
        MONTHS[(m - 1) as usize],
        d,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        y
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic Gregorian (H. Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `ZKUtil.getPermString`: c, d, r, w, a in that order.
pub fn perm_string(p: i32) -> String {
    [(perms::CREATE, 'c'), (perms::DELETE, 'd'), (perms::READ, 'r'), (perms::WRITE, 'w'), (perms::ADMIN, 'a')]
        .iter()
        .filter(|(bit, _)| p & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// A jute string as `ToStringOutputArchive` writes it: a quote, then the text with `\0 \n \r , }
/// %` escaped.
pub fn jute_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("%00"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            ',' => out.push_str("%2C"),
            '}' => out.push_str("%7D"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// `Id.toString()`: `'scheme,'id` and a newline (a top-level record ends with one).
pub fn id_string(scheme: &str, id: &str) -> String {
    format!("{},{}\n", jute_string(scheme), jute_string(id))
}

/// `List.toString()`: `[a, b, c]`.
pub fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// `new String(bytes, UTF_8)`: invalid sequences become U+FFFD.
pub fn java_utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_like_java() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_795_370_914_000), "Sun Nov 22 18:08:34 UTC 2026");
        assert_eq!(java_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_date(-1), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn perms_and_ids() {
        assert_eq!(perm_string(31), "cdrwa");
        assert_eq!(perm_string(3), "rw");
        assert_eq!(id_string("world", "anyone"), "'world,'anyone\n");
        assert_eq!(jute_string("a,b%"), "'a%2Cb%25");
        assert_eq!(java_list(&["a".into(), "b".into()]), "[a, b]");
    }
}
