import socket,time,os,sys
rate=float(sys.argv[1]) if len(sys.argv)>1 else 1000
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("127.0.0.1",0)); s.listen(1)
port=s.getsockname()[1]
if os.fork()==0:
    c,_=s.accept(); c.setsockopt(socket.IPPROTO_TCP,socket.TCP_NODELAY,1)
    while True:
        d=c.recv(100)
        if not d: os._exit(0)
        c.sendall(d)
c=socket.create_connection(("127.0.0.1",port)); c.setsockopt(socket.IPPROTO_TCP,socket.TCP_NODELAY,1)
ts=[]
nxt=time.perf_counter()
for i in range(5000):
    nxt+=1/rate
    while time.perf_counter()<nxt: time.sleep(max(0,nxt-time.perf_counter()-0.00005)) if nxt-time.perf_counter()>0.0001 else None
    t=time.perf_counter(); c.sendall(b"x"*50); c.recv(100); ts.append(time.perf_counter()-t)
ts.sort()
print(rate,"p50 %.0f p90 %.0f p99 %.0f p999 %.0f us"%tuple(ts[int(len(ts)*q)]*1e6 for q in (0.5,0.9,0.99,0.999)))
