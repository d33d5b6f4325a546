//! Readiness for `/ready` (and the detail `/health` prints): whether this server serves clients
//! now. `ruok` cannot say this: it answers `imok` whenever the process runs, even while an
//! ensemble member has no quorum. A standalone server is ready once its core runs (the database
//! is loaded and the client port accepts); [`check`] is the one place the ensemble code extends
//! with its own condition (a member is ready only while it leads or follows a quorum).

use rzk_node::Node;

use crate::admin::json::Json;
use crate::core::Shell;
use crate::four_letter::SERVER_STATE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The database is loaded and the core serves client requests.
    pub serving_clients: bool,
    /// In an ensemble: whether this server is in a quorum (`None` standalone).
    pub in_quorum: Option<bool>,
    /// `zk_server_state`: standalone, leader, follower, observer, or looking.
    pub server_state: String,
}

impl Readiness {
    /// Before the core runs (loading the database) or after it stopped.
    pub fn not_serving(server_state: &str) -> Readiness {
        Readiness { serving_clients: false, in_quorum: None, server_state: server_state.to_owned() }
    }

    pub fn ready(&self) -> bool {
        self.serving_clients && self.in_quorum.unwrap_or(true)
    }

    /// The body of `/ready` and `/health`.
    pub fn to_json(&self) -> Json {
        Json::Obj(vec![
            ("ready".into(), Json::Bool(self.ready())),
            ("serving_clients".into(), Json::Bool(self.serving_clients)),
            ("in_quorum".into(), self.in_quorum.map_or(Json::Null, Json::Bool)),
            ("server_state".into(), Json::str(&self.server_state)),
        ])
    }
}

/// Asked of the core: it answers only while it runs, so a standalone server that answers serves.
pub fn check(_node: &Node, _shell: &Shell) -> Readiness {
    Readiness { serving_clients: true, in_quorum: None, server_state: SERVER_STATE.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_needs_clients_served_and_a_quorum_when_in_an_ensemble() {
        let mut r = Readiness::not_serving("standalone");
        assert!(!r.ready());
        r.serving_clients = true;
        assert!(r.ready());
        r.in_quorum = Some(false);
        assert!(!r.ready());
        assert_eq!(
            r.to_json().pretty(),
            "{\n  \"ready\" : false,\n  \"serving_clients\" : true,\n  \"in_quorum\" : false,\n  \
             \"server_state\" : \"standalone\"\n}"
        );
    }
}
