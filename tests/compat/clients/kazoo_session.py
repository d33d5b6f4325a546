"""One kazoo session against one server: python kazoo_session.py 127.0.0.1:PORT

Run by tests/compat/clients/kazoo.rs against the reference ZooKeeper and against rzk. Every
result is asserted here (exit status 1 and a message on the first wrong one) and recorded in a
transcript, printed one entry a line on stdout, which the Rust test compares between the two
servers.

kazoo 2.11 has no API for TTL or container nodes: they are sent through kazoo's own request
layer (KazooClient._call with request records shaped like kazoo's Create2). It has no addWatch
(persistent watches), getEphemerals, getAllChildrenNumber or whoami.
"""

import sys
import threading
import time
from collections import namedtuple

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoAuthError,
    NoNodeError,
    NotEmptyError,
)
from kazoo.protocol.serialization import Create2, long_struct
from kazoo.security import make_digest_acl

# Every wait is bounded.
STEP_TIMEOUT_S = 20.0
POLL_DEADLINE_S = 20.0
POLL_INTERVAL_S = 0.05

ALICE_DIGEST = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="

transcript = []


def record(*parts):
    transcript.append(" ".join(str(p) for p in parts))


def expect(label, got, want):
    record(label, "=>", repr(got))
    assert got == want, f"{label}: got {got!r}, want {want!r}"


def expect_raises(label, fn, exc):
    try:
        fn()
    except exc as e:
        record(label, "=> raises", type(e).__name__)
        return
    raise AssertionError(f"{label}: did not raise {exc.__name__}")


class Events:
    """Watch events delivered to one session, as (type, path)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.seen = []
        self.pending = []

    def __call__(self, event):
        with self.cond:
            self.seen.append((event.type, event.path))
            self.pending.append((event.type, event.path))
            self.cond.notify_all()

    def wait(self, label, want):
        deadline = time.monotonic() + STEP_TIMEOUT_S
        with self.cond:
            while want not in self.pending:
                left = deadline - time.monotonic()
                assert left > 0, f"{label}: no event {want} in {STEP_TIMEOUT_S}s (seen {self.seen})"
                self.cond.wait(left)
            self.pending.remove(want)
        record(label, "event", *want)


class CreateContainer(Create2):
    """createContainer (opcode 19): a CreateRequest, answered like create2."""

    type = 19


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    """createTTL (opcode 21): a CreateRequest followed by the TTL in ms."""

    type = 21

    def serialize(self):
        b = Create2(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(long_struct.pack(self.ttl))
        return b

    @classmethod
    def deserialize(cls, buf, offset):
        return Create2.deserialize(buf, offset)


def call(client, request):
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=STEP_TIMEOUT_S)


def poll_gone(client, path):
    deadline = time.monotonic() + POLL_DEADLINE_S
    while client.exists(path) is not None:
        assert time.monotonic() < deadline, f"{path} still there after {POLL_DEADLINE_S}s"
        time.sleep(POLL_INTERVAL_S)
    record(path, "is gone")


def connect(addr, **kw):
    c = KazooClient(hosts=addr, timeout=10.0, **kw)
    c.start(timeout=STEP_TIMEOUT_S)
    return c


def multi_results(results):
    """Transaction results, printable: paths, versions, True, or exception class names."""
    out = []
    for r in results:
        if isinstance(r, Exception):
            out.append(type(r).__name__)
        elif hasattr(r, "version"):
            out.append(f"version={r.version}")
        else:
            out.append(r)
    return out


def session(addr):
    a = connect(addr)
    b = connect(addr)
    a_events, b_events = Events(), Events()

    # create / get / set / ls / delete, and their errors.
    expect("create /kz", a.create("/kz", b"root"), "/kz")
    expect("create /kz/a", a.create("/kz/a", b"hello"), "/kz/a")
    expect_raises("create /kz/a again", lambda: a.create("/kz/a"), NodeExistsError)
    data, st = a.get("/kz/a")
    expect("get /kz/a", (data, st.version, st.dataLength), (b"hello", 0, 5))
    expect("set /kz/a", a.set("/kz/a", b"world").version, 1)
    expect_raises("set /kz/a version 0", lambda: a.set("/kz/a", b"x", version=0), BadVersionError)
    expect("get_children /kz", sorted(a.get_children("/kz")), ["a"])
    expect_raises("delete /kz", lambda: a.delete("/kz"), NotEmptyError)
    expect("delete /kz/a", a.delete("/kz/a"), True)
    expect("exists /kz/a", a.exists("/kz/a"), None)
    expect_raises("get /kz/a", lambda: a.get("/kz/a"), NoNodeError)

    # Sequential nodes: the suffix is the parent's cversion.
    expect("create /kz/s- sequential", a.create("/kz/s-", sequence=True), "/kz/s-0000000001")
    expect("create /kz/s- sequential", a.create("/kz/s-", sequence=True), "/kz/s-0000000002")

    # Ephemeral nodes belong to the session that made them.
    expect("create /kz/e ephemeral", a.create("/kz/e", b"", ephemeral=True), "/kz/e")
    expect(
        "create /kz/es- ephemeral sequential",
        a.create("/kz/es-", ephemeral=True, sequence=True),
        "/kz/es-0000000004",
    )
    expect("ephemeralOwner of /kz/e is a", b.exists("/kz/e").ephemeralOwner == a.client_id[0], True)
    expect("ephemeralOwner of /kz/s-0000000001", b.exists("/kz/s-0000000001").ephemeralOwner, 0)

    # One-shot watches on a, fired by b: data, child and exists watches each fire once.
    a.create("/kz/w", b"1")
    a.get("/kz/w", watch=a_events)
    a.get_children("/kz/w", watch=a_events)
    a.exists("/kz/w/new", watch=a_events)
    b.set("/kz/w", b"2")
    a_events.wait("a", ("CHANGED", "/kz/w"))
    b.create("/kz/w/new")
    a_events.wait("a", ("CREATED", "/kz/w/new"))
    a_events.wait("a", ("CHILD", "/kz/w"))
    b.set("/kz/w", b"3")
    b.delete("/kz/w/new")

    # multi: all or nothing, with an error per operation when it fails.
    t = a.transaction()
    t.create("/kz/m", b"m")
    t.create("/kz/m/a", b"a")
    t.set_data("/kz/m/a", b"v1", version=0)
    t.check("/kz/m", 0)
    expect("multi", multi_results(t.commit()), ["/kz/m", "/kz/m/a", "version=1", True])
    t = a.transaction()
    t.create("/kz/m/b")
    t.delete("/kz/m/missing")
    t.set_data("/kz/m/a", b"v2", version=1)
    expect(
        "failing multi",
        multi_results(t.commit()),
        ["RolledBackError", "NoNodeError", "RuntimeInconsistency"],
    )
    expect("exists /kz/m/b after the failed multi", a.exists("/kz/m/b"), None)
    t = a.transaction()
    t.check("/kz/m", 7)
    t.delete("/kz/m/a")
    expect("failing check", multi_results(t.commit()), ["BadVersionError", "RuntimeInconsistency"])

    # Digest auth: alice's node is denied to b (unauthenticated, then with a wrong password)
    # and allowed to alice's sessions.
    a.add_auth("digest", "alice:secret")
    acl = make_digest_acl("alice", "secret", all=True)
    expect("create /kz/acl", a.create("/kz/acl", b"secret", acl=[acl]), "/kz/acl")
    acls, _ = a.get_acls("/kz/acl")
    expect("get_acls /kz/acl", [(x.perms, x.id.scheme, x.id.id) for x in acls], [(31, "digest", ALICE_DIGEST)])
    expect("a get /kz/acl", a.get("/kz/acl")[0], b"secret")
    expect_raises("b get /kz/acl", lambda: b.get("/kz/acl"), NoAuthError)
    expect_raises("b set /kz/acl", lambda: b.set("/kz/acl", b"x"), NoAuthError)
    b.add_auth("digest", "alice:wrong")
    expect_raises("b get /kz/acl, wrong password", lambda: b.get("/kz/acl"), NoAuthError)
    c = connect(addr, auth_data=[("digest", "alice:secret")])
    expect("c (alice at connect) get /kz/acl", c.get("/kz/acl")[0], b"secret")
    c.stop()
    c.close()

    # TTL and container nodes are reaped by the server.
    path, st = call(a, CreateTTL("/kz-ttl", b"t", [acl_open()], 5, 200))
    expect("createTTL /kz-ttl", (path, st.dataLength), ("/kz-ttl", 1))
    expect_raises(
        "createTTL with ttl 0", lambda: call(a, CreateTTL("/kz-ttl0", b"", [acl_open()], 5, 0)), Exception
    )
    poll_gone(a, "/kz-ttl")
    path, _ = call(a, CreateContainer("/kz-cont", b"", [acl_open()], 4))
    expect("createContainer /kz-cont", path, "/kz-cont")
    a.create("/kz-cont/child")
    a.delete("/kz-cont/child")
    poll_gone(a, "/kz-cont")

    # a's ephemerals go with its session; b's watches see them go.
    b.exists("/kz/e", watch=b_events)
    b.get_children("/kz", watch=b_events)
    a.stop()
    a.close()
    b_events.wait("b", ("DELETED", "/kz/e"))
    b_events.wait("b", ("CHILD", "/kz"))
    expect("exists /kz/e after a closed", b.exists("/kz/e"), None)
    expect("get_children /kz", sorted(b.get_children("/kz")), ["acl", "m", "s-0000000001", "s-0000000002", "w"])
    b.stop()
    b.close()
    record("a: all events", a_events.seen)
    record("b: all events", b_events.seen)
    # One-shot: b's later writes to /kz/w fired nothing more.
    expect("a: event count", len(a_events.seen), 3)


def acl_open():
    from kazoo.security import OPEN_ACL_UNSAFE

    return OPEN_ACL_UNSAFE[0]


def main():
    session(sys.argv[1])
    for line in transcript:
        print(line.replace("\n", "\\n"))


if __name__ == "__main__":
    main()
