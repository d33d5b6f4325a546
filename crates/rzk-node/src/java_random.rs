//! `java.util.Random`, bit for bit: ZooKeeper derives a session's password as
//! `new Random(sessionId ^ 0xB3415C00L).nextBytes(16)`, so every server (Java or rzk) of an
//! ensemble computes the same password and sessions can move between them.

/// `ZooKeeperServer.superSecret`.
pub const SUPER_SECRET: i64 = 0xB3415C00;

const MULTIPLIER: i64 = 0x5DEECE66D;
const ADDEND: i64 = 0xB;
const MASK: i64 = (1 << 48) - 1;

pub struct JavaRandom {
    seed: i64,
}

impl JavaRandom {
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom { seed: (seed ^ MULTIPLIER) & MASK }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND)) & MASK;
        (self.seed >> (48 - bits)) as i32
    }

    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `Random.nextBytes`: little-endian bytes of successive `nextInt()`s.
    pub fn next_bytes(&mut self, out: &mut [u8]) {
        let mut i = 0;
        while i < out.len() {
            let mut rnd = self.next_int();
            let n = (out.len() - i).min(4);
            for _ in 0..n {
                out[i] = rnd as u8;
                rnd >>= 8;
                i += 1;
            }
        }
    }
}

/// The password of a session (`ZooKeeperServer.generatePasswd`).
pub fn session_password(session_id: i64) -> [u8; 16] {
    let mut p = [0u8; 16];
    JavaRandom::new(session_id ^ SUPER_SECRET).next_bytes(&mut p);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java_util_random() {
        // new Random(42).nextInt() == -1170105035; new Random(0).nextInt() == -1155484576.
        assert_eq!(JavaRandom::new(42).next_int(), -1170105035);
        assert_eq!(JavaRandom::new(0).next_int(), -1155484576);
        let mut b = [0u8; 5];
        JavaRandom::new(42).next_bytes(&mut b);
        let first = (-1170105035i32).to_le_bytes();
        assert_eq!(&b[..4], &first);
        // Printed by Java 17: new Random(0x1234L ^ 0xB3415C00L).nextBytes(new byte[16]).
        let expected =
            [0x3c, 0x18, 0xab, 0xe0, 0x5b, 0x0e, 0x61, 0x82, 0x74, 0x1d, 0x62, 0x5d, 0x12, 0x7c, 0x15, 0xb0];
        assert_eq!(session_password(0x1234), expected);
    }
}
