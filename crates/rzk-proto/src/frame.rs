//! Framing of the client port: a 4-byte big-endian length, then that many bytes. The first four
//! bytes of a new connection may instead be a four-letter word (`ruok`, `srvr`, ...), which
//! ZooKeeper recognises by value before treating them as a length.
//!
//! `check` a frame before taking it, as mini-redis does: nothing is allocated until the whole
//! frame is there, and a length over the limit is refused before any byte of it is read.

use bytes::{Buf, Bytes, BytesMut};

/// What the start of a connection turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A length-prefixed payload (connect request, or header + request).
    Packet(Bytes),
    /// A four-letter word (its 4 ASCII bytes); for `stmk` also the 8-byte mask after it.
    FourLetterWord { word: [u8; 4], arg: Option<i64> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("Len error {len}: frame larger than jute.maxbuffer ({max} bytes)")]
    TooLarge { len: i64, max: usize },
    #[error("Len error {0}: negative frame length")]
    Negative(i32),
}

/// The four-letter words ZooKeeper 3.8 knows, plus telnet's close (IAC IP ... ) code.
pub const FOUR_LETTER_WORDS: [&[u8; 4]; 18] = [
    b"conf", b"cons", b"crst", b"dirs", b"dump", b"envi", b"gtmk", b"ruok", b"stmk", b"srvr", b"srst",
    b"stat", b"wchc", b"wchp", b"wchs", b"mntr", b"isro", b"hash",
];

/// `telnet close`: 0xfff4fffd, which ZooKeeper also accepts as a command (it just closes).
pub const TELNET_CLOSE: [u8; 4] = [0xff, 0xf4, 0xff, 0xfd];

/// Returns the word if `head` is a four-letter word.
pub fn four_letter_word(head: &[u8; 4]) -> Option<[u8; 4]> {
    if FOUR_LETTER_WORDS.contains(&head) || *head == TELNET_CLOSE { Some(*head) } else { None }
}

/// Takes one frame from `buf` if a whole one is there (`Ok(None)` = read more).
/// `first` is true for the first frame of a connection, where four-letter words are sniffed.
pub fn take_frame(
    buf: &mut BytesMut,
    first: bool,
    frame_bytes_max: usize,
) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let head: [u8; 4] = [buf[0], buf[1], buf[2], buf[3]];
    if first && let Some(word) = four_letter_word(&head) {
        if &word == b"stmk" {
            if buf.len() < 12 {
                return Ok(None);
            }
            buf.advance(4);
            let mask = buf.get_i64();
            return Ok(Some(Frame::FourLetterWord { word, arg: Some(mask) }));
        }
        buf.advance(4);
        return Ok(Some(Frame::FourLetterWord { word, arg: None }));
    }
    let len = i32::from_be_bytes(head);
    if len < 0 {
        return Err(FrameError::Negative(len));
    }
    let len = len as usize;
    if len > frame_bytes_max {
        return Err(FrameError::TooLarge { len: len as i64, max: frame_bytes_max });
    }
    if buf.len() < 4 + len {
        buf.reserve(4 + len - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(Frame::Packet(buf.split_to(len).freeze())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_letter_words_only_on_the_first_frame() {
        let mut b = BytesMut::from(&b"ruok"[..]);
        assert_eq!(
            take_frame(&mut b, true, 1024).unwrap(),
            Some(Frame::FourLetterWord { word: *b"ruok", arg: None })
        );
        // "ruok" as a length is 0x72756f6b, far over the limit.
        let mut b = BytesMut::from(&b"ruok"[..]);
        assert!(matches!(take_frame(&mut b, false, 1024), Err(FrameError::TooLarge { .. })));
    }

    #[test]
    fn stmk_waits_for_its_mask() {
        let mut b = BytesMut::from(&b"stmk\0\0\0"[..]);
        assert_eq!(take_frame(&mut b, true, 1024).unwrap(), None);
        b.extend_from_slice(&[0, 0, 0, 0, 0x10]);
        assert_eq!(
            take_frame(&mut b, true, 1024).unwrap(),
            Some(Frame::FourLetterWord { word: *b"stmk", arg: Some(0x10) })
        );
    }

    #[test]
    fn partial_frames_wait() {
        let mut b = BytesMut::from(&[0u8, 0, 0, 3, 1, 2][..]);
        assert_eq!(take_frame(&mut b, false, 1024).unwrap(), None);
        b.extend_from_slice(&[3, 9]);
        assert_eq!(
            take_frame(&mut b, false, 1024).unwrap(),
            Some(Frame::Packet(Bytes::from_static(&[1, 2, 3])))
        );
        assert_eq!(&b[..], &[9]);
    }
}
