//! Java's text forms, where the four-letter words print them: `Double.toString`, the 4-decimal
//! averages of `AvgMinMaxCounter`, `Date.toString`, `InetSocketAddress.toString`, and the
//! iteration order of `HashMap`/`ConcurrentHashMap`, which decides the order of several
//! listings (`wchp`, `dump`, quota metrics) in ZooKeeper.

use std::net::{IpAddr, SocketAddr};

pub use rzk_node::java_hash::string_hash;

/// `Double.toString`: plain decimal with at least one fraction digit for 10⁻³ ≤ |v| < 10⁷,
/// otherwise `d.dddE±n`. (Digits are the shortest that round-trip, as Java prints them for the
/// values metrics take.)
pub fn double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    // Rust: "1.5e-4" / "1e7"; Java: "1.5E-4" / "1.0E7".
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exp}")
}

/// `AvgMinMaxCounter.getAvg`: total / count as a double, rounded half-up to 4 decimals with
/// `BigDecimal` (on the exact binary value of the quotient); 0 when there is no data.
pub fn avg4(total: i64, count: u64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let q = total as f64 / count as f64;
    let neg = q < 0.0;
    // 30 digits of the exact expansion are enough to see the fifth decimal truthfully.
    let s = format!("{:.30}", q.abs());
    let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int: i128 = int_part.parse().unwrap_or(0);
    let frac4: i128 = frac.get(..4).and_then(|f| f.parse().ok()).unwrap_or(0);
    let up = frac.as_bytes().get(4).is_some_and(|d| *d >= b'5');
    let scaled = int * 10_000 + frac4 + i128::from(up);
    let r = scaled as f64 / 10_000.0;
    if neg { -r } else { r }
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `java.util.Date.toString()` for a time zone of UTC: `Sun Nov 22 18:21:56 UTC 2026`. (Java
/// uses the JVM's default zone; rzk always prints UTC.)
pub fn date_utc(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let mon = MONTHS[(m - 1) as usize];
    format!("{wd} {mon} {d:02} {:02}:{:02}:{:02} UTC {y}", tod / 3600, tod % 3600 / 60, tod % 60)
}

/// logback's `%d{ISO8601}` in UTC: `2026-11-22 18:21:56,123`.
pub fn iso8601_utc(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let (days, tod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let ms = epoch_ms.rem_euclid(1000);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{ms:03}", tod / 3600, tod % 3600 / 60, tod % 60)
}

/// Days since 1970-01-01 to (year, month 1–12, day 1–31), proleptic Gregorian (H. Hinnant).
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

/// `InetSocketAddress.toString()` of an accepted socket (no host name): `/127.0.0.1:2181`,
/// `/[0:0:0:0:0:0:0:1]:2181`. IPv4-mapped addresses print as IPv4, as Java maps them.
pub fn socket_addr(a: &SocketAddr) -> String {
    match a.ip() {
        IpAddr::V4(v4) => format!("/{v4}:{}", a.port()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("/{v4}:{}", a.port()),
            None => {
                let groups: Vec<String> = v6.segments().iter().map(|s| format!("{s:x}")).collect();
                let scope = match a {
                    SocketAddr::V6(s) if s.scope_id() != 0 => format!("%{}", s.scope_id()),
                    _ => String::new(),
                };
                format!("/[{}{scope}]:{}", groups.join(":"), a.port())
            }
        },
    }
}

/// `Long.hashCode`.
pub fn long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

/// Which Java map a listing iterates.
#[derive(Debug, Clone, Copy)]
pub enum JavaMap {
    /// `new HashMap<>(initialCapacity)` / `new HashSet<>(initialCapacity)` (16 by default):
    /// resizes when it holds more than ¾ of its table.
    Hash { initial_capacity: u32 },
    /// `new ConcurrentHashMap<>()`: a 16-bucket table that resizes once it holds ¾ of it.
    Concurrent,
}

impl JavaMap {
    pub const DEFAULT: JavaMap = JavaMap::Hash { initial_capacity: 16 };
}

/// The order a Java map holding these keys iterates them in: by bucket of the spread hash, then
/// in the order given (taken as the insertion order). Only the table size implied by the current
/// size is modelled; a map that once held many more entries keeps its larger table in Java.
pub fn hash_order<T>(items: Vec<(i32, T)>, map: JavaMap) -> Vec<T> {
    let n = items.len() as u64;
    let mut table: u64 = match map {
        JavaMap::Hash { initial_capacity } => u64::from(initial_capacity.max(1)).next_power_of_two(),
        JavaMap::Concurrent => 16,
    };
    loop {
        let grow = match map {
            JavaMap::Hash { .. } => n * 4 > table * 3,
            JavaMap::Concurrent => n * 4 >= table * 3,
        };
        if !grow {
            break;
        }
        table *= 2;
    }
    let mut keyed: Vec<(u64, usize, T)> =
        items.into_iter().enumerate().map(|(i, (h, t))| (spread(h) & (table - 1), i, t)).collect();
    keyed.sort_by_key(|(bucket, i, _)| (*bucket, *i));
    keyed.into_iter().map(|(_, _, t)| t).collect()
}

/// `HashMap.hash` / `ConcurrentHashMap.spread` (they differ only in the sign bit).
fn spread(h: i32) -> u64 {
    let h = h as u32;
    u64::from((h ^ (h >> 16)) & 0x7fff_ffff)
}

/// Strings in the order a Java `HashMap<String, _>` / `HashSet<String>` iterates them.
pub fn string_order<'a>(keys: impl IntoIterator<Item = &'a str>, map: JavaMap) -> Vec<&'a str> {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    hash_order(keys.into_iter().map(|k| (string_hash(k), k)).collect(), map)
}

/// Longs in the order a Java map keyed by `Long` iterates them.
pub fn long_order(keys: impl IntoIterator<Item = i64>, map: JavaMap) -> Vec<i64> {
    let mut keys: Vec<i64> = keys.into_iter().collect();
    keys.sort_unstable();
    hash_order(keys.into_iter().map(|k| (long_hash(k), k)).collect(), map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(double(0.0), "0.0");
        assert_eq!(double(1.0), "1.0");
        assert_eq!(double(2.1538), "2.1538");
        assert_eq!(double(74.6667), "74.6667");
        assert_eq!(double(1e-4), "1.0E-4");
        assert_eq!(double(1.5e-4), "1.5E-4");
        assert_eq!(double(12_345_678.0), "1.2345678E7");
        assert_eq!(double(-3.5), "-3.5");
    }

    #[test]
    fn averages_round_half_up_to_four_places() {
        // Values seen in ZooKeeper 3.8's mntr.
        assert_eq!(double(avg4(28, 13)), "2.1538");
        assert_eq!(double(avg4(224, 3)), "74.6667");
        assert_eq!(double(avg4(1, 13)), "0.0769");
        assert_eq!(double(avg4(0, 0)), "0.0");
        assert_eq!(double(avg4(7, 7)), "1.0");
        // 1/32 = 0.03125 exactly: half-up gives 0.0313.
        assert_eq!(double(avg4(1, 32)), "0.0313");
    }

    #[test]
    fn dates_print_as_java_util_date() {
        assert_eq!(date_utc(0), "Thu Jan 01 00:00:00 UTC 1970");
        // Seen in the reference's dump: 2026-11-22 18:21:56 UTC, a Sunday.
        assert_eq!(date_utc(1_795_371_716_000), "Sun Nov 22 18:21:56 UTC 2026");
        assert_eq!(date_utc(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(iso8601_utc(1_795_371_716_007), "2026-11-22 18:21:56,007");
        assert_eq!(iso8601_utc(0), "1970-01-01 00:00:00,000");
    }

    #[test]
    fn socket_addresses_print_as_inet_socket_address() {
        assert_eq!(socket_addr(&"127.0.0.1:59178".parse().unwrap()), "/127.0.0.1:59178");
        assert_eq!(socket_addr(&"[::1]:2181".parse().unwrap()), "/[0:0:0:0:0:0:0:1]:2181");
        assert_eq!(socket_addr(&"[::ffff:10.0.0.1]:5".parse().unwrap()), "/10.0.0.1:5");
    }

    #[test]
    fn hash_orders_match_zookeeper_listings() {
        // wchp on ZooKeeper 3.8 listed /a, /b, /nope; dump listed /a/e2 before /a/e1.
        assert_eq!(string_order(["/nope", "/b", "/a"], JavaMap::DEFAULT), ["/a", "/b", "/nope"]);
        assert_eq!(string_order(["/a/e1", "/a/e2"], JavaMap::DEFAULT), ["/a/e2", "/a/e1"]);
        // Quota metrics listed namespace a before b.
        assert_eq!(string_order(["b", "a"], JavaMap::Concurrent), ["a", "b"]);
        assert_eq!(long_hash(0x1_0000_0002), 3);
        // dump listed session 0x10000114f140001 before 0x10000114f140000.
        let sessions = [0x0100_0011_4f14_0000, 0x0100_0011_4f14_0001];
        assert_eq!(long_order(sessions, JavaMap::Concurrent), [sessions[1], sessions[0]]);
    }
}
