/* `ot_trainer_plan`: the figures of one compiled training step (CONTRACTS.md
 * "Reports and memory figures") for `onnxtrain info --train --plan` and
 * `onnxtrain bench`, and a drawing of the memory plan as SVG.
 *
 *   ops       nodes of the derived graph (forward, loss, backward), before
 *             fusion
 *   kernels   what one ot_trainer_step launches: every program step (after
 *             fusion; --no-fuse compiles the graph as derived), then
 *             per trained parameter one gradient copy (into the accumulated
 *             gradient) and one optimizer update (ot_trainer_update launches
 *             one update per parameter today, no multi-tensor grouping), two
 *             more with --clip-grad-norm (norm, scale), and one running
 *             statistics update per BatchNormalization
 *   memory    the program's plan (src/runtime/memory.c) for the transient
 *             figures; persistent bytes are counted here from the trainer
 *   flops     per program step, from the shapes it was compiled for
 *             (src/runtime/flops.c) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../runtime/flops.h"
#include "trainer.h"

/* ---- the drawing ------------------------------------------------------------- */

static void ot_svg_text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '&') fputs("&amp;", f);
        else if (c == '"') fputs("&quot;", f);
        else if (c < 0x20) fputc(' ', f); /* XML 1.0 has no other control characters */
        else fputc(c, f);
    }
}

/* "1.5 MiB", "12.0 KiB", "40 B" */
static void ot_bytes_label(double b, char *buf, size_t cap) {
    if (b >= 1024.0 * 1024.0) snprintf(buf, cap, "%.1f MiB", b / (1024.0 * 1024.0));
    else if (b >= 1024.0) snprintf(buf, cap, "%.1f KiB", b / 1024.0);
    else snprintf(buf, cap, "%.0f B", b);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about `want` ticks. */
static double ot_tick(double range, int want) {
    double raw = range / want, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

enum { SVG_W = 1100, SVG_H = 640, SVG_L = 90, SVG_R = 20, SVG_T = 40, SVG_B = 60 };

/* Buffers over time: one rectangle per arena buffer (an alias group of
   values, or a step's scratch) from its first to its last step, at its
   offset; hovering shows the values it holds. */
static ot_status ot_plan_svg(const ot_train_program *tp, const char *path) {
    const ot_program *p = tp->prog;
    const ot_graph *g = p->graph;
    FILE *f = fopen(path, "w");
    if (!f) return ot_error(OT_ERR_IO, "cannot write the plan drawing '%s'", path);
    double steps = p->n_steps > 0 ? p->n_steps : 1, arena = p->plan.arena_bytes > 0 ? (double)p->plan.arena_bytes : 1;
    double pw = SVG_W - SVG_L - SVG_R, ph = SVG_H - SVG_T - SVG_B;
    double sx = pw / steps, sy = ph / arena;
    char lab[64];
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    ot_bytes_label(arena, lab, sizeof lab);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%d\" y=\"22\" font-size=\"14\">Training step memory plan: %d program steps, arena %s", SVG_L,
            p->n_steps, lab);
    ot_bytes_label((double)p->plan.lower_bound_bytes, lab, sizeof lab);
    fprintf(f, ", lower bound %s", lab);
    ot_bytes_label((double)p->plan.naive_bytes, lab, sizeof lab);
    fprintf(f, ", naive %s</text>\n", lab);
    /* rectangles; y grows downwards in SVG, offsets upwards in the plot */
    for (int b = 0; b < p->n_bufs; b++) {
        const ot_plan_buf *pb = &p->bufs[b];
        if (!pb->size) continue;
        double x = SVG_L + pb->first * sx, w = (pb->last - pb->first + 1) * sx;
        double y = SVG_T + ph - (double)(pb->offset + pb->size) * sy, h = (double)pb->size * sy;
        bool scratch = b >= p->n_groups;
        unsigned hue = (unsigned)(b * 47u) % 360u;
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"hsl(%u,%d%%,%d%%)\" "
                   "stroke=\"#333\" stroke-width=\"0.3\"><title>",
                x, y, w > 0.5 ? w : 0.5, h > 0.5 ? h : 0.5, hue, scratch ? 10 : 60, scratch ? 75 : 70);
        if (scratch) {
            const ot_step *st = &p->steps[b - p->n_groups];
            fputs("scratch of kernel ", f);
            fprintf(f, "%d (%s ", b - p->n_groups, st->op->name);
            ot_svg_text(f, g->nodes[st->node].name);
            fputs(")", f);
        } else {
            int shown = 0, more = 0;
            for (int v = 0; v < p->n_slots; v++) {
                if (p->slot_buf[v] != b) continue;
                if (shown == 4) {
                    more++;
                    continue;
                }
                fputs(shown++ ? ", " : "", f);
                ot_svg_text(f, g->values[v].name);
            }
            if (more) fprintf(f, " and %d more", more);
        }
        fprintf(f, "\n%zu bytes at offset %zu, kernels %d..%d</title></rect>\n", pb->size, pb->offset, pb->first,
                pb->last);
    }
    /* the lower bound: no placement fits below this line */
    double lb = SVG_T + ph - (double)p->plan.lower_bound_bytes * sy;
    fprintf(f, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%.0f\" y2=\"%.2f\" stroke=\"red\" stroke-dasharray=\"6,4\"/>\n"
               "<text x=\"%.0f\" y=\"%.2f\" fill=\"red\" text-anchor=\"end\">lower bound</text>\n",
            SVG_L, lb, SVG_L + pw, lb, SVG_L + pw - 4, lb - 4);
    /* axes, ticks and labels */
    fprintf(f, "<g stroke=\"black\" fill=\"none\"><line x1=\"%d\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.0f\"/></g>\n",
            SVG_L, SVG_T + ph, SVG_L + pw, SVG_T + ph, SVG_L, SVG_T, SVG_L, SVG_T + ph);
    double xt = ot_tick(steps, 10);
    for (double s = 0; s <= steps + 1e-9; s += xt)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">%.0f</text>\n",
                SVG_L + s * sx, SVG_T + ph, SVG_L + s * sx, SVG_T + ph + 5, SVG_L + s * sx, SVG_T + ph + 18, s);
    /* ticks at round numbers of the unit the labels use */
    double unit = arena >= 1024.0 * 1024.0 ? 1024.0 * 1024.0 : arena >= 1024.0 ? 1024.0 : 1.0;
    const char *unit_name = unit > 1024.0 ? "MiB" : unit > 1.0 ? "KiB" : "B";
    double yt = ot_tick(arena / unit, 8) * unit;
    for (double o = 0; o <= arena + 1e-9; o += yt) {
        snprintf(lab, sizeof lab, "%g %s", o / unit, unit_name);
        fprintf(f, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"black\"/>"
                   "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                SVG_L - 5, SVG_T + ph - o * sy, SVG_L, SVG_T + ph - o * sy, SVG_L - 8, SVG_T + ph - o * sy + 4, lab);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">kernel (step index)</text>\n"
               "<text transform=\"translate(18,%.0f) rotate(-90)\" text-anchor=\"middle\">arena offset</text>\n"
               "</svg>\n",
            SVG_L + pw / 2, SVG_H - 15, SVG_T + ph / 2);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) return ot_error(OT_ERR_IO, "writing the plan drawing '%s' failed", path);
    return OT_OK;
}

/* ---- the summary ----------------------------------------------------------------- */

/* Parameters (every initializer once: the trained copies, BatchNorm
   statistics, frozen and integer initializers), then per trained parameter
   its accumulated gradient and the optimizer state ot_trainer_update
   allocates. */
static uint64_t ot_persistent_bytes(const ot_trainer *t, const ot_train_program *tp) {
    const ot_graph *g = t->model->graph;
    uint64_t bytes = 0;
    for (int i = 0; i < g->n_inits; i++) {
        const ot_tensor *init = g->values[g->inits[i]].init;
        if (init) bytes += ot_tensor_nbytes(init);
    }
    /* Optimizer state per trained parameter, plus an accumulated gradient
       buffer when the update runs outside the program (clipping, accumulation). */
    uint64_t per_param = (tp->updates ? 0 : 1) + (uint64_t)ot_optim_state_count(t->optim.kind);
    for (int k = 0; k < t->n_params; k++)
        if (t->params[k].kind == OT_PARAM_TRAINABLE && tp->grad_of[k] >= 0)
            bytes += per_param * ot_tensor_nbytes(t->params[k].data);
    return bytes;
}

static int64_t ot_kernel_count(const ot_trainer *t, const ot_train_program *tp) {
    /* With the update inside the program (OptimizerUpdate steps) nothing runs
       per parameter outside it; otherwise a gradient copy and an update each,
       and two more with clipping (norm, scale). */
    int64_t n = tp->prog->n_steps, per_param = tp->updates ? 0 : 2 + (t->o.clip_grad_norm > 0 ? 2 : 0);
    for (int k = 0; k < t->n_params; k++)
        if (t->params[k].kind == OT_PARAM_TRAINABLE && tp->grad_of[k] >= 0) n += per_param;
    for (int b = 0; b < t->n_bn; b++)
        if (tp->bn_mean_out[b] >= 0) n++;
    return n;
}

ot_status ot_trainer_plan(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                          const int64_t *dim_values, const char *svg_path, ot_plan_summary *out) {
    if (!t || !out || batch < 1 || (n_dims > 0 && (!dim_names || !dim_values)) || n_dims < 0)
        return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_plan: bad argument");
    if (ot_model_input_count(t->model) > 63) return ot_error(OT_ERR_UNSUPPORTED, "more than 63 model inputs");
    ot_tensor *in[65];
    int n;
    OT_TRY(ot_trainer_example_inputs(t, batch, n_dims, dim_names, dim_values, in, &n));
    ot_train_program *tp = NULL;
    ot_status s = ot_trainer_program(t, in, false, &tp);
    if (!s) {
        const ot_program *p = tp->prog;
        memset(out, 0, sizeof *out);
        out->ops = tp->unfused_nodes; /* the graph as derived; kernels count what fusion made of it */
        out->kernels = ot_kernel_count(t, tp);
        out->arena_bytes = p->plan.arena_bytes;
        out->lower_bound_bytes = p->plan.lower_bound_bytes;
        out->unscheduled_peak_bytes = p->plan.lower_bound_unscheduled_bytes;
        out->naive_bytes = p->plan.naive_bytes;
        out->persistent_bytes = ot_persistent_bytes(t, tp);
        out->recomputed_ops = tp->recompute.nodes_cloned;
        out->released_bytes = (uint64_t)tp->recompute.bytes_released;
        out->flops = ot_program_flops(p);
        if (svg_path) s = ot_plan_svg(tp, svg_path);
    }
    for (int i = 0; i < n; i++) ot_tensor_free(in[i]);
    return s;
}
