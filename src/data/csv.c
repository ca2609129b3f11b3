/* CSV reader: header + numeric records -> a (rows, cols) tensor. */
#include "csv.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "../core/shape.h"
#include "../core/status.h"

/* ---- tokenizer ------------------------------------------------------------------ */

typedef struct csv_cursor {
    const char *p, *end;
    char delim;
    int64_t line; /* 1-based line of p */
    const char *what;
} csv_cursor;

typedef struct csv_field {
    const char *s;
    size_t n;
    bool quoted; /* s/n exclude the quotes; "" inside still escaped */
} csv_field;

static bool at_eol(const csv_cursor *c) { return c->p >= c->end || *c->p == '\n' || *c->p == '\r'; }

static void eat_eol(csv_cursor *c) {
    if (c->p < c->end && *c->p == '\r') c->p++;
    if (c->p < c->end && *c->p == '\n') c->p++;
    c->line++;
}

/* One field; *last is set when the record ends after it (the line break is consumed). */
static ot_status next_field(csv_cursor *c, csv_field *f, bool *last) {
    f->quoted = false;
    const char *q = c->p; /* tolerate spaces before an opening quote: a, "b" */
    while (q < c->end && (*q == ' ' || *q == '\t') && *q != c->delim) q++;
    if (q < c->end && *q == '"') {
        c->p = q;
        int64_t start_line = c->line;
        f->quoted = true;
        f->s = ++c->p;
        for (;;) {
            if (c->p >= c->end)
                return ot_error(OT_ERR_PARSE, "%s: line %lld: a quoted field is never closed", c->what,
                                (long long)start_line);
            if (*c->p == '"') {
                if (c->p + 1 < c->end && c->p[1] == '"') {
                    c->p += 2;
                    continue;
                }
                break;
            }
            if (*c->p == '\n') c->line++;
            c->p++;
        }
        f->n = (size_t)(c->p - f->s);
        c->p++;
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t') && *c->p != c->delim) c->p++;
        if (!at_eol(c) && *c->p != c->delim)
            return ot_error(OT_ERR_PARSE, "%s: line %lld: unexpected character after a closing quote", c->what,
                            (long long)c->line);
    } else {
        f->s = c->p;
        while (!at_eol(c) && *c->p != c->delim) c->p++;
        f->n = (size_t)(c->p - f->s);
    }
    *last = at_eol(c);
    if (*last) eat_eol(c);
    else c->p++; /* the delimiter */
    return OT_OK;
}

static void trim(const char **s, size_t *n) {
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/* A field's text with "" unescaped, as a new string. */
static char *field_text(const csv_field *f) {
    const char *s = f->s;
    size_t n = f->n;
    if (!f->quoted) trim(&s, &n);
    char *out = ot_malloc(n + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k++] = s[i];
        if (f->quoted && s[i] == '"' && i + 1 < n && s[i + 1] == '"') i++;
    }
    out[k] = 0;
    return out;
}

/* ---- reading ---------------------------------------------------------------------- */

typedef struct csv_build {
    csv_cursor cur;
    ot_csv *c;
    ot_dtype dt;
    locale_t cloc; /* numbers parse the same whatever the application's locale */
    void *buf;
    int64_t cap_rows;
} csv_build;

static ot_status read_header(csv_build *b) {
    ot_csv *c = b->c;
    int cap = 0;
    bool last = false;
    while (!last) {
        csv_field f;
        OT_TRY(next_field(&b->cur, &f, &last));
        if (ot_grow((void **)&c->names, &cap, c->cols + 1, sizeof *c->names))
            return ot_error(OT_ERR_NOMEM, "out of memory");
        if (!(c->names[c->cols] = field_text(&f))) return ot_error(OT_ERR_NOMEM, "out of memory");
        c->cols++;
    }
    return OT_OK;
}

static ot_status parse_number(csv_build *b, const csv_field *f, int64_t line, int col, void *dst) {
    const char *s = f->s;
    size_t n = f->n;
    trim(&s, &n);
    const char *name = b->c->names[col];
    if (!n)
        return ot_error(OT_ERR_PARSE, "%s: line %lld, column %d ('%s'): empty field (numbers only)", b->cur.what,
                        (long long)line, col + 1, name);
    char tmp[128];
    char *endp = NULL;
    if (n < sizeof tmp) {
        memcpy(tmp, s, n);
        tmp[n] = 0;
        errno = 0;
        if (b->dt == OT_FLOAT) *(float *)dst = strtof_l(tmp, &endp, b->cloc);
        else *(double *)dst = strtod_l(tmp, &endp, b->cloc);
    }
    if (!endp || endp != tmp + n)
        return ot_error(OT_ERR_PARSE, "%s: line %lld, column %d ('%s'): '%.*s' is not a number", b->cur.what,
                        (long long)line, col + 1, name, n > 40 ? 40 : (int)n, s);
    return OT_OK;
}

static ot_status read_records(csv_build *b) {
    ot_csv *c = b->c;
    const size_t es = ot_dtype_size(b->dt);
    while (b->cur.p < b->cur.end) {
        int64_t line = b->cur.line;
        const char *q = b->cur.p;
        while (q < b->cur.end && (*q == ' ' || *q == '\t') && *q != b->cur.delim) q++;
        if (q >= b->cur.end || *q == '\n' || *q == '\r') { /* blank (or all-space) line */
            b->cur.p = q;
            eat_eol(&b->cur);
            continue;
        }
        if (c->rows == b->cap_rows) {
            int64_t want = b->cap_rows ? b->cap_rows * 2 : 64;
            if (want > OT_MAX_NUMEL / c->cols) return ot_error(OT_ERR_NOMEM, "%s: too many values", b->cur.what);
            void *nb = ot_realloc(b->buf, (size_t)want * (size_t)c->cols * es);
            if (!nb) return ot_error(OT_ERR_NOMEM, "%s: out of memory at line %lld", b->cur.what, (long long)line);
            b->buf = nb;
            b->cap_rows = want;
        }
        char *row = (char *)b->buf + (size_t)c->rows * (size_t)c->cols * es;
        int k = 0;
        bool last = false;
        while (!last) {
            csv_field f;
            OT_TRY(next_field(&b->cur, &f, &last));
            if (k >= c->cols) {
                k++;
                continue;
            }
            OT_TRY(parse_number(b, &f, line, k, row + (size_t)k * es));
            k++;
        }
        if (k != c->cols)
            return ot_error(OT_ERR_PARSE, "%s: line %lld has %d field%s, the header has %d", b->cur.what,
                            (long long)line, k, k == 1 ? "" : "s", c->cols);
        c->rows++;
    }
    return OT_OK;
}

void ot_csv_free(ot_csv *c) {
    if (!c) return;
    for (int i = 0; i < c->cols; i++) ot_free(c->names ? c->names[i] : NULL);
    ot_free(c->names);
    ot_free(c->source);
    ot_tensor_free(c->data);
    ot_free(c);
}

ot_status ot_csv_read_buffer(const char *text, size_t n, const char *what, const ot_csv_options *options,
                             ot_csv **out) {
    if ((!text && n) || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_csv_read_buffer: NULL argument");
    what = what ? what : "(csv)";
    char delim = options && options->delimiter ? options->delimiter : ',';
    ot_dtype dt = options && options->dtype != OT_UNDEFINED ? options->dtype : OT_FLOAT;
    if (dt != OT_FLOAT && dt != OT_DOUBLE)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: CSV data can be read as float32 or float64, not %s", what,
                        ot_dtype_name(dt));
    if (delim == '"' || delim == '\n' || delim == '\r')
        return ot_error(OT_ERR_INVALID_ARG, "%s: the CSV delimiter cannot be a quote or a line break", what);
    csv_build b = {.cur = {text, text + n, delim, 1, what}, .dt = dt};
    if (n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) b.cur.p += 3; /* UTF-8 BOM */
    while (b.cur.p < b.cur.end && at_eol(&b.cur)) eat_eol(&b.cur);
    if (b.cur.p >= b.cur.end) return ot_error(OT_ERR_PARSE, "%s: empty CSV file (a header row is required)", what);
    b.c = ot_calloc(1, sizeof *b.c);
    b.cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    ot_status s = OT_OK;
    if (!b.c || !b.cloc || !(b.c->source = ot_strdup(what))) s = ot_error(OT_ERR_NOMEM, "out of memory");
    if (!s) s = read_header(&b);
    if (!s) s = read_records(&b);
    if (!s) {
        int64_t dims[2] = {b.c->rows, b.c->cols};
        s = ot_tensor_new_desc(dt, 2, dims, &b.c->data);
    }
    if (!s) {
        /* The growing buffer becomes the tensor's storage (no copy). */
        size_t bytes = (size_t)b.c->rows * (size_t)b.c->cols * ot_dtype_size(dt);
        void *d = b.buf ? ot_realloc(b.buf, bytes ? bytes : 1) : ot_calloc(1, 1);
        if (!d) s = ot_error(OT_ERR_NOMEM, "out of memory");
        else {
            b.buf = NULL;
            b.c->data->data = d;
            b.c->data->owns = true;
        }
    }
    if (b.cloc) freelocale(b.cloc);
    ot_free(b.buf);
    if (s) {
        ot_csv_free(b.c);
        return s;
    }
    *out = b.c;
    return OT_OK;
}

ot_status ot_csv_read(const char *path, const ot_csv_options *options, ot_csv **out) {
    if (!path || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_csv_read: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    size_t n = 0, cap = 0;
    ot_status s = OT_OK;
    for (;;) { /* read to the end: works for pipes as well as files */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            char *t = ncap > cap ? ot_realloc(text, ncap) : NULL;
            if (!t) {
                s = ot_error(OT_ERR_NOMEM, "%s: out of memory reading the file", path);
                break;
            }
            text = t;
            cap = ncap;
        }
        size_t r = fread(text + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) s = ot_error(OT_ERR_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!s) s = ot_csv_read_buffer(text, n, path, options, out);
    ot_free(text);
    return s;
}

/* ---- columns ------------------------------------------------------------------------ */

int ot_csv_find(const ot_csv *c, const char *name) {
    for (int i = 0; c && name && i < c->cols; i++)
        if (!strcmp(c->names[i], name)) return i;
    return -1;
}

ot_status ot_csv_label_column(const ot_csv *c, const char *spec, int *col) {
    if (!c || !col) return ot_error(OT_ERR_INVALID_ARG, "ot_csv_label_column: NULL argument");
    if (c->cols < 1) return ot_error(OT_ERR_SHAPE, "%s: the table has no columns", c->source);
    if (!spec || !*spec) {
        int i = ot_csv_find(c, "label");
        *col = i >= 0 ? i : c->cols - 1;
        return OT_OK;
    }
    int i = ot_csv_find(c, spec);
    if (i >= 0) {
        *col = i;
        return OT_OK;
    }
    char *endp;
    errno = 0;
    long v = strtol(spec, &endp, 10);
    if (*endp == 0 && errno == 0 && v >= -c->cols && v < c->cols) {
        *col = (int)(v < 0 ? v + c->cols : v);
        return OT_OK;
    }
    char list[256];
    int len = 0;
    for (int k = 0; k < c->cols && len < (int)sizeof list - 64; k++)
        len += snprintf(list + len, sizeof list - (size_t)len, "%s'%s'", k ? ", " : "", c->names[k]);
    if (len >= (int)sizeof list - 64) snprintf(list + len, sizeof list - (size_t)len, ", ...");
    return ot_error(OT_ERR_INVALID_ARG, "%s: no column '%s' (columns: %s; or give an index in [-%d, %d))", c->source,
                    spec, list, c->cols, c->cols);
}

/* Stores a label into an integer type only when it is a whole number in range. */
static ot_status store_label(const ot_csv *c, int col, int64_t row, double v, ot_dtype dt, void *dst) {
    if (ot_dtype_is_float(dt)) {
        ot_store_f64(dt, dst, row, v);
        return OT_OK;
    }
    double lo = ot_dtype_is_signed(dt) ? -ldexp(1.0, (int)ot_dtype_size(dt) * 8 - 1) : 0;
    double hi = ldexp(1.0, (int)ot_dtype_size(dt) * 8 - (ot_dtype_is_signed(dt) ? 1 : 0));
    if (!(v == floor(v) && v >= lo && v < hi))
        return ot_error(OT_ERR_PARSE, "%s: data row %lld, column %d ('%s'): label %g is not a whole number that fits %s",
                        c->source, (long long)row + 1, col + 1, c->names[col], v, ot_dtype_name(dt));
    ot_store_i64(dt, dst, row, (int64_t)v);
    return OT_OK;
}

ot_status ot_csv_split(const ot_csv *c, int col, ot_dtype label_dtype, ot_tensor **features, ot_tensor **labels) {
    if (!c || !features || !labels) return ot_error(OT_ERR_INVALID_ARG, "ot_csv_split: NULL argument");
    if (col < 0 || col >= c->cols)
        return ot_error(OT_ERR_INVALID_ARG, "%s: column %d out of range (the table has %d)", c->source, col, c->cols);
    if (!ot_dtype_is_float(label_dtype) && !ot_dtype_is_int(label_dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "%s: labels can be read as a float or integer type, not %s", c->source,
                        ot_dtype_name(label_dtype));
    const ot_dtype dt = c->data->dtype;
    const int64_t rows = c->rows, fd[2] = {rows, c->cols - 1};
    ot_tensor *f = NULL, *l = NULL;
    OT_TRY(ot_tensor_new(dt, 2, fd, &f));
    ot_status s = ot_tensor_new(label_dtype, 1, &rows, &l);
    for (int64_t r = 0; r < rows && !s; r++) {
        int64_t k = 0;
        for (int j = 0; j < c->cols; j++) {
            double v = ot_load_f64(dt, c->data->data, r * c->cols + j);
            if (j == col) {
                s = store_label(c, col, r, v, label_dtype, l->data);
                if (s) break;
            } else {
                ot_store_f64(dt, f->data, r * (c->cols - 1) + k++, v);
            }
        }
    }
    if (s) {
        ot_tensor_free(f);
        ot_tensor_free(l);
        return s;
    }
    *features = f;
    *labels = l;
    return OT_OK;
}
