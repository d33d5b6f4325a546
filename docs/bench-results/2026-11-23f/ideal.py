# An ideal group-commit server on the same fsyncs: from a perf trace of fdatasync enter/exit
# (fsdur.py's input), the latency a request arriving at t would have had if the server itself
# cost nothing: wait for the fsync in progress (if any), then one fsync as long as the next one
# the trace shows. Arrivals uniform at RATE/s over the traced window.
import sys,bisect
from fsdur import intervals
rate=float(sys.argv[2]) if len(sys.argv)>2 else 10000
iv=intervals(sys.argv[1])
starts=[s for s,e in iv]
lat=[]
t=iv[0][0]; end=iv[-1][0]
while t<end:
    i=bisect.bisect_right(starts,t)-1   # last fsync started at or before t
    if i>=0 and iv[i][1]>t:            # in progress: wait for it, then the next one's length
        nxt=iv[i+1] if i+1<len(iv) else iv[i]
        lat.append(iv[i][1]-t+(nxt[1]-nxt[0]))
    else:
        nxt=iv[i+1] if i+1<len(iv) else iv[-1]
        lat.append(nxt[1]-nxt[0])
    t+=1/rate
lat.sort()
q=lambda x: lat[min(len(lat)-1,int(len(lat)*x))]*1e6
print("ideal server on these fsyncs: n %d p50 %.0f p90 %.0f p99 %.0f p999 %.0f us"%(len(lat),q(.5),q(.9),q(.99),q(.999)))
