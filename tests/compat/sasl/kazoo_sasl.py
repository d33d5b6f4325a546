"""kazoo with SASL DIGEST-MD5 against one server: python kazoo_sasl.py 127.0.0.1:PORT MODE

Run by tests/compat/sasl.rs against the reference ZooKeeper and against rzk, both started with
a JAAS `Server` section (users user1/pw1, user2/pw2, admin/adminpw), the sasl auth provider and
`zookeeper.superUser=admin`. MODE is `acl` (ACLs with the sasl scheme) or `required`
(`sessionRequireClientSASLAuth=true`). Every result is asserted here (exit status 1 on the
first wrong one) and printed as one transcript line, which the Rust test compares between the
two servers. kazoo's SASL needs the pure-sasl package.
"""

import sys

from kazoo.client import KazooClient
from kazoo.exceptions import (
    NoAuthError,
    SessionClosedRequireSaslError,
)
from kazoo.security import ACL, Id

# Every wait is bounded.
STEP_TIMEOUT_S = 20.0

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


def client(addr, user=None, password=None):
    """A started client, SASL-authenticated as `user` when given."""
    opts = None
    if user is not None:
        opts = {"mechanism": "DIGEST-MD5", "username": user, "password": password}
    c = KazooClient(hosts=addr, timeout=STEP_TIMEOUT_S, sasl_options=opts, connection_retry={"max_tries": 0})
    c.start(timeout=STEP_TIMEOUT_S)
    return c


def failed_login(label, addr, user, password):
    """A login that must fail. kazoo's connection thread connects the session (before SASL),
    then fails the login and stops. The keeper states it went through (seen by wrapping the
    client's state callback) say how: AUTH_FAILED for AuthFailed, none for
    SessionClosedRequireSaslAuth (an exception kazoo does not handle there), then CLOSED.

    start() is not used here: it waits for CONNECTED and then checks `connected`, which a fast
    server's AUTH_FAILED may already have cleared (kazoo then raises a time-out). Joining the
    connection thread also waits for its last state, CLOSED."""
    opts = {"mechanism": "DIGEST-MD5", "username": user, "password": password}
    c = KazooClient(hosts=addr, timeout=STEP_TIMEOUT_S, sasl_options=opts, connection_retry={"max_tries": 0})
    states = []
    session_callback = c._session_callback

    def on_state(state):
        states.append(str(state))
        session_callback(state)

    c._session_callback = on_state
    try:
        c.start_async()
        routine = c._connection._connection_routine
        routine.join(STEP_TIMEOUT_S)
        assert not routine.is_alive(), f"{label}: the connection did not stop after the failed login"
        record(label, "=> states", states)
    finally:
        c.stop()
        c.close()


def acls(c, path):
    acl, _ = c.get_acls(path)
    return sorted(f"{a.perms} {a.id.scheme}:{a.id.id}" for a in acl)


def acl_mode(addr):
    user1 = client(addr, "user1", "pw1")
    for p in ("/sasl-k", "/sasl-k-auth"):
        if user1.exists(p):
            user1.delete(p)
    user1.create("/sasl-k", b"secret", acl=[ACL(31, Id("sasl", "user1"))])
    expect("user1 getACL /sasl-k", acls(user1, "/sasl-k"), ["31 sasl:user1"])
    expect("user1 get /sasl-k", user1.get("/sasl-k")[0], b"secret")
    # `auth` stands for the session's authenticated ids: here sasl:user1 (ip is not one).
    user1.create("/sasl-k-auth", b"a", acl=[ACL(31, Id("auth", ""))])
    expect("user1 getACL /sasl-k-auth", acls(user1, "/sasl-k-auth"), ["31 sasl:user1"])
    user1.set("/sasl-k", b"changed")

    user2 = client(addr, "user2", "pw2")
    expect_raises("user2 get /sasl-k", lambda: user2.get("/sasl-k"), NoAuthError)
    expect_raises("user2 set /sasl-k", lambda: user2.set("/sasl-k", b"x"), NoAuthError)
    expect_raises("user2 getACL /sasl-k", lambda: user2.get_acls("/sasl-k"), NoAuthError)
    user2.stop()
    user2.close()

    anonymous = client(addr)
    expect_raises("anonymous get /sasl-k", lambda: anonymous.get("/sasl-k"), NoAuthError)
    anonymous.stop()
    anonymous.close()

    admin = client(addr, "admin", "adminpw")
    expect("admin (superUser) get /sasl-k", admin.get("/sasl-k")[0], b"changed")
    admin.stop()
    admin.close()

    failed_login("wrong password", addr, "user1", "not-pw1")
    # An unknown user is left to the raw test: ZooKeeper 3.8 lets it in with the password of
    # the last user name it looked up (ZOOKEEPER-4839); rzk refuses it.

    user1.delete("/sasl-k-auth")
    user1.delete("/sasl-k")
    user1.stop()
    user1.close()


def required_mode(addr):
    anonymous = client(addr)
    expect_raises("anonymous get /", lambda: anonymous.get_children("/"), SessionClosedRequireSaslError)
    anonymous.stop()
    anonymous.close()
    user1 = client(addr, "user1", "pw1")
    expect("user1 exists /zookeeper", user1.exists("/zookeeper") is not None, True)
    user1.stop()
    user1.close()
    failed_login("wrong password (SASL required)", addr, "user1", "not-pw1")


def main():
    addr, mode = sys.argv[1], sys.argv[2]
    try:
        {"acl": acl_mode, "required": required_mode}[mode](addr)
        record("done")
    finally:
        for line in transcript:
            print(line)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
