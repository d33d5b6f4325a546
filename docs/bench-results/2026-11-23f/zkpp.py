import socket,time,struct,sys
rate=float(sys.argv[1]); port=int(sys.argv[2]); op=sys.argv[3] if len(sys.argv)>3 else "get"
c=socket.create_connection(("127.0.0.1",port)); c.setsockopt(socket.IPPROTO_TCP,socket.TCP_NODELAY,1)
def send(b): c.sendall(struct.pack(">i",len(b))+b)
def recv():
    h=b""
    while len(h)<4: h+=c.recv(4-len(h))
    n=struct.unpack(">i",h)[0]; d=b""
    while len(d)<n: d+=c.recv(n-len(d))
    return d
send(struct.pack(">iqiqi",0,0,30000,0,16)+b"\0"*16+b"\0"); recv()
path=b"/"
def req(xid):
    if op=="get": return struct.pack(">ii",xid,4)+struct.pack(">i",len(path))+path+b"\0"
    else: return struct.pack(">ii",xid,5)+struct.pack(">i",len(b"/pp"))+b"/pp"+struct.pack(">i",100)+b"v"*100+struct.pack(">i",-1)
if op=="set":
    send(struct.pack(">ii",1,1)+struct.pack(">i",3)+b"/pp"+struct.pack(">i",0)+struct.pack(">i",1)+struct.pack(">i",31)+struct.pack(">i",5)+b"world"+struct.pack(">i",6)+b"anyone"+struct.pack(">i",0)); recv()
ts=[]; nxt=time.perf_counter()
for i in range(int(sys.argv[4]) if len(sys.argv)>4 else 5000):
    nxt+=1/rate
    while True:
        d=nxt-time.perf_counter()
        if d<=0: break
        if d>0.0002: time.sleep(d-0.0001)
    t=time.perf_counter(); send(req(i+2)); recv(); ts.append(time.perf_counter()-t)
ts.sort()
print(op,rate,"p50 %.0f p90 %.0f p99 %.0f p999 %.0f us"%tuple(ts[int(len(ts)*q)]*1e6 for q in (0.5,0.9,0.99,0.999)))
