// ZkJavaBench: a load generator on Apache ZooKeeper's own Java client (Debian's
// /usr/share/java/zookeeper.jar), so that a comparison of rzk with ZooKeeper can be taken with a
// client that is not rzk's (scripts/compare-zookeeper.sh --client java). It runs the shape of
// `rzk bench create|set|get|mixed` (crates/rzk-bench) and prints one JSON line with the field
// names of `rzk bench --json`, plus "client":"java", "client_version", "client_socket", "parent"
// and "errors_unmeasured".
//
//   javac -d OUT -cp /usr/share/java/zookeeper.jar scripts/java-bench/ZkJavaBench.java
//   java -cp OUT:/usr/share/java/zookeeper.jar ZkJavaBench [options] create|set|get|mixed
//
// Options (the names and defaults of `rzk bench`):
//   --server HOST:PORT        connect string (default 127.0.0.1:2181)
//   --sessions N              ZooKeeper sessions (default 8)
//   --outstanding K           async requests in flight per session (default 16)
//   --duration S              measured seconds (default 10)
//   --warmup S                unmeasured seconds of the same load before (default 1)
//   --value-bytes B           bytes of each value written (default 100)
//   --read-percent P          mixed: share of getData, the rest setData (default 90)
//   --keys N                  set/get/mixed: nodes spread over, created first (default 1000)
//   --rate R                  open loop: R requests/s over all sessions, each session on a fixed
//                             schedule (its share, offset by its index); latency runs from the
//                             scheduled time, so waiting for a free slot counts (default: closed
//                             loop). How late requests left is reported as "send_lag_us".
//   --prefix PATH             parent of the run's node (default /rzk-bench)
//   --session-timeout-ms MS   session timeout asked for (default 30000)
//   --socket nio|netty        the client's connection class (zookeeper.clientCnxnSocket):
//                             ClientCnxnSocketNIO, the client's default, or ClientCnxnSocketNetty
//                             (needs Netty 4 on the class path); default nio
//   --server-pid PID          report that process's CPU time and resident memory (/proc)
//   --label TEXT              copied into the JSON line
//   --json                    accepted for `rzk bench` compatibility (the output is always JSON)
//
// The run: one setup session creates <prefix>/<workload>-<unix ms>-<pid> (and missing parents);
// set/get/mixed then create its --keys nodes n0000000000.. with a value of --value-bytes (not
// measured). Each session keeps K async requests in flight. Closed loop: K are sent at the start
// and each reply's callback (the client's event thread) sends the next, so no thread of ours
// stands between a reply and the next request (an earlier version had a driver thread per session
// wait on a Semaphore(K) for each slot; the hand-off cost the client CPU that the servers share
// the machine's cores with). Open loop (--rate): a driver thread per session takes a slot of the
// Semaphore(K) at each scheduled time and the callback gives it back. create makes <parent>/s<session>-w0-<seq>; set and get
// pick a key uniformly at random per request; mixed reads with --read-percent chance, else sets.
// Warm-up, then the measured interval: a reply counts when its request was sent and answered
// inside it (latency from the send call to the callback). After the stop the requests still in
// flight are drained (uncounted) and the sessions closed; the nodes stay on the server.
//
// Any error reply (rc != OK) or lost connection is counted: "errors" in the measured interval (as
// rzk bench counts them), "errors_unmeasured" during warm-up and drain; "first_error" is the
// first of either. Exit status: 0 when ops > 0 and no error at all, 1 otherwise (the JSON line is
// still printed when the run got that far), 2 for bad arguments.

import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Version;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.Stat;

public final class ZkJavaBench {
    static final int WARMUP = 0;
    static final int MEASURE = 1;
    static final int STOP = 2;

    /** Longest latency kept exactly, as rzk bench (60 s); longer ones count as this. */
    static final long LATENCY_US_MAX = 60_000_000L;
    static final long CONNECT_TIMEOUT_MS = 30_000;
    /** How long requests in flight at the stop (or key creation) may take. */
    static final long DRAIN_TIMEOUT_MS = 30_000;
    static final int ERROR_TEXT_MAX = 200;

    /** The phase every request is sent in and every reply is judged by. */
    static volatile int phase = WARMUP;

    // ---- options ----
    static String server = "127.0.0.1:2181";
    static String workload;
    static int sessions = 8;
    static int outstanding = 16;
    static double durationS = 10;
    static double warmupS = 1;
    static int valueBytes = 100;
    static int readPercent = 90;
    static int keys = 1000;
    static String prefix = "/rzk-bench";
    static int sessionTimeoutMs = 30_000;
    /** The value of zookeeper.clientCnxnSocket, from --socket. */
    static String cnxnSocket = "org.apache.zookeeper.ClientCnxnSocketNIO";
    static Long serverPid;
    static String label;
    /** Requests per second over all sessions (open loop); 0: closed loop. */
    static int rate;
    /** Where the open loop's schedules start (System.nanoTime). */
    static long scheduleStart;

    public static void main(String[] args) {
        try {
            parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ZkJavaBench: " + e.getMessage() + " (see --help)");
            System.exit(2);
        }
        int code;
        try {
            code = run();
        } catch (Exception e) {
            System.err.println("ZkJavaBench: " + e);
            code = 1;
        }
        System.out.flush();
        // The client's threads need not end by themselves.
        System.exit(code);
    }

    static void usage() {
        System.out.println("usage: ZkJavaBench [--server HOST:PORT] [--sessions N] [--outstanding K]"
                + " [--duration S] [--warmup S] [--value-bytes B] [--read-percent P] [--keys N]"
                + " [--prefix PATH] [--session-timeout-ms MS] [--socket nio|netty] [--server-pid PID]"
                + " [--label TEXT] [--json] create|set|get|mixed");
    }

    static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    usage();
                    System.exit(0);
                }
                case "--json" -> { }
                case "create", "set", "get", "mixed" -> {
                    if (workload != null) {
                        throw new IllegalArgumentException("two workloads: " + workload + " and " + a);
                    }
                    workload = a;
                }
                default -> {
                    if (!a.startsWith("--") || i + 1 >= args.length) {
                        throw new IllegalArgumentException("unknown argument or missing value: " + a);
                    }
                    String v = args[++i];
                    switch (a) {
                        case "--server" -> server = v;
                        case "--sessions" -> sessions = intIn(a, v, 1, 100_000);
                        case "--outstanding" -> outstanding = intIn(a, v, 1, 1_000);
                        case "--duration" -> durationS = seconds(a, v, false);
                        case "--warmup" -> warmupS = seconds(a, v, true);
                        case "--value-bytes" -> valueBytes = intIn(a, v, 0, 1_000_000);
                        case "--read-percent" -> readPercent = intIn(a, v, 0, 100);
                        case "--keys" -> keys = intIn(a, v, 1, 10_000_000);
                        case "--prefix" -> prefix = v;
                        case "--session-timeout-ms" -> sessionTimeoutMs = intIn(a, v, 1, Integer.MAX_VALUE);
                        case "--server-pid" -> serverPid = (long) intIn(a, v, 1, Integer.MAX_VALUE);
                        case "--label" -> label = v;
                        case "--rate" -> rate = intIn(a, v, 1, 10_000_000);
                        case "--socket" -> cnxnSocket = switch (v) {
                            case "nio" -> "org.apache.zookeeper.ClientCnxnSocketNIO";
                            case "netty" -> "org.apache.zookeeper.ClientCnxnSocketNetty";
                            default -> throw new IllegalArgumentException("--socket takes nio or netty (got " + v + ")");
                        };
                        default -> throw new IllegalArgumentException("unknown option " + a);
                    }
                }
            }
        }
        if (workload == null) {
            throw new IllegalArgumentException("no workload (create, set, get or mixed)");
        }
        if (!prefix.startsWith("/") || prefix.length() < 2 || prefix.endsWith("/") || prefix.contains("//")) {
            throw new IllegalArgumentException("--prefix " + prefix + " is not a path like /rzk-bench");
        }
    }

    static int intIn(String name, String v, int lo, int hi) {
        long x;
        try {
            x = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes an integer (got " + v + ")");
        }
        if (x < lo || x > hi) {
            throw new IllegalArgumentException(name + " must be in " + lo + "..=" + hi + " (got " + v + ")");
        }
        return (int) x;
    }

    static double seconds(String name, String v, boolean zeroOk) {
        double s;
        try {
            s = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes seconds (got " + v + ")");
        }
        boolean ok = Double.isFinite(s) && s <= 86_400 && (s > 0 || (zeroOk && s == 0));
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + (zeroOk ? "0" : "above 0")
                    + " and at most 86400 seconds (got " + v + ")");
        }
        return s;
    }

    // ---- the run ----

    static int run() throws Exception {
        String parent = prefix + "/" + workload + "-" + System.currentTimeMillis() + "-"
                + ProcessHandle.current().pid();
        byte[] value = value(valueBytes);

        ZooKeeper setup = connect();
        try {
            ensurePath(setup, parent);
        } finally {
            setup.close();
        }

        List<Session> all = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) {
                all.add(new Session(i, connect(), parent, value));
            }
            if (!workload.equals("create")) {
                makeKeys(all, parent, value);
            }
            return measure(all, parent);
        } finally {
            for (Session s : all) {
                s.zk.close();
            }
        }
    }

    static int measure(List<Session> all, String parent) throws Exception {
        List<Thread> drivers = new ArrayList<>();
        phase = warmupS > 0 ? WARMUP : MEASURE;
        scheduleStart = System.nanoTime();
        for (Session s : all) {
            if (rate > 0) {
                Thread t = new Thread(s::drivePaced, "driver-" + s.index);
                t.setDaemon(true);
                drivers.add(t);
                t.start();
            } else {
                s.startClosedLoop();
            }
        }
        if (warmupS > 0) {
            sleepSeconds(warmupS);
        }
        long client0 = clientCpuNanos();
        Double server0 = serverPid == null ? null : serverCpuS(serverPid);
        long t0 = System.nanoTime();
        phase = MEASURE;
        sleepSeconds(durationS);
        phase = STOP;
        long t1 = System.nanoTime();
        long client1 = clientCpuNanos();
        Double server1 = serverPid == null ? null : serverCpuS(serverPid);

        // Drain: the drivers end at their next slot, the callbacks stop sending; every slot comes
        // back once its reply did.
        boolean drained = true;
        for (Thread t : drivers) {
            t.join(DRAIN_TIMEOUT_MS);
        }
        for (Session s : all) {
            drained &= s.slots.tryAcquire(outstanding, DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }

        Histogram h = new Histogram();
        Histogram lag = new Histogram();
        long ops = 0, errors = 0, unmeasured = 0;
        String firstError = null;
        for (Session s : all) {
            h.add(s.hist);
            lag.add(s.lag);
            ops += s.ops;
            errors += s.errors;
            unmeasured += s.errorsUnmeasured;
            if (firstError == null) {
                firstError = s.firstError;
            }
        }
        if (!drained) {
            unmeasured++;
            if (firstError == null) {
                firstError = "requests still in flight " + DRAIN_TIMEOUT_MS + " ms after the stop";
            }
        }
        double elapsed = (t1 - t0) / 1e9;
        Long rss = serverPid == null ? null : serverRssKb(serverPid);

        Json j = new Json();
        j.str("tool", "zk-java-bench").num("schema", 1).str("client", "java")
                .str("client_version", Version.getFullVersion())
                .str("client_socket", cnxnSocket.substring(cnxnSocket.lastIndexOf('.') + 1))
                .str("workload", workload).str("label", label).str("server", server)
                .num("sessions", sessions).num("outstanding", outstanding).raw("rate_ops_per_s", rate > 0 ? Integer.toString(rate) : "null")
                .num("value_bytes", valueBytes)
                .raw("read_percent", workload.equals("mixed") ? Integer.toString(readPercent) : "null")
                .raw("keys", workload.equals("create") ? "null" : Integer.toString(keys))
                .raw("watchers", "null").raw("rounds", "null").raw("count", "null").raw("nodes", "null")
                .num("warmup_s", warmupS).num("duration_s", round(elapsed, 3))
                .num("ops", ops).num("errors", errors).num("errors_unmeasured", unmeasured)
                .num("ops_per_s", round(elapsed > 0 ? ops / elapsed : 0, 1))
                .raw("latency_us", h.json()).raw("send_lag_us", rate > 0 ? lag.json() : "null")
                .raw("fanout_ms", "null")
                .num("wall_s", round(elapsed, 3))
                .num("client_cpu_s", round((client1 - client0) / 1e9, 2))
                .raw("server_pid", serverPid == null ? "null" : serverPid.toString())
                .raw("server_cpu_s", server0 == null || server1 == null ? "null"
                        : new Json.Num(round(server1 - server0, 2)).toString())
                .raw("server_rss_before_kb", "null")
                .raw("server_rss_kb", rss == null ? "null" : rss.toString())
                .str("first_error", firstError).str("parent", parent);
        System.out.println(j.end());

        if (errors + unmeasured > 0) {
            System.err.println("ZkJavaBench: " + errors + " errors measured, " + unmeasured
                    + " outside the measured interval; first: " + firstError);
            return 1;
        }
        if (ops == 0) {
            System.err.println("ZkJavaBench: no operation succeeded");
            return 1;
        }
        return 0;
    }

    /** The key nodes n0000000000.. of set/get/mixed, pipelined over every session. */
    static void makeKeys(List<Session> all, String parent, byte[] value) throws Exception {
        AtomicReference<String> failed = new AtomicReference<>();
        for (int i = 0; i < keys; i++) {
            Session s = all.get(i % all.size());
            s.slots.acquire();
            String path = keyPath(parent, i);
            s.zk.create(path, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, p, ctx, name) -> {
                        if (rc != KeeperException.Code.OK.intValue()) {
                            failed.compareAndSet(null, errorText(rc, p));
                        }
                        s.slots.release();
                    }, null);
        }
        for (Session s : all) {
            if (!s.slots.tryAcquire(outstanding, DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new Exception("creating " + keys + " key nodes under " + parent + ": no reply");
            }
            s.slots.release(outstanding);
        }
        if (failed.get() != null) {
            throw new Exception("creating " + keys + " key nodes under " + parent + ": " + failed.get());
        }
    }

    static String keyPath(String parent, long i) {
        return String.format("%s/n%010d", parent, i);
    }

    /** Creates every missing node of `path` (empty, open ACL); existing ones are fine. */
    static void ensurePath(ZooKeeper zk, String path) throws Exception {
        for (int i = 1; i <= path.length(); i++) {
            if (i == path.length() || path.charAt(i) == '/') {
                String p = path.substring(0, i);
                try {
                    zk.create(p, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                } catch (KeeperException.NodeExistsException e) {
                    // made by an earlier run
                }
            }
        }
    }

    /** A session, connected (SyncConnected) within CONNECT_TIMEOUT_MS. */
    static ZooKeeper connect() throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        Watcher w = ev -> {
            if (ev.getType() == Watcher.Event.EventType.None
                    && ev.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        };
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, cnxnSocket);
        ZooKeeper zk = new ZooKeeper(server, sessionTimeoutMs, w, config);
        if (!up.await(CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
            zk.close();
            throw new Exception("no session with " + server + " after " + CONNECT_TIMEOUT_MS + " ms");
        }
        return zk;
    }

    /** Printable bytes 'a'..'z' repeated, as rzk bench writes. */
    static byte[] value(int n) {
        byte[] v = new byte[n];
        for (int i = 0; i < n; i++) {
            v[i] = (byte) ('a' + i % 26);
        }
        return v;
    }

    static String errorText(int rc, String path) {
        String s = KeeperException.create(KeeperException.Code.get(rc), path).getMessage();
        return s.length() > ERROR_TEXT_MAX ? s.substring(0, ERROR_TEXT_MAX) : s;
    }

    static void sleepSeconds(double s) throws InterruptedException {
        long end = System.nanoTime() + (long) (s * 1e9);
        long left;
        while ((left = end - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    static double round(double x, int places) {
        double f = Math.pow(10, places);
        return Math.round(x * f) / f;
    }

    // ---- CPU and memory (Linux /proc; USER_HZ = 100, as rzk bench assumes) ----

    /** CPU time of this JVM, every thread (the client's, JIT and GC). */
    static long clientCpuNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return 0;
    }

    static Double serverCpuS(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.UTF_8);
            // Fields after the command name, which is in parentheses and may hold spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (Exception e) {
            return null;
        }
    }

    static Long serverRssKb(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.UTF_8)) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (Exception e) {
            // not Linux, or the process is gone
        }
        return null;
    }

    // ---- one session ----

    /** What a request's callback needs: when it was sent, and whether it was measured. */
    record Sent(long nanos, boolean measured) { }

    static final class Session implements AsyncCallback.StringCallback, AsyncCallback.StatCallback,
            AsyncCallback.DataCallback {
        final int index;
        final ZooKeeper zk;
        final String parent;
        final byte[] value;
        final Semaphore slots = new Semaphore(outstanding);
        final SplittableRandom rng;
        // Written only by this session's event thread (the callbacks); read after the drain,
        // ordered by the semaphore's release/acquire.
        final Histogram hist = new Histogram();
        /** Open loop: how late measured requests left (the driver thread's; read after its join). */
        final Histogram lag = new Histogram();
        long ops;
        long errors;
        long errorsUnmeasured;
        String firstError;
        /** Requests sent; with the random keys, touched only in the synchronized {@link #send}. */
        long seq;

        Session(int index, ZooKeeper zk, String parent, byte[] value) {
            this.index = index;
            this.zk = zk;
            this.parent = parent;
            this.value = value;
            this.rng = new SplittableRandom(0x5EED_0000L + index);
        }

        /**
         * Closed loop: takes every slot and sends K requests; each reply's callback then sends
         * the next one in its slot until the stop ({@link #done}).
         */
        void startClosedLoop() {
            slots.acquireUninterruptibly(outstanding);
            for (int i = 0; i < outstanding; i++) {
                send(new Sent(System.nanoTime(), phase == MEASURE));
            }
        }

        /**
         * Open loop: this session's share of --rate on a fixed schedule, offset by its index among
         * the sessions. A request is stamped with its scheduled time, so time spent waiting for a
         * free slot (a slow server) is part of its latency.
         */
        void drivePaced() {
            long period = Math.round(sessions * 1e9 / rate);
            long next = scheduleStart + period * index / sessions;
            while (true) {
                for (long wait = next - System.nanoTime(); wait > 0; wait = next - System.nanoTime()) {
                    LockSupport.parkNanos(wait);
                }
                slots.acquireUninterruptibly();
                int ph = phase;
                if (ph == STOP) {
                    slots.release();
                    return;
                }
                if (ph == MEASURE) {
                    lag.record((System.nanoTime() - next) / 1000);
                }
                send(new Sent(next, ph == MEASURE));
                next += period;
            }
        }

        /** Synchronized: the first K of a closed loop leave from the main thread, the rest from
         *  the event thread (uncontended after the start). */
        synchronized void send(Sent ctx) {
            seq++;
            switch (workload) {
                case "create" -> zk.create(parent + "/s" + index + "-w0-" + seq, value,
                        ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, this, ctx);
                case "set" -> zk.setData(key(), value, -1, this, ctx);
                case "get" -> zk.getData(key(), false, this, ctx);
                default -> {
                    boolean read = rng.nextInt(100) < readPercent;
                    if (read) {
                        zk.getData(key(), false, this, ctx);
                    } else {
                        zk.setData(key(), value, -1, this, ctx);
                    }
                }
            }
        }

        String key() {
            return keyPath(parent, rng.nextInt(keys));
        }

        @Override
        public void processResult(int rc, String path, Object ctx, String name) {
            done(rc, path, (Sent) ctx);
        }

        @Override
        public void processResult(int rc, String path, Object ctx, Stat stat) {
            done(rc, path, (Sent) ctx);
        }

        @Override
        public void processResult(int rc, String path, Object ctx, byte[] data, Stat stat) {
            done(rc, path, (Sent) ctx);
        }

        private void done(int rc, String path, Sent sent) {
            long now = System.nanoTime();
            boolean counts = sent.measured() && phase == MEASURE;
            if (rc == KeeperException.Code.OK.intValue()) {
                if (counts) {
                    ops++;
                    hist.record((now - sent.nanos()) / 1000);
                }
            } else {
                if (counts) {
                    errors++;
                } else {
                    errorsUnmeasured++;
                }
                if (firstError == null) {
                    firstError = errorText(rc, path);
                }
            }
            int ph = phase;
            if (rate == 0 && ph != STOP) {
                send(new Sent(System.nanoTime(), ph == MEASURE));
            } else {
                slots.release();
            }
        }
    }

    // ---- latency histogram ----

    /**
     * Microseconds in fixed buckets: exact below 2048, above that 1024 buckets per power of two
     * (under 0.1 % apart), up to LATENCY_US_MAX. A percentile is the highest value of its bucket.
     */
    static final class Histogram {
        static final int SUB_BITS = 10;
        static final int EXACT = 1 << (SUB_BITS + 1);
        static final int BUCKETS = index(LATENCY_US_MAX) + 1;

        final long[] counts = new long[BUCKETS];
        long total;
        long sum;
        long min = Long.MAX_VALUE;
        long max;

        static int index(long us) {
            if (us < EXACT) {
                return (int) us;
            }
            int e = 63 - Long.numberOfLeadingZeros(us);
            long sub = us >>> (e - SUB_BITS);
            return EXACT + (e - SUB_BITS - 1) * (1 << SUB_BITS) + (int) (sub - (1 << SUB_BITS));
        }

        static long highest(int i) {
            if (i < EXACT) {
                return i;
            }
            int k = i - EXACT;
            int e = SUB_BITS + 1 + k / (1 << SUB_BITS);
            long sub = (1 << SUB_BITS) + k % (1 << SUB_BITS);
            int shift = e - SUB_BITS;
            return ((sub + 1) << shift) - 1;
        }

        void record(long us) {
            us = Math.max(1, Math.min(us, LATENCY_US_MAX));
            counts[index(us)]++;
            total++;
            sum += us;
            min = Math.min(min, us);
            max = Math.max(max, us);
        }

        void add(Histogram o) {
            for (int i = 0; i < BUCKETS; i++) {
                counts[i] += o.counts[i];
            }
            total += o.total;
            sum += o.sum;
            min = Math.min(min, o.min);
            max = Math.max(max, o.max);
        }

        long quantile(double q) {
            long rank = Math.max(1, (long) Math.ceil(q * total));
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    return Math.min(highest(i), max);
                }
            }
            return max;
        }

        String json() {
            if (total == 0) {
                return "null";
            }
            return new Json().num("min", min).num("mean", round((double) sum / total, 1))
                    .num("p50", quantile(0.50)).num("p90", quantile(0.90)).num("p99", quantile(0.99))
                    .num("p999", quantile(0.999)).num("max", max).end();
        }
    }

    // ---- a JSON object on one line ----

    static final class Json {
        private final StringBuilder b = new StringBuilder("{");

        record Num(double x) {
            @Override
            public String toString() {
                return BigDecimal.valueOf(x).toPlainString();
            }
        }

        Json raw(String k, String v) {
            if (b.length() > 1) {
                b.append(',');
            }
            quote(k);
            b.append(':').append(v);
            return this;
        }

        Json num(String k, long v) {
            return raw(k, Long.toString(v));
        }

        Json num(String k, double v) {
            return raw(k, new Num(v).toString());
        }

        Json str(String k, String v) {
            raw(k, "");
            if (v == null) {
                b.append("null");
            } else {
                quote(v);
            }
            return this;
        }

        private void quote(String s) {
            b.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            b.append('"');
        }

        String end() {
            return b.append('}').toString();
        }
    }
}
