/* IDX reader (raw or .gz through zlib's gz* API, which passes raw files through). */
#include "idx.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../core/alloc.h"
#include "../core/shape.h"
#include "../core/status.h"

static ot_status idx_dtype(int code, const char *path, ot_dtype *dt) {
    switch (code) {
    case 0x08: *dt = OT_UINT8; return OT_OK;
    case 0x09: *dt = OT_INT8; return OT_OK;
    case 0x0B: *dt = OT_INT16; return OT_OK;
    case 0x0C: *dt = OT_INT32; return OT_OK;
    case 0x0D: *dt = OT_FLOAT; return OT_OK;
    case 0x0E: *dt = OT_DOUBLE; return OT_OK;
    default:
        return ot_error(OT_ERR_PARSE, "%s: unknown IDX element type 0x%02X (expected 08, 09, 0B, 0C, 0D or 0E)", path,
                        code);
    }
}

/* Reads up to n bytes; *got is what arrived.  A gzip stream that ends early is
   a short read, not an error, so truncation is reported uniformly. */
static ot_status gz_read_full(gzFile gz, const char *path, void *buf, size_t n, size_t *got) {
    size_t total = 0;
    while (total < n) {
        size_t want = n - total > (1u << 30) ? (1u << 30) : n - total;
        int r = gzread(gz, (char *)buf + total, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            if (zerr == Z_BUF_ERROR) break; /* "unexpected end of file" */
            return ot_error(zerr == Z_ERRNO ? OT_ERR_IO : OT_ERR_PARSE, "%s: %s (%s)", path,
                            zerr == Z_ERRNO ? "read error" : "corrupt gzip data",
                            zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (r == 0) break;
        total += (size_t)r;
    }
    *got = total;
    return OT_OK;
}

static void swap_big_endian(void *data, size_t count, size_t es) {
    const uint16_t one = 1;
    if (es == 1 || *(const uint8_t *)&one == 0) return; /* bytes, or a big-endian host */
    uint8_t *p = data;
    for (size_t i = 0; i < count; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

static ot_status idx_read_gz(gzFile gz, const char *path, uint64_t raw_size, ot_tensor **out) {
    uint8_t head[4 + 4 * 255];
    size_t got;
    OT_TRY(gz_read_full(gz, path, head, 4, &got));
    if (got < 4 || head[0] != 0 || head[1] != 0)
        return ot_error(OT_ERR_PARSE, "%s: not an IDX file (it must start with two zero bytes, a type and a rank)", path);
    ot_dtype dt = OT_UNDEFINED;
    OT_TRY(idx_dtype(head[2], path, &dt));
    int rank = head[3];
    if (rank > OT_MAX_RANK)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: IDX arrays of rank %d are not supported (at most %d)", path, rank,
                        OT_MAX_RANK);
    OT_TRY(gz_read_full(gz, path, head + 4, 4 * (size_t)rank, &got));
    if (got < 4 * (size_t)rank) return ot_error(OT_ERR_PARSE, "%s: truncated IDX header", path);
    int64_t dims[OT_MAX_RANK];
    for (int d = 0; d < rank; d++) {
        const uint8_t *p = head + 4 + 4 * d;
        dims[d] = (int64_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    }
    size_t es = ot_dtype_size(dt), bytes;
    char shape[160];
    ot_shape_str(rank, dims, shape, sizeof shape);
    if (ot_shape_bytes(rank, dims, es, &bytes) != OT_OK)
        return ot_error(OT_ERR_PARSE, "%s: IDX shape %s is too large (corrupt header?)", path, shape);
    const uint64_t header = 4 + 4 * (uint64_t)rank;
    /* A raw file's size is known: refuse a truncated one before allocating. */
    if (gzdirect(gz) && raw_size != UINT64_MAX && raw_size - header < bytes)
        return ot_error(OT_ERR_PARSE, "%s: truncated: IDX %s array %s needs %zu bytes of data, the file holds %llu",
                        path, ot_dtype_name(dt), shape, bytes, (unsigned long long)(raw_size - header));
    ot_tensor *t;
    OT_TRY(ot_tensor_new(dt, rank, dims, &t));
    ot_status s = gz_read_full(gz, path, t->data, bytes, &got);
    if (!s && got < bytes)
        s = ot_error(OT_ERR_PARSE, "%s: truncated: IDX %s array %s needs %zu bytes of data, only %zu present", path,
                     ot_dtype_name(dt), shape, bytes, got);
    if (s) {
        ot_tensor_free(t);
        return s;
    }
    swap_big_endian(t->data, bytes / es, es);
    *out = t;
    return OT_OK;
}

ot_status ot_idx_read(const char *path, ot_tensor **out) {
    if (!path || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_idx_read: NULL argument");
    struct stat st;
    if (stat(path, &st) != 0) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ot_error(OT_ERR_IO, "%s: is a directory", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(gz, 1u << 18);
    ot_status s = idx_read_gz(gz, path, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX, out);
    gzclose(gz);
    return s;
}
