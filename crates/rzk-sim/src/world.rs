//! The simulated ensemble: every server's real core ([`Node`]) with an in-memory disk, a network
//! of timed events, and the clients. Time is simulated in milliseconds; the only randomness is
//! the seeded [`Rng`], so a seed replays the same run.
//!
//! Transports are modelled as ZooKeeper's are: election notifications are independent messages
//! (delayed, dropped, duplicated, reordered), while a learner's connection to its leader is an
//! ordered stream that either delivers everything in order or breaks (both ends are told).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use rzk_node::{ClientOut, Input, Node, NodeConfig, PeerInput, PeerOut, QuorumSetup, StorageOp};
use rzk_proto::QuorumPacket;
use rzk_zab::packet;
use rzk_zab::verifier::{Member, QuorumVerifier};

use crate::client::Clients;
use crate::rng::Rng;
use crate::store::MemStore;

/// How often every core gets a tick.
pub const TICK_MS: i64 = 10;

#[derive(Debug, Clone)]
pub struct Params {
    pub voters: usize,
    pub observers: usize,
    /// Faults are injected until then; afterwards the network heals and crashed servers return.
    pub faults_until_ms: i64,
    /// The run ends then; by then the ensemble must have converged.
    pub end_ms: i64,
    pub tick_time_ms: i64,
    pub clients: usize,
    pub faults: bool,
}

impl Params {
    pub fn for_seed(seed: u64) -> Params {
        let mut r = Rng::new(seed.wrapping_mul(31));
        let (voters, observers) = match r.range(0, 3) {
            0 => (3, 0),
            1 => (5, 0),
            2 => (3, 1),
            _ => (5, 2),
        };
        Params {
            voters,
            observers,
            faults_until_ms: 20_000,
            end_ms: 45_000,
            tick_time_ms: 200,
            clients: r.range(1, 4) as usize,
            faults: true,
        }
    }
}

enum Event {
    Notification {
        from: usize,
        to: usize,
        bytes: Vec<u8>,
    },
    /// A stream packet; `to_leader` says which end receives it.
    Stream {
        conn: u64,
        to_leader: bool,
        packet: QuorumPacket,
    },
    ConnOpened {
        conn: u64,
    },
    ConnFailed {
        server: usize,
        incarnation: u64,
    },
    /// The connection broke; tell this end.
    ConnClosed {
        conn: u64,
        to_leader: bool,
    },
    Persist {
        server: usize,
        incarnation: u64,
        through: i64,
    },
    Restart {
        server: usize,
    },
    ClientWake {
        client: usize,
    },
}

struct Conn {
    learner: usize,
    leader: usize,
    learner_inc: u64,
    leader_inc: u64,
    alive: bool,
    /// Last delivery time per direction (streams keep order).
    last_to_leader: i64,
    last_to_learner: i64,
    pending_snap: Option<QuorumPacket>,
}

pub struct Server {
    pub id: i64,
    pub node: Option<Node>,
    pub store: MemStore,
    pub incarnation: u64,
    /// The learner side's connection to its leader.
    leader_conn: Option<u64>,
}

pub struct World {
    pub params: Params,
    pub now: i64,
    pub rng: Rng,
    pub servers: Vec<Server>,
    qv: QuorumVerifier,
    events: BTreeMap<(i64, u64), Event>,
    seq: u64,
    conns: BTreeMap<u64, Conn>,
    next_conn: u64,
    /// Directed links that drop everything: (from, to).
    blocked: BTreeSet<(usize, usize)>,
    pub clients: Clients,
    pub checker: crate::check::Checker,
    /// Per-server clock offsets (drift), ms.
    skew: Vec<i64>,
    pub trace: bool,
}

fn member(id: i64, observer: bool) -> Member {
    Member {
        id,
        host: "127.0.0.1".into(),
        quorum_port: 2000 + id as u16,
        election_port: 3000 + id as u16,
        observer,
        client: None,
    }
}

impl World {
    pub fn new(seed: u64, params: Params) -> World {
        let n = params.voters + params.observers;
        let members = (0..n).map(|i| member(i as i64 + 1, i >= params.voters)).collect();
        let qv = QuorumVerifier::majority(members, 0);
        let servers = (0..n)
            .map(|i| Server {
                id: i as i64 + 1,
                node: None,
                store: MemStore::default(),
                incarnation: 0,
                leader_conn: None,
            })
            .collect();
        let clients = Clients::new(params.clients);
        let mut w = World {
            now: 0,
            rng: Rng::new(seed),
            servers,
            qv,
            events: BTreeMap::new(),
            seq: 0,
            conns: BTreeMap::new(),
            next_conn: 1,
            blocked: BTreeSet::new(),
            clients,
            checker: crate::check::Checker::default(),
            skew: vec![0; n],
            trace: false,
            params,
        };
        for i in 0..n {
            w.start_server(i);
        }
        for c in 0..w.clients.len() {
            let at = w.rng.range(100, 2_000);
            w.schedule(at, Event::ClientWake { client: c });
        }
        w
    }

    fn schedule(&mut self, delay: i64, e: Event) {
        self.seq += 1;
        self.events.insert((self.now + delay.max(0), self.seq), e);
    }

    fn node_config(&self, id: i64) -> NodeConfig {
        NodeConfig {
            server_id: id,
            tick_time_ms: self.params.tick_time_ms,
            min_session_timeout_ms: (2 * self.params.tick_time_ms) as i32,
            max_session_timeout_ms: (20 * self.params.tick_time_ms) as i32,
            ..NodeConfig::default()
        }
    }

    pub fn start_server(&mut self, i: usize) {
        let (tree, recent) = self.servers[i].store.restore();
        let zxid_epoch = tree.last_processed_zxid >> 32;
        let cfg = self.node_config(self.servers[i].id);
        let s = &mut self.servers[i];
        let current = s.store.current_epoch.unwrap_or(zxid_epoch);
        let accepted = s.store.accepted_epoch.unwrap_or(current);
        let setup = QuorumSetup {
            my_id: s.id,
            qv: self.qv.clone(),
            accepted_epoch: accepted,
            current_epoch: current,
            init_limit: 10,
            sync_limit: 5,
            recent_txns: recent,
            commit_log_count: 500,
            force_snap_sync: false,
            notification_interval_ms: (50, 1_000),
        };
        s.incarnation += 1;
        s.leader_conn = None;
        let wall = 1_700_000_000_000 + self.now;
        s.node = Some(Node::new_quorum(cfg, tree, self.now + self.skew[i], wall, setup));
        self.after_step(i);
    }

    pub fn crash(&mut self, i: usize) {
        if self.servers[i].node.take().is_none() {
            return;
        }
        if self.trace {
            eprintln!("{:>6} crash server {}", self.now, i + 1);
        }
        self.servers[i].store.crash();
        // Its connections die with it; the other ends notice.
        let ids: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.alive && (c.learner == i || c.leader == i))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.break_conn(id);
        }
        self.clients.server_died(i, self.now);
    }

    fn link_ok(&self, a: usize, b: usize) -> bool {
        !self.blocked.contains(&(a, b))
    }

    fn alive(&self, i: usize) -> bool {
        self.servers[i].node.is_some()
    }

    /// Steps one server's core and carries out its output.
    pub fn step(&mut self, i: usize, input: Input) {
        let Some(node) = self.servers[i].node.as_mut() else { return };
        node.step(input);
        self.after_step(i);
    }

    fn after_step(&mut self, i: usize) {
        loop {
            let Some(node) = self.servers[i].node.as_mut() else { return };
            let ready = node.ready();
            if ready.is_empty() {
                return;
            }
            for op in ready.storage {
                self.storage_op(i, op);
            }
            if let Some(last) = ready.log.last().map(|a| a.zxid) {
                let s = &mut self.servers[i];
                for a in ready.log {
                    s.store.unsynced.push((a.zxid, a.bytes));
                }
                let inc = s.incarnation;
                // Usually a fast disk; now and then a slow fsync.
                let delay = if self.params.faults && self.rng.chance(5) {
                    self.rng.range(50, 400)
                } else {
                    self.rng.range(1, 8)
                };
                self.schedule(delay, Event::Persist { server: i, incarnation: inc, through: last });
            }
            for o in ready.peer_out {
                self.peer_out(i, o);
            }
            for (conn, o) in ready.client_out {
                self.client_out(i, conn, o);
            }
        }
    }

    fn storage_op(&mut self, i: usize, op: StorageOp) {
        match op {
            StorageOp::AcceptedEpoch(e) => self.servers[i].store.accepted_epoch = Some(e),
            StorageOp::CurrentEpoch(e) => self.servers[i].store.current_epoch = Some(e),
            StorageOp::TruncateLog { zxid, reload } => {
                // The log thread finishes what it was given first.
                let synced = self.servers[i].store.sync();
                if let Some(through) = synced
                    && let Some(node) = self.servers[i].node.as_mut()
                {
                    node.step(Input::Persisted { through });
                }
                self.servers[i].store.truncate(zxid);
                if reload {
                    let (tree, recent) = self.servers[i].store.restore();
                    if let Some(node) = self.servers[i].node.as_mut() {
                        node.step(Input::Reloaded { tree: Box::new(tree), recent });
                    }
                }
            }
            StorageOp::Snapshot => {
                if let Some(node) = self.servers[i].node.as_ref() {
                    let tree = node.tree().clone();
                    self.servers[i].store.snapshot = Some((tree.last_processed_zxid, tree));
                }
            }
        }
    }

    fn index_of(&self, sid: i64) -> Option<usize> {
        self.servers.iter().position(|s| s.id == sid)
    }

    fn stream_delay(&mut self) -> i64 {
        self.rng.range(1, 6)
    }

    fn peer_out(&mut self, i: usize, o: PeerOut) {
        match o {
            PeerOut::Notification { to, bytes } => {
                let Some(j) = self.index_of(to) else { return };
                if !self.link_ok(i, j) || (self.params.faults && self.rng.chance(5)) {
                    return;
                }
                let d = self.rng.range(1, 30);
                if self.params.faults && self.rng.chance(3) {
                    let d2 = self.rng.range(1, 60);
                    self.schedule(d2, Event::Notification { from: i, to: j, bytes: bytes.clone() });
                }
                self.schedule(d, Event::Notification { from: i, to: j, bytes });
            }
            PeerOut::ConnectLeader { sid } => {
                let inc = self.servers[i].incarnation;
                let Some(j) = self.index_of(sid) else { return };
                if !self.alive(j) || !self.link_ok(i, j) || !self.link_ok(j, i) {
                    let d = self.rng.range(20, 300);
                    self.schedule(d, Event::ConnFailed { server: i, incarnation: inc });
                    return;
                }
                let id = self.next_conn;
                self.next_conn += 1;
                let c = Conn {
                    learner: i,
                    leader: j,
                    learner_inc: inc,
                    leader_inc: self.servers[j].incarnation,
                    alive: true,
                    last_to_leader: self.now,
                    last_to_learner: self.now,
                    pending_snap: None,
                };
                self.conns.insert(id, c);
                self.servers[i].leader_conn = Some(id);
                let d = self.stream_delay();
                self.schedule(d, Event::ConnOpened { conn: id });
            }
            PeerOut::DisconnectLeader => {
                if let Some(id) = self.servers[i].leader_conn.take() {
                    self.break_conn(id);
                }
            }
            PeerOut::ToLeader(packet) => {
                if let Some(id) = self.servers[i].leader_conn {
                    self.stream_send(id, true, packet);
                }
            }
            PeerOut::ToLearner { id, packet } => {
                if packet.packet_type == packet::SNAP {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.pending_snap = Some(packet);
                    }
                } else {
                    self.stream_send(id, false, packet);
                }
            }
            PeerOut::ToLearnerSnapshot { id, body } => {
                let Some(mut snap) = self.conns.get_mut(&id).and_then(|c| c.pending_snap.take()) else {
                    return;
                };
                // The shell hands the core the body without the signature that ends it.
                snap.data = Some(Bytes::from(body.to_bytes()));
                self.stream_send(id, false, snap);
            }
            PeerOut::CloseLearner { id } => self.break_conn(id),
        }
    }

    fn stream_send(&mut self, id: u64, to_leader: bool, packet: QuorumPacket) {
        let d = self.stream_delay();
        let Some(c) = self.conns.get(&id) else { return };
        if !c.alive {
            return;
        }
        let (from, to) = if to_leader { (c.learner, c.leader) } else { (c.leader, c.learner) };
        if !self.link_ok(from, to) {
            // TCP gives up: both ends learn the connection is gone.
            self.break_conn(id);
            return;
        }
        let Some(c) = self.conns.get_mut(&id) else { return };
        let last = if to_leader { &mut c.last_to_leader } else { &mut c.last_to_learner };
        let at = (self.now + d).max(*last + 1);
        *last = at;
        self.seq += 1;
        self.events.insert((at, self.seq), Event::Stream { conn: id, to_leader, packet });
    }

    fn break_conn(&mut self, id: u64) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        if !c.alive {
            return;
        }
        c.alive = false;
        let (a, b) = (c.last_to_leader, c.last_to_learner);
        let at_leader = (a + 1).max(self.now + 1);
        let at_learner = (b + 1).max(self.now + 1);
        self.seq += 1;
        self.events.insert((at_leader, self.seq), Event::ConnClosed { conn: id, to_leader: true });
        self.seq += 1;
        self.events.insert((at_learner, self.seq), Event::ConnClosed { conn: id, to_leader: false });
    }

    fn client_out(&mut self, i: usize, conn: u64, o: ClientOut) {
        let close = matches!(o, ClientOut::Close { .. });
        self.clients.deliver(i, conn, o, self.now, &mut self.checker);
        if close {
            // The shell closes the socket and tells the core.
            self.step(i, Input::Closed { conn });
        }
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::Notification { from, to, bytes } => {
                if self.alive(to) && self.link_ok(from, to) {
                    let from_id = self.servers[from].id;
                    self.step(to, Input::Peer(PeerInput::Notification { from: from_id, bytes }));
                }
            }
            Event::Stream { conn, to_leader, packet } => {
                let Some(c) = self.conns.get(&conn) else { return };
                if !c.alive {
                    return;
                }
                if to_leader {
                    let (j, inc) = (c.leader, c.leader_inc);
                    if self.servers[j].incarnation == inc {
                        self.step(j, Input::Peer(PeerInput::FromLearner { id: conn, packet }));
                    }
                } else {
                    let (j, inc) = (c.learner, c.learner_inc);
                    if self.servers[j].incarnation == inc && self.servers[j].leader_conn == Some(conn) {
                        self.step(j, Input::Peer(PeerInput::FromLeader(packet)));
                    }
                }
            }
            Event::ConnOpened { conn } => {
                let Some(c) = self.conns.get(&conn) else { return };
                if !c.alive {
                    return;
                }
                let (l, li, ld, di) = (c.learner, c.learner_inc, c.leader, c.leader_inc);
                if self.servers[ld].incarnation != di || !self.alive(ld) {
                    self.break_conn(conn);
                    return;
                }
                self.step(ld, Input::Peer(PeerInput::LearnerAccepted { id: conn }));
                if self.servers[l].incarnation == li && self.servers[l].leader_conn == Some(conn) {
                    self.step(l, Input::Peer(PeerInput::LeaderConnected));
                }
            }
            Event::ConnFailed { server, incarnation } => {
                if self.servers[server].incarnation == incarnation {
                    self.step(server, Input::Peer(PeerInput::LeaderConnectFailed));
                }
            }
            Event::ConnClosed { conn, to_leader } => {
                let Some(c) = self.conns.get(&conn) else { return };
                let (l, li, ld, di) = (c.learner, c.learner_inc, c.leader, c.leader_inc);
                if to_leader {
                    if self.servers[ld].incarnation == di {
                        self.step(ld, Input::Peer(PeerInput::LearnerClosed { id: conn }));
                    }
                } else if self.servers[l].incarnation == li && self.servers[l].leader_conn == Some(conn) {
                    self.servers[l].leader_conn = None;
                    self.step(l, Input::Peer(PeerInput::LeaderClosed));
                }
            }
            Event::Persist { server, incarnation, through } => {
                let s = &mut self.servers[server];
                if s.incarnation != incarnation || s.node.is_none() {
                    return;
                }
                let idx =
                    s.store.unsynced.iter().position(|(z, _)| *z > through).unwrap_or(s.store.unsynced.len());
                let synced: Vec<(i64, Bytes)> = s.store.unsynced.drain(..idx).collect();
                if synced.is_empty() {
                    return;
                }
                s.store.append_durable(synced);
                self.step(server, Input::Persisted { through });
            }
            Event::Restart { server } => {
                if !self.alive(server) {
                    if self.trace {
                        eprintln!("{:>6} restart server {}", self.now, server + 1);
                    }
                    self.start_server(server);
                }
            }
            Event::ClientWake { client } => self.client_wake(client),
        }
    }

    fn client_wake(&mut self, c: usize) {
        let live: Vec<usize> = (0..self.servers.len()).filter(|i| self.alive(*i)).collect();
        let accepting = self.now < self.params.faults_until_ms + 5_000;
        let actions = self.clients.wake(c, &live, self.now, accepting, &mut self.rng);
        for (server, input) in actions {
            self.step(server, input);
        }
        let d = self.rng.range(20, 200);
        self.schedule(d, Event::ClientWake { client: c });
    }

    /// Injects a fault now and then while faults are on.
    fn maybe_fault(&mut self) {
        if !self.params.faults || self.now >= self.params.faults_until_ms || !self.rng.chance(2) {
            return;
        }
        let n = self.servers.len();
        match self.rng.range(0, 10) {
            10 => {
                // A power failure takes several servers down at once (unsynced appends lost).
                let k = self.rng.range(2, n as i64) as usize;
                let mut order: Vec<usize> = (0..n).collect();
                for x in 0..n {
                    let y = self.rng.range(x as i64, n as i64 - 1) as usize;
                    order.swap(x, y);
                }
                if self.trace {
                    eprintln!("{:>6} power failure of {k} servers", self.now);
                }
                for &t in &order[..k] {
                    self.crash(t);
                    let d = self.rng.range(200, 3_000);
                    self.schedule(d, Event::Restart { server: t });
                }
            }
            0..=2 => {
                // Crash a server (maybe the leader), restart it later.
                let leaderish: Vec<usize> = (0..n)
                    .filter(|i| {
                        self.servers[*i]
                            .node
                            .as_ref()
                            .is_some_and(|nd| nd.current_leader() == Some(self.servers[*i].id))
                    })
                    .collect();
                let target = if self.rng.chance(50) { self.rng.pick(&leaderish) } else { None }
                    .unwrap_or(self.rng.range(0, n as i64 - 1) as usize);
                self.crash(target);
                let d = self.rng.range(200, 4_000);
                self.schedule(d, Event::Restart { server: target });
            }
            3..=4 => {
                // Isolate a server (both directions) for a while.
                let t = self.rng.range(0, n as i64 - 1) as usize;
                for j in 0..n {
                    if j != t {
                        self.blocked.insert((t, j));
                        self.blocked.insert((j, t));
                    }
                }
                if self.trace {
                    eprintln!("{:>6} isolate server {}", self.now, t + 1);
                }
            }
            5 => {
                // One-way loss between two servers.
                let a = self.rng.range(0, n as i64 - 1) as usize;
                let b = self.rng.range(0, n as i64 - 1) as usize;
                if a != b {
                    self.blocked.insert((a, b));
                }
            }
            6..=7 => {
                self.blocked.clear();
                if self.trace {
                    eprintln!("{:>6} heal", self.now);
                }
            }
            _ => {
                // Clock drift: one server's elapsed time jumps ahead a little.
                let t = self.rng.range(0, n as i64 - 1) as usize;
                self.skew[t] += self.rng.range(1, 300);
            }
        }
    }

    /// Runs to the end: faults, then healing, then convergence. Returns the violations found.
    pub fn run(&mut self) -> Result<(), String> {
        let mut next_tick = 0;
        while self.now <= self.params.end_ms {
            if self.now >= self.params.faults_until_ms {
                self.blocked.clear();
                for i in 0..self.servers.len() {
                    if !self.alive(i) {
                        self.start_server(i);
                    }
                }
            }
            while let Some(entry) = self.events.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let e = entry.remove();
                self.handle(e);
            }
            if self.now >= next_tick {
                next_tick = self.now + TICK_MS;
                for i in 0..self.servers.len() {
                    let e = self.now + self.skew[i];
                    let w = 1_700_000_000_000 + self.now;
                    self.step(i, Input::Tick { elapsed_ms: e, wall_ms: w });
                }
                self.maybe_fault();
                self.checker.check_step(&self.servers)?;
            }
            let next_event = self.events.first_key_value().map(|(k, _)| k.0).unwrap_or(i64::MAX);
            self.now = next_event.min(next_tick).max(self.now + 1);
        }
        self.checker.check_end(&self.servers, &self.clients, self.now)
    }
}
