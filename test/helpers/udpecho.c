/* A UDP echo server for the published-port tests: busybox has no UDP server.
 * Usage: udpecho PORT. Answers each datagram with "echo:" + its payload. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])), .sin_addr = { htonl(INADDR_ANY) } };
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("udpecho: bind"); return 1; }
  char buf[2048];
  memcpy(buf, "echo:", 5);
  for (;;) {
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
    if (n >= 0) sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
  }
}
