// A test tool in the spirit of systemd-notify, for busybox rootfses (which have
// none): sends its argument as one datagram to the AF_UNIX socket that
// $NOTIFY_SOCKET names, as sd_notify(3) does. Built static (build/sd-notify);
// not part of dist/tsrun.
//
//   sd-notify MESSAGE        e.g. sd-notify READY=1
//
// Exits 0 once sent; 1 with the call and errno on stderr otherwise.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: sd-notify MESSAGE\n");
    return 2;
  }
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) {
    fprintf(stderr, "sd-notify: NOTIFY_SOCKET is not set\n");
    return 1;
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "sd-notify: NOTIFY_SOCKET %s: too long\n", path);
    return 1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "sd-notify: socket: %s\n", strerror(errno));
    return 1;
  }
  if (sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    fprintf(stderr, "sd-notify: sendto %s: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}
