//! Codec throughput: decoding request frames and encoding replies, the per-request work of the
//! first and last stage of the pipeline.

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use rzk_proto::request::decode_request_frame;
use rzk_proto::response::encode_reply;
use rzk_proto::*;

fn bench(c: &mut Criterion) {
    let create = Request::Create {
        op: codes::op::CREATE,
        req: CreateRequest {
            path: "/benchmark/node-0000000042".into(),
            data: Some(Bytes::from(vec![7u8; 100])),
            acl: vec![Acl::new(31, "world", "anyone")],
            flags: 0,
        },
    };
    let mut frame = Vec::new();
    create.encode_with_header(42, &mut frame);
    let frame = Bytes::from(frame);
    c.bench_function("decode create request (100 B)", |b| {
        b.iter(|| decode_request_frame(std::hint::black_box(frame.clone()), 1 << 20).unwrap())
    });

    let reply =
        Response::GetData(GetDataResponse { data: Some(Bytes::from(vec![7u8; 100])), stat: Stat::default() });
    let header = ReplyHeader { xid: 42, zxid: 0x100000001, err: 0 };
    let mut out = Vec::with_capacity(256);
    c.bench_function("encode getData reply (100 B)", |b| {
        b.iter(|| {
            out.clear();
            encode_reply(&header, std::hint::black_box(&reply), &mut out);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
