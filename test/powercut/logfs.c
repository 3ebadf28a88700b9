// logfs: a tiny FUSE filesystem for the power-cut tests. It exposes one image file (forwarded to a
// backing file) and a control file. Every write, zeroing (discard / write-zeroes from the loop device)
// and fsync reaching the image is appended to a log, in the order the kernel delivered it; a write to
// the control file appends a named mark. A loop device on the exposed image turns every block-device
// flush into an fsync here, so the log holds exactly what a disk with a volatile write cache would
// have been told, and a replay up to any flush gives one state a power cut could have left.
//
//   logfs BACKING LOG NAME MOUNTPOINT [fuse options]      (runs single-threaded in the foreground)
//
// Log: 8-byte magic "LCPLOG1\n", then records of a 24-byte header {u32 kind, u32 len, u64 off,
// u64 arg} (little-endian) and `len` payload bytes. kind 'W': data written at off; 'Z': arg bytes
// at off zeroed; 'F': flush (fsync); 'M': mark, payload is its name.
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

static int backing_fd = -1;
static int log_fd = -1;
static char image_path[256];
static const char *ctl_path = "/ctl";

struct rec {
  uint32_t kind;
  uint32_t len;
  uint64_t off;
  uint64_t arg;
};

// The log must be complete or the test must fail loudly: a dropped record would make a replay lie.
static void log_rec(char kind, uint64_t off, uint64_t arg, const void *data, uint32_t len) {
  struct rec r = {(uint32_t)kind, len, off, arg};
  struct iovec iov[2] = {{&r, sizeof r}, {(void *)data, len}};
  size_t want = sizeof r + len;
  ssize_t n = writev(log_fd, iov, len ? 2 : 1);
  if (n != (ssize_t)want) {
    perror("logfs: log write");
    abort();
  }
}

static int lf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (strcmp(path, image_path) == 0) {
    struct stat b;
    if (fstat(backing_fd, &b) != 0) return -errno;
    st->st_mode = S_IFREG | 0600;
    st->st_nlink = 1;
    st->st_size = b.st_size;
    st->st_blocks = b.st_blocks;
    return 0;
  }
  if (strcmp(path, ctl_path) == 0) {
    st->st_mode = S_IFREG | 0600;
    st->st_nlink = 1;
    return 0;
  }
  return -ENOENT;
}

static int lf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags) {
  (void)off, (void)fi, (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, image_path + 1, NULL, 0, 0);
  fill(buf, ctl_path + 1, NULL, 0, 0);
  return 0;
}

static int lf_open(const char *path, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, image_path) == 0 || strcmp(path, ctl_path) == 0) return 0;
  return -ENOENT;
}

static int lf_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  (void)fi, (void)size;
  if (strcmp(path, ctl_path) == 0) return 0;  // `echo mark > ctl` opens with O_TRUNC
  return -EPERM;                               // the image keeps its size
}

static int lf_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, ctl_path) == 0) return 0;
  if (strcmp(path, image_path) != 0) return -ENOENT;
  ssize_t n = pread(backing_fd, buf, size, off);
  return n < 0 ? -errno : (int)n;
}

// A mark is one line written to ctl. The kernel may hand a longer line over in more than one write (page
// by page: a journal mark of a guarded run's rollback is over a kilobyte), so lines are gathered here and
// each complete one becomes one mark.
static char mark_buf[1 << 16];
static size_t mark_len;

static int lf_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, ctl_path) == 0) {
    if (mark_len + size > sizeof mark_buf) return -EFBIG;
    memcpy(mark_buf + mark_len, buf, size);
    mark_len += size;
    char *nl;
    while ((nl = memchr(mark_buf, '\n', mark_len)) != NULL) {
      size_t line = (size_t)(nl - mark_buf);
      size_t len = line;
      while (len && mark_buf[len - 1] == '\r') len--;
      log_rec('M', 0, 0, mark_buf, (uint32_t)len);
      mark_len -= line + 1;
      memmove(mark_buf, nl + 1, mark_len);
    }
    return (int)size;
  }
  if (strcmp(path, image_path) != 0) return -ENOENT;
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(backing_fd, buf + done, size - done, off + (off_t)done);
    if (n < 0) return -errno;
    done += (size_t)n;
  }
  log_rec('W', (uint64_t)off, 0, buf, (uint32_t)size);
  return (int)size;
}

static int lf_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)datasync, (void)fi;
  if (strcmp(path, image_path) == 0) log_rec('F', 0, 0, NULL, 0);
  return 0;
}

static int lf_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, image_path) != 0) return -EOPNOTSUPP;
  if (fallocate(backing_fd, mode, off, len) != 0) return -errno;
  // A discard or write-zeroes: replayed as zeros (a discarded block may read as anything; zeros is one such).
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) log_rec('Z', (uint64_t)off, (uint64_t)len, NULL, 0);
  return 0;
}

// The space of the filesystem holding the backing file: the tool checks the host's free space.
static int lf_statfs(const char *path, struct statvfs *st) {
  (void)path;
  return fstatvfs(backing_fd, st) == 0 ? 0 : -errno;
}

static const struct fuse_operations ops = {
    .statfs = lf_statfs,
    .getattr = lf_getattr,
    .readdir = lf_readdir,
    .open = lf_open,
    .truncate = lf_truncate,
    .read = lf_read,
    .write = lf_write,
    .fsync = lf_fsync,
    .fallocate = lf_fallocate,
};

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: logfs BACKING LOG NAME MOUNTPOINT [fuse options]\n");
    return 2;
  }
  backing_fd = open(argv[1], O_RDWR | O_CLOEXEC);
  if (backing_fd < 0) {
    perror(argv[1]);
    return 1;
  }
  log_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    perror(argv[2]);
    return 1;
  }
  if (strchr(argv[3], '/') || strlen(argv[3]) + 2 > sizeof image_path || strcmp(argv[3], "ctl") == 0) {
    fprintf(stderr, "logfs: bad image name %s\n", argv[3]);
    return 2;
  }
  snprintf(image_path, sizeof image_path, "/%s", argv[3]);
  if (write(log_fd, "LCPLOG1\n", 8) != 8) {
    perror("logfs: log header");
    return 1;
  }
  // fuse_main gets: program, mountpoint, foreground + single-threaded (the log's order is the
  // kernel's delivery order), then the caller's options.
  char **fargs = calloc((size_t)argc, sizeof *fargs);
  int n = 0;
  fargs[n++] = argv[0];
  fargs[n++] = argv[4];
  fargs[n++] = "-f";
  fargs[n++] = "-s";
  for (int i = 5; i < argc; i++) fargs[n++] = argv[i];
  return fuse_main(n, fargs, &ops, NULL);
}
