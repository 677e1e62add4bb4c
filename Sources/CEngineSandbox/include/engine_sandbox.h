/*
 * The kernel's confinement primitives for engine processes, in C because two of them must run
 * where Swift cannot: between clone and exec in the server (only async-signal-safe calls), and
 * in the engine host before its first thread exists (Landlock applies to the calling thread and
 * what it starts afterwards). The policy (which paths, which ports, which user) is decided in
 * Swift; these functions only apply it and say what the kernel accepted.
 */
#ifndef SWITCHBOARD_ENGINE_SANDBOX_H
#define SWITCHBOARD_ENGINE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Namespaces a child is started in (sbx_spawn's `namespaces`). */
#define SBX_NS_PID 0x01
#define SBX_NS_MOUNT 0x02
#define SBX_NS_IPC 0x04
#define SBX_NS_UTS 0x08
#define SBX_NS_NET 0x10
/* Needed for the others when the server is not root: the child maps its own user. */
#define SBX_NS_USER 0x20

typedef struct sbx_spawn_request {
    const char *executable;
    char *const *argv;
    char *const *envp; /* the whole environment: nothing is inherited */
    int wire_fd;       /* becomes descriptor 3 (-1 for none) */
    int output_fd;     /* becomes descriptors 1 and 2 */
    int namespaces;    /* SBX_NS_* */
} sbx_spawn_request;

/*
 * Starts the child with clone3: in the namespaces asked for, with descriptors 0 (/dev/null),
 * 1 and 2 (output_fd) and 3 (wire_fd) open and every other one closed, default signal
 * dispositions, no blocked signal, and SIGKILL when the server's thread that started it ends.
 * On success stores the pid and a pidfd (readable once the child has exited) and returns 0;
 * on failure returns an errno value. `stage` then names the step that failed.
 */
int sbx_spawn(const sbx_spawn_request *request, pid_t *pid, int *pidfd, const char **stage);

/*
 * Called first thing by the engine host. In a PID namespace of its own (it is PID 1), it forks:
 * the child returns 1 and goes on as the engine host (PID 2); the parent stays behind as the
 * namespace's init, with no descriptor open, reaping every process, and exits once the engine
 * host has ended: with its exit status, or 128 + the signal that killed it (PID 1 could not die
 * of that signal itself: the kernel ignores a namespace init's own default-action signals,
 * which would turn a plugin's abort() into a hang or another signal). When the init exits, the
 * kernel kills whatever else the plugin started. Outside a PID namespace, returns 0 at once.
 */
int sbx_become_init(void);

/* What the kernel offers: Landlock's ABI version (0 when absent); whether seccomp filters work. */
int sbx_landlock_abi(void);
int sbx_seccomp_available(void);

/* pipe2 with O_CLOEXEC, and a folder opened O_PATH (neither is visible to Swift through Glibc). */
int sbx_pipe(int ends[2]);
int sbx_open_folder(const char *path);

/* The layers sbx_confine applies (sbx_report.applied). */
#define SBX_LAYER_PROC 0x001         /* a /proc of the engine's own PID namespace */
#define SBX_LAYER_LIMITS 0x002       /* open files, processes, file size, no core dumps */
#define SBX_LAYER_USER 0x004         /* an unprivileged user and group */
#define SBX_LAYER_CAPABILITIES 0x008 /* every capability dropped, bounding set included */
#define SBX_LAYER_NO_NEW_PRIVS 0x010
#define SBX_LAYER_LANDLOCK_FS 0x020
#define SBX_LAYER_LANDLOCK_NET 0x040   /* TCP connect and bind only to granted ports */
#define SBX_LAYER_LANDLOCK_SCOPE 0x080 /* no signals or abstract sockets outside the domain */
#define SBX_LAYER_SECCOMP 0x100

typedef struct sbx_policy {
    const char *const *read_paths;  /* read-only, each path and what is beneath it */
    size_t read_count;
    const char *const *write_paths; /* read-write */
    size_t write_count;
    const uint16_t *tcp_ports;      /* connect allowed (Landlock ABI 4+) */
    size_t tcp_port_count;
    int restrict_network;  /* 1: TCP only to tcp_ports (0 when the process has no network at all) */
    int allow_exec;        /* 0: execve is refused by seccomp, and no path is executable */
    int mount_proc;        /* 1: mount a /proc of this PID namespace (needs a mount namespace) */
    uid_t uid;             /* switched to when running as root; (uid_t)-1 to stay */
    gid_t gid;
    uint64_t open_files, processes, file_size; /* 0: leave as is */
} sbx_policy;

typedef struct sbx_report {
    int applied;        /* SBX_LAYER_* */
    int landlock_abi;
    char failure[512];  /* the first layer that could not be applied, and why; "" when none */
} sbx_report;

/*
 * Confines the calling process, which must not have started a thread yet: limits, /proc,
 * capabilities, user, no_new_privs, Landlock, then seccomp (last, since it forbids what the
 * steps before it use). Best effort: a layer that fails is reported and the next one is still
 * applied. Returns 0 when every layer asked for was applied.
 */
int sbx_confine(const sbx_policy *policy, sbx_report *report);

#endif
