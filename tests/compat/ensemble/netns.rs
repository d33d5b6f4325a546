//! A network partition with Linux network namespaces: each member runs in its own namespace
//! (`<tag>m<N>`, address 10.231.0.N, every member on ports 2181/2888/3888), joined by a veth pair
//! to a bridge in a hub namespace (`<tag>hub`, 10.231.0.254) where the test's clients run. Cutting
//! a member is setting its veth end in the hub down: its TCP connections stall (no reset), as in a
//! real partition. A thread enters a namespace with `setns(2)`; processes it starts and sockets it
//! opens live there.
//!
//! Needs `ip netns add` to work (root); otherwise [`Net::create`] prints why the test is skipped
//! (or fails when `RZK_REQUIRE_NETNS` is set).

use std::ffi::c_int;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use rzk_testkit::{QuorumPorts, RzkQuorumPeer, four_letter_word};

use super::cluster::{Ensemble, Launcher, bin};
use super::load::{Load, WriterOpts};
use super::{check, support};

unsafe extern "C" {
    fn setns(fd: c_int, nstype: c_int) -> c_int;
}

const CLONE_NEWNET: c_int = 0x4000_0000;
const SUBNET: &str = "10.231.0";
const PORTS: QuorumPorts = QuorumPorts { client: 2181, quorum: 2888, election: 3888 };

/// Moves the calling thread into network namespace `ns`.
fn enter(ns: &str) {
    let f = File::open(format!("/var/run/netns/{ns}")).unwrap_or_else(|e| panic!("open netns {ns}: {e}"));
    // SAFETY: setns only reads the descriptor, which `f` keeps open for the call.
    let r = unsafe { setns(f.as_raw_fd(), CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {ns}: {}", std::io::Error::last_os_error());
}

/// Runs `f` on a new thread inside namespace `ns`.
fn in_ns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            enter(ns);
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The namespaces of one test run, deleted on drop.
pub struct Net {
    tag: String,
    members: usize,
}

impl Net {
    pub fn hub(&self) -> String {
        format!("{}hub", self.tag)
    }

    pub fn member_ns(&self, id: i64) -> String {
        format!("{}m{id}", self.tag)
    }

    fn hub_end(&self, id: i64) -> String {
        format!("{}m{id}b", self.tag)
    }

    /// The hub, `members` member namespaces and their links; `None` (after printing why) when
    /// namespaces cannot be made here.
    pub fn create(members: usize) -> Option<Net> {
        let net = Net { tag: format!("rzk{}", std::process::id()), members };
        match net.build() {
            Ok(()) => Some(net),
            Err(why) => {
                drop(net);
                assert!(
                    std::env::var_os("RZK_REQUIRE_NETNS").is_none(),
                    "network namespaces required (RZK_REQUIRE_NETNS is set) but {why}"
                );
                println!("SKIP partition test: network namespaces are not available: {why}");
                None
            }
        }
    }

    fn build(&self) -> Result<(), String> {
        let hub = self.hub();
        ip(&["netns", "add", &hub])?;
        ip(&["-n", &hub, "link", "set", "lo", "up"])?;
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &hub, "addr", "add", &format!("{SUBNET}.254/24"), "dev", "br0"])?;
        ip(&["-n", &hub, "link", "set", "br0", "up"])?;
        for id in 1..=self.members as i64 {
            let ns = self.member_ns(id);
            let (a, b) = (format!("{}m{id}a", self.tag), self.hub_end(id));
            ip(&["netns", "add", &ns])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["link", "add", &a, "netns", &ns, "type", "veth", "peer", "name", &b, "netns", &hub])?;
            ip(&["-n", &ns, "addr", "add", &format!("{SUBNET}.{id}/24"), "dev", &a])?;
            ip(&["-n", &ns, "link", "set", &a, "up"])?;
            ip(&["-n", &hub, "link", "set", &b, "master", "br0"])?;
            ip(&["-n", &hub, "link", "set", &b, "up"])?;
        }
        Ok(())
    }

    /// Cuts member `id` off from every other member and from the clients.
    pub fn cut(&self, id: i64) {
        ip(&["-n", &self.hub(), "link", "set", &self.hub_end(id), "down"]).expect("cut");
    }

    pub fn heal(&self, id: i64) {
        ip(&["-n", &self.hub(), "link", "set", &self.hub_end(id), "up"]).expect("heal");
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Deleting a namespace also deletes the veth pairs in it.
        for id in 1..=self.members as i64 {
            let _ = ip(&["netns", "del", &self.member_ns(id)]);
        }
        let _ = ip(&["netns", "del", &self.hub()]);
    }
}

/// Members started in their namespaces, reached through the hub.
struct NsLauncher {
    tag: String,
}

impl NsLauncher {
    fn ns(&self, id: i64) -> String {
        format!("{}m{id}", self.tag)
    }
}

impl Launcher for NsLauncher {
    fn start(&self, id: i64, ports: QuorumPorts, lines: &[String], extra: &[String]) -> RzkQuorumPeer {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        in_ns(&self.ns(id), || RzkQuorumPeer::start(bin(), id, ports, lines, &extra))
            .unwrap_or_else(|e| panic!("member {id} does not start: {e}"))
    }

    fn start_again(&self, peer: &mut RzkQuorumPeer) {
        let id = peer.id;
        in_ns(&self.ns(id), || peer.start_again())
            .unwrap_or_else(|e| panic!("member {id} does not start: {e}"));
    }

    fn srvr(&self, id: i64, port: u16) -> Option<String> {
        self.word(id, port, "srvr")
    }

    fn client_addr(&self, id: i64, port: u16) -> String {
        format!("{SUBNET}.{id}:{port}")
    }

    fn word(&self, id: i64, port: u16, word: &str) -> Option<String> {
        in_ns(&self.ns(id), || four_letter_word(port, word, Duration::from_secs(2)).ok())
    }
}

/// A 3-member ensemble under load; the leader is cut off. The other two elect a leader and take
/// writes again; the cut-off one stops serving; healed, it rejoins and ends identical.
pub fn partition_test(net: &Net) {
    // The test's clients (and the runtime's threads) live in the hub.
    in_ns(&net.hub(), || partition_body(net));
}

fn partition_body(net: &Net) {
    let rt = support::rt();
    let lines: Vec<String> =
        (1..=3).map(|id| format!("server.{id}={SUBNET}.{id}:{}:{}", PORTS.quorum, PORTS.election)).collect();
    let launcher = Box::new(NsLauncher { tag: net.tag.clone() });
    let extra = ["maxSessionTimeout=30000", "clientPortAddress=0.0.0.0"];
    let ens = Ensemble::start_with("partition", launcher, vec![PORTS; 3], lines, 3, &extra);
    let (leader, took) = ens.wait_all_serving(support::SERVE_TIMEOUT);
    println!("partition: ensemble in namespaces serving after {took:?}; leader member {}", leader + 1);
    support::create_root(&rt, &ens, leader, "/load");
    // Short sessions: a client whose server went silent gives up on it within 4 s.
    let opts =
        WriterOpts { session_timeout: Duration::from_secs(6), request_timeout: Duration::from_secs(4) };
    let cs = (0..6).map(|w| ens.connect_string(w % 3)).collect();
    let load = Load::start(&rt, cs, "/load", opts);
    load.wait_acked_since(load.started, 300, Duration::from_secs(30), "before the partition");

    let epoch = support::current_epoch(&ens, leader);
    let id = leader as i64 + 1;
    let t = Instant::now();
    net.cut(id);
    let rest: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    ens.wait_not_serving(&[leader], Duration::from_secs(15));
    let gone = t.elapsed();
    load.wait_acked_since(t, 200, Duration::from_secs(40), "after the leader was cut off");
    let r = support::recovery(&load.acks(), t, epoch).expect("writes acknowledged in a new epoch");
    let (new_leader, _) = ens.wait_serving(&rest, support::SERVE_TIMEOUT);
    println!(
        "partition: leader member {id} cut off; writes acknowledged again after {r:?} (new leader member {}); \
         the cut-off member had stopped serving {gone:?} after the cut",
        new_leader + 1,
    );
    assert!(r < Duration::from_secs(20), "writes resumed only after {r:?}");

    let t_heal = Instant::now();
    net.heal(id);
    let (_, took) = ens.wait_all_serving(support::SERVE_TIMEOUT);
    println!("partition: healed; member {id} serving again after {took:?}");
    load.wait_acked_since(t_heal, 200, Duration::from_secs(30), "after healing");
    let acks = load.stop(&rt);
    super::load::assert_writer_order(&acks);
    check::assert_converged(&rt, &ens, &acks, &["/load"]);
}
