# fdatasync durations from `perf record -e syscalls:sys_enter_fdatasync,syscalls:sys_exit_fdatasync -p PID`
# + `perf script > out.txt`: python3 fsdur.py out.txt
import re,sys

def intervals(path):
    """(start, end) in seconds of every fdatasync in a perf script dump, sorted by start."""
    ent={}; iv=[]
    for line in open(path):
        m=re.search(r'\s(\d+)\s+\[\d+\]\s+([\d.]+):\s+syscalls:sys_(enter|exit)_fdatasync',line)
        if not m: continue
        tid,t,k=m.group(1),float(m.group(2)),m.group(3)
        if k=='enter': ent[tid]=t
        elif tid in ent: iv.append((ent.pop(tid),t))
    return sorted(iv)

if __name__=="__main__":
    d=sorted(e-s for s,e in intervals(sys.argv[1]))
    q=lambda x: d[min(len(d)-1,int(len(d)*x))]*1e6
    print("fsyncs %d p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f us, over 1 ms: %d, over 5 ms: %d"%(len(d),q(.5),q(.9),q(.99),q(.999),d[-1]*1e6,sum(1 for x in d if x>1e-3),sum(1 for x in d if x>5e-3)))
