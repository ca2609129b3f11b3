/* Optimizer config, update kernels, gradient norm/scaling and clipping.
 *
 * The update kernels are checked against torch.optim trajectories in
 * tests/golden/optimizer_*.txt (tools/gen_optimizer_golden.py): 5 steps on
 * two parameters (19 and 6 elements) per case; the expected difference is 0
 * ulps.  A large multi-tensor group checks the vector path and the
 * multi-threaded split against a plain scalar reference.
 *
 * Usage: test_optimizer [GOLDEN_DIR]   (default: golden, run from tests/) */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/cpu/optimizer.h"
#include "src/core/status.h"
#include "src/train/clip.h"
#include "src/train/optim_config.h"

static const char *golden_dir = "golden";

/* ---- golden file reading ------------------------------------------------- */

typedef struct reader {
    FILE *f;
    char tok[128];
} reader;

/* Next whitespace-separated token; '#' starts a comment to the end of the line. */
static bool next_tok(reader *r) {
    for (;;) {
        if (fscanf(r->f, "%127s", r->tok) != 1) return false;
        if (r->tok[0] != '#') return true;
        int c;
        while ((c = fgetc(r->f)) != EOF && c != '\n') {}
    }
}

static bool expect(reader *r, const char *word) {
    if (!next_tok(r) || strcmp(r->tok, word) != 0) {
        fprintf(stderr, "golden: expected '%s', got '%s'\n", word, r->tok);
        return false;
    }
    return true;
}

static double next_num(reader *r, ot_dtype dt) {
    if (!next_tok(r)) return NAN;
    /* float32 values are written with %.9g: strtof gives the exact float. */
    return dt == OT_FLOAT ? (double)strtof(r->tok, NULL) : strtod(r->tok, NULL);
}

static double *read_values(reader *r, const char *label, int64_t n, ot_dtype dt) {
    if (!expect(r, label)) return NULL;
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = next_num(r, dt);
    return v;
}

#define MAXT 4
#define MAXS 8

typedef struct gcase {
    char kind[32];
    ot_dtype dt;
    double hp[9]; /* lr momentum dampening beta1 beta2 eps weight_decay lr_decay initial_accumulator */
    int nt, steps;
    int64_t numel[MAXT];
    double *init[MAXT];
    double lr[MAXS];
    double *grad[MAXS][MAXT], *after[MAXS][MAXT];
} gcase;

static const char *const hp_names[9] = {"lr", "momentum", "dampening", "beta1", "beta2",
                                        "eps", "weight_decay", "lr_decay", "initial_accumulator"};

static bool read_case(const char *name, gcase *gc) {
    char path[512], label[32];
    snprintf(path, sizeof path, "%s/optimizer_%s.txt", golden_dir, name);
    reader r = {fopen(path, "r"), {0}};
    if (!r.f) {
        fprintf(stderr, "cannot open %s\n", path);
        return false;
    }
    memset(gc, 0, sizeof *gc);
    bool ok = expect(&r, "optimizer") && next_tok(&r);
    snprintf(gc->kind, sizeof gc->kind, "%s", r.tok);
    ok = ok && expect(&r, "dtype") && next_tok(&r);
    gc->dt = strcmp(r.tok, "float64") == 0 ? OT_DOUBLE : OT_FLOAT;
    for (int i = 0; ok && i < 9; i++) {
        ok = expect(&r, hp_names[i]);
        gc->hp[i] = next_num(&r, OT_DOUBLE);
    }
    ok = ok && expect(&r, "tensors");
    gc->nt = ok ? (int)next_num(&r, OT_DOUBLE) : 0;
    ok = ok && gc->nt > 0 && gc->nt <= MAXT;
    for (int i = 0; ok && i < gc->nt; i++) gc->numel[i] = (int64_t)next_num(&r, OT_DOUBLE);
    ok = ok && expect(&r, "steps");
    gc->steps = ok ? (int)next_num(&r, OT_DOUBLE) : 0;
    ok = ok && gc->steps > 0 && gc->steps <= MAXS;
    for (int i = 0; ok && i < gc->nt; i++) {
        snprintf(label, sizeof label, "param%d", i);
        ok = (gc->init[i] = read_values(&r, label, gc->numel[i], gc->dt)) != NULL;
    }
    for (int t = 0; ok && t < gc->steps; t++) {
        ok = expect(&r, "step") && next_num(&r, OT_DOUBLE) == t + 1 && expect(&r, "lr");
        gc->lr[t] = next_num(&r, OT_DOUBLE);
        for (int i = 0; ok && i < gc->nt; i++) {
            snprintf(label, sizeof label, "grad%d", i);
            ok = (gc->grad[t][i] = read_values(&r, label, gc->numel[i], gc->dt)) != NULL;
        }
        for (int i = 0; ok && i < gc->nt; i++) {
            snprintf(label, sizeof label, "param%d", i);
            ok = (gc->after[t][i] = read_values(&r, label, gc->numel[i], gc->dt)) != NULL;
        }
    }
    ok = ok && expect(&r, "end");
    fclose(r.f);
    if (!ok) fprintf(stderr, "%s: malformed golden file\n", path);
    return ok;
}

static void free_case(gcase *gc) {
    for (int i = 0; i < MAXT; i++) {
        free(gc->init[i]);
        for (int t = 0; t < MAXS; t++) {
            free(gc->grad[t][i]);
            free(gc->after[t][i]);
        }
    }
}

/* ---- helpers ------------------------------------------------------------- */

/* splitmix64 + Box-Muller: a self-contained seeded normal generator. */
static double rnd_unit(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double rnd_normal(uint64_t *s) {
    double u = rnd_unit(s), v = rnd_unit(s);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static size_t esize(ot_dtype dt) { return dt == OT_FLOAT ? 4 : 8; }
static double get(ot_dtype dt, const void *b, int64_t i) {
    return dt == OT_FLOAT ? (double)((const float *)b)[i] : ((const double *)b)[i];
}
static void put(ot_dtype dt, void *b, int64_t i, double v) {
    if (dt == OT_FLOAT) ((float *)b)[i] = (float)v;
    else ((double *)b)[i] = v;
}

/* Distance in units in the last place of dt between a and b. */
static int64_t ulps(ot_dtype dt, double a, double b) {
    if (a == b) return 0;
    if (isnan(a) || isnan(b)) return INT64_MAX;
    if (dt == OT_FLOAT) {
        float fa = (float)a, fb = (float)b;
        int32_t ia, ib;
        memcpy(&ia, &fa, 4);
        memcpy(&ib, &fb, 4);
        if (ia < 0) ia = INT32_MIN - ia;
        if (ib < 0) ib = INT32_MIN - ib;
        return llabs((long long)ia - (long long)ib);
    }
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    if (ia < 0) ia = INT64_MIN - ia;
    if (ib < 0) ib = INT64_MIN - ib;
    return (int64_t)llabs(ia - ib);
}

static ot_status config_from_golden(const gcase *gc, ot_optim_config *cfg) {
    ot_optim_kind kind;
    OT_TRY(ot_optim_kind_parse(gc->kind, &kind));
    ot_optim_config_defaults(kind, cfg);
    /* Only the options the kind reads: others are rejected when set. */
    OT_TRY(ot_optim_config_set(cfg, "lr", gc->hp[0]));
    OT_TRY(ot_optim_config_set(cfg, "weight-decay", gc->hp[6]));
    if (kind == OT_OPTIM_MOMENTUM || kind == OT_OPTIM_NESTEROV) {
        OT_TRY(ot_optim_config_set(cfg, "momentum", gc->hp[1]));
        OT_TRY(ot_optim_config_set(cfg, "dampening", gc->hp[2]));
    }
    if (kind == OT_OPTIM_ADAM || kind == OT_OPTIM_ADAMW) {
        OT_TRY(ot_optim_config_set(cfg, "beta1", gc->hp[3]));
        OT_TRY(ot_optim_config_set(cfg, "beta2", gc->hp[4]));
    }
    if (kind != OT_OPTIM_SGD && kind != OT_OPTIM_MOMENTUM && kind != OT_OPTIM_NESTEROV)
        OT_TRY(ot_optim_config_set(cfg, "eps", gc->hp[5]));
    if (kind == OT_OPTIM_ADAGRAD) {
        OT_TRY(ot_optim_config_set(cfg, "lr_decay", gc->hp[7]));
        OT_TRY(ot_optim_config_set(cfg, "initial_accumulator", gc->hp[8]));
    }
    return ot_optim_config_validate(cfg);
}

static int64_t worst_ulps_all;
static double worst_rel_all;

/* Runs one golden case; split_groups: one ot_cpu_optim_update call per tensor. */
static void run_golden_case(const char *name, bool split_groups) {
    gcase gc;
    if (!read_case(name, &gc)) {
        CHECK_MSG(0, "golden case %s unreadable", name);
        free_case(&gc);
        return;
    }
    ot_optim_config cfg;
    ot_status st = config_from_golden(&gc, &cfg);
    CHECK_MSG(st == OT_OK, "%s: config: %s", name, ot_last_error());
    const int ns = ot_optim_state_count(cfg.kind);
    void *param[MAXT], *grad[MAXT], *state[OT_OPTIM_MAX_STATE][MAXT];
    for (int i = 0; i < gc.nt; i++) {
        param[i] = malloc((size_t)gc.numel[i] * esize(gc.dt));
        grad[i] = malloc((size_t)gc.numel[i] * esize(gc.dt));
        for (int64_t e = 0; e < gc.numel[i]; e++) put(gc.dt, param[i], e, gc.init[i][e]);
        for (int k = 0; k < OT_OPTIM_MAX_STATE; k++) {
            state[k][i] = k < ns ? malloc((size_t)gc.numel[i] * esize(gc.dt)) : NULL;
            for (int64_t e = 0; k < ns && e < gc.numel[i]; e++)
                put(gc.dt, state[k][i], e, ot_optim_state_initial_value(&cfg, k));
        }
    }
    int64_t worst = 0;
    double worst_rel = 0;
    for (int t = 0; t < gc.steps && st == OT_OK; t++) {
        for (int i = 0; i < gc.nt; i++)
            for (int64_t e = 0; e < gc.numel[i]; e++) put(gc.dt, grad[i], e, gc.grad[t][i][e]);
        ot_optim_coeffs c;
        st = ot_optim_coeffs_compute(&cfg, t + 1, gc.lr[t], &c);
        CHECK(st == OT_OK);
        for (int i0 = 0; i0 < gc.nt && st == OT_OK; i0 += split_groups ? 1 : gc.nt) {
            int cnt = split_groups ? 1 : gc.nt;
            ot_optim_group g = {cnt, &gc.numel[i0], &param[i0], (const void *const *)&grad[i0],
                                {&state[0][i0], &state[1][i0]}};
            st = ot_cpu_optim_update(gc.dt, &c, &g);
            CHECK_MSG(st == OT_OK, "%s: update: %s", name, ot_last_error());
        }
        for (int i = 0; i < gc.nt; i++)
            for (int64_t e = 0; e < gc.numel[i]; e++) {
                double got = get(gc.dt, param[i], e), want = gc.after[t][i][e];
                int64_t u = ulps(gc.dt, got, want);
                double rel = fabs(got - want) / (fabs(want) > 1e-30 ? fabs(want) : 1e-30);
                if (u > worst) worst = u;
                if (rel > worst_rel) worst_rel = rel;
                CHECK_MSG(check_close(got, want, 1e-6, 0), "%s step %d param%d[%lld]: %.9g vs torch %.9g", name,
                          t + 1, i, (long long)e, got, want);
            }
    }
    if (!split_groups)
        printf("  %-14s %s: max %lld ulp, max rel err %.3g vs torch\n", name,
               gc.dt == OT_FLOAT ? "float32" : "float64", (long long)worst, worst_rel);
    if (worst > worst_ulps_all) worst_ulps_all = worst;
    if (worst_rel > worst_rel_all) worst_rel_all = worst_rel;
    for (int i = 0; i < gc.nt; i++) {
        free(param[i]);
        free(grad[i]);
        for (int k = 0; k < OT_OPTIM_MAX_STATE; k++) free(state[k][i]);
    }
    free_case(&gc);
}

static void test_golden_cases(void) {
    char path[512], name[64];
    snprintf(path, sizeof path, "%s/optimizer_cases.txt", golden_dir);
    reader r = {fopen(path, "r"), {0}};
    CHECK_MSG(r.f != NULL, "cannot open %s (run from tests/ or pass the golden directory)", path);
    if (!r.f) return;
    int n = 0;
    while (next_tok(&r)) {
        snprintf(name, sizeof name, "%s", r.tok);
        run_golden_case(name, false);
        run_golden_case(name, true);
        n++;
    }
    fclose(r.f);
    CHECK(n >= 10);
    printf("optimizer goldens: %d cases, max %lld ulp, max rel err %.3g\n", n, (long long)worst_ulps_all,
           worst_rel_all);
    /* PyTorch's own arithmetic is reproduced, so not even one ulp apart. */
    CHECK_MSG(worst_ulps_all == 0, "max %lld ulp from torch", (long long)worst_ulps_all);
}

/* ---- clipping against torch.nn.utils.clip_grad_norm_ ---------------------- */

static void test_clip_golden(void) {
    char path[512], label[32];
    snprintf(path, sizeof path, "%s/optimizer_clip.txt", golden_dir);
    reader r = {fopen(path, "r"), {0}};
    CHECK_MSG(r.f != NULL, "cannot open %s", path);
    if (!r.f) return;
    int cases = 0;
    int64_t worst = 0;
    while (next_tok(&r) && strcmp(r.tok, "clip") == 0) {
        expect(&r, "max_norm");
        double max_norm = next_num(&r, OT_DOUBLE);
        expect(&r, "tensors");
        int nt = (int)next_num(&r, OT_DOUBLE);
        if (nt < 1 || nt > MAXT) break;
        int64_t numel[MAXT];
        for (int i = 0; i < nt; i++) numel[i] = (int64_t)next_num(&r, OT_DOUBLE);
        double *g[MAXT], *want[MAXT];
        void *buf[MAXT];
        for (int i = 0; i < nt; i++) {
            snprintf(label, sizeof label, "grad%d", i);
            g[i] = read_values(&r, label, numel[i], OT_FLOAT);
            buf[i] = malloc((size_t)numel[i] * 4);
            for (int64_t e = 0; e < numel[i]; e++) ((float *)buf[i])[e] = (float)g[i][e];
        }
        expect(&r, "total");
        double total_want = next_num(&r, OT_FLOAT);
        for (int i = 0; i < nt; i++) {
            snprintf(label, sizeof label, "clipped%d", i);
            want[i] = read_values(&r, label, numel[i], OT_FLOAT);
        }
        double total = -1;
        CHECK(ot_clip_grad_norm(OT_FLOAT, nt, buf, numel, max_norm, &total) == OT_OK);
        /* torch accumulates the norm in float32; ours is double. */
        CHECK_CLOSE(total, total_want, 1e-6, 0);
        for (int i = 0; i < nt; i++) {
            for (int64_t e = 0; e < numel[i]; e++) {
                int64_t u = ulps(OT_FLOAT, ((float *)buf[i])[e], want[i][e]);
                if (u > worst) worst = u;
                CHECK_CLOSE(((float *)buf[i])[e], want[i][e], 1e-6, 0);
            }
            free(g[i]);
            free(want[i]);
            free(buf[i]);
        }
        cases++;
    }
    fclose(r.f);
    CHECK(cases == 4);
    printf("clip goldens: %d cases, max %lld ulp vs torch\n", cases, (long long)worst);
}

/* ---- config ---------------------------------------------------------------- */

static bool last_error_has(const char *s) { return strstr(ot_last_error(), s) != NULL; }

static void test_config(void) {
    ot_optim_config cfg;
    ot_optim_kind k;
    const char *names[] = {"sgd", "momentum", "nesterov", "adam", "adamw", "adagrad"};
    const int states[] = {0, 1, 1, 2, 2, 1};
    for (int i = 0; i < 6; i++) {
        CHECK(ot_optim_kind_parse(names[i], &k) == OT_OK && (int)k == i);
        CHECK(strcmp(ot_optim_kind_name(k), names[i]) == 0);
        CHECK(ot_optim_state_count(k) == states[i]);
    }
    CHECK(ot_optim_kind_parse("Adam", &k) == OT_ERR_INVALID_ARG && last_error_has("adagrad"));
    CHECK(strcmp(ot_optim_state_name(OT_OPTIM_ADAM, 1), "exp_avg_sq") == 0);
    CHECK(strcmp(ot_optim_state_name(OT_OPTIM_NESTEROV, 0), "momentum_buffer") == 0);
    CHECK(ot_optim_state_name(OT_OPTIM_SGD, 0) == NULL);

    /* PyTorch's defaults. */
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    CHECK(cfg.lr == 1e-3 && cfg.beta1 == 0.9 && cfg.beta2 == 0.999 && cfg.eps == 1e-8 && cfg.weight_decay == 0);
    CHECK(ot_optim_config_validate(&cfg) == OT_OK);
    ot_optim_config_defaults(OT_OPTIM_ADAMW, &cfg);
    CHECK(cfg.lr == 1e-3 && cfg.weight_decay == 1e-2 && ot_optim_config_validate(&cfg) == OT_OK);
    ot_optim_config_defaults(OT_OPTIM_ADAGRAD, &cfg);
    CHECK(cfg.lr == 1e-2 && cfg.eps == 1e-10 && cfg.lr_decay == 0 && cfg.initial_accumulator == 0);
    CHECK(ot_optim_config_validate(&cfg) == OT_OK);
    ot_optim_config_defaults(OT_OPTIM_MOMENTUM, &cfg);
    CHECK(cfg.momentum == 0.9 && cfg.dampening == 0);
    ot_optim_config_defaults(OT_OPTIM_NESTEROV, &cfg);
    CHECK(cfg.momentum == 0.9);

    /* lr is required for the SGD family. */
    for (int i = 0; i < 3; i++) {
        ot_optim_config_defaults((ot_optim_kind)i, &cfg);
        CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG);
        char msg[64];
        snprintf(msg, sizeof msg, "--lr is required for %s", names[i]);
        CHECK_MSG(last_error_has(msg), "%s", ot_last_error());
        CHECK(ot_optim_config_set(&cfg, "--lr", 0.1) == OT_OK && ot_optim_config_validate(&cfg) == OT_OK);
    }

    /* Options a kind does not read are refused when given. */
    ot_optim_config_defaults(OT_OPTIM_SGD, &cfg);
    ot_optim_config_set(&cfg, "lr", 0.1);
    ot_optim_config_set(&cfg, "momentum", 0.9);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("--optimizer momentum"));
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    ot_optim_config_set(&cfg, "lr-decay", 0.1);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("--lr-decay does not apply to adam"));
    CHECK(ot_optim_config_set(&cfg, "betas", 0.1) == OT_ERR_INVALID_ARG);

    /* Range checks as PyTorch's constructors. */
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    ot_optim_config_set(&cfg, "beta2", 1.0);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("--beta2 must be in [0, 1)"));
    ot_optim_config_defaults(OT_OPTIM_ADAMW, &cfg);
    ot_optim_config_set(&cfg, "weight_decay", -1);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("--weight-decay"));
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    ot_optim_config_set(&cfg, "lr", NAN);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG);
    ot_optim_config_defaults(OT_OPTIM_NESTEROV, &cfg);
    ot_optim_config_set(&cfg, "lr", 0.1);
    ot_optim_config_set(&cfg, "dampening", 0.1);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("nesterov requires"));
    ot_optim_config_set(&cfg, "dampening", 0);
    ot_optim_config_set(&cfg, "momentum", 0);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("nesterov requires"));
    ot_optim_config_defaults(OT_OPTIM_MOMENTUM, &cfg);
    ot_optim_config_set(&cfg, "lr", 0.1);
    ot_optim_config_set(&cfg, "momentum", -0.5);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("--momentum"));
    ot_optim_config_defaults(OT_OPTIM_ADAGRAD, &cfg);
    ot_optim_config_set(&cfg, "initial-accumulator", -1);
    CHECK(ot_optim_config_validate(&cfg) == OT_ERR_INVALID_ARG && last_error_has("--initial-accumulator"));
    ot_optim_config_set(&cfg, "initial-accumulator", 0.25);
    CHECK(ot_optim_config_validate(&cfg) == OT_OK && ot_optim_state_initial_value(&cfg, 0) == 0.25);

    /* Coefficients: Python's scalar arithmetic. */
    ot_optim_coeffs c;
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    CHECK(ot_optim_coeffs_compute(&cfg, 0, 1e-3, &c) == OT_ERR_INVALID_ARG);
    CHECK(ot_optim_coeffs_compute(&cfg, 1, -1, &c) == OT_ERR_INVALID_ARG);
    CHECK(ot_optim_coeffs_compute(&cfg, 3, 1e-3, &c) == OT_OK);
    CHECK(c.neg_step_size == -(1e-3 / (1 - pow(0.9, 3.0))) && c.bias_correction2_sqrt == sqrt(1 - pow(0.999, 3.0)));
    CHECK(!c.l2 && c.one_minus_beta1 == 1 - 0.9);
    ot_optim_config_defaults(OT_OPTIM_ADAMW, &cfg);
    CHECK(ot_optim_coeffs_compute(&cfg, 1, 2e-3, &c) == OT_OK && !c.l2 && c.decay == 1 - 2e-3 * 1e-2);
    ot_optim_config_defaults(OT_OPTIM_ADAGRAD, &cfg);
    ot_optim_config_set(&cfg, "lr-decay", 0.5);
    CHECK(ot_optim_coeffs_compute(&cfg, 3, 0.1, &c) == OT_OK && c.neg_clr == -(0.1 / (1 + 2 * 0.5)));
    ot_optim_config_defaults(OT_OPTIM_MOMENTUM, &cfg);
    CHECK(ot_optim_coeffs_compute(&cfg, 1, 0.1, &c) == OT_OK && c.first_step && c.use_momentum);
    CHECK(ot_optim_coeffs_compute(&cfg, 2, 0.1, &c) == OT_OK && !c.first_step);
    cfg.momentum = 0; /* PyTorch: SGD with momentum 0 keeps no buffer */
    CHECK(ot_optim_coeffs_compute(&cfg, 2, 0.1, &c) == OT_OK && !c.use_momentum);
}

/* ---- large groups: vector path and thread split vs a scalar reference ---- */

/* The formulas of optimizer.h, one element at a time. */
static double ref_elem(ot_dtype dt, const ot_optim_coeffs *c, double p, double g, double *s0, double *s1) {
#define R(x) (dt == OT_FLOAT ? (double)(float)(x) : (x))
#define FMA(a, b, d) (dt == OT_FLOAT ? (double)fmaf((float)(a), (float)(b), (float)(d)) : fma((a), (b), (d)))
#define SQRT(x) (dt == OT_FLOAT ? (double)sqrtf((float)(x)) : sqrt(x))
    const double wd = R(c->weight_decay);
    switch (c->kind) {
    case OT_OPTIM_ADAM:
    case OT_OPTIM_ADAMW: {
        if (c->kind == OT_OPTIM_ADAMW) p = R(p * R(c->decay));
        else if (c->l2) g = FMA(p, wd, g);
        *s0 = FMA(g, R(c->one_minus_beta1), R(*s0 * R(c->beta1)));
        *s1 = FMA(R(R(c->one_minus_beta2) * g), g, R(*s1 * R(c->beta2)));
        double denom = R(R(SQRT(*s1) / R(c->bias_correction2_sqrt)) + R(c->eps));
        return R(p + R(R(R(c->neg_step_size) * *s0) / denom));
    }
    case OT_OPTIM_ADAGRAD: {
        if (c->l2) g = FMA(p, wd, g);
        *s0 = FMA(g, g, *s0);
        double std = R(SQRT(*s0) + R(c->eps));
        return R(p + R(R(R(c->neg_clr) * g) / std));
    }
    default: {
        double d = c->l2 ? FMA(p, wd, g) : g;
        if (c->use_momentum) {
            *s0 = c->first_step ? d : FMA(d, R(c->one_minus_dampening), R(*s0 * R(c->momentum)));
            d = c->nesterov ? FMA(*s0, R(c->momentum), d) : *s0;
        }
        return FMA(d, R(c->neg_lr), p);
    }
    }
#undef R
#undef FMA
#undef SQRT
}

static void test_large_group(ot_dtype dt, ot_optim_kind kind, int threads) {
    enum { NT = 4 };
    const int64_t numel[NT] = {30001, 13, 0, 9000}; /* > OT_OPTIM_PAR_MIN in total: threads split it */
    ot_optim_config cfg;
    ot_optim_config_defaults(kind, &cfg);
    ot_optim_config_set(&cfg, "lr", 0.01);
    ot_optim_config_set(&cfg, "weight-decay", 0.02);
    if (kind == OT_OPTIM_MOMENTUM) ot_optim_config_set(&cfg, "dampening", 0.25);
    if (kind == OT_OPTIM_ADAGRAD) {
        ot_optim_config_set(&cfg, "lr-decay", 0.1);
        ot_optim_config_set(&cfg, "initial-accumulator", 0.05);
    }
    CHECK(ot_optim_config_validate(&cfg) == OT_OK);
    const int ns = ot_optim_state_count(kind);
    void *p[NT], *g[NT], *s[OT_OPTIM_MAX_STATE][NT];
    double *rp[NT], *rs[OT_OPTIM_MAX_STATE][NT];
    uint64_t rng = 7;
    for (int i = 0; i < NT; i++) {
        size_t n = (size_t)numel[i] + 1;
        p[i] = malloc(n * esize(dt));
        g[i] = malloc(n * esize(dt));
        rp[i] = malloc(n * sizeof(double));
        for (int64_t e = 0; e < numel[i]; e++) {
            put(dt, p[i], e, rnd_normal(&rng));
            rp[i][e] = get(dt, p[i], e);
        }
        for (int k = 0; k < OT_OPTIM_MAX_STATE; k++) {
            s[k][i] = k < ns ? malloc(n * esize(dt)) : NULL;
            rs[k][i] = malloc(n * sizeof(double));
            for (int64_t e = 0; e < numel[i]; e++) {
                rs[k][i][e] = ot_optim_state_initial_value(&cfg, k);
                if (k < ns) put(dt, s[k][i], e, rs[k][i][e]);
            }
        }
    }
    omp_set_num_threads(threads);
    int64_t mismatches = 0;
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < NT; i++)
            for (int64_t e = 0; e < numel[i]; e++) put(dt, g[i], e, rnd_normal(&rng) * (e % 3 ? 0.1 : 1e-3));
        ot_optim_coeffs c;
        CHECK(ot_optim_coeffs_compute(&cfg, t, 0.01 * t, &c) == OT_OK);
        ot_optim_group grp = {NT, numel, p, (const void *const *)g, {s[0], s[1]}};
        CHECK(ot_cpu_optim_update(dt, &c, &grp) == OT_OK);
        for (int i = 0; i < NT; i++)
            for (int64_t e = 0; e < numel[i]; e++) {
                double s0 = rs[0][i][e], s1 = rs[1][i][e];
                rp[i][e] = ref_elem(dt, &c, rp[i][e], get(dt, g[i], e), &s0, &s1);
                rs[0][i][e] = s0;
                rs[1][i][e] = s1;
                bool same = get(dt, p[i], e) == rp[i][e];
                for (int k = 0; k < ns; k++) same = same && get(dt, s[k][i], e) == rs[k][i][e];
                mismatches += !same;
            }
    }
    CHECK_MSG(mismatches == 0, "%s %s, %d threads: %lld elements differ from the scalar reference",
              ot_optim_kind_name(kind), dt == OT_FLOAT ? "float32" : "float64", threads, (long long)mismatches);
    for (int i = 0; i < NT; i++) {
        free(p[i]);
        free(g[i]);
        free(rp[i]);
        for (int k = 0; k < OT_OPTIM_MAX_STATE; k++) {
            free(s[k][i]);
            free(rs[k][i]);
        }
    }
}

/* ---- norm and scaling ------------------------------------------------------ */

static void test_sumsq_and_scale(void) {
    enum { NT = 3 };
    const int64_t numel[NT] = {100003, 7, 33333};
    float *gf[NT];
    double *gd[NT], *gw[NT];
    long double want = 0;
    uint64_t rng = 11;
    for (int i = 0; i < NT; i++) {
        gf[i] = malloc((size_t)numel[i] * 4);
        gd[i] = malloc((size_t)numel[i] * 8);
        gw[i] = malloc((size_t)numel[i] * 8);
        for (int64_t e = 0; e < numel[i]; e++) {
            gf[i][e] = (float)(rnd_normal(&rng) * (i + 1));
            gd[i][e] = gf[i][e];
            want += (long double)gf[i][e] * gf[i][e];
        }
    }
    double first = 0;
    for (int th = 1; th <= 5; th++) {
        omp_set_num_threads(th);
        double s32 = -1, s64 = -1;
        CHECK(ot_cpu_grads_sumsq(OT_FLOAT, NT, (const void *const *)gf, numel, &s32) == OT_OK);
        CHECK(ot_cpu_grads_sumsq(OT_DOUBLE, NT, (const void *const *)gd, numel, &s64) == OT_OK);
        if (th == 1) first = s32;
        /* Same bits whatever the thread count; float32 squares are exact in
           double, so both dtypes sum the same numbers in the same order. */
        CHECK(s32 == first && s64 == first);
    }
    CHECK_CLOSE(first, (double)want, 1e-13, 0);
    double empty = -1;
    CHECK(ot_cpu_grads_sumsq(OT_FLOAT, 0, NULL, NULL, &empty) == OT_OK && empty == 0);

    /* Scaling gives (float)coef * g in float32 and coef * g in float64,
       whatever the thread split.  gd still holds the float values widened. */
    omp_set_num_threads(3);
    CHECK(ot_cpu_grads_scale(OT_FLOAT, NT, (void *const *)gf, numel, 0.3) == OT_OK);
    int64_t bad = 0;
    for (int i = 0; i < NT; i++)
        for (int64_t e = 0; e < numel[i]; e++) bad += gf[i][e] != (float)gd[i][e] * (float)0.3;
    for (int i = 0; i < NT; i++) memcpy(gw[i], gd[i], (size_t)numel[i] * 8);
    CHECK(ot_cpu_grads_scale(OT_DOUBLE, NT, (void *const *)gd, numel, 0.3) == OT_OK);
    for (int i = 0; i < NT; i++)
        for (int64_t e = 0; e < numel[i]; e++) bad += gd[i][e] != gw[i][e] * 0.3;
    CHECK_MSG(bad == 0, "%lld scaled values wrong", (long long)bad);
    /* float32 scaling multiplies by (float)coef, as torch's mul_ does. */
    float x = 1.7f;
    float *px = &x;
    int64_t one = 1;
    CHECK(ot_cpu_grads_scale(OT_FLOAT, 1, (void *const *)&px, &one, 0.1) == OT_OK && x == 1.7f * (float)0.1);
    for (int i = 0; i < NT; i++) {
        free(gf[i]);
        free(gd[i]);
        free(gw[i]);
    }

    /* Errors. */
    CHECK(ot_cpu_grads_sumsq(OT_FLOAT16, 1, (const void *const *)&px, &one, &empty) == OT_ERR_UNSUPPORTED);
    int64_t neg = -1;
    CHECK(ot_cpu_grads_sumsq(OT_FLOAT, 1, (const void *const *)&px, &neg, &empty) == OT_ERR_INVALID_ARG);
}

static void test_clip_rules(void) {
    float a[4] = {3, 0, 0, 4}; /* norm 5 */
    float *pa = a;
    int64_t n = 4;
    double total = 0;
    CHECK(ot_clip_grad_norm(OT_FLOAT, 1, (void *const *)&pa, &n, 10.0, &total) == OT_OK);
    CHECK(total == 5.0 && a[0] == 3 && a[3] == 4); /* coef >= 1: untouched */
    CHECK(ot_clip_grad_norm(OT_FLOAT, 1, (void *const *)&pa, &n, 1.0, &total) == OT_OK);
    float coef = (1.0f / (5.0f + (float)1e-6)) * 1.0f;
    CHECK(total == 5.0 && a[0] == 3 * coef && a[3] == 4 * coef);
    double d[2] = {6, 8};
    double *pd = d;
    n = 2;
    CHECK(ot_clip_grad_norm(OT_DOUBLE, 1, (void *const *)&pd, &n, 5.0, &total) == OT_OK);
    CHECK(total == 10.0 && d[0] == 6 * ((1.0 / (10.0 + 1e-6)) * 5.0));
    CHECK(ot_clip_grad_norm(OT_DOUBLE, 1, (void *const *)&pd, &n, -1.0, &total) == OT_ERR_INVALID_ARG);
    CHECK(ot_clip_coef(OT_FLOAT, 0.0, 1.0) == 1.0);
    CHECK(isnan(ot_clip_coef(OT_FLOAT, NAN, 1.0)));
}

static void test_update_errors(void) {
    ot_optim_config cfg;
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    ot_optim_coeffs c;
    ot_optim_coeffs_compute(&cfg, 1, 1e-3, &c);
    float p = 1, g = 1, m = 0;
    void *pp = &p, *pm = &m;
    const void *pg = &g;
    int64_t n = 1;
    ot_optim_group grp = {1, &n, &pp, &pg, {&pm, NULL}}; /* adam needs two state tensors */
    CHECK(ot_cpu_optim_update(OT_FLOAT, &c, &grp) == OT_ERR_INVALID_ARG && last_error_has("adam"));
    grp.state[1] = &pm;
    CHECK(ot_cpu_optim_update(OT_FLOAT16, &c, &grp) == OT_ERR_UNSUPPORTED);
    CHECK(!ot_cpu_optim_dtype_ok(OT_BFLOAT16) && ot_cpu_optim_dtype_ok(OT_DOUBLE));
}

int main(int argc, char **argv) {
    if (argc > 1) golden_dir = argv[1];
    test_config();
    test_golden_cases();
    test_clip_golden();
    const ot_optim_kind kinds[] = {OT_OPTIM_SGD, OT_OPTIM_MOMENTUM, OT_OPTIM_NESTEROV,
                                   OT_OPTIM_ADAM, OT_OPTIM_ADAMW, OT_OPTIM_ADAGRAD};
    for (int k = 0; k < 6; k++) {
        test_large_group(OT_FLOAT, kinds[k], k % 2 ? 3 : 2);
        test_large_group(OT_DOUBLE, kinds[k], 2);
    }
    test_sumsq_and_scale();
    test_clip_rules();
    test_update_errors();
    return check_done();
}
