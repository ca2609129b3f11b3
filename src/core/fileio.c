/* File plumbing: whole-file read views, atomic writes (temporary file, fsync,
 * rename, fsync of the folder) so that a crash never leaves a half-written
 * file, and path helpers. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

/* ---- reading ------------------------------------------------------------------ */

ot_status ot_file_view_open(const char *path, ot_file_view *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ot_error(OT_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ot_error(OT_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX / 2) {
        close(fd);
        return ot_error(OT_ERR_NOMEM, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    out->size = size;
    if (size == 0) {
        close(fd);
        out->data = (const uint8_t *)"";
        return OT_OK;
    }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
        close(fd);
        out->map = m;
        out->data = m;
        return OT_OK;
    }
    /* Not mappable (some network or special file systems): read it. */
    uint8_t *buf = ot_malloc(size);
    if (!buf) {
        close(fd);
        return ot_error(OT_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            ot_free(buf);
            return ot_error(OT_ERR_IO, "%s: read failed: %s", path, r < 0 ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    close(fd);
    out->heap = buf;
    out->data = buf;
    return OT_OK;
}

void ot_file_view_close(ot_file_view *v) {
    if (v->map) munmap(v->map, v->size);
    ot_free(v->heap);
    memset(v, 0, sizeof *v);
}

/* ---- paths ---------------------------------------------------------------------- */

char *ot_path_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return ot_strdup(".");
    if (slash == path) return ot_strdup("/");
    return ot_strndup(path, (size_t)(slash - path));
}

char *ot_path_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return ot_strdup(slash ? slash + 1 : path);
}

/* ---- atomic writes ------------------------------------------------------------------ */

ot_status ot_atomic_open(ot_atomic_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    size_t n = strlen(path) + 32;
    f->path = ot_strdup(path);
    f->tmp = ot_malloc(n);
    if (!f->path || !f->tmp) {
        ot_free(f->path);
        ot_free(f->tmp);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    /* O_EXCL: another thread of this process may be saving to the same path. */
    for (int k = 0; k < 64; k++) {
        if (k == 0) snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
        else snprintf(f->tmp, n, "%s.tmp.%ld.%d", path, (long)getpid(), k);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (f->fd >= 0 || errno != EEXIST) break;
    }
    if (f->fd < 0) {
        ot_status s = ot_error(OT_ERR_IO, "%s: cannot create: %s", f->tmp, strerror(errno));
        ot_free(f->path);
        ot_free(f->tmp);
        f->path = f->tmp = NULL;
        return s;
    }
    return OT_OK;
}

void ot_atomic_write(ot_atomic_file *f, const void *data, size_t n) {
    const uint8_t *p = data;
    while (n && !f->err) {
        ssize_t w = write(f->fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            f->err = ot_error(OT_ERR_IO, "%s: write failed: %s", f->tmp, w < 0 ? strerror(errno) : "no progress");
            return;
        }
        p += w;
        n -= (size_t)w;
        f->written += (uint64_t)w;
    }
}

void ot_atomic_pad_to(ot_atomic_file *f, uint64_t offset) {
    static const uint8_t zeros[4096];
    while (f->written < offset && !f->err) {
        uint64_t gap = offset - f->written;
        ot_atomic_write(f, zeros, gap > sizeof zeros ? sizeof zeros : (size_t)gap);
    }
}

ot_status ot_atomic_sync(ot_atomic_file *f) {
    if (f->err) return f->err;
    if (fsync(f->fd) != 0) return f->err = ot_error(OT_ERR_IO, "%s: fsync failed: %s", f->tmp, strerror(errno));
    if (close(f->fd) != 0) {
        f->fd = -1;
        return f->err = ot_error(OT_ERR_IO, "%s: close failed: %s", f->tmp, strerror(errno));
    }
    f->fd = -1;
    return OT_OK;
}

ot_status ot_atomic_rename(ot_atomic_file *f) {
    if (rename(f->tmp, f->path) != 0)
        return ot_error(OT_ERR_IO, "%s: cannot rename %s over it: %s", f->path, f->tmp, strerror(errno));
    /* The rename itself is durable only once the folder is synced. */
    char *dir = ot_path_dirname(f->path);
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd); /* best effort: some file systems refuse fsync on folders */
            close(dfd);
        }
        ot_free(dir);
    }
    ot_free(f->tmp);
    ot_free(f->path);
    f->tmp = f->path = NULL;
    return OT_OK;
}

void ot_atomic_abort(ot_atomic_file *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp) unlink(f->tmp);
    ot_free(f->tmp);
    ot_free(f->path);
    f->tmp = f->path = NULL;
}

ot_status ot_atomic_commit(ot_atomic_file *f) {
    ot_status s = ot_atomic_sync(f);
    if (!s) s = ot_atomic_rename(f);
    if (s) ot_atomic_abort(f);
    return s;
}
