/*
 * Replays captured flow datagrams (NetFlow v5, v9, IPFIX, sFlow v5) to one UDP address at a fixed
 * datagram rate, for the ingest benchmark. Built with gcc by bench/ingest/sender.ts and run as a
 * separate process, so the collector under test never shares a core's time slice with the
 * sender's own work beyond what the kernel does on loopback.
 *
 * Usage: replay-sender FILE HOST PORT RATE SECONDS SEQ_DATAGRAMS SEQ_RECORDS
 *   FILE           replay file written by sender.ts (format below)
 *   RATE           datagrams per second
 *   SECONDS        the step length: RATE * SECONDS datagrams are sent, then it exits
 *   SEQ_*          export sequence state to continue from (datagrams and data records sent
 *                  to this collector so far), so that sequence numbers never repeat
 *
 * Replay file, all integers little-endian uint32:
 *   "FGRPLAY1", protocol (5, 9 or 10: the NetFlow/IPFIX version; 0x53460005 for sFlow v5),
 *   count, then count times: length, records, bytes.
 *
 * Every datagram gets its export sequence number rewritten just before it is sent (NetFlow v5:
 * flows seen before it; v9 and sFlow: datagrams before it; IPFIX: data records before it;
 * sFlow samples keep their own sequence numbers), so a collector
 * sees one exporter sending a continuous stream rather than the same capture over and over. The
 * source id / observation domain is left as captured: the templates the receiver learned from
 * the first datagrams stay valid for every later loop.
 *
 * Prints one JSON object on stdout when done.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64
#define SFLOW_V5 0x53460005u
/* How far behind schedule the sender may catch up at full speed. */
#define CATCH_UP_LIMIT_NS 5000000ull

struct datagram {
  uint8_t *bytes;
  uint32_t length;
  uint32_t records;
};

static uint32_t read_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void write_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "replay-sender: %s: %s\n", what, detail);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t deadline_ns) {
  struct timespec ts = {(time_t)(deadline_ns / 1000000000ull), (long)(deadline_ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static struct datagram *load(const char *path, uint32_t *protocol, uint32_t *count) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path, strerror(errno));
  uint8_t header[16];
  if (fread(header, 1, sizeof header, f) != sizeof header || memcmp(header, "FGRPLAY1", 8) != 0) {
    die(path, "not a replay file (no FGRPLAY1 header)");
  }
  *protocol = read_le32(header + 8);
  *count = read_le32(header + 12);
  if (*protocol != 5 && *protocol != 9 && *protocol != 10 && *protocol != SFLOW_V5) {
    die(path, "protocol must be 5, 9, 10 or 0x53460005 (sFlow v5)");
  }
  if (*count == 0) die(path, "no datagrams");
  struct datagram *all = calloc(*count, sizeof *all);
  if (!all) die("calloc", strerror(errno));
  for (uint32_t i = 0; i < *count; i++) {
    uint8_t entry[8];
    if (fread(entry, 1, sizeof entry, f) != sizeof entry) die(path, "truncated entry header");
    all[i].length = read_le32(entry);
    all[i].records = read_le32(entry + 4);
    if (all[i].length < 20 || all[i].length > 65507) die(path, "datagram length out of range");
    all[i].bytes = malloc(all[i].length);
    if (!all[i].bytes) die("malloc", strerror(errno));
    if (fread(all[i].bytes, 1, all[i].length, f) != all[i].length) die(path, "truncated datagram");
  }
  fclose(f);
  return all;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s FILE HOST PORT RATE SECONDS SEQ_DATAGRAMS SEQ_RECORDS\n", argv[0]);
    return 2;
  }
  uint32_t protocol = 0, count = 0;
  struct datagram *all = load(argv[1], &protocol, &count);
  double rate = strtod(argv[4], NULL);
  double seconds = strtod(argv[5], NULL);
  uint32_t seq_datagrams = (uint32_t)strtoull(argv[6], NULL, 10);
  uint32_t seq_records = (uint32_t)strtoull(argv[7], NULL, 10);
  if (!(rate > 0) || !(seconds > 0)) die("arguments", "RATE and SECONDS must be positive");

  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)atoi(argv[3]));
  if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) die("HOST", "not an IPv4 address");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket", strerror(errno));
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) die("connect", strerror(errno));

  /* About one batch per 100 us: small bursts, few enough syscalls to stay cheap. */
  unsigned batch = (unsigned)(rate / 10000.0 + 0.5);
  if (batch < 1) batch = 1;
  if (batch > MAX_BATCH) batch = MAX_BATCH;
  const uint64_t total = (uint64_t)(rate * seconds + 0.5);
  const double ns_per_datagram = 1e9 / rate;

  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  uint32_t records_of[MAX_BATCH];
  memset(msgs, 0, sizeof msgs);

  uint64_t sent = 0, records = 0, errors = 0, attempted = 0;
  uint64_t behind_max_ns = 0;
  int first_errno = 0;
  uint32_t next = 0;
  const uint64_t start = now_ns();
  uint64_t schedule_start = start, schedule_base = 0, resyncs = 0;

  while (attempted < total) {
    unsigned n = batch;
    if (total - attempted < n) n = (unsigned)(total - attempted);
    for (unsigned i = 0; i < n; i++) {
      struct datagram *d = &all[next];
      if (protocol == 5) {
        write_be32(d->bytes + 16, seq_records);
      } else if (protocol == 9) {
        write_be32(d->bytes + 12, seq_datagrams);
      } else if (protocol == SFLOW_V5) {
        /* After the agent address: 4 bytes for IPv4 (type 1), 16 for IPv6 (type 2), 0 unknown. */
        const uint32_t type = ((uint32_t)d->bytes[4] << 24) | ((uint32_t)d->bytes[5] << 16) |
                              ((uint32_t)d->bytes[6] << 8) | d->bytes[7];
        const uint32_t at = 8 + (type == 1 ? 4 : type == 2 ? 16 : 0) + 4;
        if (at + 4 <= d->length) write_be32(d->bytes + at, seq_datagrams);
      } else {
        write_be32(d->bytes + 8, seq_records);
      }
      seq_datagrams += 1;
      seq_records += d->records;
      iov[i].iov_base = d->bytes;
      iov[i].iov_len = d->length;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      records_of[i] = d->records;
      next = next + 1 == count ? 0 : next + 1;
    }
    unsigned done = 0;
    while (done < n) {
      int r = sendmmsg(fd, msgs + done, n - done, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        /* The message at `done` failed; count it lost at the sender and go on. */
        if (!first_errno) first_errno = errno;
        errors += 1;
        done += 1;
        continue;
      }
      for (int i = 0; i < r; i++) records += records_of[done + (unsigned)i];
      sent += (uint64_t)r;
      done += (unsigned)r;
    }
    attempted += n;
    const uint64_t due = schedule_start + (uint64_t)((double)(attempted - schedule_base) * ns_per_datagram);
    const uint64_t now = now_ns();
    if (due > now) {
      sleep_until(due);
    } else {
      if (now - due > behind_max_ns) behind_max_ns = now - due;
      /*
       * Descheduled for a while (a noisy machine): never send the backlog as one burst, which
       * would test the receive buffer rather than the collector. Start the schedule afresh;
       * the time lost shows as a lower achieved rate.
       */
      if (now - due > CATCH_UP_LIMIT_NS) {
        schedule_start = now;
        schedule_base = attempted;
        resyncs += 1;
      }
    }
  }
  const double elapsed = (double)(now_ns() - start) / 1e9;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  printf(
      "{\"datagrams\":%llu,\"records\":%llu,\"seconds\":%.6f,\"errors\":%llu,\"firstError\":\"%s\","
      "\"behindMaxMs\":%.3f,\"resyncs\":%llu,\"cpuSeconds\":%.3f,\"batch\":%u,\"seqDatagrams\":%u,\"seqRecords\":%u}\n",
      (unsigned long long)sent, (unsigned long long)records, elapsed, (unsigned long long)errors,
      first_errno ? strerror(first_errno) : "", (double)behind_max_ns / 1e6, (unsigned long long)resyncs, cpu, batch, seq_datagrams,
      seq_records);
  close(fd);
  return 0;
}
