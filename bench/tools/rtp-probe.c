// rtp-probe: a paced many-flows UDP load that times every round trip. Each flow sends R messages per second
// of L bytes to 127.0.0.1:PORT, each stamped with its send time (CLOCK_MONOTONIC); whatever echoes the
// payload back (a TURN server relaying to turnutils_peer, the bare Node relay, or the echo peer itself) gives
// one RTT sample. Written in C so that the client adds as little as it can to what it measures.
// TURN flows are set up by bench/lib/rtp-probe.ts (allocation and channel bind through the repo's TURN
// client), which then closes its sockets and hands the local ports over (-b): the server sees the same
// 5-tuples and relays this tool's ChannelData (-c) on the bound channel.
//
// Usage: rtp-probe -p PORT (-b PORT,PORT,... | -n FLOWS) [-r 50] [-l 160] [-s SECONDS] [-w 1] [-c] [-g]
//   -b  bind these local ports (one flow each)      -n  that many flows on ephemeral ports
//   -c  ChannelData framing on channel 0x4000        -g  wait for a line on stdin before sending
// Prints "ready", "start" and "stop" (the measured window) and then one JSON line:
//   {"secs":..,"sent":..,"sendFailed":..,"recv":..,"avgUs":..,"p50Us":..,"p99Us":..,"maxUs":..,"clientCpuS":..}
// sent and recv count the messages sent in the window and their echoes (300 ms of grace after it);
// sendFailed the sends the kernel refused in the window (a full socket buffer).
// Build: gcc -O2 -o rtp-probe rtp-probe.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL 0x4000
#define HEADER 4

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void die(const char *what) {
  fprintf(stderr, "rtp-probe: %s: %s\n", what, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  int port = 0, nflows = 0, framed = 0, wait_go = 0, opt;
  double pps = 50, seconds = 10, warmup = 1;
  int size = 160;
  char *ports = NULL;
  while ((opt = getopt(argc, argv, "p:b:n:r:l:s:w:cg")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 'b': ports = optarg; break;
      case 'n': nflows = atoi(optarg); break;
      case 'r': pps = atof(optarg); break;
      case 'l': size = atoi(optarg); break;
      case 's': seconds = atof(optarg); break;
      case 'w': warmup = atof(optarg); break;
      case 'c': framed = 1; break;
      case 'g': wait_go = 1; break;
      default: fprintf(stderr, "usage: see the head of rtp-probe.c\n"); return 2;
    }
  }
  if (ports != NULL) {
    nflows = 1;
    for (char *c = ports; *c; c++) nflows += *c == ',';
  }
  if (port <= 0 || nflows <= 0 || size < 9 || pps <= 0) {
    fprintf(stderr, "usage: see the head of rtp-probe.c\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  int off = framed ? HEADER : 0, len = off + size;
  int *fds = calloc(nflows, sizeof(int));
  int ep = epoll_create1(0);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  char *next_port = ports;
  for (int i = 0; i < nflows; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (next_port != NULL) {
      src.sin_port = htons((uint16_t)strtol(next_port, &next_port, 10));
      if (*next_port == ',') next_port++;
    }
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) die("connect");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    fds[i] = fd;
  }
  puts("ready");
  if (wait_go) {
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL) return 1;
  }

  // Payload: [0..8) send time in µs (double), [8] 1 = sent in the measured window.
  unsigned char *msg = calloc(1, len);
  memset(msg + off, 7, size);
  if (framed) {
    msg[0] = CHANNEL >> 8;
    msg[1] = CHANNEL & 0xff;
    msg[2] = size >> 8;
    msg[3] = size & 0xff;
  }
  size_t cap = (size_t)(nflows * pps * (seconds + 2) * 1.2) + 16;
  double *rtt = malloc(cap * sizeof(double));
  long sent = 0, recvd = 0, send_failed = 0;
  int measuring = 0, next = 0;
  double rate = nflows * pps / 1e6; // messages per µs
  double t0 = now_us(), w0 = t0 + warmup * 1e6, w1 = w0 + seconds * 1e6, t_end = w1 + 300e3;
  double c0 = 0, c1 = 0;
  long due = 0;
  unsigned char in[2048];
  struct epoll_event evs[256];
  for (;;) {
    double t = now_us();
    if (!measuring && t >= w0 && t < w1) {
      measuring = 1;
      c0 = cpu_s();
      puts("start");
    }
    if (measuring && t >= w1) {
      measuring = 0;
      c1 = cpu_s();
      puts("stop");
    }
    if (t >= t_end) break;
    // Sends are spread evenly: what is due since the last pass, round robin over the flows.
    if (t < w1) {
      for (long target = (long)((t - t0) * rate); due < target; due++) {
        double ts = now_us();
        memcpy(msg + off, &ts, sizeof ts);
        msg[off + 8] = measuring;
        if (send(fds[next], msg, len, 0) != len) send_failed += measuring;
        else sent += measuring;
        next = (next + 1) % nflows;
      }
    }
    // Sleep until the next send is due (at least 1 ms, as uclient's timer) or an echo arrives.
    double wake = t < w1 ? t0 + (due + 1) / rate : t_end;
    int ms = (int)((wake - now_us()) / 1000.0 + 0.999);
    if (ms < 1) ms = 1;
    int n = epoll_wait(ep, evs, 256, ms);
    for (int i = 0; i < n; i++) {
      int fd = fds[evs[i].data.u32];
      for (;;) {
        ssize_t m = recv(fd, in, sizeof in, 0);
        if (m < 0) break;
        if (m < off + 9 || in[off + 8] != 1) continue;
        double ts;
        memcpy(&ts, in + off, sizeof ts);
        if ((size_t)recvd < cap) rtt[recvd] = now_us() - ts;
        recvd++;
      }
    }
  }
  size_t k = (size_t)recvd < cap ? (size_t)recvd : cap;
  qsort(rtt, k, sizeof(double), cmp);
  double sum = 0;
  for (size_t i = 0; i < k; i++) sum += rtt[i];
#define PCT(p) (k ? rtt[(size_t)((p) * k) < k ? (size_t)((p) * k) : k - 1] : -1)
  // No echo at all: the RTT fields print as -1.
  printf("{\"secs\":%.3f,\"sent\":%ld,\"sendFailed\":%ld,\"recv\":%ld,\"avgUs\":%.1f,\"p50Us\":%.1f,\"p99Us\":%.1f,"
         "\"maxUs\":%.1f,\"clientCpuS\":%.3f}\n",
         seconds, sent, send_failed, recvd, k ? sum / k : -1, PCT(0.5), PCT(0.99), k ? rtt[k - 1] : -1, c1 - c0);
  return 0;
}
