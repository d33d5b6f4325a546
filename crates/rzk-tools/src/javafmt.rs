//! The Java formats the ZooKeeper tools print with, for the `en_US` locale of a Java 17 JVM
//! (CLDR data; later JVMs put U+202F before AM/PM, 17 a plain space):
//!
//! - `DateFormat.getDateTimeInstance(SHORT, LONG)` (TxnLogToolkit): `11/22/26, 6:37:16 PM UTC`;
//! - `Date.toString()` (SnapshotFormatter): `Sun Nov 22 18:37:16 UTC 2026`;
//! - `DateFormat.getDateTimeInstance()` (PurgeTxnLog): `Nov 22, 2026, 6:37:16 PM`;
//! - `Long.toHexString` and `%#016x`.
//!
//! Dates are in the local time zone (`TZ`, else `/etc/localtime`), as the JVM's are. Zone names
//! are the tz database's abbreviations; Java has its own for a few zones whose tz abbreviation is
//! numeric (Asia/Dubai is `GST` to Java, `+04` here).

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn local_zone() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(TimeZone::system)
}

/// The broken-down local time of a Java `Date(ms)`.
struct Local {
    year: i64,
    month: usize,
    day: i8,
    hour: i8,
    minute: i8,
    second: i8,
    weekday: &'static str,
    zone: String,
}

fn local(ms: i64) -> Option<Local> {
    let ts = Timestamp::from_millisecond(ms).ok()?;
    let tz = local_zone();
    let z = ts.to_zoned(tz.clone());
    let weekday = match z.weekday() {
        jiff::civil::Weekday::Monday => "Mon",
        jiff::civil::Weekday::Tuesday => "Tue",
        jiff::civil::Weekday::Wednesday => "Wed",
        jiff::civil::Weekday::Thursday => "Thu",
        jiff::civil::Weekday::Friday => "Fri",
        jiff::civil::Weekday::Saturday => "Sat",
        jiff::civil::Weekday::Sunday => "Sun",
    };
    Some(Local {
        year: i64::from(z.year()),
        month: usize::try_from(z.month() - 1).unwrap_or(0).min(11),
        day: z.day(),
        hour: z.hour(),
        minute: z.minute(),
        second: z.second(),
        weekday,
        zone: tz.to_offset_info(ts).abbreviation().to_owned(),
    })
}

/// `h` and `a`: the 12-hour clock.
fn twelve_hour(hour: i8) -> (i8, &'static str) {
    let h = if hour % 12 == 0 { 12 } else { hour % 12 };
    (h, if hour < 12 { "AM" } else { "PM" })
}

/// `DateFormat.getDateTimeInstance(DateFormat.SHORT, DateFormat.LONG)`: `M/d/yy, h:mm:ss a z`.
pub fn short_long(ms: i64) -> String {
    let Some(t) = local(ms) else { return ms.to_string() };
    let (h, ampm) = twelve_hour(t.hour);
    format!(
        "{}/{}/{:02}, {}:{:02}:{:02} {} {}",
        t.month + 1,
        t.day,
        t.year.rem_euclid(100),
        h,
        t.minute,
        t.second,
        ampm,
        t.zone
    )
}

/// `Date.toString()`: `EEE MMM dd HH:mm:ss zzz yyyy`.
pub fn date_to_string(ms: i64) -> String {
    let Some(t) = local(ms) else { return ms.to_string() };
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {} {}",
        t.weekday, MONTHS[t.month], t.day, t.hour, t.minute, t.second, t.zone, t.year
    )
}

/// `DateFormat.getDateTimeInstance()` (MEDIUM, MEDIUM): `MMM d, y, h:mm:ss a`.
pub fn medium(ms: i64) -> String {
    let Some(t) = local(ms) else { return ms.to_string() };
    let (h, ampm) = twelve_hour(t.hour);
    format!("{} {}, {}, {}:{:02}:{:02} {}", MONTHS[t.month], t.day, t.year, h, t.minute, t.second, ampm)
}

/// `Long.toHexString`: lower case, no padding, two's complement for negatives.
pub fn hex(v: i64) -> String {
    format!("{:x}", v as u64)
}

/// `String.format("%#016x", v)`: `0x` and 14 digits at least (the prefix counts in the width).
pub fn hex016(v: i64) -> String {
    format!("{:#016x}", v as u64)
}

/// `new String(bytes, UTF_8)` as JDK 17 decodes: like Rust's lossy decoding (one U+FFFD per
/// maximal invalid subpart), except that an encoded surrogate (`ED A0..BF xx`, as CESU-8 writes
/// supplementary characters) is one U+FFFD, where Rust gives one per byte.
pub fn java_utf8_lossy(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let mut bad = e.error_len().unwrap_or(rest.len()).max(1);
                if rest.len() > 1 && rest[0] == 0xED && (0xA0..=0xBF).contains(&rest[1]) {
                    bad = if rest.len() > 2 && (0x80..=0xBF).contains(&rest[2]) { 3 } else { 2 };
                }
                out.push('\u{FFFD}');
                bytes = &rest[bad.min(rest.len())..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_decoding_matches_jdk17() {
        // Checked against `new String(b, UTF_8)` on OpenJDK 17.
        let cases: [(&[u8], &str); 12] = [
            (&[0xff], "\u{FFFD}"),
            (&[0xc3, 0x41], "\u{FFFD}A"),
            (&[0xe2, 0x82], "\u{FFFD}"),
            (&[0xe0, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (&[0xed, 0xa0, 0x80], "\u{FFFD}"),
            (&[0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], "\u{FFFD}\u{FFFD}"),
            (&[0xed, 0xa0, 0x41], "\u{FFFD}A"),
            (&[0xed, 0xa0], "\u{FFFD}"),
            (&[0xf0, 0x9f, 0x98, 0x80], "\u{1F600}"),
            (&[0xf0, 0x9f, 0x98, 0x41], "\u{FFFD}A"),
            (&[0xf8, 0x88, 0x80, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
            (&[0x00, 0xe2, 0x82, 0xac], "\0\u{20AC}"),
        ];
        for (bytes, want) in cases {
            assert_eq!(java_utf8_lossy(bytes), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn hex_forms() {
        assert_eq!(hex(0x1a), "1a");
        assert_eq!(hex(-2), "fffffffffffffffe");
        assert_eq!(hex016(0), "0x00000000000000");
        assert_eq!(hex016(0xe), "0x0000000000000e");
        assert_eq!(hex016(i64::MIN), "0x8000000000000000");
    }

    #[test]
    fn twelve_hour_clock() {
        assert_eq!(twelve_hour(0), (12, "AM"));
        assert_eq!(twelve_hour(11), (11, "AM"));
        assert_eq!(twelve_hour(12), (12, "PM"));
        assert_eq!(twelve_hour(18), (6, "PM"));
    }

    #[test]
    fn out_of_range_dates_print_the_number() {
        assert_eq!(short_long(i64::MAX), i64::MAX.to_string());
        assert_eq!(date_to_string(i64::MIN), i64::MIN.to_string());
    }
}
