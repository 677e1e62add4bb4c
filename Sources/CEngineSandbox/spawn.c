/* Starting an engine process in namespaces of its own, with nothing of the server's open. */
#define _GNU_SOURCE
#include "engine_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* Steps the child can fail at, sent to the parent on the error pipe. */
static const char *const stages[] = {
    "mapping the child's user", "setting its parent-death signal", "arranging its descriptors",
    "closing the server's descriptors", "resetting its signals", "starting the engine host",
};

/* Writes the whole of `text` to an already open file; async-signal-safe. */
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    close(fd);
    return written == (ssize_t)length ? 0 : -1;
}

/* Formats "0 <id> 1\n" without stdio, which is not async-signal-safe. */
static void id_map(char *out, unsigned long id) {
    char digits[24];
    int count = 0;
    do { digits[count++] = (char)('0' + id % 10); id /= 10; } while (id > 0);
    char *p = out;
    *p++ = '0'; *p++ = ' ';
    while (count > 0) *p++ = digits[--count];
    *p++ = ' '; *p++ = '1'; *p++ = '\n'; *p = 0;
}

/* The child, between clone3 and execve: only async-signal-safe calls. Never returns. */
static void become_engine(const sbx_spawn_request *request, int report, uid_t uid, gid_t gid) {
    int stage = 0;
    if (request->namespaces & SBX_NS_USER) {
        char map[48];
        id_map(map, uid);
        if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/uid_map", map) < 0) goto fail;
        id_map(map, gid);
        if (write_file("/proc/self/gid_map", map) < 0) goto fail;
    }
    stage = 1;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) goto fail;

    stage = 2;
    /* Every descriptor the child keeps is first moved to a new number above 4, so that no dup2
       onto 0 to 4 below can overwrite one still to be moved. */
    report = fcntl(report, F_DUPFD_CLOEXEC, 5);
    int output = fcntl(request->output_fd, F_DUPFD_CLOEXEC, 5);
    int wire = request->wire_fd >= 0 ? fcntl(request->wire_fd, F_DUPFD_CLOEXEC, 5) : -1;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (report < 0 || output < 0 || null < 0 || (request->wire_fd >= 0 && wire < 0)) goto fail;
    if (dup2(null, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0) goto fail;
    if (wire >= 0 && dup2(wire, 3) < 0) goto fail;
    /* The error pipe stays open as 4, close-on-exec, until execve, to say what failed. */
    if (dup3(report, 4, O_CLOEXEC) < 0) goto fail;
    report = 4;

    stage = 3;
    if (syscall(SYS_close_range, 5U, ~0U, 0) < 0) goto fail;

    stage = 4;
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) goto fail;
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal != SIGKILL && signal != SIGSTOP) sigaction(signal, &fallback, NULL);
    }

    stage = 5;
    execve(request->executable, request->argv, request->envp);
fail:;
    int failure[2] = {stage, errno};
    ssize_t ignored = write(report, failure, sizeof failure);
    (void)ignored;
    _exit(127);
}

int sbx_spawn(const sbx_spawn_request *request, pid_t *pid, int *pidfd, const char **stage) {
    *stage = "creating the error pipe";
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return errno;
    uid_t uid = getuid();
    gid_t gid = getgid();

    uint64_t flags = CLONE_PIDFD;
    if (request->namespaces & SBX_NS_USER) flags |= CLONE_NEWUSER;
    if (request->namespaces & SBX_NS_PID) flags |= CLONE_NEWPID;
    if (request->namespaces & SBX_NS_MOUNT) flags |= CLONE_NEWNS;
    if (request->namespaces & SBX_NS_IPC) flags |= CLONE_NEWIPC;
    if (request->namespaces & SBX_NS_UTS) flags |= CLONE_NEWUTS;
    if (request->namespaces & SBX_NS_NET) flags |= CLONE_NEWNET;

    int descriptor = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;
    args.pidfd = (uint64_t)(uintptr_t)&descriptor;
    args.exit_signal = SIGCHLD;

    *stage = "clone3";
    long child = syscall(SYS_clone3, &args, sizeof args);
    if (child < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return error;
    }
    if (child == 0) become_engine(request, report[1], uid, gid);

    close(report[1]);
    int failure[2];
    ssize_t count;
    do { count = read(report[0], failure, sizeof failure); } while (count < 0 && errno == EINTR);
    close(report[0]);
    if (count == (ssize_t)sizeof failure) {
        /* The child failed before execve and exits 127: reap it here. */
        int status;
        while (waitpid((pid_t)child, &status, 0) < 0 && errno == EINTR) {}
        close(descriptor);
        *stage = stages[failure[0]];
        return failure[1];
    }
    *pid = (pid_t)child;
    *pidfd = descriptor;
    *stage = NULL;
    return 0;
}

int sbx_become_init(void) {
    if (getpid() != 1) return 0;
    pid_t engine = fork();
    if (engine < 0) _exit(126);
    if (engine == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        return 1;
    }
    /* The init holds nothing: the socket and the output belong to the engine host alone. */
    syscall(SYS_close_range, 0U, ~0U, 0);
    for (;;) {
        int status;
        pid_t ended = waitpid(-1, &status, 0);
        if (ended < 0 && errno != EINTR) _exit(125);
        if (ended == engine) _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
    }
}
