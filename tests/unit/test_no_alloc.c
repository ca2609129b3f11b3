/* A steady-state step allocates nothing: after warm-up runs, running a
 * compiled inference program or a training step (ot_trainer_step) makes no
 * engine allocation (ot_alloc_get_stats) and no libc allocation at all.
 *
 * libc allocations are counted two ways:
 *  - this build defines malloc/calloc/realloc/free itself (forwarding to
 *    glibc's __libc_* entry points), which interposes them for the whole
 *    process: the engine, OpenMP and OpenBLAS alike;
 *  - built with -DOT_TEST_WRAP and linked with
 *    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc it counts through
 *    __wrap_* instead: every allocation the statically linked engine makes
 *    without ot_malloc (the CMake target test_no_alloc_wrap).
 * OpenMP's runtime allocates its thread pool on first use, so every case
 * warms up first.  OpenBLAS is not ours: its small-matrix SGEMM kernels
 * (0.3.21, DYNAMIC_ARCH SkylakeX/Cooperlake) malloc a packing buffer on every
 * call, so allocations whose caller lies in libopenblas are counted apart
 * and reported, not failed.  Also checks that plans are cached per input shape: a
 * partial last batch compiles its own program once, then allocates nothing.
 *
 *   test_no_alloc [-v]   (from tests/; -v: backtraces of unexpected allocations) */
#include <dirent.h>
#include <execinfo.h>
#include <link.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "train_case.h"
#include "src/core/alloc.h"
#include "src/onnx/model.h"
#include "src/runtime/program.h"
#include "src/train/trainer.h"

/* ---- counting libc allocations --------------------------------------------------- */

static atomic_int armed;
static atomic_long libc_allocs, blas_allocs;
static uintptr_t blas_lo, blas_hi; /* libopenblas's loaded segments */
static int verbose;
static _Thread_local int in_hook;
#define MAX_TRACES 4
static void *traces[MAX_TRACES][24];
static int trace_len[MAX_TRACES];
static atomic_int n_traces;

static int find_blas(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size, (void)data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "libopenblas")) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!blas_lo || lo < blas_lo) blas_lo = lo;
        if (hi > blas_hi) blas_hi = hi;
    }
    return 1;
}

__attribute__((unused)) static void count_alloc(void *caller) {
    if (!atomic_load_explicit(&armed, memory_order_relaxed)) return;
    if ((uintptr_t)caller >= blas_lo && (uintptr_t)caller < blas_hi) {
        atomic_fetch_add(&blas_allocs, 1);
        return;
    }
    atomic_fetch_add(&libc_allocs, 1);
    if (!verbose || in_hook) return;
    in_hook = 1;
    int k = atomic_fetch_add(&n_traces, 1);
    if (k < MAX_TRACES) trace_len[k] = backtrace(traces[k], 24);
    in_hook = 0;
}

#if defined(OT_TEST_WRAP)
void *__real_malloc(size_t n);
void *__real_calloc(size_t c, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) {
    count_alloc(__builtin_return_address(0));
    return __real_malloc(n);
}
void *__wrap_calloc(size_t c, size_t n) {
    count_alloc(__builtin_return_address(0));
    return __real_calloc(c, n);
}
void *__wrap_realloc(void *p, size_t n) {
    count_alloc(__builtin_return_address(0));
    return __real_realloc(p, n);
}
#define LIBC_WHAT "libc allocations by the engine (--wrap)"
#elif !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t c, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
void *malloc(size_t n) {
    count_alloc(__builtin_return_address(0));
    return __libc_malloc(n);
}
void *calloc(size_t c, size_t n) {
    count_alloc(__builtin_return_address(0));
    return __libc_calloc(c, n);
}
void *realloc(void *p, size_t n) {
    count_alloc(__builtin_return_address(0));
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#define LIBC_WHAT "libc allocations in the process"
#else
#define LIBC_WHAT "libc allocations (not counted under AddressSanitizer)"
#endif

typedef struct counts {
    uint64_t engine;
    long libc, blas;
} counts;

static void arm(counts *c) {
    atomic_store(&n_traces, 0);
    c->engine = ot_alloc_get_stats().allocations;
    c->libc = atomic_load(&libc_allocs);
    c->blas = atomic_load(&blas_allocs);
    atomic_store(&armed, 1);
}

/* Checks that nothing was allocated since arm(). */
static void disarm(const counts *c, const char *what) {
    atomic_store(&armed, 0);
    uint64_t engine = ot_alloc_get_stats().allocations - c->engine;
    long libc = atomic_load(&libc_allocs) - c->libc, blas = atomic_load(&blas_allocs) - c->blas;
    CHECK_MSG(engine == 0, "%s: %llu engine allocations in a steady-state step", what, (unsigned long long)engine);
    CHECK_MSG(libc == 0, "%s: %ld %s in a steady-state step", what, libc, LIBC_WHAT);
    if (verbose)
        printf("  %-36s engine %llu, libc %ld, inside OpenBLAS %ld\n", what, (unsigned long long)engine, libc, blas);
    int nt = atomic_load(&n_traces);
    for (int k = 0; k < nt && k < MAX_TRACES && verbose; k++) {
        printf("  allocation %d:\n", k);
        fflush(stdout);
        backtrace_symbols_fd(traces[k], trace_len[k], STDOUT_FILENO);
    }
}

/* The counters see what they should: one ot_malloc is one engine and one
   libc allocation. */
static void check_counters(void) {
    counts c;
    arm(&c);
    void *volatile p = ot_malloc(16);
    atomic_store(&armed, 0);
    ot_free(p);
    CHECK(ot_alloc_get_stats().allocations - c.engine == 1);
#if defined(OT_TEST_WRAP) || !defined(__SANITIZE_ADDRESS__)
    CHECK(atomic_load(&libc_allocs) - c.libc == 1);
#endif
}

/* ---- inference programs ------------------------------------------------------------ */

static void check_inference(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "models/%s/model.onnx", name);
    ot_model *m = NULL;
    ot_status s = ot_model_load(path, &m);
    CHECK_MSG(s == OT_OK, "%s: %s", path, ot_last_error());
    if (s) return;
    int nb = ot_graph_bound_input_count(m->graph);
    ot_tensor *in[8] = {0};
    for (int k = 0; k < nb && k < 8 && !s; k++) {
        snprintf(path, sizeof path, "models/%s/test_data_set_0/input_%d.pb", name, k);
        s = ot_tensor_load(path, &in[k]);
    }
    ot_program *p = NULL;
    ot_compile_options o = {0};
    if (!s) s = ot_program_compile(m->graph, in, &o, &p);
    for (int r = 0; r < 2 && !s; r++) s = ot_program_run(p, in, (uint64_t)r); /* warm-up */
    CHECK_MSG(s == OT_OK, "%s: %s", name, ot_last_error());
    if (!s) {
        counts c;
        arm(&c);
        s = ot_program_run(p, in, 2);
        disarm(&c, name);
        CHECK(s == OT_OK);
    }
    ot_program_free(p);
    for (int k = 0; k < nb && k < 8; k++) ot_tensor_free(in[k]);
    ot_model_free(m);
}

/* ---- training steps ------------------------------------------------------------------ */

static ot_status step_rows(ot_trainer *t, const ot_tensor *x, const ot_tensor *y, int64_t start, int64_t rows) {
    ot_tensor xb = rows_of(x, start, rows), yb = rows_of(y, start, rows);
    ot_tensor *in[2] = {&xb, &yb};
    double loss;
    return ot_trainer_step(t, 2, NULL, in, &loss);
}

/* Full batches and the partial last one: two warm-up steps of each shape,
   then one measured step of each. */
/* clip > 0: the separate update path (global norm); 0: the update inside
   the program (OptimizerUpdate steps, src/train/optim_graph.c). */
static void check_training(const char *dir, const char *optimizer, int64_t batch, bool mse, int threads, double clip,
                           bool recompute) {
    char what[128];
    const char *name = strrchr(dir, '/') + 1;
    ot_train_options o;
    ot_train_options_init(&o);
    o.loss = mse ? OT_LOSS_MSE : OT_LOSS_CROSS_ENTROPY;
    CHECK(ot_optim_kind_parse(optimizer, &o.optimizer) == OT_OK);
    o.lr = 0.01;
    o.threads = threads;
    o.clip_grad_norm = clip;
    o.recompute = recompute;
    ot_model *m = NULL;
    ot_trainer *t = NULL;
    ot_tensor *x = NULL, *y = NULL;
    ot_status s = load_train_case(dir, &m, &x, &y);
    if (!s) s = ot_trainer_create(m, &o, &t);
    int64_t n = s ? 0 : x->dims[0], tail = n % batch ? n % batch : batch;
    if (!s && n < 2 * batch) batch = n / 2, tail = n - batch; /* two shapes, whatever the data */
    for (int r = 0; r < 2 && !s; r++) {
        s = step_rows(t, x, y, 0, batch);
        if (!s) s = step_rows(t, x, y, n - tail, tail);
    }
    CHECK_MSG(s == OT_OK, "%s: %s", dir, ot_last_error());
    if (!s) {
        int programs = t->n_programs;
        counts c;
        snprintf(what, sizeof what, "%s %s batch %lld", name, optimizer, (long long)batch);
        arm(&c);
        s = step_rows(t, x, y, 0, batch);
        disarm(&c, what);
        CHECK(s == OT_OK);
        snprintf(what, sizeof what, "%s %s batch %lld", name, optimizer, (long long)tail);
        arm(&c);
        s = step_rows(t, x, y, n - tail, tail);
        disarm(&c, what);
        CHECK(s == OT_OK);
        CHECK(t->n_programs == programs && programs == (tail == batch ? 1 : 2)); /* one plan per shape, cached */
        /* evaluation: its own (inference-mode) program, cached likewise */
        ot_tensor xb = rows_of(x, 0, batch), yb = rows_of(y, 0, batch);
        ot_tensor *in[2] = {&xb, &yb};
        double loss;
        int64_t correct, counted;
        for (int r = 0; r < 2 && !s; r++) s = ot_trainer_evaluate(t, 2, NULL, in, &loss, &correct, &counted);
        CHECK_MSG(s == OT_OK, "%s: %s", dir, ot_last_error());
        snprintf(what, sizeof what, "%s evaluate batch %lld", name, (long long)batch);
        arm(&c);
        if (!s) s = ot_trainer_evaluate(t, 2, NULL, in, &loss, &correct, &counted);
        disarm(&c, what);
        CHECK(s == OT_OK);
    }
    ot_trainer_free(t);
    ot_tensor_free(x);
    ot_tensor_free(y);
    ot_model_free(m);
}

int main(int argc, char **argv) {
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    dl_iterate_phdr(find_blas, NULL);
    if (verbose) { /* backtrace() loads libgcc on first use: not during a measured step */
        void *b[2];
        backtrace(b, 2);
    }
    check_counters();
    check_inference("test_mlp_eval_opset17");
    check_inference("test_cnn_eval_opset17");
    check_inference("test_cnn_bn_eval_opset17");
    check_inference("test_gpt_eval_opset17");
    check_training("parity/mlp_sgd", "sgd", 16, false, 0, 1.0, false);
    check_training("parity/mlp_sgd", "adam", 16, false, 1, 1.0, false);
    check_training("parity/mse_tanh_sgd", "momentum", 8, true, 0, 1.0, false);
    check_training("parity/cnn_momentum", "nesterov", 8, false, 0, 1.0, false);
    check_training("parity/cnn_bn_momentum", "adamw", 8, false, 0, 1.0, false);
    check_training("parity/gpt_adamw", "adamw", 4, false, 0, 1.0, false);
    check_training("parity/mlp_sgd", "adam", 16, false, 0, 0, false);
    check_training("parity/cnn_bn_momentum", "momentum", 8, false, 0, 0, false);
    check_training("parity/gpt_adamw", "adamw", 4, false, 0, 0, false);
    check_training("parity/gpt_adamw", "adamw", 4, false, 0, 0, true);
    return check_done();
}
