/* CPU kernels of the signal family (see signal.h for the algorithms).
 * Complex buffers are interleaved doubles: z[2k] = Re, z[2k + 1] = Im. */
#include "signal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "src/core/dtype.h"
#include "src/core/half.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

#define OT_PI 3.14159265358979323846

/* Below this many flops (fft_cost) a call runs on one thread: waking a team costs more. */
#define OT_DFT_PAR_MIN ((int64_t)1 << 15)

/* ---- element access ------------------------------------------------------------ */

static inline double ld(ot_dtype dt, const void *p, int64_t i) {
    switch (dt) {
    case OT_FLOAT: return ((const float *)p)[i];
    case OT_DOUBLE: return ((const double *)p)[i];
    case OT_FLOAT16: return ot_f16_to_f32(((const uint16_t *)p)[i]);
    default: return ot_bf16_to_f32(((const uint16_t *)p)[i]);
    }
}

static inline void st(ot_dtype dt, void *p, int64_t i, double v) {
    switch (dt) {
    case OT_FLOAT: ((float *)p)[i] = (float)v; break;
    case OT_DOUBLE: ((double *)p)[i] = v; break;
    case OT_FLOAT16: ((uint16_t *)p)[i] = ot_f32_to_f16((float)v); break;
    default: ((uint16_t *)p)[i] = ot_f32_to_bf16((float)v); break;
    }
}

/* ---- FFT plans ------------------------------------------------------------------- */

/* Radix stages: 4 first, then 2, 3, 5, then other primes up to this bound
   (a generic O(p^2) butterfly); a larger prime factor makes the length go
   through Bluestein instead. */
#define OT_FFT_MAX_RADIX 64

/* A mixed-radix Stockham FFT of length n (sign -1), out of place between
   two buffers, in natural order (no bit reversal). */
typedef struct fft_core {
    int64_t n;
    int nr;
    int radix[64];
    double *tw; /* n twiddles e^{-2 pi i k / n} */
} fft_core;

typedef struct fft_plan {
    int64_t n;
    bool bluestein;
    int64_t m;     /* Bluestein: power-of-two length >= 2n - 1 of the convolution; else n */
    fft_core core; /* of length m */
    double *chirp; /* Bluestein: e^{-i pi k^2 / n}, k < n */
    double *filt;  /* Bluestein: FFT_m of the conjugate chirp (wrapped), times 1/m */
} fft_plan;

/* The radices of n (into core->radix) when its prime factors are all
   <= OT_FFT_MAX_RADIX; false otherwise. */
static bool factor(int64_t n, fft_core *c) {
    c->nr = 0;
    while (n % 4 == 0) c->radix[c->nr++] = 4, n /= 4;
    for (int64_t p = 2; n > 1 && p <= OT_FFT_MAX_RADIX; p++)
        while (n % p == 0) c->radix[c->nr++] = (int)p, n /= p;
    return n == 1;
}

static void plan_shape(int64_t n, bool *bluestein, int64_t *m) {
    fft_core c;
    *bluestein = !factor(n, &c);
    *m = n;
    if (*bluestein)
        for (*m = 1; *m < 2 * n - 1;) *m <<= 1;
}

/* Doubles of a plan's tables, and of one thread's buffers: z and the pair
   buffer (n complex each), then the core's two ping-pong buffers (the
   second is z itself unless Bluestein). */
static size_t plan_doubles(int64_t n) {
    bool b;
    int64_t m;
    plan_shape(n, &b, &m);
    return (size_t)(b ? m + n + m : n) * 2;
}

static size_t thread_doubles(int64_t n) {
    bool b;
    int64_t m;
    plan_shape(n, &b, &m);
    return (size_t)(2 * n + (b ? 2 * m : n)) * 2;
}

static void core_init(fft_core *c, int64_t n, double *tw) {
    factor(n, c);
    c->n = n;
    c->tw = tw;
    for (int64_t k = 0; k < n; k++) {
        double a = 2 * OT_PI * (double)k / (double)n;
        tw[2 * k] = cos(a);
        tw[2 * k + 1] = -sin(a);
    }
}

#define CMUL_RE(ar, ai, br, bi) ((ar) * (br) - (ai) * (bi))
#define CMUL_IM(ar, ai, br, bi) ((ar) * (bi) + (ai) * (br))

/* One Stockham stage of radix P: x holds the DFTs (length L) of the r
   decimated subsequences x[j::r] (element k of subsequence j at j + r k);
   y receives those of length L P for r / P subsequences.  With r' = r / P:
   y[j + r' (k0 + L k1)] = sum_q w_{LP}^{q k0} w_P^{q k1} x[j + r' q + r k0].
   The loop skeleton is expanded per radix so that P is a constant and the
   twiddled inputs ar/ai stay in registers; the body writes out[k1 * os]. */
#define STAGE_LOOP(P, ...)                                                               \
    for (int64_t k0 = 0; k0 < L; k0++) {                                                 \
        double wr[P], wi[P];                                                             \
        for (int q = 0; q < (P); q++) {                                                  \
            int64_t idx = (int64_t)q * k0 * tws;                                         \
            wr[q] = tw[2 * idx];                                                         \
            wi[q] = tw[2 * idx + 1];                                                     \
        }                                                                                \
        for (int64_t j = 0; j < rp; j++) {                                               \
            const double *in = x + 2 * (j + r * k0);                                     \
            double *out = y + 2 * (j + rp * k0);                                         \
            double ar[P], ai[P];                                                         \
            for (int q = 0; q < (P); q++) {                                              \
                double xr = in[2 * rp * q], xi = in[2 * rp * q + 1];                     \
                ar[q] = CMUL_RE(xr, xi, wr[q], wi[q]);                                   \
                ai[q] = CMUL_IM(xr, xi, wr[q], wi[q]);                                   \
            }                                                                            \
            __VA_ARGS__                                                                  \
        }                                                                                \
    }

#define STAGE_ARGS const fft_core *c, int64_t L, const double *x, double *y
#define STAGE_SETUP(P)                                                                   \
    int64_t r = c->n / L, rp = r / (P), tws = c->n / (L * (P)), os = 2 * rp * L;         \
    const double *tw = c->tw;

static void stage2(STAGE_ARGS) {
    STAGE_SETUP(2)
    STAGE_LOOP(2, {
        out[0] = ar[0] + ar[1], out[1] = ai[0] + ai[1];
        out[os] = ar[0] - ar[1], out[os + 1] = ai[0] - ai[1];
    })
}

static void stage4(STAGE_ARGS) { /* w_4 = -i */
    STAGE_SETUP(4)
    STAGE_LOOP(4, {
        double t0r = ar[0] + ar[2], t0i = ai[0] + ai[2], t1r = ar[0] - ar[2], t1i = ai[0] - ai[2];
        double t2r = ar[1] + ar[3], t2i = ai[1] + ai[3], t3r = ar[1] - ar[3], t3i = ai[1] - ai[3];
        out[0] = t0r + t2r, out[1] = t0i + t2i;
        out[os] = t1r + t3i, out[os + 1] = t1i - t3r;
        out[2 * os] = t0r - t2r, out[2 * os + 1] = t0i - t2i;
        out[3 * os] = t1r - t3i, out[3 * os + 1] = t1i + t3r;
    })
}

static void stage3(STAGE_ARGS) {
    STAGE_SETUP(3)
    const double s3 = 0.86602540378443864676; /* sin(2 pi / 3) */
    STAGE_LOOP(3, {
        double tr = ar[1] + ar[2], ti = ai[1] + ai[2], dr = ar[1] - ar[2], di = ai[1] - ai[2];
        double mr = ar[0] - 0.5 * tr, mi = ai[0] - 0.5 * ti;
        out[0] = ar[0] + tr, out[1] = ai[0] + ti;
        out[os] = mr + s3 * di, out[os + 1] = mi - s3 * dr;
        out[2 * os] = mr - s3 * di, out[2 * os + 1] = mi + s3 * dr;
    })
}

static void stage5(STAGE_ARGS) {
    STAGE_SETUP(5)
    const double c51 = 0.30901699437494742410, c52 = -0.80901699437494742410; /* cos(2 pi / 5), cos(4 pi / 5) */
    const double s51 = 0.95105651629515357212, s52 = 0.58778525229247312917;  /* sin(2 pi / 5), sin(4 pi / 5) */
    STAGE_LOOP(5, {
        double t1r = ar[1] + ar[4], t1i = ai[1] + ai[4], d1r = ar[1] - ar[4], d1i = ai[1] - ai[4];
        double t2r = ar[2] + ar[3], t2i = ai[2] + ai[3], d2r = ar[2] - ar[3], d2i = ai[2] - ai[3];
        double m1r = ar[0] + c51 * t1r + c52 * t2r, m1i = ai[0] + c51 * t1i + c52 * t2i;
        double m2r = ar[0] + c52 * t1r + c51 * t2r, m2i = ai[0] + c52 * t1i + c51 * t2i;
        double e1r = s51 * d1r + s52 * d2r, e1i = s51 * d1i + s52 * d2i; /* b1, b4 = m1 -/+ i e1 */
        double e2r = s52 * d1r - s51 * d2r, e2i = s52 * d1i - s51 * d2i; /* b2, b3 = m2 -/+ i e2 */
        out[0] = ar[0] + t1r + t2r, out[1] = ai[0] + t1i + t2i;
        out[os] = m1r + e1i, out[os + 1] = m1i - e1r;
        out[4 * os] = m1r - e1i, out[4 * os + 1] = m1i + e1r;
        out[2 * os] = m2r + e2i, out[2 * os + 1] = m2i - e2r;
        out[3 * os] = m2r - e2i, out[3 * os + 1] = m2i + e2r;
    })
}

/* Any prime p <= OT_FFT_MAX_RADIX: w_p^{q k1} = tw[(q k1 mod p) n / p]. */
static void stage_generic(STAGE_ARGS, int p) {
    int64_t r = c->n / L, rp = r / p, tws = c->n / (L * p), os = 2 * rp * L, ps = c->n / p;
    const double *tw = c->tw;
    double wr[OT_FFT_MAX_RADIX], wi[OT_FFT_MAX_RADIX], ar[OT_FFT_MAX_RADIX], ai[OT_FFT_MAX_RADIX];
    for (int64_t k0 = 0; k0 < L; k0++) {
        for (int q = 0; q < p; q++) {
            int64_t idx = (int64_t)q * k0 * tws;
            wr[q] = tw[2 * idx];
            wi[q] = tw[2 * idx + 1];
        }
        for (int64_t j = 0; j < rp; j++) {
            const double *in = x + 2 * (j + r * k0);
            double *out = y + 2 * (j + rp * k0);
            for (int q = 0; q < p; q++) {
                double xr = in[2 * rp * q], xi = in[2 * rp * q + 1];
                ar[q] = CMUL_RE(xr, xi, wr[q], wi[q]);
                ai[q] = CMUL_IM(xr, xi, wr[q], wi[q]);
            }
            for (int k1 = 0; k1 < p; k1++) {
                double sr = 0, si = 0;
                for (int q = 0, e = 0; q < p; q++) {
                    const double *w = tw + 2 * (int64_t)e * ps;
                    sr += CMUL_RE(ar[q], ai[q], w[0], w[1]);
                    si += CMUL_IM(ar[q], ai[q], w[0], w[1]);
                    e += k1;
                    if (e >= p) e -= p;
                }
                out[k1 * os] = sr, out[k1 * os + 1] = si;
            }
        }
    }
}

static void stage(const fft_core *c, int p, int64_t L, const double *x, double *y) {
    switch (p) {
    case 2: stage2(c, L, x, y); break;
    case 3: stage3(c, L, x, y); break;
    case 4: stage4(c, L, x, y); break;
    case 5: stage5(c, L, x, y); break;
    default: stage_generic(c, L, x, y, p); break;
    }
}

/* z (n complex) <- its DFT (sign -1); tmp: n complex of scratch. */
static void core_exec(const fft_core *c, double *z, double *tmp) {
    double *x = z, *y = tmp;
    int64_t L = 1;
    for (int s = 0; s < c->nr; s++) {
        stage(c, c->radix[s], L, x, y);
        L *= c->radix[s];
        double *t = x;
        x = y;
        y = t;
    }
    if (x != z) memcpy(z, x, sizeof(double) * 2 * (size_t)c->n);
}

static void conj_n(double *z, int64_t n) {
    for (int64_t k = 0; k < n; k++) z[2 * k + 1] = -z[2 * k + 1];
}

/* Builds the plan's tables in mem (plan_doubles(n) doubles); tmp: scratch
   of thread_doubles(n) doubles. */
static void plan_init(fft_plan *p, int64_t n, double *mem, double *tmp) {
    p->n = n;
    plan_shape(n, &p->bluestein, &p->m);
    int64_t m = p->m;
    core_init(&p->core, m, mem);
    p->chirp = p->filt = NULL;
    if (!p->bluestein) return;
    p->chirp = mem + 2 * m;
    p->filt = p->chirp + 2 * n;
    /* k^2 mod 2n, stepped as (k-1)^2 + 2k - 1: exact, no overflow. */
    for (int64_t k = 0, sq = 0; k < n; k++) {
        if (k) sq = (sq + 2 * k - 1) % (2 * n);
        double a = OT_PI * (double)sq / (double)n;
        p->chirp[2 * k] = cos(a);
        p->chirp[2 * k + 1] = -sin(a);
    }
    memset(p->filt, 0, sizeof(double) * 2 * (size_t)m);
    for (int64_t k = 0; k < n; k++) {
        p->filt[2 * k] = p->chirp[2 * k];
        p->filt[2 * k + 1] = -p->chirp[2 * k + 1];
        if (k) {
            p->filt[2 * (m - k)] = p->chirp[2 * k];
            p->filt[2 * (m - k) + 1] = -p->chirp[2 * k + 1];
        }
    }
    core_exec(&p->core, p->filt, tmp);
    for (int64_t k = 0; k < 2 * m; k++) p->filt[k] /= (double)m;
}

/* z (n complex) <- sum_t z[t] e^{sign 2 pi i k t / n}; work: the thread's
   core buffers (n complex, or 2m for Bluestein). */
static void fft_exec(const fft_plan *p, double *z, int sign, double *work) {
    int64_t n = p->n, m = p->m;
    if (sign > 0) conj_n(z, n); /* F+(z) = conj(F-(conj z)) */
    if (!p->bluestein) {
        core_exec(&p->core, z, work);
    } else { /* z * chirp, convolved with the conjugate chirp, times chirp */
        const double *c = p->chirp, *f = p->filt;
        double *a = work, *tmp = work + 2 * m;
        for (int64_t t = 0; t < n; t++) {
            a[2 * t] = CMUL_RE(z[2 * t], z[2 * t + 1], c[2 * t], c[2 * t + 1]);
            a[2 * t + 1] = CMUL_IM(z[2 * t], z[2 * t + 1], c[2 * t], c[2 * t + 1]);
        }
        memset(a + 2 * n, 0, sizeof(double) * 2 * (size_t)(m - n));
        core_exec(&p->core, a, tmp);
        for (int64_t k = 0; k < m; k++) { /* times filt, conjugated: the inverse FFT is conj(F(conj .)) */
            double r = CMUL_RE(a[2 * k], a[2 * k + 1], f[2 * k], f[2 * k + 1]);
            double i = CMUL_IM(a[2 * k], a[2 * k + 1], f[2 * k], f[2 * k + 1]);
            a[2 * k] = r;
            a[2 * k + 1] = -i;
        }
        core_exec(&p->core, a, tmp);
        for (int64_t k = 0; k < n; k++) { /* conj(a) * chirp */
            double r = a[2 * k], i = -a[2 * k + 1];
            z[2 * k] = CMUL_RE(r, i, c[2 * k], c[2 * k + 1]);
            z[2 * k + 1] = CMUL_IM(r, i, c[2 * k], c[2 * k + 1]);
        }
    }
    if (sign > 0) conj_n(z, n);
}

/* One workspace block: the plan's tables, then `threads` per-thread areas. */
typedef struct fft_team {
    fft_plan plan;
    double *mem;
    size_t per_thread;
    int threads;
} fft_team;

static size_t team_bytes(int64_t n, int threads) {
    return sizeof(double) * (plan_doubles(n) + (size_t)threads * thread_doubles(n));
}

static int team_threads(int64_t work) { return work < OT_DFT_PAR_MIN ? 1 : omp_get_max_threads(); }

static ot_status team_init(fft_team *t, int64_t n, int threads, size_t extra_doubles) {
    t->threads = threads;
    t->per_thread = thread_doubles(n);
    t->mem = ot_workspace_alloc(team_bytes(n, threads) + sizeof(double) * extra_doubles);
    if (!t->mem) return ot_error(OT_ERR_NOMEM, "out of memory for FFT scratch of length %lld", (long long)n);
    plan_init(&t->plan, n, t->mem, t->mem + plan_doubles(n)); /* thread 0's area as scratch */
    return OT_OK;
}

/* The calling thread's z (n complex), pair buffer (n complex) and work area. */
static double *team_area(const fft_team *t) {
    return t->mem + plan_doubles(t->plan.n) + (size_t)omp_get_thread_num() * t->per_thread;
}

/* Splits Z = F(a + i b) of real a, b into A = F(a) (into z) and B = F(b)
   (into zb) for bins k < kmax: A_k = (Z_k + conj Z_{n-k}) / 2,
   B_k = (Z_k - conj Z_{n-k}) / 2i.  Bins are read before being overwritten. */
static void split_real_pair(double *z, double *zb, int64_t n, int64_t kmax) {
    for (int64_t k = 0; k < kmax; k++) {
        int64_t j = k ? n - k : 0;
        if (j < k) continue; /* done with its mirror */
        double zr = z[2 * k], zi = z[2 * k + 1], jr = z[2 * j], ji = z[2 * j + 1];
        zb[2 * k] = 0.5 * (zi + ji);
        zb[2 * k + 1] = 0.5 * (jr - zr);
        z[2 * k] = 0.5 * (zr + jr);
        z[2 * k + 1] = 0.5 * (zi - ji);
        if (j > k) {
            zb[2 * j] = 0.5 * (ji + zi);
            zb[2 * j + 1] = 0.5 * (zr - jr);
            z[2 * j] = 0.5 * (jr + zr);
            z[2 * j + 1] = 0.5 * (ji - zi);
        }
    }
}

/* z <- H1 + i H2 with H = (v + conj(v[-k])) / 2 of v1 = z and v2 = zb
   (n complex each): H's transform is the real part of v's (for either
   sign), and both are real, so F(z) = Re F(v1) + i Re F(v2). */
static void herm_pair(double *z, const double *zb, int64_t n) {
    for (int64_t k = 0; k <= n / 2; k++) {
        int64_t j = k ? n - k : 0;
        double h1r = 0.5 * (z[2 * k] + z[2 * j]), h1i = 0.5 * (z[2 * k + 1] - z[2 * j + 1]);
        double h2r = 0.5 * (zb[2 * k] + zb[2 * j]), h2i = 0.5 * (zb[2 * k + 1] - zb[2 * j + 1]);
        z[2 * k] = h1r - h2i;
        z[2 * k + 1] = h1i + h2r;
        if (j != k) {
            z[2 * j] = h1r + h2i;
            z[2 * j + 1] = h2r - h1i;
        }
    }
}

/* The real and imaginary parts of z (n complex) into z and zb as two real
   transforms (imaginary parts zero). */
static void unzip_real_pair(double *z, double *zb, int64_t n) {
    for (int64_t k = 0; k < n; k++) {
        zb[2 * k] = z[2 * k + 1];
        zb[2 * k + 1] = 0;
        z[2 * k + 1] = 0;
    }
}

/* ---- DFT along an axis ------------------------------------------------------------ */

void ot_dft_forward_args(ot_dtype dt, int rank, const int64_t *dims, int axis, int64_t n, bool inverse, bool onesided,
                         ot_dft_args *a) {
    memset(a, 0, sizeof *a);
    a->dtype = dt;
    a->outer = a->inner = 1;
    for (int d = 0; d < axis; d++) a->outer *= dims[d];
    for (int d = axis + 1; d < rank - 1; d++) a->inner *= dims[d];
    a->len_in = dims[axis];
    a->c_in = (int)dims[rank - 1];
    a->n = n;
    a->sign = inverse ? 1 : -1;
    a->scale = inverse ? 1.0 / (double)n : 1.0;
    a->hermitian_in = inverse && onesided;
    a->c_out = a->hermitian_in ? 1 : 2;
    a->len_out = !inverse && onesided ? n / 2 + 1 : n;
}

void ot_dft_adjoint_args(const ot_dft_args *fwd, ot_dft_args *adj) {
    *adj = *fwd;
    adj->x = adj->y = NULL;
    adj->len_in = fwd->len_out;
    adj->c_in = fwd->c_out;
    adj->len_out = fwd->len_in;
    adj->c_out = fwd->c_in;
    adj->sign = -fwd->sign; /* F_s^H = F_{-s} */
    adj->hermitian_in = false;
    adj->half_out = fwd->hermitian_in;
}

/* How two items share one complex transform (see split_real_pair and
   herm_pair): real inputs; Hermitian inputs with a real output; or any
   input of which only the real part of the transform is kept. */
enum { PAIR_NONE, PAIR_REAL_IN, PAIR_REAL_OUT };

static int dft_pairing(const ot_dft_args *a) {
    if (a->c_in == 1 && !a->hermitian_in) return PAIR_REAL_IN;
    return a->c_out == 1 ? PAIR_REAL_OUT : PAIR_NONE;
}

/* Rough flops of `items` transforms of length n, to decide on threads. */
static int64_t fft_cost(int64_t items, int64_t n) {
    int64_t lg = 1;
    while (((int64_t)1 << lg) < n) lg++;
    return items * 5 * n * lg;
}

static int64_t dft_work(const ot_dft_args *a) { return fft_cost(a->outer * a->inner, a->n); }

size_t ot_dft_scratch_bytes(const ot_dft_args *a) { return team_bytes(a->n, team_threads(dft_work(a))); }

/* Item `it` of x into z (n complex).  With it2 >= 0 (real or Hermitian
   inputs only) two items share z: real inputs as x1 + i x2; Hermitian
   half-spectra as H1 + i H2 of their full spectra (each bin: X times 1 or
   i, its mirror conj(X) times 1 or i). */
static void dft_load(const ot_dft_args *a, int64_t it, int64_t it2, double *z) {
    int64_t n = a->n, L = a->len_in, stride = a->inner * a->c_in;
    int64_t h = a->hermitian_in ? n / 2 + 1 : n, cnt = L < h ? L : h;
    memset(z, 0, sizeof(double) * 2 * (size_t)n);
    for (int p = 0; p < (it2 >= 0 ? 2 : 1); p++) {
        int64_t item = p ? it2 : it, o = item / a->inner, i = item % a->inner;
        const int64_t base = (o * L * a->inner + i) * a->c_in;
        if (!a->hermitian_in && a->c_in == 2) {
            for (int64_t t = 0; t < cnt; t++) {
                z[2 * t] = ld(a->dtype, a->x, base + t * stride);
                z[2 * t + 1] = ld(a->dtype, a->x, base + t * stride + 1);
            }
        } else if (!a->hermitian_in) {
            for (int64_t t = 0; t < cnt; t++) z[2 * t + p] = ld(a->dtype, a->x, base + t * stride);
        } else {
            for (int64_t k = 0; k < cnt; k++) {
                double re = ld(a->dtype, a->x, base + k * stride);
                double im = a->c_in == 2 && k != 0 && 2 * k != n ? ld(a->dtype, a->x, base + k * stride + 1) : 0;
                int64_t j = n - k;
                if (!p) {
                    z[2 * k] += re, z[2 * k + 1] += im;
                    if (k && j != k) z[2 * j] += re, z[2 * j + 1] -= im;
                } else { /* i (re + i im) = (-im, re); i (re - i im) = (im, re) */
                    z[2 * k] -= im, z[2 * k + 1] += re;
                    if (k && j != k) z[2 * j] += im, z[2 * j + 1] += re;
                }
            }
        }
    }
}

static void dft_store(const ot_dft_args *a, int64_t it, const double *z) {
    int64_t n = a->n, L = a->len_out, stride = a->inner * a->c_out;
    int64_t o = it / a->inner, i = it % a->inner, base = (o * L * a->inner + i) * a->c_out;
    double s = a->scale;
    for (int64_t k = 0; k < L; k++) {
        double re = 0, im = 0;
        bool live = a->half_out ? 2 * k <= n : k < n;
        if (live) {
            double w = s;
            bool edge = k == 0 || 2 * k == n;
            if (a->half_out && !edge) w *= 2;
            re = z[2 * k] * w;
            im = a->half_out && edge ? 0 : z[2 * k + 1] * w;
        }
        st(a->dtype, a->y, base + k * stride, re);
        if (a->c_out == 2) st(a->dtype, a->y, base + k * stride + 1, im);
    }
}

ot_status ot_cpu_dft(const ot_dft_args *a) {
    int64_t items = a->outer * a->inner;
    if (items == 0 || a->len_out == 0) return OT_OK;
    int pairing = dft_pairing(a);
    int64_t units = pairing ? (items + 1) / 2 : items;
    int threads = team_threads(dft_work(a));
    fft_team t;
    OT_TRY(team_init(&t, a->n, threads, 0));
    int64_t n = a->n, kmax = a->len_out < n ? a->len_out : n;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        double *z = team_area(&t), *zb = z + 2 * n, *work = zb + 2 * n;
#pragma omp for schedule(static)
        for (int64_t u = 0; u < units; u++) {
            int64_t it = pairing ? 2 * u : u, it2 = pairing && it + 1 < items ? it + 1 : -1;
            if (it2 >= 0 && pairing == PAIR_REAL_OUT && !a->hermitian_in) {
                dft_load(a, it, -1, z);
                dft_load(a, it2, -1, zb);
                herm_pair(z, zb, n);
            } else {
                dft_load(a, it, it2, z); /* real pairs and Hermitian pairs load together */
            }
            fft_exec(&t.plan, z, a->sign, work);
            if (it2 < 0) {
                dft_store(a, it, z);
                continue;
            }
            if (pairing == PAIR_REAL_OUT) unzip_real_pair(z, zb, n);
            else split_real_pair(z, zb, n, kmax);
            dft_store(a, it, z);
            dft_store(a, it2, zb);
        }
    }
    ot_workspace_free(t.mem);
    return OT_OK;
}

/* ---- STFT ---------------------------------------------------------------------------- */

size_t ot_stft_scratch_bytes(const ot_stft_args *a) {
    return team_bytes(a->n, team_threads(fft_cost(a->batch * a->frames, a->n)));
}

/* Frame `it` (= b * frames + f), windowed, into z; real pairs share z. */
static void stft_load(const ot_stft_args *a, int64_t it, int64_t it2, double *z) {
    int64_t n = a->n;
    memset(z, 0, sizeof(double) * 2 * (size_t)n);
    for (int p = 0; p < (it2 >= 0 ? 2 : 1); p++) {
        int64_t item = p ? it2 : it, b = item / a->frames, f = item % a->frames;
        int64_t base = (b * a->length + f * a->step) * a->c;
        for (int64_t j = 0; j < n; j++) {
            double w = a->window ? ld(a->dtype, a->window, j) : 1.0;
            if (a->c == 2) {
                z[2 * j] = w * ld(a->dtype, a->x, base + 2 * j);
                z[2 * j + 1] = w * ld(a->dtype, a->x, base + 2 * j + 1);
            } else {
                z[2 * j + p] = w * ld(a->dtype, a->x, base + j);
            }
        }
    }
}

static void stft_store(const ot_stft_args *a, int64_t it, const double *z) {
    int64_t base = it * a->bins * 2;
    for (int64_t k = 0; k < a->bins; k++) {
        st(a->dtype, a->y, base + 2 * k, z[2 * k]);
        st(a->dtype, a->y, base + 2 * k + 1, z[2 * k + 1]);
    }
}

ot_status ot_cpu_stft(const ot_stft_args *a) {
    int64_t items = a->batch * a->frames, n = a->n;
    if (items == 0 || a->bins == 0) return OT_OK;
    bool pairs = a->c == 1;
    int64_t units = pairs ? (items + 1) / 2 : items;
    int threads = team_threads(fft_cost(items, n));
    fft_team t;
    OT_TRY(team_init(&t, n, threads, 0));
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        double *z = team_area(&t), *zb = z + 2 * n, *work = zb + 2 * n;
#pragma omp for schedule(static)
        for (int64_t u = 0; u < units; u++) {
            int64_t it = pairs ? 2 * u : u, it2 = pairs && it + 1 < items ? it + 1 : -1;
            stft_load(a, it, it2, z);
            fft_exec(&t.plan, z, -1, work);
            if (it2 >= 0) split_real_pair(z, zb, n, a->bins);
            stft_store(a, it, z);
            if (it2 >= 0) stft_store(a, it2, zb);
        }
    }
    ot_workspace_free(t.mem);
    return OT_OK;
}

/* ---- STFT adjoint -------------------------------------------------------------------- */

/* The adjoint runs over chunks of frames: first G[b, f] = F+(dy[b, f]
   zero-extended to n) for the chunk's frames, in parallel; then each signal
   sample gathers w[j] G[b, f, j] from the frames covering it, and each window
   tap sums Re(x conj G) over them, in frame order: deterministic, and free of
   write conflicts between overlapping frames. */
#define OT_STFT_CHUNK_BYTES ((int64_t)8 << 20)

static int64_t stft_chunk(const ot_stft_grad_args *a) {
    int64_t per = a->batch * a->n * 16, fc = per ? OT_STFT_CHUNK_BYTES / per : a->frames;
    if (fc < 1) fc = 1;
    return fc < a->frames ? fc : a->frames;
}

static int stft_grad_threads(const ot_stft_grad_args *a) {
    return team_threads(fft_cost(a->batch * a->frames, a->n));
}

size_t ot_stft_grad_scratch_bytes(const ot_stft_grad_args *a) {
    size_t g = (size_t)(a->batch * stft_chunk(a) * a->n * 2 + a->n) * sizeof(double);
    return team_bytes(a->n, stft_grad_threads(a)) + g;
}

/* dy of chunk item `it` (frame f0 + it % nf of item it / nf), zero-extended
   to n bins, into z. */
static void stft_grad_load(const ot_stft_grad_args *a, int64_t f0, int64_t nf, int64_t it, double *z) {
    int64_t b = it / nf, f = f0 + it % nf, n = a->n, base = (b * a->frames + f) * a->bins * 2;
    memset(z, 0, sizeof(double) * 2 * (size_t)n);
    for (int64_t k = 0; k < a->bins && k < n; k++) {
        z[2 * k] = ld(a->dtype, a->dy, base + 2 * k);
        z[2 * k + 1] = ld(a->dtype, a->dy, base + 2 * k + 1);
    }
}

ot_status ot_cpu_stft_grad(const ot_stft_grad_args *a) {
    int64_t n = a->n, B = a->batch, F = a->frames, s = a->step, L = a->length, C = a->c;
    if (a->dx)
        for (int64_t i = 0; i < B * L * C; i++) st(a->dtype, a->dx, i, 0);
    if (a->dwindow)
        for (int64_t j = 0; j < n; j++) st(a->dtype, a->dwindow, j, 0);
    if (B * F == 0 || n == 0) return OT_OK;
    int64_t fc = stft_chunk(a);
    int threads = stft_grad_threads(a);
    fft_team t;
    OT_TRY(team_init(&t, n, threads, (size_t)(B * fc * n * 2 + n)));
    double *G = t.mem + team_bytes(n, threads) / sizeof(double), *dw = G + B * fc * n * 2;
    memset(dw, 0, sizeof(double) * (size_t)n);
    for (int64_t f0 = 0; f0 < F; f0 += fc) {
        int64_t nf = F - f0 < fc ? F - f0 : fc;
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            double *z = team_area(&t), *zb = z + 2 * n, *work = zb + 2 * n;
            /* a real signal only needs Re G: two frames per transform */
            int64_t items = B * nf, units = C == 1 ? (items + 1) / 2 : items;
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; u++) {
                int64_t it = C == 1 ? 2 * u : u, it2 = C == 1 && it + 1 < items ? it + 1 : -1;
                stft_grad_load(a, f0, nf, it, z);
                if (it2 >= 0) {
                    stft_grad_load(a, f0, nf, it2, zb);
                    herm_pair(z, zb, n);
                }
                fft_exec(&t.plan, z, 1, work);
                if (it2 >= 0) {
                    unzip_real_pair(z, zb, n);
                    memcpy(G + it2 * n * 2, zb, sizeof(double) * 2 * (size_t)n);
                }
                memcpy(G + it * n * 2, z, sizeof(double) * 2 * (size_t)n);
            }
            if (a->dx) {
                /* samples [f0 s, (f0 + nf - 1) s + n) of every item */
                int64_t t0 = f0 * s, span = (nf - 1) * s + n;
#pragma omp for schedule(static)
                for (int64_t q = 0; q < B * span; q++) {
                    int64_t b = q / span, tt = t0 + q % span;
                    /* frames f in [f0, f0 + nf) with f s <= tt < f s + n */
                    int64_t lo = tt - n + 1 <= f0 * s ? f0 : (tt - n + 1 + s - 1) / s, hi = tt / s;
                    if (hi > f0 + nf - 1) hi = f0 + nf - 1;
                    double re = 0, im = 0;
                    for (int64_t f = lo; f <= hi; f++) {
                        int64_t j = tt - f * s;
                        const double *g = G + ((b * nf + f - f0) * n + j) * 2;
                        double w = a->window ? ld(a->dtype, a->window, j) : 1.0;
                        re += w * g[0];
                        im += w * g[1];
                    }
                    int64_t o = (b * L + tt) * C;
                    st(a->dtype, a->dx, o, ld(a->dtype, a->dx, o) + re);
                    if (C == 2) st(a->dtype, a->dx, o + 1, ld(a->dtype, a->dx, o + 1) + im);
                }
            }
            if (a->dwindow) {
#pragma omp for schedule(static)
                for (int64_t j = 0; j < n; j++) {
                    double acc = 0;
                    for (int64_t it = 0; it < B * nf; it++) {
                        int64_t b = it / nf, f = f0 + it % nf, o = (b * L + f * s + j) * C;
                        const double *g = G + (it * n + j) * 2;
                        acc += ld(a->dtype, a->x, o) * g[0];
                        if (C == 2) acc += ld(a->dtype, a->x, o + 1) * g[1];
                    }
                    dw[j] += acc;
                }
            }
        }
    }
    if (a->dwindow)
        for (int64_t j = 0; j < n; j++) st(a->dtype, a->dwindow, j, dw[j]);
    ot_workspace_free(t.mem);
    return OT_OK;
}

/* ---- windows ------------------------------------------------------------------------- */

void ot_cpu_window(ot_window_kind kind, bool periodic, int64_t size, ot_dtype dt, void *y) {
    int64_t N = periodic ? size : size - 1;
    for (int64_t k = 0; k < size; k++) {
        double v = 1.0; /* the one-sample symmetric window (N = 0) */
        if (N > 0) {
            double a = 2 * OT_PI * (double)k / (double)N;
            switch (kind) {
            case OT_WINDOW_HANN: v = 0.5 - 0.5 * cos(a); break;
            case OT_WINDOW_HAMMING: v = 25.0 / 46.0 - (21.0 / 46.0) * cos(a); break;
            default: v = 0.42 - 0.5 * cos(a) + 0.08 * cos(2 * a); break;
            }
        }
        ot_store_f64(dt, y, k, v);
    }
}

/* ---- MelWeightMatrix ----------------------------------------------------------------- */

/* numpy's float floor division (a // b): floor of the exact quotient, via
   fmod, so (a // b) * b + a % b == a even where a / b rounds to an integer. */
static double floor_div(double a, double b) {
    double mod = fmod(a, b), div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
    double fl = floor(div);
    if (div - fl > 0.5) fl += 1.0;
    return fl;
}

ot_status ot_cpu_mel_weight_matrix(const ot_mel_args *a) {
    int64_t M = a->num_mel_bins, bins = a->dft_length / 2 + 1;
    for (int64_t i = 0; i < bins * M; i++) ot_store_f64(a->dtype, a->y, i, 0);
    int64_t prev2 = 0, prev1 = 0;
    for (int64_t e = 0; e < M + 2; e++) {
        double mel = (double)e * a->mel_step + a->low_mel;
        double hz = 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
        double q = floor_div((double)(a->dft_length + 1) * hz, (double)a->sample_rate);
        if (!(q > -9e18 && q < 9e18))
            return ot_error(OT_ERR_INVALID_ARG, "mel band edge %lld maps to spectrogram bin %g", (long long)e, q);
        int64_t edge = (int64_t)q;
        if (e >= 2) { /* filter i = e - 2 over edges (prev2, prev1, edge) */
            int64_t i = e - 2, lo = prev2, mid = prev1, hi = edge;
            int64_t first = INT64_MAX, last = INT64_MIN; /* the bins it writes */
            if (mid == lo) first = last = mid;
            else if (mid > lo) first = lo, last = mid;
            if (hi > mid) {
                if (mid < first) first = mid;
                if (hi - 1 > last) last = hi - 1;
            }
            if (first <= last && (first < 0 || last >= bins))
                return ot_error(OT_ERR_INVALID_ARG,
                                "mel filter %lld spans spectrogram bins %lld..%lld, outside [0, %lld): is "
                                "upper_edge_hertz above sample_rate / 2, or lower_edge_hertz negative?",
                                (long long)i, (long long)first, (long long)last, (long long)bins);
            if (mid - lo == 0) {
                ot_store_f64(a->dtype, a->y, mid * M + i, 1.0);
            } else {
                for (int64_t j = lo; j <= mid; j++)
                    ot_store_f64(a->dtype, a->y, j * M + i, (double)(j - lo) / (double)(mid - lo));
            }
            if (hi - mid > 0)
                for (int64_t j = mid; j < hi; j++)
                    ot_store_f64(a->dtype, a->y, j * M + i, (double)(hi - j) / (double)(hi - mid));
        }
        prev2 = prev1;
        prev1 = edge;
    }
    return OT_OK;
}
