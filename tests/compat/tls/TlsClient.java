// The Java client over TLS, for tests/compat/tls.rs. Run with the client's TLS system
// properties (zookeeper.client.secure, zookeeper.clientCnxnSocket=...ClientCnxnSocketNetty,
// zookeeper.ssl.keyStore.*, zookeeper.ssl.trustStore.*). Arguments: host:port, then steps:
//   whoami               prints "whoami <scheme> <user>" for each of the session's ids
//   create <path> <acl>  acl is "auth" (the session's own ids), "open", or scheme:id (perms all)
//   get <path>           prints "get <path> <data>" or "get <path> <ERROR>"
//   getacl <path>        prints "acl <path> <scheme>:<id> <perms>" per entry
// Each result is one line on stdout; the program exits 0 once every step ran.
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class TlsClient {
    public static void main(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 10000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(30, TimeUnit.SECONDS)) {
            System.out.println("not connected");
            System.exit(2);
        }
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "whoami":
                    for (ClientInfo ci : zk.whoAmI()) {
                        System.out.println("whoami " + ci.getAuthScheme() + " " + ci.getUser());
                    }
                    break;
                case "create": {
                    String path = args[++i];
                    String acl = args[++i];
                    List<ACL> acls;
                    if (acl.equals("auth")) {
                        acls = ZooDefs.Ids.CREATOR_ALL_ACL;
                    } else if (acl.equals("open")) {
                        acls = ZooDefs.Ids.OPEN_ACL_UNSAFE;
                    } else {
                        int colon = acl.indexOf(':');
                        acls = Collections.singletonList(
                            new ACL(ZooDefs.Perms.ALL, new Id(acl.substring(0, colon), acl.substring(colon + 1))));
                    }
                    try {
                        zk.create(path, "data".getBytes(), acls, CreateMode.PERSISTENT);
                        System.out.println("create " + path + " ok");
                    } catch (KeeperException e) {
                        System.out.println("create " + path + " " + e.code());
                    }
                    break;
                }
                case "get": {
                    String path = args[++i];
                    try {
                        System.out.println("get " + path + " " + new String(zk.getData(path, false, null)));
                    } catch (KeeperException e) {
                        System.out.println("get " + path + " " + e.code());
                    }
                    break;
                }
                case "getacl": {
                    String path = args[++i];
                    for (ACL a : zk.getACL(path, new Stat())) {
                        System.out.println("acl " + path + " " + a.getId().getScheme() + ":" + a.getId().getId() + " " + a.getPerms());
                    }
                    break;
                }
                default:
                    throw new IllegalArgumentException(args[i]);
            }
        }
        zk.close();
    }
}
