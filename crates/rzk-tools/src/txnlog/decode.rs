//! Decodes a logged txn as `SerializeUtils.deserializeTxn` does for the toolkit: the header, the
//! record for its type (a multi is kept as its raw sub-txns, which is what TxnLogToolkit prints,
//! and each sub-txn is also decoded for the JSON form), then the digest when there is one.

use bytes::Bytes;
use rzk_proto::codes::op;
use rzk_proto::txn::TxnBody;
use rzk_proto::{DecodeError, Jute, MultiTxn, Reader, Txn, TxnDigest, TxnHeader};

/// The record after the header.
#[derive(Debug, Clone)]
pub enum Body {
    Record(TxnBody),
    /// A multi: each sub-txn's raw record and its decoding.
    Multi(Vec<(Txn, Result<TxnBody, DecodeError>)>),
}

#[derive(Debug, Clone)]
pub struct DecodedTxn {
    pub header: TxnHeader,
    pub body: Body,
    pub digest: Option<TxnDigest>,
}

/// Bytes of a `TxnDigest`.
const DIGEST_BYTES: usize = 12;

pub fn decode(payload: &[u8]) -> Result<DecodedTxn, DecodeError> {
    // Lengths inside are bounded by the bytes left, so no limit beyond that is needed.
    let mut r = Reader::new(Bytes::copy_from_slice(payload), usize::MAX);
    let header = TxnHeader::decode(&mut r)?;
    let body = if header.txn_type == op::MULTI {
        let multi = MultiTxn::decode(&mut r)?;
        let subs = multi
            .txns
            .into_iter()
            .map(|t| {
                let mut sub = Reader::new(t.data.clone(), usize::MAX);
                let body = TxnBody::decode(t.txn_type, &mut sub);
                (t, body)
            })
            .collect();
        Body::Multi(subs)
    } else {
        Body::Record(TxnBody::decode(header.txn_type, &mut r)?)
    };
    let digest = if r.remaining() >= DIGEST_BYTES { Some(TxnDigest::decode(&mut r)?) } else { None };
    Ok(DecodedTxn { header, body, digest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::txn::TxnEntry;
    use rzk_proto::{DeleteTxn, ErrorTxn};

    #[test]
    fn multi_keeps_raw_sub_txns() {
        let entry = TxnEntry {
            header: TxnHeader { client_id: 1, cxid: 2, zxid: 3, time: 4, txn_type: op::MULTI },
            body: TxnBody::Multi(vec![
                (op::DELETE, TxnBody::Delete(DeleteTxn { path: "/a".into() })),
                (op::ERROR, TxnBody::Error(ErrorTxn { err: -101 })),
            ]),
            digest: Some(TxnDigest { version: 2, tree_digest: 7 }),
        };
        let d = decode(&entry.to_bytes()).unwrap();
        let Body::Multi(subs) = d.body else { panic!("not a multi") };
        assert_eq!(subs.len(), 2);
        assert_eq!(&subs[0].0.data[..], &[0, 0, 0, 2, b'/', b'a']);
        assert!(matches!(subs[1].1, Ok(TxnBody::Error(ErrorTxn { err: -101 }))));
        assert_eq!(d.digest, Some(TxnDigest { version: 2, tree_digest: 7 }));
    }

    #[test]
    fn truncated_and_unknown_txns_fail_cleanly() {
        let entry = TxnEntry {
            header: TxnHeader { client_id: 1, cxid: 2, zxid: 3, time: 4, txn_type: op::DELETE },
            body: TxnBody::Delete(DeleteTxn { path: "/abc".into() }),
            digest: None,
        };
        let bytes = entry.to_bytes();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut unknown = bytes.clone();
        unknown[28..32].copy_from_slice(&77i32.to_be_bytes());
        assert!(decode(&unknown).is_err());
    }
}
