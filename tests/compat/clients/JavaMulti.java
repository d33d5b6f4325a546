// The Java client's multi against one server (zkCli has no multi command). Run from source:
//   java -cp /usr/share/java/zookeeper.jar JavaMulti.java 127.0.0.1:PORT
// Prints one line per result; tests/compat/clients/zkcli.rs compares them.

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public class JavaMulti {
    public static void main(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 30000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected after 30 s");
        }
        byte[] d = "d".getBytes();
        List<OpResult> ok = zk.multi(Arrays.asList(
            Op.create("/jmulti", d, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.create("/jmulti/a", d, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.setData("/jmulti/a", "v1".getBytes(), 0),
            Op.check("/jmulti", 0)));
        for (OpResult r : ok) {
            if (r instanceof OpResult.CreateResult) {
                System.out.println("multi ok: create " + ((OpResult.CreateResult) r).getPath());
            } else if (r instanceof OpResult.SetDataResult) {
                System.out.println("multi ok: setData version=" + ((OpResult.SetDataResult) r).getStat().getVersion());
            } else if (r instanceof OpResult.CheckResult) {
                System.out.println("multi ok: check");
            } else {
                System.out.println("multi ok: unexpected " + r);
            }
        }
        failing(zk, Arrays.asList(
            Op.create("/jmulti/b", d, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.delete("/jmulti/missing", -1),
            Op.setData("/jmulti/a", "v2".getBytes(), 1)));
        System.out.println("after failed multi: /jmulti/b exists=" + (zk.exists("/jmulti/b", false) != null)
            + ", /jmulti/a version=" + zk.exists("/jmulti/a", false).getVersion());
        failing(zk, Arrays.asList(Op.check("/jmulti", 5), Op.delete("/jmulti/a", -1)));
        zk.close();
    }

    static void failing(ZooKeeper zk, List<Op> ops) throws InterruptedException {
        try {
            zk.multi(ops);
            System.out.println("multi succeeded unexpectedly");
        } catch (KeeperException e) {
            System.out.println("multi failed: " + e.code());
            for (OpResult r : e.getResults()) {
                int err = ((OpResult.ErrorResult) r).getErr();
                System.out.println("  result: " + KeeperException.Code.get(err));
            }
        }
    }
}
