//! The jute binary encoding (`BinaryOutputArchive`/`BinaryInputArchive`): big-endian integers,
//! one-byte booleans, length-prefixed strings, buffers and vectors with −1 meaning null.
//!
//! Every record of `zookeeper.jute` implements [`Jute`]; the records themselves are declared once,
//! with [`jute_record!`], in `records.rs`. Decoding never panics and never allocates from an
//! untrusted length: each length is checked against the bytes that remain and against the frame
//! limit (`jute.maxbuffer`) before anything is reserved.

use bytes::{Buf, BufMut, Bytes};

/// Why a record could not be decoded. A decode error closes the connection it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record truncated: needed {needed} more bytes, {remaining} left")]
    Truncated { needed: usize, remaining: usize },
    #[error("unreasonable length {0}")]
    BadLength(i64),
    #[error("unknown value {value} for {what}")]
    BadValue { what: &'static str, value: i64 },
    #[error("{0} trailing bytes after record")]
    Trailing(usize),
}

/// A cursor over one received frame. Slices of buffers are taken without copying.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
    /// Upper bound for any single length field (ZooKeeper: maxbuffer + extrasize).
    len_max: usize,
}

/// ZooKeeper's default `jute.maxbuffer` (0xfffff bytes, just under 1 MiB).
pub const JUTE_MAXBUFFER_DEFAULT_BYTES: usize = 0xfffff;

impl Reader {
    /// A reader whose length fields may not exceed `len_max` bytes (or items).
    pub fn new(buf: Bytes, len_max: usize) -> Self {
        Reader { buf, len_max }
    }

    /// A reader with ZooKeeper's default limit (maxbuffer + extrasize, both 0xfffff).
    pub fn with_default_limit(buf: Bytes) -> Self {
        Reader::new(buf, 2 * JUTE_MAXBUFFER_DEFAULT_BYTES)
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// What has not been read yet (without consuming it).
    pub fn rest(&self) -> &Bytes {
        &self.buf
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() { Ok(()) } else { Err(DecodeError::Trailing(self.buf.len())) }
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.buf.len() < n {
            Err(DecodeError::Truncated { needed: n - self.buf.len(), remaining: self.buf.len() })
        } else {
            Ok(())
        }
    }

    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        // Java's DataInput.readBoolean treats any non-zero byte as true.
        Ok(self.read_u8()? != 0)
    }

    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.need(4)?;
        Ok(self.buf.get_i32())
    }

    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.need(8)?;
        Ok(self.buf.get_i64())
    }

    /// A length field: −1 is null (`None`); other negatives and values above the limit fail.
    pub fn read_len(&mut self) -> Result<Option<usize>, DecodeError> {
        let len = self.read_i32()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 || len as usize > self.len_max {
            return Err(DecodeError::BadLength(len as i64));
        }
        Ok(Some(len as usize))
    }

    /// `n` raw bytes, sliced out of the frame without copying.
    pub fn read_bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    pub fn read_buffer(&mut self) -> Result<Option<Bytes>, DecodeError> {
        match self.read_len()? {
            None => Ok(None),
            Some(n) => self.read_bytes(n).map(Some),
        }
    }

    pub fn read_ustring(&mut self) -> Result<Option<String>, DecodeError> {
        match self.read_len()? {
            None => Ok(None),
            Some(n) => {
                let raw = self.read_bytes(n)?;
                Ok(Some(decode_java_utf8(&raw)))
            }
        }
    }

    /// A vector's item count; the count is bounded by the bytes left (every item is ≥ 1 byte).
    pub fn read_count(&mut self) -> Result<Option<usize>, DecodeError> {
        match self.read_len()? {
            None => Ok(None),
            Some(n) if n > self.buf.len() => Err(DecodeError::BadLength(n as i64)),
            Some(n) => Ok(Some(n)),
        }
    }
}

/// Decodes bytes as Java's `new String(b, UTF_8)` does: invalid sequences become U+FFFD.
fn decode_java_utf8(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// Writes a string the way `BinaryOutputArchive.writeString` does: UTF-8 per UTF-16 unit, so a
/// supplementary character becomes a 6-byte surrogate pair (CESU-8). For the usual strings (no
/// character above U+FFFF) that is plain UTF-8, and the bytes are copied as they are.
pub fn put_ustring(out: &mut impl BufMut, s: &str) {
    if !s.bytes().any(|b| b >= 0xF0) {
        out.put_i32(s.len() as i32);
        out.put_slice(s.as_bytes());
        return;
    }
    let mut enc = Vec::with_capacity(s.len() + 8);
    for unit in s.encode_utf16() {
        let c = unit as u32;
        if c < 0x80 {
            enc.push(c as u8);
        } else if c < 0x800 {
            enc.push((0xc0 | (c >> 6)) as u8);
            enc.push((0x80 | (c & 0x3f)) as u8);
        } else {
            enc.push((0xe0 | (c >> 12)) as u8);
            enc.push((0x80 | ((c >> 6) & 0x3f)) as u8);
            enc.push((0x80 | (c & 0x3f)) as u8);
        }
    }
    out.put_i32(enc.len() as i32);
    out.put_slice(&enc);
}

/// The encoded length of a string as [`put_ustring`] writes it, without the length prefix.
pub fn ustring_len(s: &str) -> usize {
    if !s.bytes().any(|b| b >= 0xF0) {
        return s.len();
    }
    s.encode_utf16()
        .map(|u| {
            if u < 0x80 {
                1
            } else if u < 0x800 {
                2
            } else {
                3
            }
        })
        .sum()
}

/// A value with a jute encoding: every record, and the field types records are made of.
pub trait Jute: Sized {
    fn encode(&self, out: &mut impl BufMut);
    fn decode(r: &mut Reader) -> Result<Self, DecodeError>;

    /// The record as a fresh byte vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// Decodes a whole buffer, failing on trailing bytes.
    fn from_bytes(buf: Bytes) -> Result<Self, DecodeError> {
        let mut r = Reader::with_default_limit(buf);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Jute for i32 {
    fn encode(&self, out: &mut impl BufMut) {
        out.put_i32(*self)
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_i32()
    }
}

impl Jute for i64 {
    fn encode(&self, out: &mut impl BufMut) {
        out.put_i64(*self)
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_i64()
    }
}

impl Jute for bool {
    fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(*self as u8)
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_bool()
    }
}

/// A `ustring` that is never null on the wire we write; a null read becomes "".
impl Jute for String {
    fn encode(&self, out: &mut impl BufMut) {
        put_ustring(out, self)
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(r.read_ustring()?.unwrap_or_default())
    }
}

/// A `buffer` that is never null on the wire we write; a null read becomes empty.
impl Jute for Bytes {
    fn encode(&self, out: &mut impl BufMut) {
        out.put_i32(self.len() as i32);
        out.put_slice(self);
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(r.read_buffer()?.unwrap_or_default())
    }
}

/// A jute `vector`; a null read becomes empty.
impl<T: Jute> Jute for Vec<T> {
    fn encode(&self, out: &mut impl BufMut) {
        out.put_i32(self.len() as i32);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let n = r.read_count()?.unwrap_or(0);
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode(r)?);
        }
        Ok(v)
    }
}

/// Types whose null (length −1) is distinct from empty: `Option<T>` keeps the difference.
pub trait Nullable: Jute {}
impl Nullable for String {}
impl Nullable for Bytes {}
impl<T: Jute> Nullable for Vec<T> {}

impl<T: Nullable> Jute for Option<T> {
    fn encode(&self, out: &mut impl BufMut) {
        match self {
            None => out.put_i32(-1),
            Some(v) => v.encode(out),
        }
    }
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        // Peek at the length: −1 is null, anything else is the value itself.
        if r.remaining() >= 4 && r.rest()[..4] == [0xff, 0xff, 0xff, 0xff] {
            r.read_i32()?;
            return Ok(None);
        }
        T::decode(r).map(Some)
    }
}

/// Declares jute records: a struct with public fields, encoded in field order with no tags.
/// In test builds each record also gets random samples and a round-trip/truncation check, listed
/// by `record_checks()` so every record declared here is covered.
#[macro_export]
macro_rules! jute_record {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident { $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)? }
    )*) => {
        $(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty ),* }

        impl $crate::jute::Jute for $name {
            fn encode(&self, _out: &mut impl ::bytes::BufMut) {
                $( $crate::jute::Jute::encode(&self.$field, _out); )*
            }
            fn decode(_r: &mut $crate::jute::Reader) -> Result<Self, $crate::jute::DecodeError> {
                Ok($name { $( $field: <$ty as $crate::jute::Jute>::decode(_r)?, )* })
            }
        }

        #[cfg(test)]
        impl $crate::jute::sample::Sample for $name {
            fn sample(_r: &mut $crate::jute::sample::Rng) -> Self {
                $name { $( $field: <$ty as $crate::jute::sample::Sample>::sample(_r), )* }
            }
        }
        )*

        /// Every record declared here, with its round-trip and truncation check.
        #[cfg(test)]
        pub fn record_checks() -> Vec<(&'static str, fn(u64))> {
            vec![ $( (stringify!($name), $crate::jute::sample::check_record::<$name> as fn(u64)) ),* ]
        }
    };
}

/// Random values for property tests of the codec (test builds only).
#[cfg(test)]
pub mod sample {
    use bytes::Bytes;

    use super::{Jute, Reader};

    /// xorshift64*, seeded by proptest.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed | 1)
        }
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545F4914F6CDD1D)
        }
        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }
    }

    pub trait Sample {
        fn sample(r: &mut Rng) -> Self;
    }

    impl Sample for i32 {
        fn sample(r: &mut Rng) -> Self {
            match r.below(4) {
                0 => 0,
                1 => -1,
                _ => r.next_u64() as i32,
            }
        }
    }
    impl Sample for i64 {
        fn sample(r: &mut Rng) -> Self {
            match r.below(4) {
                0 => 0,
                1 => -1,
                _ => r.next_u64() as i64,
            }
        }
    }
    impl Sample for bool {
        fn sample(r: &mut Rng) -> Self {
            r.below(2) == 1
        }
    }
    /// Strings from the Basic Multilingual Plane: Java itself does not round-trip supplementary
    /// characters through jute (it writes CESU-8 and reads UTF-8).
    impl Sample for String {
        fn sample(r: &mut Rng) -> Self {
            const CHARS: [char; 10] = ['a', 'Z', '/', '0', ' ', 'é', 'ß', '中', '\u{fffd}', '\u{7f}'];
            (0..r.below(12)).map(|_| CHARS[r.below(CHARS.len() as u64) as usize]).collect()
        }
    }
    impl Sample for Bytes {
        fn sample(r: &mut Rng) -> Self {
            Bytes::from((0..r.below(24)).map(|_| r.next_u64() as u8).collect::<Vec<u8>>())
        }
    }
    impl<T: Sample + super::Nullable> Sample for Option<T> {
        fn sample(r: &mut Rng) -> Self {
            if r.below(4) == 0 { None } else { Some(T::sample(r)) }
        }
    }
    impl<T: Sample> Sample for Vec<T> {
        fn sample(r: &mut Rng) -> Self {
            (0..r.below(4)).map(|_| T::sample(r)).collect()
        }
    }

    /// A random record encodes and decodes to itself, and every strict prefix of its encoding
    /// fails to decode (without panicking).
    pub fn check_record<T: Jute + Sample + PartialEq + std::fmt::Debug>(seed: u64) {
        let mut r = Rng::new(seed);
        let v = T::sample(&mut r);
        let bytes = v.to_bytes();
        let back = T::from_bytes(Bytes::from(bytes.clone())).expect("decode what was encoded");
        assert_eq!(back, v);
        for cut in 0..bytes.len() {
            let mut rd = Reader::new(Bytes::copy_from_slice(&bytes[..cut]), 1 << 20);
            assert!(T::decode(&mut rd).is_err(), "a {cut}-byte prefix of {v:?} decoded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplementary_chars_are_written_as_surrogate_pairs() {
        let mut out = Vec::new();
        put_ustring(&mut out, "a\u{1F600}");
        // 'a' + ED A0 BD + ED B8 80 (U+D83D U+DE00 in CESU-8).
        assert_eq!(out, [0, 0, 0, 7, b'a', 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]);
        assert_eq!(ustring_len("a\u{1F600}"), 7);
    }

    #[test]
    fn null_and_empty_stay_apart() {
        let none: Option<Bytes> = None;
        assert_eq!(none.to_bytes(), [0xff; 4]);
        let empty: Option<Bytes> = Some(Bytes::new());
        assert_eq!(empty.to_bytes(), [0; 4]);
        assert_eq!(Option::<Bytes>::from_bytes(Bytes::from_static(&[0xff; 4])).unwrap(), None);
    }

    #[test]
    fn lengths_over_the_limit_fail_without_allocating() {
        let mut r = Reader::new(Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff]), 1024);
        assert_eq!(r.read_buffer(), Err(DecodeError::BadLength(0x7fff_ffff)));
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x00, 0x10, 0x00]), 1 << 20);
        assert!(matches!(Vec::<i64>::decode(&mut r), Err(DecodeError::BadLength(4096))));
    }
}
