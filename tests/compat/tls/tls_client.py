"""kazoo and a bare TLS handshake, for tests/compat/tls.rs.

usage: tls_client.py HOST:PORT CA CERT KEY STEP...
  STEP is one of:
    create PATH ACL   ACL is "open" or "x509:<dn>" (all permissions); prints "create PATH ok|<Error>"
    get PATH          prints "get PATH <data>" or "get PATH <ErrorClass>"
    plain             (as the first step) connect without TLS; CA, CERT and KEY are ignored
    handshake         only a TLS handshake (no kazoo): prints "handshake ok" or "handshake failed: <why>"
CERT and KEY may be "-" for a client without a certificate.
"""
import socket
import ssl
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.security import ACL, Id, Permissions


def handshake(hostport, ca, cert, key):
    host, port = hostport.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    if cert != "-":
        ctx.load_cert_chain(cert, key)
    try:
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                # TLS 1.3 reports a refused client certificate only on the first read.
                s.settimeout(2)
                try:
                    s.recv(1)
                except socket.timeout:
                    pass
        print("handshake ok")
    except (ssl.SSLError, OSError) as e:
        print("handshake failed: %s" % e)


def main():
    hostport, ca, cert, key = sys.argv[1:5]
    steps = sys.argv[5:]
    if steps and steps[0] == "handshake":
        handshake(hostport, ca, cert, key)
        return
    if steps and steps[0] == "plain":
        zk = KazooClient(hosts=hostport, timeout=10)
        steps = steps[1:]
    else:
        kw = dict(use_ssl=True, ca=ca, verify_certs=True)
        if cert != "-":
            kw.update(certfile=cert, keyfile=key)
        zk = KazooClient(hosts=hostport, timeout=10, **kw)
    zk.start(timeout=20)
    i = 0
    while i < len(steps):
        op = steps[i]
        if op == "create":
            path, acl = steps[i + 1], steps[i + 2]
            i += 3
            acls = None
            if acl != "open":
                scheme, ident = acl.split(":", 1)
                acls = [ACL(Permissions.ALL, Id(scheme, ident))]
            try:
                zk.create(path, b"data", acl=acls)
                print("create %s ok" % path)
            except KazooException as e:
                print("create %s %s" % (path, type(e).__name__))
        elif op == "get":
            path = steps[i + 1]
            i += 2
            try:
                data, _ = zk.get(path)
                print("get %s %s" % (path, data.decode()))
            except KazooException as e:
                print("get %s %s" % (path, type(e).__name__))
        else:
            raise SystemExit("unknown step " + op)
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
