/* .npz reader: zip central directory -> entries -> streamed .npy reads.
 *
 * Zip layout (PKWARE APPNOTE 6.3): local header + data per member, then the
 * central directory, then the end-of-central-directory record (EOCD, possibly
 * preceded by a ZIP64 EOCD record and locator).  Sizes and offsets come from
 * the central directory, which (unlike local headers written in streaming
 * mode) always holds them. */
#include "npz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../core/alloc.h"
#include "../core/status.h"
#include "npy.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_EOCD64_LOC 0x07064b50u

typedef struct npz_entry {
    char *name; /* without ".npy" */
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, local_off;
} npz_entry;

struct ot_npz {
    FILE *f;
    char *path;
    uint64_t size;
    int n;
    npz_entry *e;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static ot_status bad_zip(const ot_npz *z, const char *why) {
    return ot_error(OT_ERR_PARSE, "%s: not a valid .npz (zip) archive: %s", z->path, why);
}

/* Reads n bytes at offset; short reads are corruption (the offsets came from the file). */
static ot_status read_at(ot_npz *z, uint64_t off, void *buf, size_t n) {
    if (off > z->size || n > z->size - off) return bad_zip(z, "a record points past the end of the file");
    if (fseeko(z->f, (off_t)off, SEEK_SET) != 0)
        return ot_error(OT_ERR_IO, "%s: seek failed: %s", z->path, strerror(errno));
    if (fread(buf, 1, n, z->f) != n) return ot_error(OT_ERR_IO, "%s: read failed: %s", z->path, strerror(errno));
    return OT_OK;
}

/* Finds the EOCD and returns the central directory's offset, size and entry count. */
static ot_status find_directory(ot_npz *z, uint64_t *cd_off, uint64_t *cd_size, uint64_t *count) {
    uint8_t tail[22 + 65535 + 20];
    size_t tn = z->size < sizeof tail ? (size_t)z->size : sizeof tail;
    if (tn < 22) return bad_zip(z, "the file is too short");
    OT_TRY(read_at(z, z->size - tn, tail, tn));
    size_t pos = tn - 22;
    for (;;) { /* the EOCD ends the file, followed only by its comment */
        if (rd32(tail + pos) == SIG_EOCD && pos + 22 + rd16(tail + pos + 20) <= tn) break;
        if (pos == 0) return bad_zip(z, "no end-of-central-directory record");
        pos--;
    }
    const uint8_t *e = tail + pos;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0) return ot_error(OT_ERR_UNSUPPORTED, "%s: multi-part zip archives are not supported", z->path);
    *count = rd16(e + 10);
    *cd_size = rd32(e + 12);
    *cd_off = rd32(e + 16);
    uint64_t eocd_at = z->size - tn + pos, limit = eocd_at;
    if (pos >= 20 && rd32(e - 20) == SIG_EOCD64_LOC) {
        uint8_t r[56];
        uint64_t off64 = rd64(e - 20 + 8);
        OT_TRY(read_at(z, off64, r, sizeof r));
        if (rd32(r) != SIG_EOCD64) return bad_zip(z, "the ZIP64 locator points at no ZIP64 record");
        *count = rd64(r + 32);
        *cd_size = rd64(r + 40);
        *cd_off = rd64(r + 48);
        limit = off64;
    }
    if (*cd_off > limit || *cd_size > limit - *cd_off) return bad_zip(z, "the central directory lies outside the file");
    if (*count > *cd_size / 46) return bad_zip(z, "the entry count does not fit the central directory");
    return OT_OK;
}

/* ZIP64 extended information (extra field 0x0001) replaces saturated fields, in order. */
static ot_status apply_zip64(ot_npz *z, const uint8_t *x, size_t xn, npz_entry *en, uint32_t usize32, uint32_t csize32,
                             uint32_t off32) {
    while (xn >= 4) {
        uint16_t id = rd16(x), sz = rd16(x + 2);
        if ((size_t)sz + 4 > xn) return bad_zip(z, "an extra field overruns its entry");
        if (id == 0x0001) {
            const uint8_t *p = x + 4, *end = x + 4 + sz;
            uint64_t *fields[3] = {&en->usize, &en->csize, &en->local_off};
            bool saturated[3] = {usize32 == 0xffffffffu, csize32 == 0xffffffffu, off32 == 0xffffffffu};
            for (int k = 0; k < 3; k++) {
                if (!saturated[k]) continue;
                if (end - p < 8) return bad_zip(z, "a ZIP64 extra field is too short");
                *fields[k] = rd64(p);
                p += 8;
            }
        }
        x += 4 + sz;
        xn -= 4 + (size_t)sz;
    }
    return OT_OK;
}

static ot_status parse_directory(ot_npz *z, const uint8_t *cd, uint64_t cd_size, uint64_t count) {
    z->e = ot_calloc(count ? (size_t)count : 1, sizeof *z->e);
    if (!z->e) return ot_error(OT_ERR_NOMEM, "out of memory");
    uint64_t p = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (cd_size - p < 46 || rd32(cd + p) != SIG_CENTRAL) return bad_zip(z, "a central directory entry is malformed");
        const uint8_t *h = cd + p;
        uint16_t nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
        if (cd_size - p - 46 < (uint64_t)nlen + xlen + clen) return bad_zip(z, "a central directory entry overruns it");
        npz_entry en = {0};
        en.flags = rd16(h + 8);
        en.method = rd16(h + 10);
        en.crc = rd32(h + 16);
        en.csize = rd32(h + 20);
        en.usize = rd32(h + 24);
        en.local_off = rd32(h + 42);
        OT_TRY(apply_zip64(z, h + 46 + nlen, xlen, &en, rd32(h + 24), rd32(h + 20), rd32(h + 42)));
        p += 46 + (uint64_t)nlen + xlen + clen;
        const char *name = (const char *)h + 46;
        if (memchr(name, 0, nlen)) return bad_zip(z, "an entry name contains a NUL byte");
        if (nlen && name[nlen - 1] == '/') continue; /* a folder, not an array */
        size_t keep = nlen >= 4 && !memcmp(name + nlen - 4, ".npy", 4) ? nlen - 4u : nlen;
        en.name = ot_strndup(name, keep);
        if (!en.name) return ot_error(OT_ERR_NOMEM, "out of memory");
        z->e[z->n++] = en;
    }
    return OT_OK;
}

ot_status ot_npz_open(const char *path, ot_npz **out) {
    if (!path || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_npz_open: NULL argument");
    ot_npz *z = ot_calloc(1, sizeof *z);
    if (!z || !(z->path = ot_strdup(path))) {
        ot_free(z);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    ot_status s = OT_OK;
    struct stat st;
    z->f = fopen(path, "rb");
    if (!z->f) s = ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (fstat(fileno(z->f), &st) != 0 || !S_ISREG(st.st_mode))
        s = ot_error(OT_ERR_IO, "%s: not a regular file", path);
    else z->size = (uint64_t)st.st_size;
    uint64_t cd_off = 0, cd_size = 0, count = 0;
    if (!s) s = find_directory(z, &cd_off, &cd_size, &count);
    uint8_t *cd = NULL;
    if (!s && !(cd = ot_malloc(cd_size ? (size_t)cd_size : 1))) s = ot_error(OT_ERR_NOMEM, "out of memory");
    if (!s) s = read_at(z, cd_off, cd, (size_t)cd_size);
    if (!s) s = parse_directory(z, cd, cd_size, count);
    ot_free(cd);
    if (s) {
        ot_npz_close(z);
        return s;
    }
    *out = z;
    return OT_OK;
}

int ot_npz_count(const ot_npz *z) { return z ? z->n : 0; }

const char *ot_npz_name(const ot_npz *z, int i) { return z && i >= 0 && i < z->n ? z->e[i].name : NULL; }

int ot_npz_find(const ot_npz *z, const char *name) {
    for (int i = 0; z && name && i < z->n; i++)
        if (!strcmp(z->e[i].name, name)) return i;
    return -1;
}

void ot_npz_close(ot_npz *z) {
    if (!z) return;
    if (z->f) fclose(z->f);
    for (int i = 0; i < z->n; i++) ot_free(z->e[i].name);
    ot_free(z->e);
    ot_free(z->path);
    ot_free(z);
}

/* ---- reading one entry ---------------------------------------------------------- */

/* The member's uncompressed bytes as a byte source, CRC-32 accumulated. */
typedef struct entry_src {
    ot_npz *z;
    const npz_entry *e;
    const char *what;
    uint64_t cleft;  /* compressed bytes not yet read from the file */
    uint64_t produced;
    uint32_t crc;
    bool deflate, ended;
    z_stream zs;
    uint8_t in[1 << 16];
} entry_src;

static size_t stored_read(entry_src *s, void *buf, size_t n, ot_status *err) {
    if (n > s->cleft) n = (size_t)s->cleft;
    size_t r = fread(buf, 1, n, s->z->f);
    if (r < n) *err = ot_error(OT_ERR_IO, "%s: read failed: %s", s->what, ferror(s->z->f) ? strerror(errno) : "early end of file");
    s->cleft -= r;
    return r;
}

static size_t inflate_read(entry_src *s, void *buf, size_t n, ot_status *err) {
    if (n > (1u << 30)) n = 1u << 30;
    s->zs.next_out = buf;
    s->zs.avail_out = (uInt)n;
    while (s->zs.avail_out && !s->ended) {
        if (!s->zs.avail_in && s->cleft) {
            size_t want = s->cleft < sizeof s->in ? (size_t)s->cleft : sizeof s->in;
            size_t r = fread(s->in, 1, want, s->z->f);
            if (r < want) {
                *err = ot_error(OT_ERR_IO, "%s: read failed: %s", s->what, ferror(s->z->f) ? strerror(errno) : "early end of file");
                return 0;
            }
            s->cleft -= r;
            s->zs.next_in = s->in;
            s->zs.avail_in = (uInt)r;
        }
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) s->ended = true;
        else if (rc == Z_BUF_ERROR && !s->zs.avail_in && !s->cleft) break; /* input ran out early */
        else if (rc != Z_OK) {
            *err = ot_error(OT_ERR_PARSE, "%s: corrupt deflate data (%s)", s->what, s->zs.msg ? s->zs.msg : zError(rc));
            return 0;
        }
    }
    return n - s->zs.avail_out;
}

static size_t entry_read(void *ctx, void *buf, size_t n, ot_status *err) {
    entry_src *s = ctx;
    uint64_t room = s->e->usize - s->produced; /* never more than the directory promises */
    if (n > room) n = (size_t)room;
    if (!n) return 0;
    size_t r = s->deflate ? inflate_read(s, buf, n, err) : stored_read(s, buf, n, err);
    s->crc = (uint32_t)crc32_z(s->crc, buf, r);
    s->produced += r;
    return r;
}

static ot_status check_complete(entry_src *s) {
    uint8_t scratch[4096];
    ot_status err = OT_OK;
    while (entry_read(s, scratch, sizeof scratch, &err) > 0) {} /* trailing bytes still count for the CRC */
    if (err) return err;
    if (s->produced != s->e->usize)
        return ot_error(OT_ERR_PARSE, "%s: member is truncated (%llu of %llu bytes)", s->what,
                        (unsigned long long)s->produced, (unsigned long long)s->e->usize);
    if (s->crc != s->e->crc)
        return ot_error(OT_ERR_PARSE, "%s: CRC-32 mismatch (stored %08x, computed %08x): the archive is corrupt", s->what,
                        s->e->crc, s->crc);
    return OT_OK;
}

static ot_status open_member(ot_npz *z, const npz_entry *e, const char *what, entry_src *s) {
    if (e->flags & 1) return ot_error(OT_ERR_UNSUPPORTED, "%s: encrypted zip members are not supported", what);
    if (e->method != 0 && e->method != 8)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: zip compression method %u is not supported (stored or deflate only)",
                        what, e->method);
    if (e->method == 0 && e->csize != e->usize)
        return ot_error(OT_ERR_PARSE, "%s: stored member with different compressed and uncompressed sizes", what);
    uint8_t lh[30];
    OT_TRY(read_at(z, e->local_off, lh, sizeof lh));
    if (rd32(lh) != SIG_LOCAL) return ot_error(OT_ERR_PARSE, "%s: bad local header signature (corrupt archive)", what);
    uint64_t data_off = e->local_off + 30 + rd16(lh + 26) + rd16(lh + 28);
    if (data_off > z->size || e->csize > z->size - data_off)
        return ot_error(OT_ERR_PARSE, "%s: member data extends past the end of the file (truncated archive?)", what);
    if (fseeko(z->f, (off_t)data_off, SEEK_SET) != 0) return ot_error(OT_ERR_IO, "%s: seek failed: %s", what, strerror(errno));
    s->z = z;
    s->e = e;
    s->what = what;
    s->cleft = e->csize;
    s->crc = (uint32_t)crc32_z(0, NULL, 0);
    s->deflate = e->method == 8;
    if (s->deflate && inflateInit2(&s->zs, -15) != Z_OK) return ot_error(OT_ERR_NOMEM, "%s: inflateInit failed", what);
    return OT_OK;
}

ot_status ot_npz_read(ot_npz *z, int i, ot_tensor **out) {
    if (!z || !out || i < 0 || i >= z->n)
        return ot_error(OT_ERR_INVALID_ARG, "ot_npz_read: no entry %d (the archive has %d)", i, z ? z->n : 0);
    const npz_entry *e = &z->e[i];
    size_t wn = strlen(z->path) + strlen(e->name) + 8;
    char *what = ot_malloc(wn);
    entry_src *s = ot_calloc(1, sizeof *s);
    if (!what || !s) {
        ot_free(what);
        ot_free(s);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    snprintf(what, wn, "%s:%s", z->path, e->name);
    ot_status st = open_member(z, e, what, s);
    ot_tensor *t = NULL;
    if (!st) {
        ot_byte_source src = {entry_read, s, e->usize};
        st = ot_npy_read_source(&src, what, &t);
        /* A corrupt member usually shows first as a bad .npy: name the real cause. */
        if (!st) {
            st = check_complete(s);
        } else if (st == OT_ERR_PARSE) {
            ot_status why = check_complete(s);
            if (why) st = why;
        }
        if (!st) st = ot_tensor_set_name(t, e->name);
    }
    if (s->deflate) inflateEnd(&s->zs);
    ot_free(s);
    ot_free(what);
    if (st) {
        ot_tensor_free(t);
        return st;
    }
    *out = t;
    return OT_OK;
}
