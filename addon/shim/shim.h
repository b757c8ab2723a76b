/* tsrun-shim: one small native process per container (docs/shim.md). One
 * thread, one epoll loop; every fd is non-blocking and close-on-exec. This
 * header is what the files share: the loop's watches, the processes the shim
 * owns (the container's init and its execs), the control clients. */
#ifndef TSRUN_SHIM_H
#define TSRUN_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/record.h"

/* The largest data in one OUT or IN record (docs/shim.md). */
#define SHIM_CHUNK 65536
/* Room for any one record the shim reads or writes. */
#define SHIM_MSG_MAX (SHIM_CHUNK + 256)
/* A log line longer than this is split into several entries (Docker's 16 KiB). */
#define LOG_LINE_MAX 16384

/* ---- the loop (loop.c) ---- */
struct watch {
  void (*fn)(struct watch *w, uint32_t events);
  int fd;
};
void loop_init(void);
/* Adds (or with watch_mod changes) fd's events; epoll's data is the watch. */
void watch_add(struct watch *w, uint32_t events);
void watch_mod(struct watch *w, uint32_t events);
void watch_del(struct watch *w);
__attribute__((noreturn)) void loop_run(void);
/* One epoll_wait (timeout_ms as epoll_wait's) and its handlers; loop_run's body, and what a
 * runtime call runs while it waits (nested: see runtime.c, and control.c's parked clients). */
void loop_dispatch(int timeout_ms);
int loop_fd(void);
int loop_serving(void);
/* Reaps every exited child (waitpid(-1)), handing each to proc_exited. */
void reap_children(void);

/* ---- processes and their stdio (stdio.c) ---- */
struct client;
struct logline {
  size_t len;
  char buf[LOG_LINE_MAX];
};
struct proc {
  struct proc *next;
  char id[128]; /* "" for the container's init */
  pid_t pid;
  int started; /* the init: START succeeded */
  int exited, code, oom;
  char time[40];
  int tty;
  int in_fd;      /* stdin pipe's write end, or with a tty the master; -1 once closed */
  int master;     /* the pty master (tty only), for RESIZE */
  struct watch out, err; /* read ends; with a tty out is the master and err.fd is -1 */
  int open_streams;      /* output fds not at EOF yet */
  int reading;           /* an exec's output is read from its first ATTACH on */
  int log;               /* output goes to json.log (the init, without --no-log) */
  struct logline *lines[2];
  struct watch in_w;     /* stdin backlog: what a full pipe did not take */
  char *backlog;
  size_t backlog_len, backlog_off;
};
extern struct proc *g_procs; /* the init first, then the execs */
struct proc *proc_new(const char *id);
struct proc *proc_find(const char *id);
/* Makes the stdio of a new process: fds[0..2] are what the runtime gets (the
 * container's ends); the shim's ends go into p. stdin: a pipe, else /dev/null.
 * Returns 0 or -1 (errno). */
int proc_pipes(struct proc *p, int want_stdin, int fds[3]);
/* Takes the pty master that came over the console socket. */
void proc_take_master(struct proc *p, int master);
/* Starts watching p's output fds (once). */
void proc_watch(struct proc *p);
/* p's output fds are all at EOF. */
int proc_drained(const struct proc *p);
/* Called by the reaper: records the exit (exit file first), then answers waiters. */
void proc_exited(struct proc *p, int status);
/* Writes stdin data; a full pipe keeps the rest as a backlog and pauses the
 * writers (attach clients) until it drains. */
void proc_write_stdin(struct proc *p, const char *data, size_t len);
void proc_close_stdin(struct proc *p);
int proc_stdin_busy(const struct proc *p);
/* Registers a pid, claiming an exit that was reaped before the pid was known. */
void proc_set_pid(struct proc *p, pid_t pid);
/* An exit reaped for a pid the shim does not know (yet). */
void unclaimed_exit(pid_t pid, int status);

/* ---- control socket and clients (control.c) ---- */
enum client_mode { CLIENT_REQUESTS, CLIENT_WAIT, CLIENT_ATTACH };
struct client {
  struct watch w;
  struct client *next;
  enum client_mode mode;
  struct proc *p;
  int stdin; /* an attach client that may write IN */
  int dead; /* dropped; freed after this batch of events */
  int parked; /* sent a runtime request while a runtime call ran: not watched until it ends */
};
extern struct client *g_clients;
int control_listen(const char *path);
/* Sends one record without blocking; a client whose socket is full is dropped. */
int client_send(struct client *c, const char *const *argv, const uint32_t *lens, uint32_t argc);
/* Closes and unlinks c; its memory is freed by clients_free_dropped after the
 * current batch of events. */
void client_drop(struct client *c);
void clients_free_dropped(void);
/* Forgets the oldest finished execs beyond the few kept (after each batch of events). */
void execs_trim(void);
/* The process has exited (and, for attach clients, its output is drained). */
void clients_exited(struct proc *p);
/* Stops or resumes reading the stdin writers of p. */
void clients_pause_stdin(struct proc *p, int paused);
void send_exit(struct client *c, struct proc *p);
/* Watches the clients parked during a runtime call again. */
void clients_unpark(void);

/* ---- the runtime binary (runtime.c) ---- */
struct rt_result {
  int err_fd;      /* in: where the runtime's stderr can be read back when it is not captured (-1) */
  int status;      /* waitpid status */
  int timed_out;   /* it ran past --runtime-timeout and its process group was killed */
  char msg[1024];  /* the last error message, "" on success */
};
/* Runs RUNTIME --root ROOT --log DIR/runtime.log --log-format json args... with
 * stdin/stdout/stderr on fds[0..2] (-1: /dev/null, and stderr: captured for the
 * message), in a process group of its own, and waits for it, at most
 * --runtime-timeout seconds: then the group is killed (SIGKILL) and the message
 * is "runtime ARGS[0] timed out after N s". Returns 0 when it exited 0. */
int run_runtime(const char *const *args, const int fds[3], struct rt_result *res);
/* The runtime call under way (0: none); the reaper hands its status over instead of claiming it. */
extern pid_t g_rt_pid;
extern int g_rt_status, g_rt_reaped;
/* A runtime call is under way while the loop is served (requests that need one are parked). */
extern int g_runtime_busy;
/* A listening unix socket at path (replacing what is there), non-blocking and close-on-exec;
 * owner_only: mode 0600 from its first moment. Returns the fd, or -1 (errno). */
int unix_listen(const char *path, int type, int backlog, int owner_only);
/* Listens on a console socket at path for the runtime's pty master. */
int console_listen(const char *path);
/* Takes the master sent to the console socket; -1 if none came. */
int console_take(int lsock, const char *path);

/* ---- json-file log (jsonlog.c) ---- */
void log_open(void);
/* One chunk of a stream (1 stdout, 2 stderr); complete lines are written. */
void log_write(struct proc *p, int stream, const char *data, size_t len);
/* At EOF: writes the partial line that is left. */
void log_flush(struct proc *p, int stream);

/* ---- exits, times, oom (exits.c) ---- */
void rfc3339_now(char out[40]);
/* Writes {"code":..,"time":..,"oom":..} to DIR/name atomically (fsync, rename, dir fsync). */
int exit_record_write(const char *name, int code, const char *time, int oom);
int atomic_write(const char *name, const char *data, size_t len);
/* Reads the init's cgroup (once, after create) and its oom_kill count. */
void oom_init(pid_t pid);
int oom_happened(void);

/* ---- the shim's settings and fatal errors (main.c) ---- */
struct config {
  const char *id, *bundle, *runtime, *runtime_root, *dir;
  int tty, stdin, no_log;
  long long log_max_size;
  int log_max_file;
  double runtime_timeout; /* seconds per runtime call; 0: no limit */
};
extern struct config g_cfg;
extern int g_dirfd; /* DIR, O_RDONLY|O_DIRECTORY: every file of the shim is opened at it */
/* DIR/name in a static buffer of its own per call site pattern: out must hold PATH_MAX. */
void dir_path(char *out, size_t size, const char *name);
__attribute__((noreturn)) void shim_exit(int code);

#endif
