/* NumPy .npy reader and writer.
 *
 * Layout (numpy/lib/format.py): "\x93NUMPY", major, minor, header length
 * (uint16 LE for 1.0, uint32 LE for 2.0/3.0), then a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with
 * spaces and a newline, then the raw array bytes. */
#include "npy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "../core/fileio.h"
#include "../core/shape.h"
#include "../core/status.h"

/* numpy refuses headers over 10000 bytes by default; we allow more but bound
   what a corrupt length field can make us allocate. */
#define OT_NPY_MAX_HEADER (1u << 20)

static bool host_big_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 0;
}

/* ---- header dict parser ------------------------------------------------------- */

typedef struct npy_header {
    ot_dtype dtype;
    bool fortran;
    bool swap; /* stored byte order differs from the host's */
    int rank;
    int64_t dims[OT_MAX_RANK];
} npy_header;

typedef struct hparser {
    const char *p, *end, *start;
    const char *what;
} hparser;

static ot_status hp_error(const hparser *h, const char *expected) {
    return ot_error(OT_ERR_PARSE, "%s: malformed .npy header: expected %s at header offset %ld", h->what, expected,
                    (long)(h->p - h->start));
}

static void hp_ws(hparser *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) h->p++;
}

static bool hp_eat(hparser *h, char c) {
    hp_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

/* A quoted string without escapes into buf (NUL-terminated). */
static ot_status hp_string(hparser *h, char *buf, size_t cap) {
    hp_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return hp_error(h, "a quoted string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || n + 1 >= cap) return hp_error(h, "a short string without escapes");
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end) return hp_error(h, "a closing quote");
    h->p++;
    buf[n] = 0;
    return OT_OK;
}

static bool hp_word(hparser *h, const char *w) {
    hp_ws(h);
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) >= n && !memcmp(h->p, w, n)) {
        h->p += n;
        return true;
    }
    return false;
}

/* A non-negative integer (Python 2 headers may append 'L'). */
static ot_status hp_int(hparser *h, int64_t *v) {
    hp_ws(h);
    if (h->p >= h->end || *h->p < '0' || *h->p > '9') return hp_error(h, "a non-negative integer");
    int64_t x = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (x > (INT64_MAX - 9) / 10) return hp_error(h, "a dimension that fits in 63 bits");
        x = x * 10 + (*h->p++ - '0');
    }
    if (h->p < h->end && *h->p == 'L') h->p++;
    *v = x;
    return OT_OK;
}

static ot_status hp_shape(hparser *h, npy_header *hd) {
    if (!hp_eat(h, '(')) return hp_error(h, "a shape tuple");
    hd->rank = 0;
    if (hp_eat(h, ')')) return OT_OK;
    for (;;) {
        if (hd->rank == OT_MAX_RANK)
            return ot_error(OT_ERR_UNSUPPORTED, "%s: arrays of more than %d dimensions are not supported", h->what,
                            OT_MAX_RANK);
        OT_TRY(hp_int(h, &hd->dims[hd->rank]));
        hd->rank++;
        bool comma = hp_eat(h, ',');
        if (hp_eat(h, ')')) return OT_OK;
        if (!comma) return hp_error(h, "',' or ')' in the shape");
    }
}

/* Skips the value of a key we do not use (numpy writes none, but tolerate). */
static ot_status hp_skip_value(hparser *h) {
    char tmp[256];
    hp_ws(h);
    if (h->p < h->end && (*h->p == '\'' || *h->p == '"')) return hp_string(h, tmp, sizeof tmp);
    int depth = 0;
    while (h->p < h->end) {
        char c = *h->p;
        if (c == '(' || c == '[' || c == '{') depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth) depth--;
        else if ((c == ',' || c == '}') && !depth) return OT_OK;
        else if (c == '\'' || c == '"') {
            OT_TRY(hp_string(h, tmp, sizeof tmp));
            continue;
        }
        h->p++;
    }
    return hp_error(h, "the end of a value");
}

static ot_status parse_descr(const char *d, const char *what, npy_header *hd) {
    char order = '=';
    const char *t = d;
    if (*t == '<' || *t == '>' || *t == '|' || *t == '=') order = *t++;
    static const struct {
        const char *code;
        ot_dtype dt;
    } map[] = {{"f2", OT_FLOAT16}, {"f4", OT_FLOAT}, {"f8", OT_DOUBLE}, {"i1", OT_INT8},  {"i2", OT_INT16},
               {"i4", OT_INT32},   {"i8", OT_INT64}, {"u1", OT_UINT8},  {"u2", OT_UINT16}, {"u4", OT_UINT32},
               {"u8", OT_UINT64},  {"b1", OT_BOOL},  {"?", OT_BOOL},    {"c8", OT_COMPLEX64}, {"c16", OT_COMPLEX128}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(t, map[i].code)) continue;
        hd->dtype = map[i].dt;
        bool file_big = order == '>' || (order == '=' && host_big_endian());
        hd->swap = ot_dtype_size(hd->dtype) > 1 && file_big != host_big_endian();
        return OT_OK;
    }
    return ot_error(OT_ERR_UNSUPPORTED,
                    "%s: .npy element type '%s' is not supported (supported: float16/32/64, int8..64, uint8..64, "
                    "bool, complex64/128)",
                    what, d);
}

static ot_status parse_header(const char *text, size_t n, const char *what, npy_header *hd) {
    hparser h = {text, text + n, text, what};
    bool seen_descr = false, seen_order = false, seen_shape = false;
    memset(hd, 0, sizeof *hd);
    if (!hp_eat(&h, '{')) return hp_error(&h, "'{'");
    while (!hp_eat(&h, '}')) {
        char key[64], val[64];
        OT_TRY(hp_string(&h, key, sizeof key));
        if (!hp_eat(&h, ':')) return hp_error(&h, "':'");
        if (!strcmp(key, "descr")) {
            hp_ws(&h);
            if (h.p < h.end && *h.p == '[')
                return ot_error(OT_ERR_UNSUPPORTED, "%s: structured (record) arrays are not supported", what);
            OT_TRY(hp_string(&h, val, sizeof val));
            OT_TRY(parse_descr(val, what, hd));
            seen_descr = true;
        } else if (!strcmp(key, "fortran_order")) {
            if (hp_word(&h, "True")) hd->fortran = true;
            else if (hp_word(&h, "False")) hd->fortran = false;
            else return hp_error(&h, "True or False");
            seen_order = true;
        } else if (!strcmp(key, "shape")) {
            OT_TRY(hp_shape(&h, hd));
            seen_shape = true;
        } else {
            OT_TRY(hp_skip_value(&h));
        }
        if (!hp_eat(&h, ',')) {
            if (!hp_eat(&h, '}')) return hp_error(&h, "',' or '}'");
            break;
        }
    }
    hp_ws(&h);
    while (h.p < h.end && *h.p == 0) h.p++; /* some writers pad with NULs */
    if (h.p != h.end) return hp_error(&h, "only padding after the dict");
    if (!seen_descr || !seen_order || !seen_shape)
        return ot_error(OT_ERR_PARSE, "%s: .npy header lacks '%s'", what,
                        !seen_descr ? "descr" : !seen_order ? "fortran_order" : "shape");
    return OT_OK;
}

/* ---- reading ------------------------------------------------------------------- */

/* Reads exactly n bytes; *got says how many arrived before the source ended. */
static ot_status src_read_full(ot_byte_source *src, void *buf, size_t n, size_t *got) {
    size_t total = 0;
    ot_status err = OT_OK;
    while (total < n) {
        size_t r = src->read(src->ctx, (char *)buf + total, n - total, &err);
        if (err) return err;
        if (r == 0) break;
        total += r;
    }
    *got = total;
    return OT_OK;
}

static void swap_bytes(void *data, size_t count, size_t esize, size_t unit) {
    /* complex numbers swap each component (unit) separately */
    uint8_t *p = data;
    size_t units = count * (esize / unit);
    for (size_t i = 0; i < units; i++, p += unit)
        for (size_t a = 0, b = unit - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Fortran (column-major) -> C (row-major) order. */
static ot_status fortran_to_c(ot_tensor *t) {
    size_t es = ot_dtype_size(t->dtype), bytes = ot_tensor_nbytes(t);
    int64_t n = ot_tensor_numel(t);
    if (t->rank < 2 || n == 0) return OT_OK;
    uint8_t *dst = ot_malloc(bytes);
    if (!dst) return ot_error(OT_ERR_NOMEM, "out of memory transposing a Fortran-ordered array (%zu bytes)", bytes);
    int64_t fs[OT_MAX_RANK], coord[OT_MAX_RANK] = {0}, f = 0;
    fs[0] = 1;
    for (int d = 1; d < t->rank; d++) fs[d] = fs[d - 1] * t->dims[d - 1];
    const uint8_t *src = t->data;
    for (int64_t p = 0; p < n; p++) {
        memcpy(dst + (size_t)p * es, src + (size_t)f * es, es);
        for (int d = t->rank - 1; d >= 0; d--) { /* C-order odometer, tracking the Fortran offset */
            f += fs[d];
            if (++coord[d] < t->dims[d]) break;
            f -= fs[d] * coord[d];
            coord[d] = 0;
        }
    }
    ot_free(t->data);
    t->data = dst;
    return OT_OK;
}

ot_status ot_npy_read_source(ot_byte_source *src, const char *what, ot_tensor **out) {
    uint8_t pre[12];
    size_t got;
    OT_TRY(src_read_full(src, pre, 10, &got));
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6))
        return ot_error(OT_ERR_PARSE, "%s: not a .npy file (no \\x93NUMPY magic)", what);
    uint32_t hlen;
    size_t pre_len = 10;
    if (pre[6] == 1) {
        hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        OT_TRY(src_read_full(src, pre + 10, 2, &got));
        if (got < 2) return ot_error(OT_ERR_PARSE, "%s: truncated .npy header", what);
        hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
        pre_len = 12;
    } else {
        return ot_error(OT_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0)", what,
                        pre[6], pre[7]);
    }
    if (hlen > OT_NPY_MAX_HEADER)
        return ot_error(OT_ERR_PARSE, "%s: .npy header length %u is implausible (corrupt file?)", what, hlen);
    if (src->size != UINT64_MAX && src->size < pre_len + hlen)
        return ot_error(OT_ERR_PARSE, "%s: truncated .npy header: %u bytes expected, the file has %llu in all", what,
                        hlen, (unsigned long long)src->size);
    char *text = ot_malloc(hlen + 1);
    if (!text) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = src_read_full(src, text, hlen, &got);
    if (!s && got < hlen) s = ot_error(OT_ERR_PARSE, "%s: truncated .npy header (%zu of %u bytes)", what, got, hlen);
    npy_header hd;
    if (!s) s = parse_header(text, hlen, what, &hd);
    ot_free(text);
    if (s) return s;

    size_t es = ot_dtype_size(hd.dtype), bytes;
    if (ot_shape_bytes(hd.rank, hd.dims, es, &bytes) != OT_OK)
        return ot_error_context(OT_ERR_PARSE, "%s: shape in the .npy header", what);
    char shape[160];
    ot_shape_str(hd.rank, hd.dims, shape, sizeof shape);
    uint64_t avail = src->size == UINT64_MAX ? UINT64_MAX : src->size - pre_len - hlen;
    if (avail < bytes)
        return ot_error(OT_ERR_PARSE, "%s: truncated: shape %s of %s needs %zu bytes of data, only %llu follow the header",
                        what, shape, ot_dtype_name(hd.dtype), bytes, (unsigned long long)avail);
    ot_tensor *t;
    OT_TRY(ot_tensor_new(hd.dtype, hd.rank, hd.dims, &t));
    s = src_read_full(src, t->data, bytes, &got);
    if (!s && got < bytes)
        s = ot_error(OT_ERR_PARSE, "%s: truncated: shape %s of %s needs %zu bytes of data, only %zu follow the header",
                     what, shape, ot_dtype_name(hd.dtype), bytes, got);
    if (!s && hd.swap) {
        size_t unit = (hd.dtype == OT_COMPLEX64 || hd.dtype == OT_COMPLEX128) ? es / 2 : es;
        swap_bytes(t->data, bytes / es, es, unit);
    }
    if (!s && hd.dtype == OT_BOOL) { /* kernels rely on bools being exactly 0 or 1 */
        uint8_t *b = t->data;
        for (size_t i = 0; i < bytes; i++) b[i] = b[i] != 0;
    }
    if (!s && hd.fortran) s = fortran_to_c(t);
    if (s) {
        ot_tensor_free(t);
        return s;
    }
    *out = t;
    return OT_OK;
}

typedef struct file_ctx {
    FILE *f;
    const char *path;
} file_ctx;

static size_t file_read(void *ctx, void *buf, size_t n, ot_status *err) {
    file_ctx *c = ctx;
    size_t r = fread(buf, 1, n, c->f);
    if (r == 0 && ferror(c->f)) *err = ot_error(OT_ERR_IO, "%s: read error: %s", c->path, strerror(errno));
    return r;
}

ot_status ot_npy_read(const char *path, ot_tensor **out) {
    if (!path || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_npy_read: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    file_ctx ctx = {f, path};
    ot_byte_source src = {file_read, &ctx, UINT64_MAX};
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) src.size = (uint64_t)st.st_size;
    ot_status s = ot_npy_read_source(&src, path, out);
    fclose(f);
    return s;
}

typedef struct mem_ctx {
    const uint8_t *p;
    size_t left;
} mem_ctx;

static size_t mem_read(void *ctx, void *buf, size_t n, ot_status *err) {
    mem_ctx *m = ctx;
    (void)err;
    if (n > m->left) n = m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return n;
}

ot_status ot_npy_read_buffer(const void *buf, size_t n, const char *what, ot_tensor **out) {
    if ((!buf && n) || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_npy_read_buffer: NULL argument");
    mem_ctx m = {buf, n};
    ot_byte_source src = {mem_read, &m, n};
    return ot_npy_read_source(&src, what ? what : "(buffer)", out);
}

/* ---- writing ------------------------------------------------------------------- */

const char *ot_npy_descr(ot_dtype dt) {
    switch (dt) {
    case OT_FLOAT16: return "<f2";
    case OT_FLOAT: return "<f4";
    case OT_DOUBLE: return "<f8";
    case OT_INT8: return "|i1";
    case OT_INT16: return "<i2";
    case OT_INT32: return "<i4";
    case OT_INT64: return "<i8";
    case OT_UINT8: return "|u1";
    case OT_UINT16: return "<u2";
    case OT_UINT32: return "<u4";
    case OT_UINT64: return "<u8";
    case OT_BOOL: return "|b1";
    case OT_COMPLEX64: return "<c8";
    case OT_COMPLEX128: return "<c16";
    default: return NULL;
    }
}

ot_status ot_npy_header(const char *descr, int rank, const int64_t *dims, char *buf, size_t cap, size_t *n) {
    char shape[OT_MAX_RANK * 24 + 8];
    int len = snprintf(shape, sizeof shape, "(");
    for (int d = 0; d < rank; d++)
        len += snprintf(shape + len, sizeof shape - (size_t)len, "%s%lld", d ? ", " : "", (long long)dims[d]);
    snprintf(shape + len, sizeof shape - (size_t)len, rank == 1 ? ",)" : ")");
    char dict[sizeof shape + 96];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t pre = 10 + (size_t)dl + 1 > 65535 ? 12 : 10; /* 2.0 only if 1.0's uint16 length overflows */
    size_t total = (pre + (size_t)dl + 1 + 63) / 64 * 64;
    if (total > cap) return ot_error(OT_ERR_INTERNAL, "npy header buffer too small");
    size_t hlen = total - pre;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = pre == 10 ? 1 : 2;
    buf[7] = 0;
    for (size_t b = 0; b < pre - 8; b++) buf[8 + b] = (char)(hlen >> (8 * b));
    memcpy(buf + pre, dict, (size_t)dl);
    memset(buf + pre + dl, ' ', total - pre - (size_t)dl - 1);
    buf[total - 1] = '\n';
    *n = total;
    return OT_OK;
}

static ot_status npy_header_bytes(const ot_tensor *t, char *buf, size_t cap, size_t *n) {
    const char *descr = ot_npy_descr(t->dtype);
    if (!descr)
        return ot_error(OT_ERR_UNSUPPORTED, "tensor of type %s has no .npy representation%s", ot_dtype_name(t->dtype),
                        t->dtype == OT_BFLOAT16 ? " (convert bfloat16 to float32 first)" : "");
    return ot_npy_header(descr, t->rank, t->dims, buf, cap, n);
}

static ot_status check_writable(const ot_tensor *t) {
    if (!t) return ot_error(OT_ERR_INVALID_ARG, "NULL tensor");
    if (!t->data && ot_tensor_numel(t) > 0) return ot_error(OT_ERR_INVALID_ARG, "tensor has no data");
    if (host_big_endian() && ot_dtype_size(t->dtype) > 1)
        return ot_error(OT_ERR_UNSUPPORTED, "writing .npy on a big-endian host is not supported");
    return OT_OK;
}

ot_status ot_npy_encode(const ot_tensor *t, void **buf, size_t *n) {
    OT_TRY(check_writable(t));
    char head[1024];
    size_t hn, bytes;
    OT_TRY(npy_header_bytes(t, head, sizeof head, &hn));
    OT_TRY(ot_shape_bytes(t->rank, t->dims, ot_dtype_size(t->dtype), &bytes));
    uint8_t *b = ot_malloc(hn + bytes);
    if (!b) return ot_error(OT_ERR_NOMEM, "out of memory encoding a .npy of %zu bytes", hn + bytes);
    memcpy(b, head, hn);
    if (bytes) memcpy(b + hn, t->data, bytes);
    *buf = b;
    *n = hn + bytes;
    return OT_OK;
}

/* Atomic: a temporary file beside the target, fsync, rename over it. */
ot_status ot_tensor_save_npy(const ot_tensor *t, const char *path) {
    if (!path) return ot_error(OT_ERR_INVALID_ARG, "ot_tensor_save_npy: NULL path");
    OT_TRY(check_writable(t));
    char head[1024];
    size_t hn;
    OT_TRY(npy_header_bytes(t, head, sizeof head, &hn));
    ot_atomic_file f;
    OT_TRY(ot_atomic_open(&f, path));
    ot_atomic_write(&f, head, hn);
    ot_atomic_write(&f, t->data, ot_tensor_nbytes(t));
    return ot_atomic_commit(&f);
}
