// Apache's Java client with SASL DIGEST-MD5 against one server. Run from source:
//   java -Djava.security.auth.login.config=client.jaas -cp /usr/share/java/zookeeper.jar \
//       JavaSasl.java 127.0.0.1:PORT MODE
// The JAAS file's `Client` section names the user (DigestLoginModule username/password). MODE:
//   owner   - logs in (user1), creates /sasl-j with the ACL sasl:user1:cdrwa, reads it back
//   other   - logs in (user2): reading /sasl-j is refused
//   failed  - the login fails: prints the states the client went through, then a request's error
//   cleanup - logs in (user1) and deletes /sasl-j
// Prints one line per result; tests/compat/sasl.rs compares them between ZooKeeper and rzk.
// Every wait is bounded (no sleeps).

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class JavaSasl {
    static final long STEP_TIMEOUT_S = 30;

    public static void main(String[] args) throws Exception {
        String addr = args[0];
        String mode = args[1];
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        ZooKeeper zk = new ZooKeeper(addr, 30000, e -> {
            if (e.getPath() == null) {
                states.add(e.getState());
            }
        });
        // SyncConnected comes first; then SaslAuthenticated or AuthFailed ends the login.
        List<String> seen = new ArrayList<>();
        while (true) {
            KeeperState s = states.poll(STEP_TIMEOUT_S, TimeUnit.SECONDS);
            if (s == null) {
                throw new IllegalStateException("no login outcome after " + STEP_TIMEOUT_S + " s; states " + seen);
            }
            seen.add(s.toString());
            if (s == KeeperState.SaslAuthenticated || s == KeeperState.AuthFailed) {
                break;
            }
        }
        System.out.println("states: " + seen);
        switch (mode) {
            case "owner": {
                List<ACL> acl = Collections.singletonList(new ACL(Perms.ALL, new Id("sasl", "user1")));
                System.out.println("create: " + zk.create("/sasl-j", "j".getBytes(), acl, CreateMode.PERSISTENT));
                Stat stat = new Stat();
                System.out.println("getACL: " + describe(zk.getACL("/sasl-j", stat)));
                System.out.println("getData: " + new String(zk.getData("/sasl-j", false, null)));
                System.out.println("whoami: " + whoami(zk));
                break;
            }
            case "other":
                System.out.println("getData: " + outcome(() -> new String(zk.getData("/sasl-j", false, null))));
                System.out.println("whoami: " + whoami(zk));
                break;
            case "failed":
                System.out.println("exists: " + outcome(() -> String.valueOf(zk.exists("/", false) != null)));
                break;
            case "cleanup":
                zk.delete("/sasl-j", -1);
                System.out.println("deleted");
                break;
            default:
                throw new IllegalArgumentException(mode);
        }
        zk.close();
    }

    interface Call {
        String run() throws Exception;
    }

    static String outcome(Call c) {
        try {
            return "ok " + c.run();
        } catch (KeeperException e) {
            return "error " + e.code();
        } catch (Exception e) {
            return "error " + e.getClass().getSimpleName();
        }
    }

    static String describe(List<ACL> acl) {
        List<String> out = new ArrayList<>();
        for (ACL a : acl) {
            out.add(a.getPerms() + " " + a.getId().getScheme() + ":" + a.getId().getId());
        }
        return out.toString();
    }

    /** whoAmI without the connection's ip entry (its port-free address is the same anyway). */
    static String whoami(ZooKeeper zk) throws Exception {
        List<String> out = new ArrayList<>();
        for (org.apache.zookeeper.data.ClientInfo i : zk.whoAmI()) {
            out.add(i.getAuthScheme() + ":" + i.getUser());
        }
        Collections.sort(out);
        return out.toString();
    }
}
