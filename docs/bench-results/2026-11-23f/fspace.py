import os,time,sys
rate=float(sys.argv[1])
p="/tmp/wprof/fs.test"
fd=os.open(p,os.O_CREAT|os.O_RDWR|os.O_TRUNC)
z=b"\0"*(1<<20)
for i in range(16): os.pwrite(fd,z,i<<20)
os.fsync(fd)
pos=16; ts=[]; nxt=time.perf_counter()
for i in range(3000):
    nxt+=1/rate
    while True:
        d=nxt-time.perf_counter()
        if d<=0: break
        if d>0.0002: time.sleep(d-0.0001)
    os.pwrite(fd,b"x"*150,pos); pos+=150
    t=time.perf_counter(); os.fdatasync(fd); ts.append(time.perf_counter()-t)
ts.sort()
print(rate,"p50 %.0f p90 %.0f p99 %.0f p999 %.0f us"%tuple(ts[int(len(ts)*q)]*1e6 for q in (0.5,0.9,0.99,0.999)))
os.unlink(p)
