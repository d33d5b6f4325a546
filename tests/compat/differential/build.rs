//! A small vocabulary for writing differential scenarios: request constructors and a builder
//! whose paths live under the scenario's own base node, so scenarios do not see each other.

use bytes::Bytes;
use rzk_proto::Request;
use rzk_proto::codes::{op, perms};
use rzk_proto::records::*;

use super::harness::{Scenario, Step};

pub fn open() -> Vec<Acl> {
    vec![Acl::new(perms::ALL, "world", "anyone")]
}

pub fn data(d: Option<&str>) -> Option<Bytes> {
    d.map(|s| Bytes::from(s.as_bytes().to_vec()))
}

pub fn create_full(path: &str, d: Option<&str>, acl: Vec<Acl>, flags: i32) -> Request {
    Request::Create { op: op::CREATE, req: CreateRequest { path: path.into(), data: data(d), acl, flags } }
}
pub fn create(path: &str, d: &str) -> Request {
    create_full(path, Some(d), open(), 0)
}
pub fn create_mode(path: &str, d: &str, flags: i32) -> Request {
    create_full(path, Some(d), open(), flags)
}
pub fn create2(path: &str, d: &str, flags: i32) -> Request {
    Request::Create {
        op: op::CREATE2,
        req: CreateRequest { path: path.into(), data: data(Some(d)), acl: open(), flags },
    }
}
pub fn container(path: &str) -> Request {
    Request::Create {
        op: op::CREATE_CONTAINER,
        req: CreateRequest { path: path.into(), data: data(Some("")), acl: open(), flags: 4 },
    }
}
pub fn ttl(path: &str, flags: i32, ttl: i64) -> Request {
    Request::CreateTtl(CreateTtlRequest { path: path.into(), data: data(Some("t")), acl: open(), flags, ttl })
}
pub fn delete(path: &str, version: i32) -> Request {
    Request::Delete(DeleteRequest { path: path.into(), version })
}
pub fn exists(path: &str, watch: bool) -> Request {
    Request::Exists(ExistsRequest { path: path.into(), watch })
}
pub fn get(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}
pub fn set(path: &str, d: Option<&str>, version: i32) -> Request {
    Request::SetData(SetDataRequest { path: path.into(), data: data(d), version })
}
pub fn get_acl(path: &str) -> Request {
    Request::GetAcl(GetAclRequest { path: path.into() })
}
pub fn set_acl(path: &str, acl: Vec<Acl>, version: i32) -> Request {
    Request::SetAcl(SetAclRequest { path: path.into(), acl, version })
}
pub fn ls(path: &str, watch: bool) -> Request {
    Request::GetChildren(GetChildrenRequest { path: path.into(), watch })
}
pub fn ls2(path: &str, watch: bool) -> Request {
    Request::GetChildren2(GetChildren2Request { path: path.into(), watch })
}
pub fn sync(path: &str) -> Request {
    Request::Sync(SyncRequest { path: path.into() })
}
pub fn check(path: &str, version: i32) -> Request {
    Request::Check(CheckVersionRequest { path: path.into(), version })
}
pub fn add_watch(path: &str, mode: i32) -> Request {
    Request::AddWatch(AddWatchRequest { path: path.into(), mode })
}
pub fn check_watches(path: &str, t: i32) -> Request {
    Request::CheckWatches(CheckWatchesRequest { path: path.into(), watcher_type: t })
}
pub fn remove_watches(path: &str, t: i32) -> Request {
    Request::RemoveWatches(RemoveWatchesRequest { path: path.into(), watcher_type: t })
}
pub fn auth(scheme: &str, cred: &str) -> Request {
    Request::Auth(AuthPacket {
        auth_type: 0,
        scheme: scheme.into(),
        auth: Bytes::from(cred.as_bytes().to_vec()),
    })
}
pub fn ephemerals(prefix: &str) -> Request {
    Request::GetEphemerals(GetEphemeralsRequest { prefix_path: prefix.into() })
}
pub fn count(path: &str) -> Request {
    Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: path.into() })
}
pub fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
    Acl::new(perms, scheme, id)
}

/// Builds one scenario; `p("/a")` is `/<base>/a`.
pub struct B {
    pub name: String,
    pub base: String,
    pub steps: Vec<Step>,
}

impl B {
    /// A scenario with session 0 connected and its base node created.
    pub fn new(name: &str) -> B {
        let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let base = format!("/d_{slug}");
        let mut b = B { name: name.to_owned(), base: base.clone(), steps: Vec::new() };
        b.connect(0);
        b.req(0, create(&base, ""));
        b
    }

    /// A scenario that starts from nothing (no session, no base node).
    pub fn bare(name: &str) -> B {
        B { name: name.to_owned(), base: "/".into(), steps: Vec::new() }
    }

    /// A path maker under this scenario's base (usable while the builder is borrowed), and the base.
    pub fn paths(&self) -> (impl Fn(&str) -> String + use<>, String) {
        let base = self.base.clone();
        let b2 = base.clone();
        (move |rel: &str| format!("{b2}{rel}"), base)
    }

    pub fn connect(&mut self, s: usize) -> &mut Self {
        self.steps.push(Step::Connect { s, timeout_ms: 30000 });
        self
    }
    pub fn connect_timeout(&mut self, s: usize, timeout_ms: i32) -> &mut Self {
        self.steps.push(Step::Connect { s, timeout_ms });
        self
    }
    pub fn req(&mut self, s: usize, req: Request) -> &mut Self {
        self.steps.push(Step::Req { s, req });
        self
    }
    /// Session 0 sends `req`.
    pub fn r(&mut self, req: Request) -> &mut Self {
        self.req(0, req)
    }
    pub fn close(&mut self, s: usize) -> &mut Self {
        self.steps.push(Step::Close { s });
        self
    }
    pub fn drop_conn(&mut self, s: usize) -> &mut Self {
        self.steps.push(Step::Drop { s });
        self
    }
    pub fn reattach(&mut self, s: usize, from: usize, good_password: bool) -> &mut Self {
        self.steps.push(Step::Reattach { s, from, good_password, timeout_ms: 30000 });
        self
    }
    pub fn raw(&mut self, s: usize, payload: Vec<u8>) -> &mut Self {
        self.steps.push(Step::Raw { s, payload });
        self
    }
    pub fn poll(&mut self, s: usize, req: Request, until_err: i32) -> &mut Self {
        self.steps.push(Step::Poll { s, req, until_err });
        self
    }
    pub fn done(&mut self) -> Scenario {
        Scenario { name: self.name.clone(), steps: std::mem::take(&mut self.steps) }
    }
}
