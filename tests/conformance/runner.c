/* Runs ONNX backend test cases (model.onnx + test_data_set_N/{input,output}_K.pb)
 * through the public API and compares outputs with the expected ones.
 *
 *   conformance --root DIR [--root DIR]... [--filter S] [--expect FILE]
 *               [--write-passing FILE] [--report FILE] [--max-abs-error X] [-v]
 *
 * Each case runs in a forked child (a crash or a hang fails that case only).
 * A case is "unsupported" when the library says OT_ERR_UNSUPPORTED, "fail"
 * for any other error or a mismatch.  With --expect, every case listed there
 * must pass (the committed regression list); exit 1 otherwise. */

#include <dirent.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onnxtrain.h"

enum { RES_PASS = 0, RES_FAIL = 2, RES_UNSUPPORTED = 3 };

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char **list_dir(const char *path, const char *prefix, int *count) {
    DIR *d = opendir(path);
    char **names = NULL;
    int n = 0, cap = 0;
    if (!d) {
        *count = 0;
        return NULL;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, strlen(prefix))) continue;
        if (n == cap) names = realloc(names, sizeof *names * (size_t)(cap = cap ? 2 * cap : 64));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static double elem(const ot_tensor *t, int64_t i) {
    const void *d = ot_tensor_data((ot_tensor *)t);
    switch (ot_tensor_dtype(t)) {
    case OT_FLOAT: return ((const float *)d)[i];
    case OT_DOUBLE: return ((const double *)d)[i];
    case OT_INT64: return (double)((const int64_t *)d)[i];
    case OT_INT32: return ((const int32_t *)d)[i];
    case OT_INT16: return ((const int16_t *)d)[i];
    case OT_INT8: return ((const int8_t *)d)[i];
    case OT_UINT8: case OT_BOOL: return ((const uint8_t *)d)[i];
    case OT_UINT16: return ((const uint16_t *)d)[i];
    case OT_UINT32: return ((const uint32_t *)d)[i];
    case OT_UINT64: return (double)((const uint64_t *)d)[i];
    case OT_FLOAT16: { /* decode IEEE half */
        uint16_t h = ((const uint16_t *)d)[i];
        int e = (h >> 10) & 31, m = h & 1023;
        double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
        return (h & 0x8000) ? -v : v;
    }
    case OT_BFLOAT16: {
        uint32_t bits = (uint32_t)((const uint16_t *)d)[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    /* the one-byte low-precision types (src/core/lowprec.h): compared code for code */
    default: return ot_dtype_size(ot_tensor_dtype(t)) == 1 ? ((const uint8_t *)d)[i] : NAN;
    }
}

/* When > 0: floats must match within this absolute error (golden models);
   otherwise the ONNX backend tests' default tolerance (rtol 1e-3, atol 1e-7). */
static double max_abs_error;
static double worst_error; /* largest |got - want| over float outputs of the case */
static double case_atol;   /* the case's absolute tolerance for float32/float64 (case_tolerance) */

/* The inverse DFT cases' expected outputs were computed in complex64: where
   the exact result is 0 they hold float32 rounding of the input's magnitude
   (1.9e-7 where the double-precision answer is 1e-15), past the default
   atol.  Two float32 epsilons of the values' scale cover it. */
static double case_tolerance(const char *dir) { return strstr(dir, "/test_dft_inverse") ? 2.4e-7 : 1e-7; }

/* dtype and shape must match; NULL when they do. */
static const char *compare_shape_only(const ot_tensor *got, const ot_tensor *want, char *buf, size_t cap) {
    if (ot_tensor_dtype(got) != ot_tensor_dtype(want)) {
        snprintf(buf, cap, "dtype %s, expected %s", ot_dtype_name(ot_tensor_dtype(got)), ot_dtype_name(ot_tensor_dtype(want)));
        return buf;
    }
    int r = ot_tensor_rank(got);
    bool shape_ok = r == ot_tensor_rank(want);
    for (int i = 0; shape_ok && i < r; i++) shape_ok = ot_tensor_dims(got)[i] == ot_tensor_dims(want)[i];
    if (!shape_ok) {
        snprintf(buf, cap, "shape mismatch (rank %d vs %d)", r, ot_tensor_rank(want));
        return buf;
    }
    return NULL;
}

/* Returns NULL when equal, else a description in buf. */
static const char *compare(const ot_tensor *got, const ot_tensor *want, char *buf, size_t cap) {
    if (compare_shape_only(got, want, buf, cap)) return buf;
    ot_dtype t = ot_tensor_dtype(want);
    bool fl = t == OT_FLOAT || t == OT_DOUBLE || t == OT_FLOAT16 || t == OT_BFLOAT16;
    double rtol = t == OT_FLOAT16 || t == OT_BFLOAT16 ? 1e-2 : 1e-3, atol = t == OT_FLOAT16 || t == OT_BFLOAT16 ? 1e-3 : case_atol;
    int64_t n = ot_tensor_numel(want);
    for (int64_t i = 0; i < n; i++) {
        double a = elem(got, i), b = elem(want, i);
        bool ok;
        if (!fl) ok = a == b;
        else if (isnan(a) || isnan(b)) ok = isnan(a) && isnan(b);
        else if (isinf(a) || isinf(b)) ok = a == b;
        else {
            double e = fabs(a - b);
            if (e > worst_error) worst_error = e;
            ok = max_abs_error > 0 ? e <= max_abs_error : e <= atol + rtol * fabs(b);
        }
        if (!ok) {
            snprintf(buf, cap, "element %lld: got %.9g, expected %.9g", (long long)i, a, b);
            return buf;
        }
    }
    return NULL;
}

/* Training-mode Dropout cases expect numpy's random stream, which onnxtrain
 * does not reproduce (its counter-based generator keeps results independent
 * of threads and backends).  For them we check what Dropout promises: every
 * output is 0 or x / (1 - ratio), the mask marks the kept elements, and the
 * dropped fraction is within 5 standard deviations of the ratio. */
static bool dropout_case(const char *dir) { return strstr(dir, "/test_training_dropout") != NULL; }
/* Bernoulli draws from numpy's stream as well (the expanded form through
   RandomUniformLike): each output must be 0 or 1, and equal the probability
   where that is exactly 0 or 1. */
static bool bernoulli_case(const char *dir) { return strstr(dir, "/test_bernoulli") != NULL; }
static bool random_case(const char *dir) { return dropout_case(dir) || bernoulli_case(dir); }

static const char *compare_dropout(ot_tensor *const *in, int nin, ot_tensor **got, int nout, ot_tensor *const *want,
                                   char *buf, size_t cap) {
    double ratio = nin > 1 ? elem(in[1], 0) : 0.5;
    const ot_tensor *x = in[0], *y = got[0];
    if (compare_shape_only(y, want[0], buf, cap)) return buf;
    int64_t n = ot_tensor_numel(x), dropped = 0;
    for (int64_t i = 0; i < n; i++) {
        double xi = elem(x, i), yi = elem(y, i), kept = xi / (1 - ratio);
        bool is_dropped = yi == 0 && xi != 0;
        if (!is_dropped && fabs(yi - kept) > 1e-6 * fabs(kept) + 1e-7) {
            snprintf(buf, cap, "element %lld: %.9g is neither 0 nor x/(1-ratio) = %.9g", (long long)i, yi, kept);
            return buf;
        }
        dropped += is_dropped;
        if (nout > 1 && (elem(got[1], i) != 0) == is_dropped) {
            snprintf(buf, cap, "element %lld: mask disagrees with the output", (long long)i);
            return buf;
        }
    }
    double sd = sqrt(ratio * (1 - ratio) / (double)n), frac = (double)dropped / (double)n;
    if (fabs(frac - ratio) > 5 * sd + 1e-12) {
        snprintf(buf, cap, "dropped fraction %.4f, ratio %.4f (more than 5 standard deviations apart)", frac, ratio);
        return buf;
    }
    return NULL;
}

static const char *compare_bernoulli(ot_tensor *const *in, ot_tensor **got, ot_tensor *const *want, char *buf,
                                     size_t cap) {
    if (compare_shape_only(got[0], want[0], buf, cap)) return buf;
    for (int64_t i = 0; i < ot_tensor_numel(got[0]); i++) {
        double p = elem(in[0], i), y = elem(got[0], i);
        if (y != 0 && y != 1) {
            snprintf(buf, cap, "element %lld: %.9g is neither 0 nor 1", (long long)i, y);
            return buf;
        }
        if ((p == 0 || p == 1) && y != p) {
            snprintf(buf, cap, "element %lld: probability %g drew %g", (long long)i, p, y);
            return buf;
        }
    }
    return NULL;
}

/* Runs one case in the current process; writes a one-line message to msg. */
static int run_case(const char *dir, char *msg, size_t cap) {
    case_atol = case_tolerance(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ot_model *m = NULL;
    ot_session *s = NULL;
    ot_status st = ot_model_load(path, &m);
    if (!st) st = ot_session_create(m, NULL, &s);
    if (st) {
        snprintf(msg, cap, "%s: %s", ot_status_name(st), ot_last_error());
        ot_model_free(m);
        return st == OT_ERR_UNSUPPORTED ? RES_UNSUPPORTED : RES_FAIL;
    }
    int nsets;
    char **sets = list_dir(dir, "test_data_set_", &nsets);
    int result = RES_PASS;
    msg[0] = 0;
    for (int k = 0; k < nsets && result == RES_PASS; k++) {
        ot_tensor *in[64] = {0}, *want[64] = {0}, **got = NULL;
        int nin = 0, nout = 0;
        for (; nin < 64; nin++) {
            snprintf(path, sizeof path, "%s/%s/input_%d.pb", dir, sets[k], nin);
            if (access(path, R_OK)) break;
            if ((st = ot_tensor_load(path, &in[nin]))) break;
        }
        for (; !st && nout < 64; nout++) {
            snprintf(path, sizeof path, "%s/%s/output_%d.pb", dir, sets[k], nout);
            if (access(path, R_OK)) break;
            if ((st = ot_tensor_load(path, &want[nout]))) break;
        }
        if (!st) st = ot_session_run(s, nin, NULL, in, &got);
        if (st) {
            snprintf(msg, cap, "%s: %s", ot_status_name(st), ot_last_error());
            result = st == OT_ERR_UNSUPPORTED ? RES_UNSUPPORTED : RES_FAIL;
        } else {
            if (nout != ot_model_output_count(m)) {
                snprintf(msg, cap, "%d expected outputs, the model has %d", nout, ot_model_output_count(m));
                result = RES_FAIL;
            }
            char why[512];
            if (result == RES_PASS && ((dropout_case(dir) && compare_dropout(in, nin, got, nout, want, why, sizeof why)) ||
                                       (bernoulli_case(dir) && compare_bernoulli(in, got, want, why, sizeof why)))) {
                snprintf(msg, cap, "%s: %s", sets[k], why);
                result = RES_FAIL;
            }
            for (int o = 0; o < nout && result == RES_PASS && !random_case(dir); o++) {
                if (compare(got[o], want[o], why, sizeof why)) {
                    snprintf(msg, cap, "%s output %d: %s", sets[k], o, why);
                    result = RES_FAIL;
                }
            }
            for (int o = 0; o < ot_model_output_count(m); o++) ot_tensor_free(got[o]);
            ot_free_array(got);
        }
        for (int i = 0; i < nin; i++) ot_tensor_free(in[i]);
        for (int i = 0; i < nout; i++) ot_tensor_free(want[i]);
    }
    for (int k = 0; k < nsets; k++) free(sets[k]);
    free(sets);
    if (result == RES_PASS) snprintf(msg, cap, "max abs error %.3g", worst_error);
    ot_session_free(s);
    ot_model_free(m);
    return result;
}

static int run_forked(const char *dir, char *msg, size_t cap) {
    int fd[2];
    if (pipe(fd)) return RES_FAIL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        alarm(120);
        char m[1024];
        int r = run_case(dir, m, sizeof m);
        ssize_t w = write(fd[1], m, strlen(m));
        (void)w;
        close(fd[1]);
        exit(r); /* not _exit: LeakSanitizer checks the child on exit in sanitizer builds */
    }
    close(fd[1]);
    ssize_t n = read(fd[0], msg, cap - 1);
    msg[n > 0 ? n : 0] = 0;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
        snprintf(msg, cap, "crashed with signal %d", WTERMSIG(status));
        return RES_FAIL;
    }
    return WEXITSTATUS(status);
}

int main(int argc, char **argv) {
    const char *roots[8];
    int nroots = 0, verbose = 0;
    const char *filter = NULL, *expect = NULL, *write_passing = NULL, *report = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--root") && i + 1 < argc && nroots < 8) roots[nroots++] = argv[++i];
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect = argv[++i];
        else if (!strcmp(argv[i], "--write-passing") && i + 1 < argc) write_passing = argv[++i];
        else if (!strcmp(argv[i], "--report") && i + 1 < argc) report = argv[++i];
        else if (!strcmp(argv[i], "--max-abs-error") && i + 1 < argc) max_abs_error = atof(argv[++i]);
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else {
            fprintf(stderr, "usage: %s --root DIR [--root DIR]... [--filter S] [--expect FILE] [--write-passing FILE] [--report FILE] [--max-abs-error X] [-v]\n", argv[0]);
            return 2;
        }
    }
    if (!nroots) {
        fprintf(stderr, "conformance: no --root given\n");
        return 2;
    }
    FILE *rep = report ? fopen(report, "w") : NULL;
    FILE *pass_out = write_passing ? fopen(write_passing, "w") : NULL;
    char **passed = NULL;
    int npassed = 0, counts[4] = {0};
    for (int r = 0; r < nroots; r++) {
        const char *root = roots[r];
        const char *base = strrchr(root, '/');
        base = base && base[1] ? base + 1 : root;
        int ncases;
        char **cases = list_dir(root, "test_", &ncases);
        for (int c = 0; c < ncases; c++) {
            char id[512], dir[4096], msg[1024];
            snprintf(id, sizeof id, "%s/%s", base, cases[c]);
            if (filter && !strstr(id, filter)) {
                free(cases[c]);
                continue;
            }
            snprintf(dir, sizeof dir, "%s/%s", root, cases[c]);
            int res = run_forked(dir, msg, sizeof msg);
            const char *word = res == RES_PASS ? "pass" : res == RES_UNSUPPORTED ? "unsupported" : "fail";
            counts[res == RES_PASS ? 0 : res == RES_UNSUPPORTED ? 2 : 1]++;
            if (res == RES_PASS) {
                passed = realloc(passed, sizeof *passed * (size_t)(npassed + 1));
                passed[npassed++] = strdup(id);
                if (pass_out) fprintf(pass_out, "%s\n", id);
            }
            if (rep) fprintf(rep, "%s\t%s\t%s\n", id, word, msg);
            if (verbose || (res == RES_FAIL && !expect)) printf("%-60s %s %s\n", id, word, msg);
            free(cases[c]);
        }
        free(cases);
    }
    int regressions = 0;
    if (expect) {
        FILE *f = fopen(expect, "r");
        if (!f) {
            fprintf(stderr, "conformance: cannot read %s\n", expect);
            return 2;
        }
        char line[512];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#') continue;
            if (filter && !strstr(line, filter)) continue;
            bool ok = false;
            for (int i = 0; i < npassed && !ok; i++) ok = !strcmp(passed[i], line);
            if (!ok) {
                printf("REGRESSION: %s no longer passes\n", line);
                regressions++;
            }
        }
        fclose(f);
    }
    printf("conformance: %d passed, %d failed, %d unsupported (%d regressions against the expected list)\n", counts[0],
           counts[1], counts[2], regressions);
    for (int i = 0; i < npassed; i++) free(passed[i]);
    free(passed);
    if (rep) fclose(rep);
    if (pass_out) fclose(pass_out);
    return regressions ? 1 : 0;
}
