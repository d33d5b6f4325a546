/*
 * The C client's multi and ACLs against one server (cli_mt has neither a multi command nor a way
 * to set an ACL). Built and run by tests/compat/clients/c_client.rs:
 *   cc c_multi.c -I/usr/include/zookeeper -lzookeeper_mt -o c_multi && ./c_multi 127.0.0.1:PORT
 * Prints one line per result; leaves /cmulti/acl (readable by alice:secret only) for the cli_mt
 * session that follows.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#define ALICE_DIGEST "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="

static void no_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh; (void)type; (void)state; (void)path; (void)ctx;
}

static void print_results(const char *what, int rc, int n, const zoo_op_result_t *results) {
    printf("%s: rc=%s\n", what, zerror(rc));
    for (int i = 0; i < n; i++) {
        printf("  result: %s\n", zerror(results[i].err));
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s host:port\n", argv[0]);
        return 2;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], no_watcher, 30000, 0, 0, 0);
    if (!zh) {
        perror("zookeeper_init");
        return 1;
    }
    /* Wait (at most 30 s) for the session. */
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; zoo_state(zh) != ZOO_CONNECTED_STATE; i++) {
        if (i == 3000) {
            fprintf(stderr, "not connected after 30 s\n");
            return 1;
        }
        nanosleep(&tick, 0);
    }

    zoo_op_t ops[4];
    zoo_op_result_t results[4];
    char created0[64], created1[64];
    struct Stat set_stat;
    zoo_create_op_init(&ops[0], "/cmulti", "d", 1, &ZOO_OPEN_ACL_UNSAFE, 0, created0, sizeof(created0));
    zoo_create_op_init(&ops[1], "/cmulti/a", "d", 1, &ZOO_OPEN_ACL_UNSAFE, 0, created1, sizeof(created1));
    zoo_set_op_init(&ops[2], "/cmulti/a", "v1", 2, 0, &set_stat);
    zoo_check_op_init(&ops[3], "/cmulti", 0);
    int rc = zoo_multi(zh, 4, ops, results);
    print_results("multi", rc, 4, results);
    if (rc == ZOK) {
        printf("  created %s %s, set version=%d\n", created0, created1, set_stat.version);
    }

    zoo_create_op_init(&ops[0], "/cmulti/b", "d", 1, &ZOO_OPEN_ACL_UNSAFE, 0, created0, sizeof(created0));
    zoo_delete_op_init(&ops[1], "/cmulti/missing", -1);
    zoo_set_op_init(&ops[2], "/cmulti/a", "v2", 2, 1, &set_stat);
    rc = zoo_multi(zh, 3, ops, results);
    print_results("failing multi", rc, 3, results);
    struct Stat st;
    printf("after failing multi: exists /cmulti/b: %s\n", zerror(zoo_exists(zh, "/cmulti/b", 0, &st)));

    zoo_check_op_init(&ops[0], "/cmulti", 5);
    zoo_delete_op_init(&ops[1], "/cmulti/a", -1);
    rc = zoo_multi(zh, 2, ops, results);
    print_results("failing check", rc, 2, results);

    /* A node only alice may use. */
    struct ACL alice_acl[] = {{ZOO_PERM_ALL, {"digest", ALICE_DIGEST}}};
    struct ACL_vector alice = {1, alice_acl};
    rc = zoo_create(zh, "/cmulti/acl", "secret", 6, &alice, 0, 0, 0);
    printf("create /cmulti/acl: %s\n", zerror(rc));
    char buf[64];
    int len = sizeof(buf);
    rc = zoo_get(zh, "/cmulti/acl", 0, buf, &len, &st);
    printf("get /cmulti/acl unauthenticated: %s\n", zerror(rc));
    zoo_add_auth(zh, "digest", "alice:secret", 12, 0, 0);
    len = sizeof(buf);
    rc = zoo_get(zh, "/cmulti/acl", 0, buf, &len, &st);
    printf("get /cmulti/acl as alice: %s %.*s\n", zerror(rc), rc == ZOK ? len : 0, buf);
    struct ACL_vector acl;
    rc = zoo_get_acl(zh, "/cmulti/acl", &acl, &st);
    for (int i = 0; rc == ZOK && i < acl.count; i++) {
        printf("acl: %s:%s perms=%d\n", acl.data[i].id.scheme, acl.data[i].id.id, acl.data[i].perms);
    }
    if (rc == ZOK) {
        deallocate_ACL_vector(&acl);
    }
    zookeeper_close(zh);
    return 0;
}
