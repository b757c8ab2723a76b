/* DIR/json.log in Docker's json-file format: one object per line,
 * {"log":"text\n","stream":"stdout","time":"..."}. A line longer than
 * LOG_LINE_MAX is split into several entries, only the last ending in "\n".
 * Rotation renames json.log to json.log.1 (shifting the older ones) when the
 * next entry would pass --log-max-size. A failed write (a full disk) drops the
 * entry and counts it in DIR/log-dropped; the container never waits on it.
 * Nothing is allocated per line: entries are encoded into one static buffer
 * and written with one write() per chunk of output read (or when it is full). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

static int g_log_fd = -1;
static long long g_log_size;
static long long g_dropped;
/* Pending entries; one entry is 6 bytes per input byte at worst (\u00XX), plus the frame. */
#define ENTRY_MAX (LOG_LINE_MAX * 6 + 128)
static char g_buf[32768];
static size_t g_buf_len;
static unsigned g_buf_entries;

/* Writes the pending entries; what a failed write loses is counted as dropped. */
static void log_write_out(void);

void log_open(void) {
  if (g_cfg.no_log) return;
  g_log_fd = openat(g_dirfd, "json.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st;
  g_log_size = g_log_fd >= 0 && fstat(g_log_fd, &st) == 0 ? st.st_size : 0;
}

static void rotate(void) {
  char from[64], to[64];
  if (g_cfg.log_max_file <= 1) {
    if (ftruncate(g_log_fd, 0) == 0) g_log_size = 0;
    return;
  }
  for (int i = g_cfg.log_max_file - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof from, "json.log");
    else snprintf(from, sizeof from, "json.log.%d", i - 1);
    snprintf(to, sizeof to, "json.log.%d", i);
    renameat(g_dirfd, from, g_dirfd, to);
  }
  close(g_log_fd);
  log_open();
}

/* The count of dropped entries is written to DIR/log-dropped; on a full disk that write fails
 * too, and it is made again after the next log write that succeeds. */
static int g_dropped_unsaved;
/* A short write left half an entry that no "\n" could end yet: the next write ends it first. */
static int g_torn;

static void save_dropped(void) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld\n", g_dropped);
  g_dropped_unsaved = atomic_write("log-dropped", buf, (size_t)n) < 0;
}

static void dropped(unsigned count) {
  g_dropped += count;
  save_dropped();
}

static int end_torn_entry(void) {
  if (write(g_log_fd, "\n", 1) != 1) return -1;
  g_log_size++;
  g_torn = 0;
  return 0;
}

/* Writes buf (`entries` entries); a short write counts them as dropped. */
static void write_entries(const char *buf, size_t len, unsigned entries) {
  if (g_log_fd < 0) return;
  if (g_torn && end_torn_entry() < 0) return dropped(entries);
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(g_log_fd, buf + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
    g_log_size += n;
  }
  /* A short write (a full disk) may leave half an entry: end it, so the next
   * entry starts on its own line, and count the entries as dropped. */
  if (off < len) {
    if (off > 0 && buf[off - 1] != '\n') {
      g_torn = 1;
      end_torn_entry();
    }
    dropped(entries);
  } else if (g_dropped_unsaved)
    save_dropped();
}

static void log_write_out(void) {
  if (g_buf_len == 0) return;
  write_entries(g_buf, g_buf_len, g_buf_entries);
  g_buf_len = 0;
  g_buf_entries = 0;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  size_t len;
  unsigned min;
  unsigned cp;
  if (s[0] < 0xc2) return 0;
  if (s[0] < 0xe0) len = 2, cp = s[0] & 0x1f, min = 0x80;
  else if (s[0] < 0xf0) len = 3, cp = s[0] & 0x0f, min = 0x800;
  else if (s[0] < 0xf5) len = 4, cp = s[0] & 0x07, min = 0x10000;
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

static size_t escape(char *out, const unsigned char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c >= 0x80) {
      size_t l = utf8_len(s + i, n - i);
      if (l) {
        memcpy(out + o, s + i, l);
        o += l;
        i += l;
      } else {
        memcpy(out + o, "\\ufffd", 6); /* what Docker writes for invalid UTF-8 */
        o += 6;
        i++;
      }
      continue;
    }
    i++;
    switch (c) {
      case '"': out[o++] = '\\', out[o++] = '"'; break;
      case '\\': out[o++] = '\\', out[o++] = '\\'; break;
      case '\n': out[o++] = '\\', out[o++] = 'n'; break;
      case '\r': out[o++] = '\\', out[o++] = 'r'; break;
      case '\t': out[o++] = '\\', out[o++] = 't'; break;
      default:
        if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
          out[o++] = '\\', out[o++] = 'u', out[o++] = '0', out[o++] = '0';
          out[o++] = hex[c >> 4], out[o++] = hex[c & 15];
        } else
          out[o++] = (char)c;
    }
  }
  return o;
}

static void entry(int stream, const char *data, size_t len) {
  static char e[ENTRY_MAX];
  char now[40];
  rfc3339_now(now);
  size_t o = 8;
  memcpy(e, "{\"log\":\"", 8);
  o += escape(e + o, (const unsigned char *)data, len);
  o += (size_t)snprintf(e + o, 96, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream == 2 ? "stderr" : "stdout", now);
  long long size = g_log_size + (long long)g_buf_len;
  if (g_cfg.log_max_size > 0 && size > 0 && size + (long long)o > g_cfg.log_max_size) {
    /* This entry starts the next file. */
    log_write_out();
    rotate();
  }
  if (g_buf_len + o > sizeof g_buf) log_write_out();
  if (o > sizeof g_buf) return write_entries(e, o, 1); /* a long line's entry goes on its own */
  memcpy(g_buf + g_buf_len, e, o);
  g_buf_len += o;
  g_buf_entries++;
}

void log_write(struct proc *p, int stream, const char *data, size_t len) {
  if (!p->log) return;
  struct logline *l = p->lines[stream - 1];
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;
    if (take > LOG_LINE_MAX - l->len) take = LOG_LINE_MAX - l->len;
    if (l->len == 0 && nl && take == (size_t)(nl - data) + 1) {
      entry(stream, data, take); /* a whole line: straight from the chunk */
    } else {
      memcpy(l->buf + l->len, data, take);
      l->len += take;
      if (l->buf[l->len - 1] == '\n' || l->len == LOG_LINE_MAX) {
        entry(stream, l->buf, l->len);
        l->len = 0;
      }
    }
    data += take;
    len -= take;
  }
  log_write_out();
}

void log_flush(struct proc *p, int stream) {
  if (!p->log) return;
  struct logline *l = p->lines[stream - 1];
  if (l->len) entry(stream, l->buf, l->len);
  l->len = 0;
  log_write_out();
}
