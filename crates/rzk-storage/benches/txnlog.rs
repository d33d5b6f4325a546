//! The txn log's hot path: appending txns and making them durable with one fsync per batch
//! (group commit). Batch size is what group commit buys: the fsync cost is shared by the batch.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rzk_storage::FileTxnLog;

fn txn(zxid: i64) -> Vec<u8> {
    // A TxnHeader-shaped prefix (zxid at bytes 12..20) and a create-sized body.
    let mut t = vec![0u8; 20];
    t[12..20].copy_from_slice(&zxid.to_be_bytes());
    t.extend_from_slice(&[42u8; 130]);
    t
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("txnlog append + fsync");
    g.sample_size(10);
    for batch in [1usize, 10, 100, 1000] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, &batch| {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut log = FileTxnLog::open(dir.path(), 64 * 1024 * 1024, true).expect("log");
            let mut zxid = 0i64;
            b.iter(|| {
                for _ in 0..batch {
                    zxid += 1;
                    log.append(zxid, &txn(zxid)).expect("append");
                }
                log.commit().expect("commit");
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
