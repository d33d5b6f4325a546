import json,sys
# Per-round p99 of a compare-zookeeper.sh results file (JSON lines): python3 rounds.py results-*.jsonl
from collections import defaultdict
runs=[json.loads(l) for l in open(sys.argv[1])]
by=defaultdict(list)
for d in runs:
    if d.get('failed'): continue
    by[d['workload']].append(d)
void=lambda d: d['send_lag_us']['p99']>2000
for w,ds in by.items():
    print(w)
    rz=[d for d in ds if d['label']=='rzk']; zk=[d for d in ds if d['label']=='zookeeper']; dk=[d for d in ds if d['label']=='disk']
    for i,(r,z) in enumerate(zip(rz,zk)):
        f=dk[i] if i<len(dk) else None
        fs=" | disk p50 %4d p90 %5d p99 %6d%s"%(f['latency_us']['p50'],f['latency_us']['p90'],f['latency_us']['p99']," void" if void(f) else "") if f else ""
        print("  r%d rzk p50 %4d p99 %6d | zk p50 %4d p99 %6d | ratio %.2f%s%s"%(i+1,r['latency_us']['p50'],r['latency_us']['p99'],z['latency_us']['p50'],z['latency_us']['p99'],r['latency_us']['p99']/z['latency_us']['p99']," VOID" if void(r) or void(z) else "",fs))
