/* LR schedules against torch.optim.lr_scheduler traces
 * (tests/golden/optimizer_lr_schedules.txt, tools/gen_optimizer_golden.py)
 * and the rules of src/train/lr_schedule.h.
 *
 * Usage: test_lr_schedule [GOLDEN_DIR]   (default: golden, run from tests/) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "src/train/lr_schedule.h"

static int read_tok(FILE *f, char *tok) {
    for (;;) {
        if (fscanf(f, "%127s", tok) != 1) return 0;
        if (tok[0] != '#') return 1;
        int c;
        while ((c = fgetc(f)) != EOF && c != '\n') {}
    }
}

/* "key value" pair: checks the key, returns the value. */
static double keyed(FILE *f, const char *key, char *tok) {
    if (!read_tok(f, tok) || strcmp(tok, key) != 0) {
        fprintf(stderr, "golden: expected %s, got %s\n", key, tok);
        return NAN;
    }
    return read_tok(f, tok) ? strtod(tok, NULL) : NAN;
}

static void test_torch_traces(const char *dir) {
    char path[512], tok[128], name[128];
    snprintf(path, sizeof path, "%s/optimizer_lr_schedules.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s (run from tests/ or pass the golden directory)", path);
    if (!f) return;
    int schedules = 0;
    double worst = 0;
    while (read_tok(f, tok) && strcmp(tok, "schedule") == 0) {
        read_tok(f, name);
        read_tok(f, tok); /* "kind" */
        read_tok(f, tok);
        ot_lr_kind kind;
        CHECK(ot_lr_kind_parse(tok, &kind) == OT_OK);
        ot_lr_schedule s;
        ot_lr_schedule_defaults(kind, keyed(f, "lr", tok), &s);
        s.min_lr = keyed(f, "min_lr", tok);
        s.warmup_steps = (int64_t)keyed(f, "warmup", tok);
        int64_t total = (int64_t)keyed(f, "total", tok);
        s.gamma = keyed(f, "gamma", tok);
        s.step_size = (int64_t)keyed(f, "step_size", tok);
        int steps = (int)keyed(f, "steps", tok);
        CHECK_MSG(ot_lr_schedule_validate(&s, total) == OT_OK, "%s: %s", name, ot_last_error());
        read_tok(f, tok); /* "values" */
        for (int i = 0; i < steps; i++) {
            read_tok(f, tok);
            double want = strtod(tok, NULL), got = ot_lr_at(&s, i, total);
            double err = fabs(got - want) / (want > 0 ? want : 1);
            if (err > worst) worst = err;
            CHECK_MSG(check_close(got, want, 1e-12, 1e-17), "%s step %d: %.17g vs torch %.17g", name, i, got, want);
        }
        schedules++;
    }
    fclose(f);
    CHECK(schedules >= 10);
    printf("lr schedule goldens: %d schedules, max rel err %.3g vs torch\n", schedules, worst);
}

static void test_rules(void) {
    ot_lr_schedule s;
    ot_lr_kind k;
    const char *names[] = {"constant", "linear", "cosine", "step"};
    for (int i = 0; i < 4; i++) {
        CHECK(ot_lr_kind_parse(names[i], &k) == OT_OK && (int)k == i);
        CHECK(strcmp(ot_lr_kind_name(k), names[i]) == 0);
    }
    CHECK(ot_lr_kind_parse("exp", &k) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "cosine"));

    /* Warmup: step / W, step 0 at lr 0, step W at the full lr. */
    ot_lr_schedule_defaults(OT_LR_CONSTANT, 0.4, &s);
    s.warmup_steps = 4;
    CHECK(ot_lr_schedule_validate(&s, 0) == OT_OK);
    CHECK(ot_lr_at(&s, 0, 0) == 0 && ot_lr_at(&s, 1, 0) == 0.1 && ot_lr_at(&s, 4, 0) == 0.4);
    CHECK(ot_lr_at(&s, 1000, 0) == 0.4);

    /* Linear: min_lr is reached at step T (one past the last), and stays. */
    ot_lr_schedule_defaults(OT_LR_LINEAR, 1.0, &s);
    s.min_lr = 0.2;
    s.warmup_steps = 2;
    CHECK(ot_lr_schedule_validate(&s, 10) == OT_OK);
    CHECK(ot_lr_at(&s, 2, 10) == 1.0);
    CHECK_CLOSE(ot_lr_at(&s, 6, 10), 0.6, 1e-15, 0);
    CHECK_CLOSE(ot_lr_at(&s, 9, 10), 0.3, 1e-15, 0);
    CHECK(ot_lr_at(&s, 10, 10) == 0.2 && ot_lr_at(&s, 50, 10) == 0.2);

    /* Cosine: half way at the midpoint, min_lr from step T on. */
    ot_lr_schedule_defaults(OT_LR_COSINE, 1.0, &s);
    s.min_lr = 0.1;
    s.warmup_steps = 3;
    CHECK(ot_lr_at(&s, 3, 13) == 1.0);
    CHECK_CLOSE(ot_lr_at(&s, 8, 13), 0.55, 1e-15, 0);
    CHECK_CLOSE(ot_lr_at(&s, 13, 13), 0.1, 1e-15, 0);
    CHECK_CLOSE(ot_lr_at(&s, 40, 13), 0.1, 1e-15, 0);
    /* All warmup (T <= W): S = 1, no division by zero. */
    CHECK(isfinite(ot_lr_at(&s, 3, 2)));

    /* Step: gamma every step_size steps after warmup. */
    ot_lr_schedule_defaults(OT_LR_STEP, 1.0, &s);
    s.step_size = 3;
    s.gamma = 0.5;
    s.warmup_steps = 1;
    CHECK(ot_lr_schedule_validate(&s, 0) == OT_OK);
    CHECK(ot_lr_at(&s, 0, 0) == 0 && ot_lr_at(&s, 3, 0) == 1.0 && ot_lr_at(&s, 4, 0) == 0.5);
    CHECK(ot_lr_at(&s, 7, 0) == 0.25);

    /* Validation messages name the flag. */
    ot_lr_schedule_defaults(OT_LR_STEP, 1.0, &s);
    CHECK(ot_lr_schedule_validate(&s, 0) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "--step-size"));
    s.step_size = 2;
    s.gamma = 0;
    CHECK(ot_lr_schedule_validate(&s, 0) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "--gamma"));
    ot_lr_schedule_defaults(OT_LR_LINEAR, 1.0, &s);
    CHECK(ot_lr_schedule_validate(&s, 0) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "total number"));
    s.min_lr = 2.0;
    CHECK(ot_lr_schedule_validate(&s, 10) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "--min-lr"));
    ot_lr_schedule_defaults(OT_LR_COSINE, 1.0, &s);
    s.warmup_steps = -1;
    CHECK(ot_lr_schedule_validate(&s, 10) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "--warmup-steps"));
    ot_lr_schedule_defaults(OT_LR_CONSTANT, -0.1, &s);
    CHECK(ot_lr_schedule_validate(&s, 10) == OT_ERR_INVALID_ARG && strstr(ot_last_error(), "--lr"));
}

int main(int argc, char **argv) {
    test_rules();
    test_torch_traces(argc > 1 ? argv[1] : "golden");
    return check_done();
}
