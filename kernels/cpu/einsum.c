/* Einsum: parse, resolve against shapes, evaluate as batched GEMMs (einsum.h). */
#include "einsum.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "matmul.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"
#include "src/core/shape.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

#define MAXL OT_EINSUM_MAX_LABELS

/* ---------------------------------------------------------------- parse */

static int letter_id(char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return 26 + ch - 'a';
    return -1;
}

static char letter_of(int id) { return (char)(id < 26 ? 'A' + id : 'a' + id - 26); }

/* One term (spaces already removed): letters and at most one "...". */
static ot_status parse_term(const char *s, size_t len, int8_t *lab, int8_t *n, int8_t *ell, const char *what) {
    *n = 0;
    *ell = -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (i + 3 > len || s[i + 1] != '.' || s[i + 2] != '.')
                return ot_error(OT_ERR_PARSE, "equation: '.' outside an ellipsis \"...\" in %s", what);
            if (*ell >= 0) return ot_error(OT_ERR_PARSE, "equation: more than one ellipsis in %s", what);
            *ell = *n;
            i += 2;
            continue;
        }
        int id = letter_id(s[i]);
        if (id < 0) return ot_error(OT_ERR_PARSE, "equation: invalid character '%c' in %s", s[i], what);
        if (*n == OT_MAX_RANK)
            return ot_error(OT_ERR_PARSE, "equation: %s has more than %d subscripts", what, OT_MAX_RANK);
        lab[(*n)++] = (int8_t)id;
    }
    return OT_OK;
}

ot_status ot_einsum_parse(const char *equation, ot_einsum_eq *eq) {
    char buf[1024];
    size_t len = 0;
    memset(eq, 0, sizeof *eq);
    for (const char *p = equation; *p; p++) {
        if (*p == ' ') continue;
        if (len + 1 >= sizeof buf) return ot_error(OT_ERR_UNSUPPORTED, "equation longer than %zu characters", sizeof buf - 1);
        buf[len++] = *p;
    }
    buf[len] = 0;
    char *arrow = strstr(buf, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - buf) : len;
    if (arrow && strstr(arrow + 2, "->")) return ot_error(OT_ERR_PARSE, "equation '%s' has two '->'", equation);
    size_t start = 0;
    for (size_t i = 0; i <= lhs_len; i++) {
        if (i < lhs_len && buf[i] != ',') continue;
        if (eq->n_in == OT_EINSUM_MAX_INPUTS)
            return ot_error(OT_ERR_UNSUPPORTED, "equation '%s' has more than %d operands", equation,
                            OT_EINSUM_MAX_INPUTS);
        char what[32];
        snprintf(what, sizeof what, "operand %d", eq->n_in);
        int k = eq->n_in++;
        OT_TRY(parse_term(buf + start, i - start, eq->lab[k], &eq->n_lab[k], &eq->ell[k], what));
        start = i + 1;
    }
    eq->explicit_out = arrow != NULL;
    eq->out_ell = -1;
    if (arrow) {
        OT_TRY(parse_term(arrow + 2, strlen(arrow + 2), eq->out_lab, &eq->out_n, &eq->out_ell, "the output"));
        for (int i = 0; i < eq->out_n; i++)
            for (int j = 0; j < i; j++)
                if (eq->out_lab[i] == eq->out_lab[j])
                    return ot_error(OT_ERR_PARSE, "equation: output subscript '%c' appears twice",
                                    letter_of(eq->out_lab[i]));
    }
    return OT_OK;
}

/* -------------------------------------------------------------- resolve */

ot_status ot_einsum_resolve(const ot_einsum_eq *eq, int n_in, const int *ranks, const int64_t *const *dims,
                            ot_einsum_shape *sh) {
    memset(sh, 0, sizeof *sh);
    if (n_in != eq->n_in)
        return ot_error(OT_ERR_SHAPE, "equation has %d operands, %d inputs given", eq->n_in, n_in);
    sh->n_in = n_in;
    int E = 0, e[OT_EINSUM_MAX_INPUTS];
    for (int i = 0; i < n_in; i++) {
        int r = ranks[i], nl = eq->n_lab[i];
        if ((eq->ell[i] < 0 && r != nl) || r < nl)
            return ot_error(OT_ERR_SHAPE, "operand %d has rank %d but its term has %d subscripts%s", i, r, nl,
                            eq->ell[i] < 0 ? "" : " and an ellipsis");
        e[i] = r - nl;
        if (e[i] > E) E = e[i];
    }
    for (int l = 0; l < MAXL; l++) sh->size[l] = -1;
    int count[MAXL] = {0};
    for (int i = 0; i < n_in; i++) {
        int d = 0;
        sh->rank[i] = ranks[i];
        for (int t = 0; t <= eq->n_lab[i]; t++) {
            if (t == eq->ell[i])
                for (int j = 0; j < e[i]; j++) sh->lab[i][d++] = (int8_t)(OT_EINSUM_LETTERS + E - e[i] + j);
            if (t < eq->n_lab[i]) sh->lab[i][d++] = eq->lab[i][t];
        }
        for (d = 0; d < ranks[i]; d++) {
            int l = sh->lab[i][d];
            int64_t n = dims[i][d];
            sh->in_dims[i][d] = n;
            count[l]++;
            for (int d2 = 0; d2 < d; d2++)
                if (sh->lab[i][d2] == l && dims[i][d2] != n)
                    return ot_error(OT_ERR_SHAPE, "operand %d: repeated subscript '%c' has sizes %lld and %lld", i,
                                    letter_of(l), (long long)dims[i][d2], (long long)n);
            if (sh->size[l] < 0 || sh->size[l] == 1) sh->size[l] = n;
            else if (n != sh->size[l] && n != 1) {
                if (l < OT_EINSUM_LETTERS)
                    return ot_error(OT_ERR_SHAPE, "subscript '%c' has size %lld in operand %d but %lld elsewhere",
                                    letter_of(l), (long long)n, i, (long long)sh->size[l]);
                return ot_error(OT_ERR_SHAPE, "ellipsis dims of operand %d do not broadcast with the other operands", i);
            }
        }
    }
    int r = 0;
    int8_t *ol = sh->out_lab;
    if (eq->explicit_out) {
        if (E > 0 && eq->out_ell < 0)
            return ot_error(OT_ERR_SHAPE, "inputs have ellipsis dims but the output has no ellipsis");
        if (eq->out_n + (eq->out_ell >= 0 ? E : 0) > OT_MAX_RANK)
            return ot_error(OT_ERR_UNSUPPORTED, "output rank exceeds %d", OT_MAX_RANK);
        for (int t = 0; t <= eq->out_n; t++) {
            if (t == eq->out_ell)
                for (int j = 0; j < E; j++) ol[r++] = (int8_t)(OT_EINSUM_LETTERS + j);
            if (t == eq->out_n) break;
            int l = eq->out_lab[t];
            if (sh->size[l] < 0)
                return ot_error(OT_ERR_SHAPE, "output subscript '%c' does not appear in any input", letter_of(l));
            ol[r++] = (int8_t)l;
        }
    } else { /* implicit: ellipsis dims, then letters used exactly once, sorted */
        for (int j = 0; j < E; j++) ol[r++] = (int8_t)(OT_EINSUM_LETTERS + j);
        for (int l = 0; l < OT_EINSUM_LETTERS; l++)
            if (count[l] == 1) {
                if (r == OT_MAX_RANK) return ot_error(OT_ERR_UNSUPPORTED, "output rank exceeds %d", OT_MAX_RANK);
                ol[r++] = (int8_t)l;
            }
    }
    sh->out_rank = r;
    for (int k = 0; k < r; k++) sh->out_dims[k] = sh->size[ol[k]];
    int64_t n;
    return ot_shape_numel(r, sh->out_dims, &n);
}

/* ------------------------------------------------------------- evaluate */

/* Compute types: float32 (float, float16, bfloat16), float64, and wrapping
   64-bit integers for every integer type. */
typedef enum { CT_F32, CT_F64, CT_U64 } ctype;

static const ot_dtype ct_dtype[] = {OT_FLOAT, OT_DOUBLE, OT_UINT64};
static const size_t ct_size[] = {4, 8, 8};

/* A strided view of compute-type elements with one label per dim. */
typedef struct ev {
    int r;
    int8_t lab[MAXL];
    int64_t dim[MAXL], str[MAXL];
    char *data;
    void *owned; /* to free with the view, or NULL (input or output memory) */
} ev;

static void ev_free(ev *v) {
    ot_workspace_free(v->owned);
    v->owned = NULL;
}

static int ev_find(const ev *v, int l) {
    for (int d = 0; d < v->r; d++)
        if (v->lab[d] == l) return d;
    return -1;
}

/* dst (contiguous, dims in the order keep[0..nk)) = v summed over its other
 * dims.  Rows (all kept dims but the last) are spread over threads; each row
 * walks the summed dims with an odometer and adds a strided run at a time. */
#define OT_EINSUM_RP(NAME, T)                                                                              \
    static void NAME(const ev *v, const int *keep, int nk, T *dst) {                                       \
        int red[MAXL], nr = 0;                                                                             \
        int64_t R = 1, rows = 1;                                                                           \
        for (int d = 0; d < v->r; d++) {                                                                   \
            bool kept = false;                                                                             \
            for (int k = 0; k < nk; k++) kept |= keep[k] == d;                                             \
            if (!kept) {                                                                                   \
                red[nr++] = d;                                                                             \
                R *= v->dim[d];                                                                            \
            }                                                                                              \
        }                                                                                                  \
        for (int k = 0; k + 1 < nk; k++) rows *= v->dim[keep[k]];                                          \
        int64_t L = nk ? v->dim[keep[nk - 1]] : 1, sL = nk ? v->str[keep[nk - 1]] : 0;                     \
        const T *src = (const T *)v->data;                                                                 \
        _Pragma("omp parallel for schedule(static) if (rows * L * R > 32768 && !omp_in_parallel())")      \
        for (int64_t row = 0; row < rows; row++) {                                                         \
            int64_t off = 0, q = row;                                                                      \
            for (int k = nk - 2; k >= 0; k--) {                                                            \
                off += (q % v->dim[keep[k]]) * v->str[keep[k]];                                            \
                q /= v->dim[keep[k]];                                                                      \
            }                                                                                              \
            T *o = dst + row * L;                                                                          \
            if (nr == 0) {                                                                                 \
                for (int64_t j = 0; j < L; j++) o[j] = src[off + j * sL];                                  \
                continue;                                                                                  \
            }                                                                                              \
            for (int64_t j = 0; j < L; j++) o[j] = 0;                                                      \
            int64_t idx[MAXL] = {0}, roff = 0;                                                             \
            for (int64_t t = 0; t < R; t++) {                                                              \
                const T *p = src + off + roff;                                                             \
                for (int64_t j = 0; j < L; j++) o[j] += p[j * sL];                                         \
                for (int k = nr - 1; k >= 0; k--) {                                                        \
                    int d = red[k];                                                                        \
                    roff += v->str[d];                                                                     \
                    if (++idx[k] < v->dim[d]) break;                                                       \
                    roff -= v->str[d] * v->dim[d];                                                         \
                    idx[k] = 0;                                                                            \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }
OT_EINSUM_RP(rp_f32, float)
OT_EINSUM_RP(rp_f64, double)
OT_EINSUM_RP(rp_u64, uint64_t)

static void reduce_permute(ctype ct, const ev *v, const int *keep, int nk, void *dst) {
    if (ct == CT_F32) rp_f32(v, keep, nk, dst);
    else if (ct == CT_F64) rp_f64(v, keep, nk, dst);
    else rp_u64(v, keep, nk, dst);
}

static void ev_contiguous(ev *v) {
    int64_t s = 1;
    for (int d = v->r - 1; d >= 0; d--) {
        v->str[d] = s;
        s *= v->dim[d];
    }
}

static int64_t ev_numel(const ev *v) {
    int64_t n = 1;
    for (int d = 0; d < v->r; d++) n *= v->dim[d];
    return n;
}

/* Replaces v by its dims keep[0..nk) (summing the others), made contiguous. */
static ot_status ev_reduce(ctype ct, ev *v, const int *keep, int nk) {
    ev o = {0};
    o.r = nk;
    for (int k = 0; k < nk; k++) {
        o.lab[k] = v->lab[keep[k]];
        o.dim[k] = v->dim[keep[k]];
    }
    int64_t n = ev_numel(&o);
    o.owned = o.data = ot_workspace_alloc((size_t)(n ? n : 1) * ct_size[ct]);
    if (!o.data) return ot_error(OT_ERR_NOMEM, "out of memory (%lld-element einsum intermediate)", (long long)n);
    ev_contiguous(&o);
    reduce_permute(ct, v, keep, nk, o.data);
    ev_free(v);
    *v = o;
    return OT_OK;
}

/* Input i as a view: converted to the compute type when needed, broadcast
   unit dims dropped, repeated labels merged into a diagonal (strides add). */
static ot_status ev_load(const ot_einsum_shape *sh, int i, ot_dtype dt, ctype ct, const void *src, ev *v) {
    memset(v, 0, sizeof *v);
    v->r = sh->rank[i];
    for (int d = 0; d < v->r; d++) {
        v->lab[d] = sh->lab[i][d];
        v->dim[d] = sh->in_dims[i][d];
    }
    ev_contiguous(v);
    int64_t n = ev_numel(v);
    if (dt == ct_dtype[ct] || (ct == CT_U64 && dt == OT_INT64)) {
        v->data = (char *)src;
    } else {
        v->owned = v->data = ot_workspace_alloc((size_t)(n ? n : 1) * ct_size[ct]);
        if (!v->data) return ot_error(OT_ERR_NOMEM, "out of memory converting einsum operand %d", i);
        if (ct == CT_F32) ot_half_to_f32(dt, src, (float *)v->data, n);
        else
            for (int64_t k = 0; k < n; k++) ((uint64_t *)v->data)[k] = (uint64_t)ot_load_i64(dt, src, k);
    }
    int r = 0;
    for (int d = 0; d < v->r; d++) {
        int l = v->lab[d];
        if (v->dim[d] == 1 && sh->size[l] != 1) continue;
        int prev = -1;
        for (int k = 0; k < r; k++)
            if (v->lab[k] == l) prev = k;
        if (prev >= 0) {
            v->str[prev] += v->str[d];
            continue;
        }
        v->lab[r] = (int8_t)l;
        v->dim[r] = v->dim[d];
        v->str[r] = v->str[d];
        r++;
    }
    v->r = r;
    return OT_OK;
}

/* Whether v's dims in the order p[0..n) are laid out back to back. */
static bool ev_dense(const ev *v, const int *p, int n) {
    int64_t s = 1;
    for (int k = n - 1; k >= 0; k--) {
        if (v->dim[p[k]] == 1) continue;
        if (v->str[p[k]] != s) return false;
        s *= v->dim[p[k]];
    }
    return true;
}

/* v as a batch of matrices (g0 batch dims, g1 rows, g2 cols), given as label
   lists: *trans when stored as (batch, cols, rows); copied when neither. */
static ot_status as_matrix(ctype ct, const ev *v, const int8_t *const g[3], const int n[3], const char **data,
                           bool *trans, void **owned) {
    int p[MAXL], q[MAXL], np = 0;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < n[k]; j++) p[np++] = ev_find(v, g[k][j]);
    memcpy(q, p, sizeof(int) * (size_t)n[0]);
    memcpy(q + n[0], p + n[0] + n[1], sizeof(int) * (size_t)n[2]);
    memcpy(q + n[0] + n[2], p + n[0], sizeof(int) * (size_t)n[1]);
    *owned = NULL;
    *trans = false;
    *data = v->data;
    if (ev_dense(v, p, np)) return OT_OK;
    if (ev_dense(v, q, np)) {
        *trans = true;
        return OT_OK;
    }
    int64_t m = ev_numel(v);
    *owned = ot_workspace_alloc((size_t)(m ? m : 1) * ct_size[ct]);
    if (!*owned) return ot_error(OT_ERR_NOMEM, "out of memory (%lld-element einsum operand copy)", (long long)m);
    reduce_permute(ct, v, p, np, *owned);
    *data = *owned;
    return OT_OK;
}

static int64_t labels_numel(const ot_einsum_shape *sh, const int8_t *l, int n) {
    int64_t p = 1;
    for (int k = 0; k < n; k++) p *= sh->size[l[k]];
    return p;
}

/* Stable sort of labels by their position in the output. */
static void sort_by_output(const ot_einsum_shape *sh, int8_t *l, int n) {
    int pos[MAXL];
    for (int k = 0; k < sh->out_rank; k++) pos[sh->out_lab[k]] = k;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && pos[l[j - 1]] > pos[l[j]]; j--) {
            int8_t t = l[j];
            l[j] = l[j - 1];
            l[j - 1] = t;
        }
}

static bool concat_is(const ot_einsum_shape *sh, const int8_t *a, int na, const int8_t *b, int nb, const int8_t *c,
                      int nc) {
    if (na + nb + nc != sh->out_rank) return false;
    for (int k = 0; k < sh->out_rank; k++) {
        int8_t l = k < na ? a[k] : k < na + nb ? b[k - na] : c[k - na - nb];
        if (l != sh->out_lab[k]) return false;
    }
    return true;
}

/* *res = contraction of A and B over their shared labels not in keep[].
   final: A and B are the last two operands; the product goes straight into
   dest when its label order can be made the output's. */
static ot_status contract(const ot_einsum_shape *sh, ctype ct, ev *A, ev *B, const bool *keep, bool final,
                          void *dest, ev *res) {
    int8_t batch[MAXL], con[MAXL], aonly[MAXL], bonly[MAXL];
    int nb = 0, nc = 0, na = 0, nbo = 0;
    for (int d = 0; d < A->r; d++) {
        int l = A->lab[d];
        if (ev_find(B, l) < 0) aonly[na++] = (int8_t)l;
        else if (keep[l]) batch[nb++] = (int8_t)l;
        else con[nc++] = (int8_t)l;
    }
    for (int d = 0; d < B->r; d++)
        if (ev_find(A, B->lab[d]) < 0) bonly[nbo++] = B->lab[d];
    bool direct = false, swap = false;
    if (final) {
        sort_by_output(sh, batch, nb);
        sort_by_output(sh, aonly, na);
        sort_by_output(sh, bonly, nbo);
        direct = dest && concat_is(sh, batch, nb, aonly, na, bonly, nbo);
        swap = !direct && dest && concat_is(sh, batch, nb, bonly, nbo, aonly, na);
        direct |= swap;
    }
    const ev *X = swap ? B : A, *Y = swap ? A : B;
    const int8_t *xo = swap ? bonly : aonly, *yo = swap ? aonly : bonly;
    int nxo = swap ? nbo : na, nyo = swap ? na : nbo;
    int64_t NB = labels_numel(sh, batch, nb), M = labels_numel(sh, xo, nxo), N = labels_numel(sh, yo, nyo);
    int64_t K = labels_numel(sh, con, nc);
    if (!ot_blas_fits(M) || !ot_blas_fits(N) || !ot_blas_fits(K))
        return ot_error(OT_ERR_UNSUPPORTED, "einsum contraction (M=%lld, N=%lld, K=%lld) exceeds the 32-bit BLAS limit",
                        (long long)M, (long long)N, (long long)K);
    const int8_t *gx[3] = {batch, xo, con}, *gy[3] = {batch, con, yo};
    int nx[3] = {nb, nxo, nc}, ny[3] = {nb, nc, nyo};
    const char *xd, *yd;
    bool tx, ty;
    void *xown = NULL, *yown = NULL;
    ot_status s = as_matrix(ct, X, gx, nx, &xd, &tx, &xown);
    if (s == OT_OK) s = as_matrix(ct, Y, gy, ny, &yd, &ty, &yown);
    memset(res, 0, sizeof *res);
    if (s == OT_OK) {
        int64_t n = NB * M * N;
        res->data = direct ? dest
                           : (res->owned = ot_workspace_alloc((size_t)(n ? n : 1) * ct_size[ct]));
        if (!res->data) s = ot_error(OT_ERR_NOMEM, "out of memory (%lld-element einsum intermediate)", (long long)n);
    }
    if (s == OT_OK)
        s = ot_matmul_batched(ct_dtype[ct], tx, ty, NB, NULL, M * K, NULL, K * N, M, N, K, xd, yd, res->data);
    ot_workspace_free(xown);
    ot_workspace_free(yown);
    if (s != OT_OK) return s;
    for (int k = 0; k < nb; k++) res->lab[res->r++] = batch[k];
    for (int k = 0; k < nxo; k++) res->lab[res->r++] = xo[k];
    for (int k = 0; k < nyo; k++) res->lab[res->r++] = yo[k];
    for (int k = 0; k < res->r; k++) res->dim[k] = sh->size[res->lab[k]];
    ev_contiguous(res);
    return OT_OK;
}

/* Writes v (holding exactly the output's labels) into out in output order. */
static ot_status finish(const ot_einsum_shape *sh, ctype ct, ot_dtype dt, const ev *v, void *out) {
    if (v->data == out) return OT_OK;
    int keep[OT_MAX_RANK];
    for (int k = 0; k < sh->out_rank; k++) keep[k] = ev_find(v, sh->out_lab[k]);
    bool native = dt == ct_dtype[ct] || (ct == CT_U64 && dt == OT_INT64);
    int64_t n;
    OT_TRY(ot_shape_numel(sh->out_rank, sh->out_dims, &n));
    void *tmp = native ? out : ot_workspace_alloc((size_t)(n ? n : 1) * ct_size[ct]);
    if (!tmp) return ot_error(OT_ERR_NOMEM, "out of memory for the einsum result");
    reduce_permute(ct, v, keep, sh->out_rank, tmp);
    if (!native) {
        if (ct == CT_F32) ot_f32_to_half(dt, tmp, out, n);
        else
            for (int64_t k = 0; k < n; k++) ot_store_i64(dt, out, k, (int64_t)((uint64_t *)tmp)[k]);
        ot_workspace_free(tmp);
    }
    return OT_OK;
}

static ot_status run_views(const ot_einsum_shape *sh, ctype ct, ot_dtype dt, ev *v, void *out) {
    int n = sh->n_in;
    bool in_out[MAXL] = {0};
    int count[MAXL] = {0};
    for (int k = 0; k < sh->out_rank; k++) in_out[sh->out_lab[k]] = true;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < v[i].r; d++) count[v[i].lab[d]]++;
    if (n == 1) {
        int keep[OT_MAX_RANK];
        for (int k = 0; k < sh->out_rank; k++) keep[k] = ev_find(&v[0], sh->out_lab[k]);
        OT_TRY(ev_reduce(ct, &v[0], keep, sh->out_rank));
        return finish(sh, ct, dt, &v[0], out);
    }
    for (int i = 0; i < n; i++) { /* labels no one else needs: sum them now, while the operand is small */
        int keep[MAXL], nk = 0;
        for (int d = 0; d < v[i].r; d++)
            if (count[v[i].lab[d]] > 1 || in_out[v[i].lab[d]]) keep[nk++] = d;
        if (nk < v[i].r) OT_TRY(ev_reduce(ct, &v[i], keep, nk));
    }
    bool native = dt == ct_dtype[ct] || (ct == CT_U64 && dt == OT_INT64);
    ev cur = v[0];
    v[0].owned = NULL; /* now owned by cur */
    for (int i = 1; i < n; i++) {
        bool keep[MAXL];
        for (int l = 0; l < MAXL; l++) keep[l] = in_out[l];
        for (int j = i + 1; j < n; j++)
            for (int d = 0; d < v[j].r; d++) keep[v[j].lab[d]] = true;
        ev res;
        ot_status s = contract(sh, ct, &cur, &v[i], keep, i == n - 1, native ? out : NULL, &res);
        ev_free(&cur);
        if (s != OT_OK) return s;
        cur = res;
    }
    ot_status s = finish(sh, ct, dt, &cur, out);
    ev_free(&cur);
    return s;
}

ot_status ot_einsum_run(const ot_einsum_shape *sh, ot_dtype dt, const void *const *in, void *out) {
    ctype ct;
    if (dt == OT_FLOAT || dt == OT_FLOAT16 || dt == OT_BFLOAT16) ct = CT_F32;
    else if (dt == OT_DOUBLE) ct = CT_F64;
    else if (ot_dtype_is_int(dt)) ct = CT_U64;
    else return ot_error(OT_ERR_UNSUPPORTED, "einsum of %s tensors is not supported", ot_dtype_name(dt));
    int64_t n;
    OT_TRY(ot_shape_numel(sh->out_rank, sh->out_dims, &n));
    if (n == 0) return OT_OK;
    ev v[OT_EINSUM_MAX_INPUTS];
    memset(v, 0, sizeof v);
    ot_status s = OT_OK;
    for (int i = 0; i < sh->n_in && s == OT_OK; i++) s = ev_load(sh, i, dt, ct, in[i], &v[i]);
    if (s == OT_OK) s = run_views(sh, ct, dt, v, out);
    for (int i = 0; i < sh->n_in; i++) ev_free(&v[i]);
    return s;
}
