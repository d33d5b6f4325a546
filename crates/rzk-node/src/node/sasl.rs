//! The node's side of client SASL and of enforced authentication: `ZooKeeperServer.processSasl`
//! (a token in, the next token or the connection's new `sasl:<user>` id out, AuthFailed and a
//! closed connection on failure) and `AuthenticationHelper.enforceAuthentication` (a connection
//! without an id of an enforced scheme gets SessionClosedRequireSaslAuth for its request, and
//! is closed). The DIGEST-MD5 exchange is `crate::sasl`.
//!
//! A failed exchange is answered as ZooKeeper does: the error code with a null token (the Java
//! client reads the token even then), and the connection closes. Unlike ZooKeeper 3.8, a user
//! name the JAAS section does not list always fails: 3.8's shared callback handler would check
//! it against the password of the last user name it looked up (ZOOKEEPER-4839, fixed in later
//! releases).

use rzk_proto::records::{GetSaslRequest, Id, ReplyHeader, SetSaslResponse};
use rzk_proto::{ErrorCode, Response};

use super::{ClientOut, ConnId, Node};
use crate::sasl::{SaslFailure, SaslStep};

impl Node {
    /// A `GetSASLRequest` (opcode 102) on `conn`, of `session`.
    pub(super) fn sasl(&mut self, conn: ConnId, session: i64, xid: i32, req: GetSaslRequest) {
        let session_hex = format!("0x{session:x}");
        // A null token: ZooKeeper logs its length before anything else, and the
        // NullPointerException closes the connection without a reply.
        let Some(token) = req.token else {
            tracing::warn!(session = %session_hex, "null SASL token; closing the connection");
            self.out(conn, ClientOut::Close { reason: "null SASL token" });
            return;
        };
        // No JAAS login section: ZooKeeper has no SASL server for the connection; the
        // NullPointerException is logged and swallowed, and the reply is OK with a null token.
        if self.cfg.auth.sasl.users.is_none() {
            tracing::debug!(session = %session_hex, "SASL token but no SASL server: answering OK with no token");
            self.sasl_reply(conn, xid, 0, None);
            return;
        }
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let cfg = &self.cfg.auth.sasl;
        let nonces = &mut self.sasl_nonces;
        let step = c.sasl.step(cfg, &token, || {
            *nonces += 1;
            cfg.nonce(*nonces)
        });
        match step {
            Ok(SaslStep::Continue(t)) => self.sasl_reply(conn, xid, 0, Some(t)),
            Ok(SaslStep::Authenticated { id, token }) => {
                tracing::info!(session = %session_hex, id = %id, "adding SASL authorization");
                let mut new_ids = vec![Id::new("sasl", &id)];
                if cfg.is_super_user(&id) {
                    tracing::info!(session = %session_hex, id = %id, "SASL id authenticated as super user");
                    new_ids.push(Id::new("super", ""));
                }
                for i in new_ids {
                    if !c.ids.contains(&i) {
                        c.ids.push(i);
                    }
                }
                self.sasl_reply(conn, xid, 0, Some(token));
            }
            Err(failure) => self.sasl_failed(conn, xid, &session_hex, failure),
        }
    }

    fn sasl_failed(&mut self, conn: ConnId, xid: i32, session_hex: &str, failure: SaslFailure) {
        let remote = self.conns.get(&conn).map(|c| c.remote_ip.clone()).unwrap_or_default();
        match &failure {
            SaslFailure::GssapiNotSupported => tracing::warn!(
                session = %session_hex, client = %remote,
                "client SASL: GSSAPI (Kerberos) is not supported by rzk, only DIGEST-MD5; failing the client's authentication"
            ),
            f => {
                tracing::warn!(session = %session_hex, client = %remote, reason = %f, "client failed to SASL authenticate")
            }
        }
        let required = self.cfg.auth.sasl_required();
        if self.cfg.auth.sasl.allow_failed_clients && !required {
            tracing::warn!(session = %session_hex, "maintaining client connection despite SASL authentication failure");
            self.sasl_reply(conn, xid, 0, None);
            return;
        }
        let err = if required {
            tracing::warn!(
                session = %session_hex,
                "closing client connection: the server requires client SASL authentication, which failed"
            );
            ErrorCode::SessionClosedRequireSaslAuth
        } else {
            tracing::warn!(session = %session_hex, "closing client connection due to SASL authentication failure");
            ErrorCode::AuthFailed
        };
        self.sasl_reply(conn, xid, err.code(), None);
        self.out(conn, ClientOut::Close { reason: "SASL authentication failed" });
    }

    fn sasl_reply(&mut self, conn: ConnId, xid: i32, err: i32, token: Option<Vec<u8>>) {
        let header = ReplyHeader { xid, zxid: 0, err };
        let body = Response::Sasl(SetSaslResponse { token: token.map(Into::into) });
        self.out(conn, ClientOut::Reply { header, body, op: "SASL" });
    }

    /// `AuthenticationHelper.enforceAuthentication` failed for a request of `conn`: it is answered
    /// SessionClosedRequireSaslAuth (whatever the enforced scheme) and the connection closes. The
    /// session itself lives on until it expires, as in ZooKeeper.
    pub(super) fn refuse_unauthenticated(&mut self, conn: ConnId, xid: i32, ids: &[Id]) {
        let schemes: Vec<&str> = ids.iter().map(|i| i.scheme.as_str()).collect();
        tracing::warn!(
            conn,
            schemes = ?schemes,
            expected = ?self.cfg.auth.enforce_schemes,
            "client authentication scheme(s) do not match the expected ones; closing session"
        );
        let header = ReplyHeader { xid, zxid: 0, err: ErrorCode::SessionClosedRequireSaslAuth.code() };
        self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "NA" });
        self.out(conn, ClientOut::Close { reason: "authentication required" });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;
    use rzk_proto::codes::perms;
    use rzk_proto::connect::ConnectRequest;
    use rzk_proto::records::{Acl, ClientInfo, CreateRequest, GetDataRequest, WhoAmIResponse};
    use rzk_proto::{Request, Response};
    use rzk_tree::DataTree;

    use super::*;
    use crate::digest_md5::client_response;
    use crate::io::Input;
    use crate::node::NodeConfig;
    use crate::sasl::SaslConfig;

    fn config(required: bool) -> NodeConfig {
        let mut cfg = NodeConfig::default();
        let users =
            BTreeMap::from([("user1".to_owned(), "pw1".to_owned()), ("user2".to_owned(), "pw2".to_owned())]);
        cfg.auth.sasl =
            SaslConfig { users: Some(users), super_users: vec!["boss".into()], ..SaslConfig::default() };
        cfg.auth.sasl_provider = true;
        if required {
            cfg.auth.enforce_schemes = vec!["sasl".into()];
        }
        cfg
    }

    struct H {
        node: Node,
        xid: i32,
    }

    impl H {
        fn new(cfg: NodeConfig) -> H {
            H { node: Node::new(cfg, DataTree::new(true), 0, 1_000_000), xid: 0 }
        }

        /// Everything the node sends to `conn` (writes are durable at once).
        fn drain(&mut self, conn: ConnId) -> Vec<ClientOut> {
            let mut out = Vec::new();
            loop {
                let r = self.node.ready();
                if r.is_empty() {
                    return out;
                }
                out.extend(r.client_out.into_iter().filter(|(c, _)| *c == conn).map(|(_, o)| o));
                if let Some(last) = r.log.last() {
                    self.node.step(Input::Persisted { through: last.zxid });
                }
            }
        }

        fn connect(&mut self, conn: ConnId) {
            self.node.step(Input::Accepted { conn, remote_ip: "127.0.0.1".into() });
            let req = ConnectRequest {
                time_out: 30000,
                passwd: Bytes::from_static(&[0; 16]),
                ..Default::default()
            };
            self.node.step(Input::Connect { conn, req });
            assert!(matches!(self.drain(conn).as_slice(), [ClientOut::ConnectResponse(_)]));
        }

        fn send(&mut self, conn: ConnId, req: Request) -> Vec<ClientOut> {
            self.xid += 1;
            self.node.step(Input::Request { conn, xid: self.xid, req });
            self.drain(conn)
        }

        fn sasl(&mut self, conn: ConnId, token: &[u8]) -> Vec<ClientOut> {
            let req = Request::Sasl(GetSaslRequest { token: Some(Bytes::copy_from_slice(token)) });
            self.send(conn, req)
        }

        /// The reply's error code and token.
        fn sasl_reply(&mut self, conn: ConnId, token: &[u8]) -> (i32, Option<Vec<u8>>, bool) {
            let out = self.sasl(conn, token);
            let closed = out.iter().any(|o| matches!(o, ClientOut::Close { .. }));
            match out.first() {
                Some(ClientOut::Reply { header, body: Response::Sasl(r), .. }) => {
                    (header.err, r.token.as_ref().map(|t| t.to_vec()), closed)
                }
                other => panic!("expected a SASL reply, got {other:?}"),
            }
        }

        /// A whole DIGEST-MD5 exchange; the final reply.
        fn login(&mut self, conn: ConnId, user: &str, password: &str) -> (i32, Option<Vec<u8>>, bool) {
            let (err, challenge, _) = self.sasl_reply(conn, b"");
            assert_eq!(err, 0);
            let challenge = String::from_utf8(challenge.unwrap()).unwrap();
            let nonce = challenge.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
            self.sasl_reply(conn, client_response(user, password, &nonce, "cnonce").as_bytes())
        }

        fn err_of(&mut self, conn: ConnId, req: Request) -> (i32, bool) {
            let out = self.send(conn, req);
            let closed = out.iter().any(|o| matches!(o, ClientOut::Close { .. }));
            match out.first() {
                Some(ClientOut::Reply { header, .. }) => (header.err, closed),
                other => panic!("expected a reply, got {other:?}"),
            }
        }
    }

    fn create_for(path: &str, user: &str) -> Request {
        Request::Create {
            op: rzk_proto::codes::op::CREATE,
            req: CreateRequest {
                path: path.into(),
                data: Some(Bytes::from_static(b"x")),
                acl: vec![Acl::new(perms::ALL, "sasl", user)],
                flags: 0,
            },
        }
    }

    fn get(path: &str) -> Request {
        Request::GetData(GetDataRequest { path: path.into(), watch: false })
    }

    #[test]
    fn without_a_jaas_section_sasl_is_ok_with_a_null_token() {
        let mut h = H::new(NodeConfig::default());
        h.connect(1);
        assert_eq!(h.sasl_reply(1, b""), (0, None, false));
        assert_eq!(h.sasl_reply(1, b"anything"), (0, None, false));
        // A null token closes the connection without a reply, configured or not.
        let out = h.send(1, Request::Sasl(GetSaslRequest { token: None }));
        assert!(matches!(out.as_slice(), [ClientOut::Close { .. }]), "{out:?}");
        let mut h = H::new(config(false));
        h.connect(2);
        let out = h.send(2, Request::Sasl(GetSaslRequest { token: None }));
        assert!(matches!(out.as_slice(), [ClientOut::Close { .. }]), "{out:?}");
    }

    #[test]
    fn digest_login_gives_the_sasl_id() {
        let mut h = H::new(config(false));
        h.connect(1);
        let (err, token, closed) = h.login(1, "user1", "pw1");
        assert_eq!((err, closed), (0, false));
        assert!(String::from_utf8(token.unwrap()).unwrap().starts_with("rspauth="));
        let out = h.send(1, Request::WhoAmI);
        let Some(ClientOut::Reply { body: Response::WhoAmI(WhoAmIResponse { client_info }), .. }) =
            out.first()
        else {
            panic!("{out:?}")
        };
        let user1 = ClientInfo { auth_scheme: "sasl".into(), user: "user1".into() };
        assert!(client_info.contains(&user1), "{client_info:?}");
        assert_eq!(h.err_of(1, create_for("/n", "user1")), (0, false));
        assert_eq!(h.err_of(1, get("/n")), (0, false));
        // Another user may not read it; nor may an anonymous session.
        h.connect(2);
        assert_eq!(h.login(2, "user2", "pw2").0, 0);
        assert_eq!(h.err_of(2, get("/n")), (ErrorCode::NoAuth.code(), false));
        h.connect(3);
        assert_eq!(h.err_of(3, get("/n")), (ErrorCode::NoAuth.code(), false));
        // A second exchange on the same connection fails (the server's SASL object is done).
        assert_eq!(h.sasl_reply(1, b""), (ErrorCode::AuthFailed.code(), None, true));
    }

    #[test]
    fn a_wrong_password_or_unknown_user_fails_and_closes() {
        let mut h = H::new(config(false));
        h.connect(1);
        assert_eq!(h.login(1, "user1", "nope"), (ErrorCode::AuthFailed.code(), None, true));
        h.connect(2);
        assert_eq!(h.login(2, "ghost", "pw1"), (ErrorCode::AuthFailed.code(), None, true));
    }

    #[test]
    fn without_the_provider_sasl_acls_are_invalid() {
        let mut cfg = config(false);
        cfg.auth.sasl_provider = false;
        let mut h = H::new(cfg);
        h.connect(1);
        assert_eq!(h.login(1, "user1", "pw1").0, 0);
        assert_eq!(h.err_of(1, create_for("/n", "user1")), (ErrorCode::InvalidAcl.code(), false));
    }

    #[test]
    fn allowed_failed_clients_keep_their_connection() {
        let mut cfg = config(false);
        cfg.auth.sasl.allow_failed_clients = true;
        let mut h = H::new(cfg);
        h.connect(1);
        assert_eq!(h.login(1, "user1", "nope"), (0, None, false));
    }

    #[test]
    fn gssapi_gets_auth_failed() {
        let mut h = H::new(config(false));
        h.connect(1);
        let token =
            [0x60, 0x10, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00];
        assert_eq!(h.sasl_reply(1, &token), (ErrorCode::AuthFailed.code(), None, true));
    }

    #[test]
    fn required_sasl_refuses_other_requests_and_closes() {
        let mut h = H::new(config(true));
        h.connect(1);
        let code = ErrorCode::SessionClosedRequireSaslAuth.code();
        assert_eq!(h.err_of(1, get("/")), (code, true));
        h.connect(2);
        assert_eq!(h.err_of(2, Request::Ping), (code, true));
        // A request that does not decode is refused the same way.
        h.connect(5);
        h.node.step(Input::Malformed { conn: 5, xid: 9, op: rzk_proto::codes::op::CREATE });
        let out = h.drain(5);
        assert!(
            matches!(out.as_slice(), [ClientOut::Reply { header, .. }, ClientOut::Close { .. }] if header.err == code)
        );
        // A failed exchange is answered with the same code when SASL is required.
        h.connect(3);
        assert_eq!(h.login(3, "user1", "nope"), (code, None, true));
        h.connect(4);
        assert_eq!(h.login(4, "user1", "pw1").0, 0);
        assert_eq!(h.err_of(4, get("/")), (0, false));
    }

    #[test]
    fn super_users_get_super() {
        let mut cfg = config(false);
        cfg.auth.sasl.users.as_mut().unwrap().insert("boss".into(), "b".into());
        let mut h = H::new(cfg);
        h.connect(1);
        assert_eq!(h.login(1, "user1", "pw1").0, 0);
        assert_eq!(h.err_of(1, create_for("/n", "user1")), (0, false));
        h.connect(2);
        assert_eq!(h.login(2, "boss", "b").0, 0);
        assert_eq!(h.err_of(2, get("/n")), (0, false));
    }
}
