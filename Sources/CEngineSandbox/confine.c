/* Confining the engine host before any plugin code is mapped into it. */
#define _GNU_SOURCE
#include "engine_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Landlock's ABI, declared here: Debian 12's kernel headers stop at ABI 3, and these are stable
   kernel ABI (Documentation/userspace-api/landlock.rst). */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

/* Rights that apply to a file (the others only to folders). */
#define LL_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define LL_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_WRITE (LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR | LL_FS_MAKE_REG | \
                  LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM | LL_FS_REFER | LL_FS_TRUNCATE)

int sbx_landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

int sbx_seccomp_available(void) {
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

int sbx_pipe(int ends[2]) {
    return pipe2(ends, O_CLOEXEC);
}

int sbx_open_folder(const char *path) {
    return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Keeps the first failure only: it is the one that explains the rest. */
static void failed(sbx_report *report, const char *format, ...) {
    if (report->failure[0]) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(report->failure, sizeof report->failure, format, arguments);
    va_end(arguments);
}

static void apply_limit(int resource, uint64_t value, const char *name, int *ok, sbx_report *report) {
    struct rlimit limit = {(rlim_t)value, (rlim_t)value};
    if (setrlimit(resource, &limit) < 0) {
        *ok = 0;
        failed(report, "limits: %s: %s", name, strerror(errno));
    }
}

static void apply_limits(const sbx_policy *policy, sbx_report *report) {
    int ok = 1;
    apply_limit(RLIMIT_CORE, 0, "core dumps", &ok, report);
    if (policy->open_files) apply_limit(RLIMIT_NOFILE, policy->open_files, "open files", &ok, report);
    if (policy->processes) apply_limit(RLIMIT_NPROC, policy->processes, "processes", &ok, report);
    if (policy->file_size) apply_limit(RLIMIT_FSIZE, policy->file_size, "file size", &ok, report);
    if (ok) report->applied |= SBX_LAYER_LIMITS;
}

/* A /proc that shows this PID namespace only, so no other process's files are even named. */
static void mount_proc(sbx_report *report) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        failed(report, "proc: making mounts private: %s", strerror(errno));
        return;
    }
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        failed(report, "proc: mounting this namespace's /proc: %s", strerror(errno));
        return;
    }
    report->applied |= SBX_LAYER_PROC;
}

/* The bounding set, while still root (it needs CAP_SETPCAP): no later exec can regain one. */
static int drop_bounding_set(sbx_report *report) {
    int last = CAP_LAST_CAP;
    FILE *file = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (file) {
        if (fscanf(file, "%d", &last) != 1) last = CAP_LAST_CAP;
        fclose(file);
    }
    for (int capability = 0; capability <= last; capability++) {
        if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) < 0 && errno != EINVAL) {
            failed(report, "capabilities: bounding set: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Whatever the user switch left: effective, permitted, inheritable and ambient. */
static void clear_capabilities(int bounding_dropped, sbx_report *report) {
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) < 0) {
        failed(report, "capabilities: %s", strerror(errno));
        return;
    }
    if (bounding_dropped) report->applied |= SBX_LAYER_CAPABILITIES;
}

static void switch_user(const sbx_policy *policy, sbx_report *report) {
    if (geteuid() != 0 || policy->uid == (uid_t)-1) {
        /* Already unprivileged (or in a user namespace mapped to the server's own user). */
        if (geteuid() != 0) report->applied |= SBX_LAYER_USER;
        return;
    }
    if (setgroups(0, NULL) < 0 || setresgid(policy->gid, policy->gid, policy->gid) < 0 ||
        setresuid(policy->uid, policy->uid, policy->uid) < 0) {
        failed(report, "user: switching to uid %u gid %u: %s", (unsigned)policy->uid, (unsigned)policy->gid, strerror(errno));
        return;
    }
    report->applied |= SBX_LAYER_USER;
}

/* Opens each path for a Landlock rule. Done before the user switch, so a path only root can
   reach (a plugin in a private folder) still gets its rule; a path that does not exist is
   skipped, since nothing beneath it can be reached either. */
static int add_path_rules(int ruleset, const char *const *paths, size_t count, uint64_t rights, uint64_t handled, sbx_report *report) {
    for (size_t index = 0; index < count; index++) {
        int fd = open(paths[index], O_PATH | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat info;
        uint64_t allowed = rights & handled;
        if (fstat(fd, &info) == 0 && !S_ISDIR(info.st_mode)) allowed &= LL_FILE_RIGHTS;
        struct ll_path_beneath_attr rule = {allowed, fd};
        int result = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
        int error = errno;
        close(fd);
        if (result < 0) {
            failed(report, "landlock: rule for %s: %s", paths[index], strerror(error));
            return -1;
        }
    }
    return 0;
}

/* Builds the Landlock ruleset (before the user switch, see add_path_rules); restricted later. */
static int landlock_ruleset(const sbx_policy *policy, sbx_report *report) {
    int abi = report->landlock_abi;
    if (abi < 1) {
        failed(report, "landlock: not offered by this kernel");
        return -1;
    }
    uint64_t fs = LL_FS_EXECUTE | LL_READ | LL_WRITE | LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK;
    if (abi < 2) fs &= ~LL_FS_REFER;
    if (abi < 3) fs &= ~LL_FS_TRUNCATE;
    if (abi >= 5) fs |= LL_FS_IOCTL_DEV;
    struct ll_ruleset_attr attr = {fs, 0, 0};
    size_t size = sizeof(uint64_t);
    if (abi >= 4 && policy->restrict_network) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        size = sizeof attr;
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        failed(report, "landlock: creating the ruleset: %s", strerror(errno));
        return -1;
    }
    uint64_t read = LL_READ | (policy->allow_exec ? LL_FS_EXECUTE : 0);
    if (add_path_rules(ruleset, policy->read_paths, policy->read_count, read, fs, report) < 0 ||
        add_path_rules(ruleset, policy->write_paths, policy->write_count, read | LL_WRITE, fs, report) < 0) {
        close(ruleset);
        return -1;
    }
    for (size_t index = 0; attr.handled_access_net && index < policy->tcp_port_count; index++) {
        struct ll_net_port_attr rule = {LL_NET_CONNECT_TCP, policy->tcp_ports[index]};
        if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) < 0) {
            failed(report, "landlock: rule for TCP port %u: %s", policy->tcp_ports[index], strerror(errno));
            close(ruleset);
            return -1;
        }
    }
    return ruleset;
}

static void landlock_restrict(int ruleset, const sbx_policy *policy, sbx_report *report) {
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
        failed(report, "landlock: restricting: %s", strerror(errno));
    } else {
        report->applied |= SBX_LAYER_LANDLOCK_FS;
        if (report->landlock_abi >= 4 && policy->restrict_network) report->applied |= SBX_LAYER_LANDLOCK_NET;
        if (report->landlock_abi >= 6) report->applied |= SBX_LAYER_LANDLOCK_SCOPE;
    }
    close(ruleset);
}

/* Calls no engine needs and that would reach beyond the engine's own process. */
static const char *const refused_calls[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "unshare", "setns", "pivot_root",
    "chroot", "bpf", "perf_event_open", "add_key", "request_key", "keyctl", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl",
    "open_by_handle_at", "name_to_handle_at", "fsopen", "fsmount", "fspick", "fsconfig", "move_mount",
    "open_tree", "mount_setattr", "userfaultfd", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
    "syslog", "vhangup", "iopl", "ioperm", "personality", "lookup_dcookie",
};

static void apply_seccomp(const sbx_policy *policy, sbx_report *report) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (!filter) {
        failed(report, "seccomp: cannot make a filter");
        return;
    }
    int result = seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1);
    uint32_t refuse = SCMP_ACT_ERRNO(EPERM);
    for (size_t index = 0; result == 0 && index < sizeof refused_calls / sizeof *refused_calls; index++) {
        int call = seccomp_syscall_resolve_name(refused_calls[index]);
        if (call != __NR_SCMP_ERROR) result = seccomp_rule_add(filter, refuse, call, 0);
    }
    if (!policy->allow_exec) {
        if (result == 0) result = seccomp_rule_add(filter, refuse, SCMP_SYS(execve), 0);
        if (result == 0) result = seccomp_rule_add(filter, refuse, SCMP_SYS(execveat), 0);
    }
    /* New namespaces through clone: each flag its own rule (rules on one call are or-ed). clone3
       passes its flags in memory a filter cannot read: it answers ENOSYS, and glibc falls back
       to clone. */
    const uint64_t namespaces[] = {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET};
    for (size_t index = 0; result == 0 && index < sizeof namespaces / sizeof *namespaces; index++) {
        result = seccomp_rule_add(filter, refuse, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, namespaces[index], namespaces[index]));
    }
    if (result == 0) result = seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* No new Unix socket: connecting to one by path (a database's, a system daemon's) is not
       something Landlock restricts. socketpair stays allowed: it reaches no one. */
    if (result == 0) result = seccomp_rule_add(filter, refuse, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    if (result == 0) result = seccomp_load(filter);
    seccomp_release(filter);
    if (result != 0) {
        failed(report, "seccomp: %s", strerror(-result));
        return;
    }
    report->applied |= SBX_LAYER_SECCOMP;
}

int sbx_confine(const sbx_policy *policy, sbx_report *report) {
    memset(report, 0, sizeof *report);
    report->landlock_abi = sbx_landlock_abi();
    apply_limits(policy, report);
    if (policy->mount_proc) mount_proc(report);
    int ruleset = landlock_ruleset(policy, report);
    int bounding_dropped = drop_bounding_set(report) == 0;
    switch_user(policy, report);
    clear_capabilities(bounding_dropped, report);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
        report->applied |= SBX_LAYER_NO_NEW_PRIVS;
    } else {
        failed(report, "no_new_privs: %s", strerror(errno));
    }
    if (ruleset >= 0) landlock_restrict(ruleset, policy, report);
    apply_seccomp(policy, report);
    return report->failure[0] ? -1 : 0;
}
