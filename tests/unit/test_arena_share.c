/* One arena per trainer (src/runtime/memory.c, ot_arena_share): the programs
 * of a full batch, the partial last batch and evaluation take turns in it, so
 * it is as large as the largest of their plans (not their sum), and a program
 * that runs again after another computes exactly what it computed before
 * (its slots are pointed back into the arena). */
#include <string.h>

#include "check.h"
#include "train_case.h"
#include "src/train/trainer.h"

static double train_step(ot_trainer *t, const ot_tensor *x, const ot_tensor *y, int64_t start, int64_t rows) {
    ot_tensor xb = rows_of(x, start, rows), yb = rows_of(y, start, rows);
    ot_tensor *in[2] = {&xb, &yb};
    double loss = -1;
    CHECK_MSG(ot_trainer_step(t, 2, NULL, in, &loss) == OT_OK, "%s", ot_last_error());
    return loss;
}

static double evaluate(ot_trainer *t, const ot_tensor *x, const ot_tensor *y, int64_t rows) {
    ot_tensor xb = rows_of(x, 0, rows), yb = rows_of(y, 0, rows);
    ot_tensor *in[2] = {&xb, &yb};
    double loss = -1;
    int64_t correct, counted;
    CHECK_MSG(ot_trainer_evaluate(t, 2, NULL, in, &loss, &correct, &counted) == OT_OK, "%s", ot_last_error());
    return loss;
}

int main(void) {
    ot_model *m = NULL;
    ot_tensor *x = NULL, *y = NULL;
    ot_trainer *t = NULL;
    ot_train_options o;
    ot_train_options_init(&o);
    o.optimizer = OT_OPTIM_SGD;
    o.lr = 0.0; /* parameters never change: every run of a shape must give the same loss */
    o.threads = 1;
    CHECK(load_train_case("parity/gpt_adamw", &m, &x, &y) == OT_OK);
    CHECK(m && ot_trainer_create(m, &o, &t) == OT_OK);
    if (!t) return check_done();
    double a1 = train_step(t, x, y, 0, 4), b1 = train_step(t, x, y, 4, 2), e1 = evaluate(t, x, y, 3);
    double a2 = train_step(t, x, y, 0, 4), e2 = evaluate(t, x, y, 3), b2 = train_step(t, x, y, 4, 2);
    CHECK_CLOSE(a2, a1, 0, 0);
    CHECK_CLOSE(b2, b1, 0, 0);
    CHECK_CLOSE(e2, e1, 0, 0);
    CHECK(t->n_programs == 3);
    size_t largest = 0, sum = 0;
    for (int i = 0; i < t->n_programs; i++) {
        const ot_program *p = t->programs[i]->prog;
        CHECK(p->share == &t->arena && p->arena_raw == NULL);
        if (p->plan.arena_bytes > largest) largest = p->plan.arena_bytes;
        sum += p->plan.arena_bytes;
    }
    CHECK_MSG(t->arena.cap == largest, "shared arena %zu bytes, largest plan %zu", t->arena.cap, largest);
    CHECK(largest < sum);
    printf("three programs: shared arena %zu bytes, their own arenas would hold %zu\n", t->arena.cap, sum);
    ot_trainer_free(t);
    ot_tensor_free(x);
    ot_tensor_free(y);
    ot_model_free(m);
    return check_done();
}
