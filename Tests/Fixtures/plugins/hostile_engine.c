/*
 * An engine that tries, from its constructor, its `create` and its `call`, everything a
 * third-party engine must not be able to do to the server, the machine or other sessions, and
 * reports what worked. The sandbox tests expect every attempt to fail in a sandbox, and to work
 * under `--sandbox off` (so they can fail). Built with `cc -shared` by the tests.
 *
 * Configuration (a JSON object; the keys are found with strstr, this is a test fixture):
 *   "serverPid": N        the server's pid, as a plugin could learn it from getppid()
 *   "port": N             the server's API port on 127.0.0.1
 *   "data": "PATH"        the server's data folder
 *   "other": "PATH"       another session's state file
 *   "forkChild": true     `create` forks a child that holds every descriptor and sleeps
 *   "crash": true         contacts.get aborts the process (contacts.about still reports)
 *   "spewMiB": N          `create` starts a thread that writes N MiB of 1 KiB lines to standard output
 *
 * contacts.about answers {"about": "<report>"}, where the report is a JSON object: for each
 * stage ("constructor", "create", "call") each attempt's outcome, "ok" or the errno's text.
 */
#define _GNU_SOURCE
#include "switchboard_engine.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const features[] = {"contacts.about", "contacts.get"};

struct sb_engine_instance {
    long server_pid, port;
    char data[512], other[512], state[512];
    int crash;
    char create_report[4096];
};

static char constructor_report[2048];

static void add(char *report, size_t size, const char *name, int ok, int error) {
    size_t used = strlen(report);
    snprintf(report + used, size - used, "%s\"%s\":\"%s\"", used > 1 ? "," : "", name, ok ? "ok" : strerror(error));
}

/* Runs `attempt` and records its outcome with the errno it left (read after it, not beside it:
   C leaves the order of a call's arguments open). */
#define ATTEMPT(report, size, name, attempt) \
    do { \
        errno = 0; \
        int ok_ = (attempt); \
        int error_ = errno; \
        add(report, size, name, ok_, error_); \
    } while (0)

static int try_open(const char *path, int flags) {
    int fd = open(path, flags | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    if (flags == O_RDONLY) {
        char byte;
        if (read(fd, &byte, 1) < 0) {
            int error = errno;
            close(fd);
            errno = error;
            return 0;
        }
    }
    close(fd);
    return 1;
}

/* What needs no configuration: tried from the constructor too. */
static void generic_attempts(char *report, size_t size) {
    ATTEMPT(report, size, "readShadow", try_open("/etc/shadow", O_RDONLY));
    char path[64];
    snprintf(path, sizeof path, "/tmp/hostile-%d", (int)getpid());
    ATTEMPT(report, size, "writeTmp", try_open(path, O_WRONLY | O_CREAT) && unlink(path) == 0);

    pid_t child = fork();
    if (child == 0) {
        char *argv[] = {"/bin/sh", "-c", "exit 0", NULL};
        execve("/bin/sh", argv, environ);
        _exit(100 + errno);
    }
    int status = 0;
    if (child > 0) waitpid(child, &status, 0);
    int ran = child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    add(report, size, "execShell", ran, child < 0 ? errno : WIFEXITED(status) ? WEXITSTATUS(status) - 100 : EINTR);
    ATTEMPT(report, size, "unshare", unshare(CLONE_NEWUSER) == 0);
}

__attribute__((constructor)) static void in_constructor(void) {
    strcpy(constructor_report, "{");
    generic_attempts(constructor_report, sizeof constructor_report);
    strcat(constructor_report, "}");
}

/* What reaches the server, its files and its port, and this instance's own folder. */
static void targeted_attempts(sb_engine_instance *instance, char *report, size_t size) {
    char path[600];
    generic_attempts(report, size);
    snprintf(path, sizeof path, "/proc/%ld/environ", instance->server_pid);
    ATTEMPT(report, size, "readServerEnviron", try_open(path, O_RDONLY));
    snprintf(path, sizeof path, "/proc/%ld/mem", instance->server_pid);
    /* Opening is the breach: reading needs an address that is mapped. */
    ATTEMPT(report, size, "openServerMemory", try_open(path, O_RDWR | O_NOCTTY));
    int traced = ptrace(PTRACE_ATTACH, (pid_t)instance->server_pid, NULL, NULL) == 0;
    int error = errno;
    if (traced) {
        /* Detaching needs the tracee stopped; this waits for the stop the attach sent. */
        int status;
        waitpid((pid_t)instance->server_pid, &status, __WALL);
        ptrace(PTRACE_DETACH, (pid_t)instance->server_pid, NULL, NULL);
    }
    add(report, size, "ptraceServer", traced, error);
    ATTEMPT(report, size, "signalServer", kill((pid_t)instance->server_pid, 0) == 0);
    snprintf(path, sizeof path, "%s/sessions.sqlite", instance->data);
    ATTEMPT(report, size, "readSessionStore", try_open(path, O_RDONLY));
    snprintf(path, sizeof path, "%s/state", instance->data);
    DIR *folder = NULL;
    ATTEMPT(report, size, "listStateFolders", (folder = opendir(path)) != NULL);
    if (folder) closedir(folder);
    ATTEMPT(report, size, "readOtherSession", try_open(instance->other, O_RDONLY));
    ATTEMPT(report, size, "writeOtherSession", try_open(instance->other, O_WRONLY | O_APPEND));

    int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)instance->port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    ATTEMPT(report, size, "connectServerPort", sock >= 0 && connect(sock, (struct sockaddr *)&address, sizeof address) == 0);
    if (sock >= 0) close(sock);
    int unix_socket = -1;
    ATTEMPT(report, size, "unixSocket", (unix_socket = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
    if (unix_socket >= 0) close(unix_socket);

    /* Descriptors this process did not open itself: the server's, leaked across the spawn. */
    int leaked = 0;
    for (int fd = 4; fd < 1024; fd++) {
        char link[64], target[256] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0 && strncmp(target, "socket:", 7) == 0) leaked++;
    }
    add(report, size, "serverSockets", leaked > 0, ENOENT);

    snprintf(path, sizeof path, "%s/own-file", instance->state);
    ATTEMPT(report, size, "writeOwnState", try_open(path, O_WRONLY | O_CREAT));
}

static void *spew(void *argument) {
    long lines = (long)argument * 1024;
    char line[1024];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (long i = 0; i < lines; i++) {
        if (write(1, line, sizeof line) < 0) break;
    }
    return NULL;
}

static long number_after(const char *text, const char *key) {
    const char *found = strstr(text, key);
    return found ? strtol(found + strlen(key), NULL, 10) : 0;
}

static void string_after(const char *text, const char *key, char *out, size_t size) {
    const char *found = strstr(text, key);
    if (!found) return;
    found += strlen(key);
    size_t n = 0;
    while (found[n] && found[n] != '"' && n < size - 1) n++;
    memcpy(out, found, n);
    out[n] = 0;
}

static sb_status hostile_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                                size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor, (void)error_sink, (void)error_context;
    char text[2048] = "";
    memcpy(text, config, config_length < sizeof text - 1 ? config_length : sizeof text - 1);
    sb_engine_instance *instance = calloc(1, sizeof *instance);
    instance->server_pid = number_after(text, "\"serverPid\":");
    instance->port = number_after(text, "\"port\":");
    string_after(text, "\"data\":\"", instance->data, sizeof instance->data);
    string_after(text, "\"other\":\"", instance->other, sizeof instance->other);
    instance->crash = strstr(text, "\"crash\":true") != NULL;
    if (host->state_directory) snprintf(instance->state, sizeof instance->state, "%s", host->state_directory);
    strcpy(instance->create_report, "{");
    targeted_attempts(instance, instance->create_report, sizeof instance->create_report);
    strcat(instance->create_report, "}");
    long spew_mib = number_after(text, "\"spewMiB\":");
    if (spew_mib > 0) {
        pthread_t thread;
        pthread_create(&thread, NULL, spew, (void *)spew_mib);
        pthread_detach(thread);
    }
    if (strstr(text, "\"forkChild\":true") && fork() == 0) {
        /* Holds the engine process's socket to the server, and whatever else it has open. */
        for (;;) pause();
    }
    *out = instance;
    return SB_STATUS_OK;
}

static void hostile_destroy(sb_engine_instance *instance) { free(instance); }

/* Writes `text` as a JSON string's contents: only quotes need escaping in these reports. */
static size_t escaped(char *out, const char *text) {
    size_t n = 0;
    for (; *text; text++) {
        if (*text == '"' || *text == '\\') out[n++] = '\\';
        out[n++] = *text;
    }
    return n;
}

static void hostile_call(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                         sb_completion completion, void *context) {
    (void)request, (void)length;
    if (strcmp(feature, "contacts.get") == 0) {
        if (instance->crash) abort();
        static const char body[] = "{\"id\":\"1@c.us\",\"name\":\"Hostile\"}";
        completion(context, SB_STATUS_OK, (const uint8_t *)body, sizeof body - 1);
        return;
    }
    char call_report[4096] = "{";
    targeted_attempts(instance, call_report, sizeof call_report);
    strcat(call_report, "}");
    char report[12288];
    snprintf(report, sizeof report, "{\"constructor\":%s,\"create\":%s,\"call\":%s}", constructor_report, instance->create_report, call_report);
    static char body[32768];
    size_t n = 0;
    n += (size_t)sprintf(body, "{\"about\":\"");
    n += escaped(body + n, report);
    n += (size_t)sprintf(body + n, "\"}");
    completion(context, SB_STATUS_OK, (const uint8_t *)body, n);
}

static void hostile_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    for (size_t i = 0; i < 2; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}

static void hostile_status(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    static const char body[] = "{\"health\":\"ok\",\"message\":\"\",\"counters\":{}}";
    sink(context, (const uint8_t *)body, sizeof body - 1);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "hostile",
    .version = "0.0.1",
    .description = "tries what a sandbox must stop",
    .features = features,
    .feature_count = 2,
    .create = hostile_create,
    .destroy = hostile_destroy,
    .call = hostile_call,
    .instance_features = hostile_instance_features,
    .status = hostile_status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
