# fdatasync of appends at a paced rate into a sparse or a pre-zeroed 64 MiB file, split by whether
# the append reaches a new 4 KiB block: python3 fsblk.py sparse|zeroed RATE BYTES [COUNT [FILE]]
import os,time,sys
mode=sys.argv[1]; rate=float(sys.argv[2]); wsz=int(sys.argv[3]); count=int(sys.argv[4]) if len(sys.argv)>4 else 4000
p=sys.argv[5] if len(sys.argv)>5 else "fsblk.test"  # on the disk under test
if os.path.exists(p): os.unlink(p)
fd=os.open(p,os.O_CREAT|os.O_RDWR)
size=64<<20
if mode=="sparse": os.pwrite(fd,b"\0",size-1)
else:
    z=b"\0"*(1<<20)
    for i in range(64): os.pwrite(fd,z,i<<20)
os.fsync(fd)
pos=16; new=[]; old=[]; nxt=time.perf_counter()
for i in range(count):
    nxt+=1/rate
    while True:
        d=nxt-time.perf_counter()
        if d<=0: break
        if d>0.0002: time.sleep(d-0.0001)
    crosses=(pos//4096)!=((pos+wsz)//4096)
    os.pwrite(fd,b"x"*wsz,pos); pos+=wsz
    t=time.perf_counter(); os.fdatasync(fd); dt=time.perf_counter()-t
    (new if crosses else old).append(dt)
def q(ts): 
    ts=sorted(ts); return "n %d p50 %.0f p90 %.0f p99 %.0f"%(len(ts),*[ts[min(len(ts)-1,int(len(ts)*x))]*1e6 for x in (0.5,0.9,0.99)])
allts=new+old
print(mode, "new-block:", q(new), "| same-block:", q(old), "| all:", q(allts))
os.unlink(p)
