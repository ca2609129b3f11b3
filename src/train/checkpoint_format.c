/* checkpoint.json (JSON out and in) and tensors-*.npz (a stored zip of .npy
 * members) for checkpoint.c.  The JSON reader is strict and bounded: the
 * file may be damaged, and a damaged file must be an error, never a crash. */
#include "checkpoint_format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "../core/shape.h"
#include "../core/status.h"
#include "../data/npy.h"

/* ---- JSON out ------------------------------------------------------------------ */

static bool jbuf_reserve(ot_jbuf *b, size_t more) {
    if (b->oom) return false;
    if (b->n + more + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) {
        if (cap > SIZE_MAX / 2) return !(b->oom = true);
        cap *= 2;
    }
    char *s = ot_realloc(b->s, cap);
    if (!s) return !(b->oom = true);
    b->s = s;
    b->cap = cap;
    return true;
}

void ot_jbuf_printf(ot_jbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0) {
        b->oom = true;
        return;
    }
    if (!jbuf_reserve(b, (size_t)len)) return;
    if ((size_t)len < sizeof small) {
        memcpy(b->s + b->n, small, (size_t)len + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->s + b->n, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    b->n += (size_t)len;
}

void ot_jbuf_str(ot_jbuf *b, const char *s) {
    ot_jbuf_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') ot_jbuf_printf(b, "\\%c", *p);
        else if (*p == '\n') ot_jbuf_printf(b, "\\n");
        else if (*p == '\t') ot_jbuf_printf(b, "\\t");
        else if (*p == '\r') ot_jbuf_printf(b, "\\r");
        else if (*p < 0x20) ot_jbuf_printf(b, "\\u%04x", *p);
        else if (jbuf_reserve(b, 1)) {
            b->s[b->n++] = (char)*p;
            b->s[b->n] = 0;
        }
    }
    ot_jbuf_printf(b, "\"");
}

ot_status ot_jbuf_status(const ot_jbuf *b) {
    return b->oom ? ot_error(OT_ERR_NOMEM, "out of memory writing a checkpoint description") : OT_OK;
}

void ot_jbuf_free(ot_jbuf *b) {
    ot_free(b->s);
    memset(b, 0, sizeof *b);
}

/* ---- JSON in ------------------------------------------------------------------- */

#define JSON_MAX_DEPTH 32

typedef struct jparser {
    const char *s;
    size_t n, pos;
    const char *what;
} jparser;

static ot_status jerr(const jparser *p, const char *why) {
    return ot_error(OT_ERR_PARSE, "%s: invalid JSON at byte %zu: %s", p->what, p->pos, why);
}

static void jws(jparser *p) {
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool jlit(jparser *p, const char *w) {
    size_t k = strlen(w);
    if (p->n - p->pos < k || memcmp(p->s + p->pos, w, k)) return false;
    p->pos += k;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_u4(jparser *p, unsigned *u) {
    if (p->n - p->pos < 4) return false;
    *u = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->pos + (size_t)k]);
        if (h < 0) return false;
        *u = *u << 4 | (unsigned)h;
    }
    p->pos += 4;
    return true;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[2] = (char)(0x80 | (cp & 0x3f)), 3;
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string literal (p at the opening quote); the decoded bytes are never
   longer than the literal, which sizes the buffer. */
static ot_status jstring(jparser *p, char **out, size_t *len) {
    size_t start = ++p->pos, end = start;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return jerr(p, "unterminated string");
    char *o = ot_malloc(end - start + 1);
    if (!o) return ot_error(OT_ERR_NOMEM, "out of memory");
    size_t k = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) {
            ot_free(o);
            return jerr(p, "control character in a string");
        }
        if (c != '\\') {
            o[k++] = (char)c;
            continue;
        }
        char e = p->s[p->pos++];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            o[k++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned u, lo;
        if (e != 'u' || !read_u4(p, &u)) {
            ot_free(o);
            return jerr(p, "bad escape in a string");
        }
        if (u >= 0xd800 && u < 0xdc00) { /* a surrogate pair */
            if (!jlit(p, "\\u") || !read_u4(p, &lo) || lo < 0xdc00 || lo >= 0xe000) {
                ot_free(o);
                return jerr(p, "unpaired surrogate in a string");
            }
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        } else if (u >= 0xdc00 && u < 0xe000) {
            ot_free(o);
            return jerr(p, "unpaired surrogate in a string");
        }
        if (u == 0) {
            ot_free(o);
            return jerr(p, "NUL character in a string");
        }
        k += put_utf8(o + k, u);
    }
    p->pos = end + 1;
    o[k] = 0;
    *out = o;
    *len = k;
    return OT_OK;
}

static ot_status jnumber(jparser *p, ot_json *j) {
    size_t start = p->pos;
    if (p->pos < p->n && p->s[p->pos] == '-') p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == digits || (p->s[digits] == '0' && p->pos - digits > 1)) return jerr(p, "malformed number");
    if (p->pos < p->n && p->s[p->pos] == '.') {
        size_t f = ++p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == f) return jerr(p, "malformed number");
    }
    if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        size_t e = p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == e) return jerr(p, "malformed number");
    }
    j->kind = OT_JSON_NUMBER;
    j->text = ot_strndup(p->s + start, p->pos - start);
    return j->text ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
}

static void json_clear(ot_json *j) {
    ot_free(j->text);
    for (int i = 0; i < j->n; i++) {
        json_clear(&j->items[i]);
        if (j->keys) ot_free(j->keys[i]);
    }
    ot_free(j->items);
    ot_free(j->keys);
    memset(j, 0, sizeof *j);
}

static ot_status jvalue(jparser *p, ot_json *j, int depth);

/* Arrays and objects: members appended one by one, growing the arrays. */
static ot_status jcontainer(jparser *p, ot_json *j, int depth, bool object) {
    j->kind = object ? OT_JSON_OBJECT : OT_JSON_ARRAY;
    char close = object ? '}' : ']';
    p->pos++;
    jws(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        return OT_OK;
    }
    int cap = 0, kcap = 0;
    for (;;) {
        jws(p);
        char *key = NULL;
        if (object) {
            size_t klen;
            if (p->pos >= p->n || p->s[p->pos] != '"') return jerr(p, "expected a string key");
            OT_TRY(jstring(p, &key, &klen));
            jws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                ot_free(key);
                return jerr(p, "expected ':'");
            }
            p->pos++;
        }
        if (ot_grow((void **)&j->items, &cap, j->n + 1, sizeof *j->items) ||
            (object && ot_grow((void **)&j->keys, &kcap, j->n + 1, sizeof *j->keys))) {
            ot_free(key);
            return ot_error(OT_ERR_NOMEM, "out of memory");
        }
        memset(&j->items[j->n], 0, sizeof *j->items);
        if (object) j->keys[j->n] = key;
        j->n++; /* counted now, so that json_clear frees a half-parsed member */
        OT_TRY(jvalue(p, &j->items[j->n - 1], depth + 1));
        jws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == close) {
            p->pos++;
            return OT_OK;
        }
        return jerr(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static ot_status jvalue(jparser *p, ot_json *j, int depth) {
    if (depth > JSON_MAX_DEPTH) return jerr(p, "nested too deeply");
    jws(p);
    if (p->pos >= p->n) return jerr(p, "unexpected end of the text");
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return jcontainer(p, j, depth, c == '{');
    if (c == '"') {
        j->kind = OT_JSON_STRING;
        return jstring(p, &j->text, &j->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return jnumber(p, j);
    if (jlit(p, "true") || jlit(p, "false")) {
        j->kind = OT_JSON_BOOL;
        j->b = c == 't';
        return OT_OK;
    }
    if (jlit(p, "null")) {
        j->kind = OT_JSON_NULL;
        return OT_OK;
    }
    return jerr(p, "unexpected character");
}

ot_status ot_json_parse(const char *text, size_t n, const char *what, ot_json **out) {
    jparser p = {text, n, 0, what};
    ot_json *j = ot_calloc(1, sizeof *j);
    if (!j) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = jvalue(&p, j, 0);
    if (!s) {
        jws(&p);
        if (p.pos != p.n) s = jerr(&p, "text after the end of the document");
    }
    if (s) {
        ot_json_free(j);
        return s;
    }
    *out = j;
    return OT_OK;
}

void ot_json_free(ot_json *j) {
    if (!j) return;
    json_clear(j);
    ot_free(j);
}

const ot_json *ot_json_get(const ot_json *j, const char *key) {
    if (!j || j->kind != OT_JSON_OBJECT) return NULL;
    for (int i = 0; i < j->n; i++)
        if (!strcmp(j->keys[i], key)) return &j->items[i];
    return NULL;
}

bool ot_json_int64(const ot_json *j, int64_t *out) {
    if (!j || j->kind != OT_JSON_NUMBER || strpbrk(j->text, ".eE")) return false;
    errno = 0;
    char *end;
    long long v = strtoll(j->text, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool ot_json_uint64(const ot_json *j, uint64_t *out) {
    if (!j || j->kind != OT_JSON_NUMBER || strpbrk(j->text, ".eE-")) return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(j->text, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

const char *ot_json_string(const ot_json *j) { return j && j->kind == OT_JSON_STRING ? j->text : NULL; }

/* ---- .npz out ------------------------------------------------------------------- */

uint32_t ot_crc32(const void *data, size_t n) { return (uint32_t)crc32_z(crc32_z(0, NULL, 0), data, n); }

typedef struct npz_out_entry {
    char *name; /* with ".npy" */
    uint32_t crc;
    uint64_t size, offset;
    bool utf8;
} npz_out_entry;

struct ot_npz_writer {
    ot_atomic_file f;
    uint64_t zip64_at;
    int n, cap;
    npz_out_entry *e;
};

#define DOS_DATE_1980 0x21 /* 1980-01-01: a fixed stamp keeps archives reproducible */

static void put16(uint8_t *p, uint64_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint64_t v) { put16(p, v), put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v), put32(p + 4, v >> 32); }

ot_status ot_npz_writer_open(const char *path, uint64_t zip64_threshold, ot_npz_writer **out) {
    ot_npz_writer *w = ot_calloc(1, sizeof *w);
    if (!w) return ot_error(OT_ERR_NOMEM, "out of memory");
    w->zip64_at = zip64_threshold < OT_NPZ_ZIP64_LIMIT ? zip64_threshold : OT_NPZ_ZIP64_LIMIT;
    ot_status s = ot_atomic_open(&w->f, path);
    if (s) {
        ot_free(w);
        return s;
    }
    *out = w;
    return OT_OK;
}

/* bfloat16 is stored as its raw uint16 bits (numpy has no bfloat16). */
static ot_status npy_header(const ot_tensor *t, char *buf, size_t cap, size_t *n) {
    const char *descr = ot_npy_descr(t->dtype == OT_BFLOAT16 ? OT_UINT16 : t->dtype);
    if (!descr) return ot_error(OT_ERR_UNSUPPORTED, "a %s tensor cannot be stored in a checkpoint", ot_dtype_name(t->dtype));
    return ot_npy_header(descr, t->rank, t->dims, buf, cap, n);
}

ot_status ot_npz_writer_add(ot_npz_writer *w, const char *name, const ot_tensor *t, uint32_t *data_crc) {
    char head[1024];
    size_t hn, bytes;
    OT_TRY(npy_header(t, head, sizeof head, &hn));
    OT_TRY(ot_shape_bytes(t->rank, t->dims, ot_dtype_size(t->dtype), &bytes));
    size_t nlen = strlen(name) + 4;
    if (nlen > 65535) return ot_error(OT_ERR_UNSUPPORTED, "checkpoint entry name too long (%zu bytes)", nlen);
    if (ot_grow((void **)&w->e, &w->cap, w->n + 1, sizeof *w->e)) return ot_error(OT_ERR_NOMEM, "out of memory");
    npz_out_entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = ot_malloc(nlen + 1))) return ot_error(OT_ERR_NOMEM, "out of memory");
    snprintf(e->name, nlen + 1, "%s.npy", name);
    w->n++;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) e->utf8 |= *c >= 0x80;
    uint32_t dcrc = bytes ? ot_crc32(t->data, bytes) : ot_crc32(NULL, 0);
    e->crc = (uint32_t)crc32_combine(ot_crc32(head, hn), dcrc, (z_off_t)bytes);
    e->size = hn + bytes;
    e->offset = w->f.written;
    bool z64 = e->size >= w->zip64_at;
    uint8_t lh[30 + 20];
    put32(lh, 0x04034b50u);
    put16(lh + 4, z64 ? 45 : 20);
    put16(lh + 6, e->utf8 ? 1u << 11 : 0);
    put16(lh + 8, 0);  /* stored */
    put16(lh + 10, 0); /* time */
    put16(lh + 12, DOS_DATE_1980);
    put32(lh + 14, e->crc);
    put32(lh + 18, z64 ? 0xffffffffu : e->size);
    put32(lh + 22, z64 ? 0xffffffffu : e->size);
    put16(lh + 26, nlen);
    put16(lh + 28, z64 ? 20 : 0);
    ot_atomic_write(&w->f, lh, 30);
    ot_atomic_write(&w->f, e->name, nlen);
    if (z64) { /* ZIP64 extra: both sizes */
        put16(lh + 30, 1), put16(lh + 32, 16), put64(lh + 34, e->size), put64(lh + 42, e->size);
        ot_atomic_write(&w->f, lh + 30, 20);
    }
    ot_atomic_write(&w->f, head, hn);
    if (bytes) ot_atomic_write(&w->f, t->data, bytes);
    if (data_crc) *data_crc = dcrc;
    return w->f.err;
}

static void writer_free(ot_npz_writer *w) {
    for (int i = 0; i < w->n; i++) ot_free(w->e[i].name);
    ot_free(w->e);
    ot_free(w);
}

void ot_npz_writer_abort(ot_npz_writer *w) {
    if (!w) return;
    ot_atomic_abort(&w->f);
    writer_free(w);
}

ot_status ot_npz_writer_commit(ot_npz_writer *w) {
    uint64_t cd_off = w->f.written;
    for (int i = 0; i < w->n; i++) {
        const npz_out_entry *e = &w->e[i];
        bool zs = e->size >= w->zip64_at, zo = e->offset >= w->zip64_at;
        size_t nlen = strlen(e->name), xlen = (zs ? 16u : 0u) + (zo ? 8u : 0u);
        uint8_t ch[46 + 28];
        memset(ch, 0, sizeof ch);
        put32(ch, 0x02014b50u);
        put16(ch + 4, 3u << 8 | 45); /* made by: unix, zip 4.5 */
        put16(ch + 6, zs || zo ? 45 : 20);
        put16(ch + 8, e->utf8 ? 1u << 11 : 0);
        put16(ch + 12, 0);
        put16(ch + 14, DOS_DATE_1980);
        put32(ch + 16, e->crc);
        put32(ch + 20, zs ? 0xffffffffu : e->size);
        put32(ch + 24, zs ? 0xffffffffu : e->size);
        put16(ch + 28, nlen);
        put16(ch + 30, xlen ? xlen + 4 : 0);
        put32(ch + 38, 0100644u << 16); /* external attributes: a regular file, rw-r--r-- */
        put32(ch + 42, zo ? 0xffffffffu : e->offset);
        ot_atomic_write(&w->f, ch, 46);
        ot_atomic_write(&w->f, e->name, nlen);
        if (xlen) { /* the saturated fields, in the order usize, csize, offset */
            uint8_t *x = ch + 46;
            put16(x, 1), put16(x + 2, xlen);
            size_t k = 4;
            if (zs) put64(x + k, e->size), put64(x + k + 8, e->size), k += 16;
            if (zo) put64(x + k, e->offset), k += 8;
            ot_atomic_write(&w->f, x, k);
        }
    }
    uint64_t cd_size = w->f.written - cd_off, count = (uint64_t)w->n;
    bool z64 = count >= 0xffff || cd_size >= w->zip64_at || cd_off >= w->zip64_at;
    uint8_t end[56 + 20 + 22];
    size_t k = 0;
    if (z64) {
        uint64_t at = w->f.written;
        put32(end, 0x06064b50u), put64(end + 4, 44), put16(end + 12, 3u << 8 | 45), put16(end + 14, 45);
        put32(end + 16, 0), put32(end + 20, 0), put64(end + 24, count), put64(end + 32, count);
        put64(end + 40, cd_size), put64(end + 48, cd_off);
        put32(end + 56, 0x07064b50u), put32(end + 60, 0), put64(end + 64, at), put32(end + 72, 1);
        k = 76;
    }
    put32(end + k, 0x06054b50u), put16(end + k + 4, 0), put16(end + k + 6, 0);
    put16(end + k + 8, z64 ? 0xffff : count), put16(end + k + 10, z64 ? 0xffff : count);
    put32(end + k + 12, z64 ? 0xffffffffu : cd_size), put32(end + k + 16, z64 ? 0xffffffffu : cd_off);
    put16(end + k + 20, 0);
    ot_atomic_write(&w->f, end, k + 22);
    ot_status s = ot_atomic_commit(&w->f);
    writer_free(w);
    return s;
}
