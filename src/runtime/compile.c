/* Graph -> program: resolve ops, parse attributes, infer shapes, fold what is
 * known at compile time, and plan memory for every other value (memory.c:
 * one arena, offsets from liveness).
 *
 * Input values that decide shapes (a Reshape's target fed by a graph input,
 * say) are discovered by inference: an op's infer returns OT_NEED_VALUE, the
 * graph inputs that value depends on are marked, and compilation restarts
 * with those inputs treated as constants.  The program then only matches
 * calls with the same values (ot_program_matches). */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../passes/schedule.h"
#include "program.h"
#include "workspace.h"

/* ---- support check ---------------------------------------------------------- */

ot_status ot_graph_check_supported(const ot_graph *g) {
    char msg[2048];
    size_t len = 0;
    int count = 0;
    msg[0] = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ot_node *n = &g->nodes[i];
        int64_t opset = ot_graph_opset(g, n->domain);
        if (ot_op_resolve(n->domain, n->op_type, opset)) continue;
        const ot_op_def *d = ot_op_find(n->domain, n->op_type);
        char item[256];
        const char *dom = n->domain[0] ? n->domain : "ai.onnx";
        if (!d)
            snprintf(item, sizeof item, "%s (domain %s, opset %lld)", n->op_type, dom, (long long)opset);
        else
            snprintf(item, sizeof item, "%s (domain %s, opset %lld: schema version %lld; supported versions %d-%d)",
                     n->op_type, dom, (long long)opset, (long long)ot_op_schema_version(n->domain, n->op_type, opset),
                     d->min_opset, d->max_opset);
        if (strstr(msg, item)) continue; /* list each op once */
        len += (size_t)snprintf(msg + len, len < sizeof msg ? sizeof msg - len : 0, "%s%s", count ? ", " : "", item);
        count++;
        if (len >= sizeof msg) break;
    }
    for (int i = 0; i < g->n_inputs + g->n_outputs && count == 0; i++) {
        const ot_value *v = &g->values[i < g->n_inputs ? g->inputs[i] : g->outputs[i - g->n_inputs]];
        if (v->non_tensor)
            return ot_error(OT_ERR_UNSUPPORTED, "graph '%s': %s '%s' is a sequence, map or optional; only tensors are supported",
                            g->name, i < g->n_inputs ? "input" : "output", v->name);
    }
    if (!count) return OT_OK;
    return ot_error(OT_ERR_UNSUPPORTED, "graph '%s' uses %d unsupported op%s: %s", g->name, count, count > 1 ? "s" : "",
                    msg);
}

static ot_status ot_check_attrs(const ot_node *n, const ot_op_def *d) {
    for (int a = 0; a < n->n_attrs; a++) {
        const char *name = n->attrs[a].name;
        const char *list = d->attr_names ? d->attr_names : "";
        size_t len = strlen(name);
        const char *p = list;
        bool found = false;
        while ((p = strstr(p, name))) {
            if ((p == list || p[-1] == ',') && (p[len] == 0 || p[len] == ',')) {
                found = true;
                break;
            }
            p += len;
        }
        if (!found)
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (%s): attribute '%s' is not supported", n->name, n->op_type,
                            name);
    }
    return OT_OK;
}

/* ---- compile -------------------------------------------------------------------- */

void ot_program_free(ot_program *p) {
    if (!p) return;
    for (int i = 0; i < p->n_slots; i++)
        if (p->kinds[i] != OT_SLOT_BUFFER && p->slots[i].owns) ot_free(p->slots[i].data);
    ot_program_free_memory(p);
    for (int s = 0; s < p->n_steps; s++) {
        ot_free(p->steps[s].attrs);
        ot_free(p->steps[s].in);
        ot_free(p->steps[s].out);
    }
    for (int i = 0; i < p->n_bound; i++)
        if (p->bound[i].owns) ot_free(p->bound[i].data);
    ot_free(p->steps);
    ot_free(p->slots);
    ot_free(p->kinds);
    ot_free(p->bound_ids);
    ot_free(p->bound);
    ot_free(p->specialised);
    ot_free(p->unscheduled);
    ot_free(p);
}

/* Marks the graph inputs that value v depends on; returns how many were newly
 * marked. */
static int ot_mark_input_ancestors(const ot_graph *g, const ot_program *p, int v, bool *spec, char *seen) {
    if (v < 0 || seen[v]) return 0;
    seen[v] = 1;
    if (p->kinds[v] == OT_SLOT_INPUT) {
        for (int i = 0; i < p->n_bound; i++)
            if (p->bound_ids[i] == v && !spec[i]) {
                spec[i] = true;
                return 1;
            }
        return 0;
    }
    int prod = g->values[v].producer, marked = 0;
    if (prod < 0) return 0;
    for (int k = 0; k < g->nodes[prod].n_inputs; k++) marked += ot_mark_input_ancestors(g, p, g->nodes[prod].inputs[k], spec, seen);
    return marked;
}

static ot_status ot_bind_inputs(const ot_graph *g, ot_tensor *const *inputs, const bool *spec, ot_program *p) {
    int k = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        const ot_value *val = &g->values[v];
        if (val->role == OT_ROLE_INITIALIZER) continue;
        const ot_tensor *t = inputs[k];
        if (!t) return ot_error(OT_ERR_INVALID_ARG, "graph input '%s' was not given", val->name);
        if (val->non_tensor)
            return ot_error(OT_ERR_UNSUPPORTED, "graph input '%s' is not a tensor (sequence/map/optional inputs are not supported)", val->name);
        if (val->dtype != OT_UNDEFINED && val->dtype != t->dtype)
            return ot_error(OT_ERR_TYPE, "input '%s': expected %s, got %s", val->name, ot_dtype_name(val->dtype),
                            ot_dtype_name(t->dtype));
        if (val->rank >= 0) {
            bool ok = val->rank == t->rank;
            for (int d = 0; ok && d < t->rank; d++)
                if (val->dims[d] >= 0 && val->dims[d] != t->dims[d]) ok = false;
            if (!ok) {
                char want[256], got[256];
                size_t n = 0;
                want[n++] = '(';
                for (int d = 0; d < val->rank && n < 200; d++)
                    n += (size_t)(val->dims[d] >= 0 ? snprintf(want + n, sizeof want - n, "%s%lld", d ? ", " : "", (long long)val->dims[d])
                                                    : snprintf(want + n, sizeof want - n, "%s%s", d ? ", " : "",
                                                               val->dim_params[d] ? val->dim_params[d] : "?"));
                snprintf(want + n, sizeof want - n, ")");
                return ot_error(OT_ERR_SHAPE, "input '%s': expected shape %s, got %s", val->name, want,
                                ot_shape_str(t->rank, t->dims, got, sizeof got));
            }
        }
        ot_tensor *slot = &p->slots[v];
        ot_tensor_set_shape(slot, t->dtype, t->rank, t->dims);
        p->bound_ids[k] = v;
        ot_tensor_set_shape(&p->bound[k], t->dtype, t->rank, t->dims);
        p->specialised[k] = spec[k];
        if (spec[k]) {
            size_t nb = ot_tensor_nbytes(t);
            void *copy = ot_malloc(nb ? nb : 1);
            void *copy2 = ot_malloc(nb ? nb : 1);
            if (!copy || !copy2) {
                ot_free(copy);
                ot_free(copy2);
                return ot_error(OT_ERR_NOMEM, "out of memory");
            }
            memcpy(copy, t->data, nb);
            memcpy(copy2, t->data, nb);
            slot->data = copy;
            slot->owns = true;
            p->bound[k].data = copy2;
            p->bound[k].owns = true;
            p->kinds[v] = OT_SLOT_CONST;
        } else {
            p->kinds[v] = OT_SLOT_INPUT;
        }
        k++;
    }
    return OT_OK;
}

static ot_status ot_compile_node(const ot_graph *g, int ni, const ot_compile_options *opt, ot_program *p,
                                 bool *spec, char *seen, bool *restart) {
    const ot_node *n = &g->nodes[ni];
    int64_t opset = ot_graph_opset(g, n->domain);
    const ot_op_def *d = ot_op_resolve(n->domain, n->op_type, opset);
    if (!d) return ot_graph_check_supported(g);
    if (n->n_inputs < d->min_inputs || (d->max_inputs >= 0 && n->n_inputs > d->max_inputs) ||
        n->n_outputs < d->min_outputs || (d->max_outputs >= 0 && n->n_outputs > d->max_outputs))
        return ot_error(OT_ERR_PARSE, "node '%s' (%s): %d inputs and %d outputs, expected %d..%d inputs and %d..%d outputs",
                        n->name, n->op_type, n->n_inputs, n->n_outputs, d->min_inputs, d->max_inputs, d->min_outputs,
                        d->max_outputs);
    OT_TRY(ot_check_attrs(n, d));

    ot_step st = {d, ni, opset, NULL, n->n_inputs, n->n_outputs, NULL, NULL, 0};
    if (d->attrs_size && !(st.attrs = ot_calloc(1, d->attrs_size))) return ot_error(OT_ERR_NOMEM, "out of memory");
    st.in = ot_malloc(sizeof(int) * (size_t)(n->n_inputs + 1));
    st.out = ot_malloc(sizeof(int) * (size_t)(n->n_outputs + 1));
    ot_tensor **in = ot_calloc((size_t)n->n_inputs + 1, sizeof *in);
    ot_tensor **out = ot_calloc((size_t)n->n_outputs + 1, sizeof *out);
    ot_status s = OT_OK;
    if (!st.in || !st.out || !in || !out) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (d->parse && (s = d->parse(n, opset, st.attrs))) goto done;
    bool all_known = true;
    for (int k = 0; k < n->n_inputs; k++) {
        st.in[k] = n->inputs[k];
        if (n->inputs[k] < 0) continue;
        if (p->kinds[n->inputs[k]] == OT_SLOT_UNUSED) {
            s = ot_error(OT_ERR_INTERNAL, "node '%s': input '%s' has no value", n->name, g->values[n->inputs[k]].name);
            goto done;
        }
        in[k] = &p->slots[n->inputs[k]];
        if (!in[k]->data) all_known = false;
    }
    for (int k = 0; k < n->n_outputs; k++) {
        st.out[k] = n->outputs[k];
        if (n->outputs[k] >= 0) out[k] = &p->slots[n->outputs[k]];
    }
    ot_kctx c = {n, n->name[0] ? n->name : n->op_type, opset, st.attrs, n->n_inputs, in, n->n_outputs, out,
                 opt->training, opt->seed, 0, ni, -1};
    size_t outer_request = ot_workspace_request_begin();
    s = d->infer(&c);
    st.workspace = ot_workspace_request_end(outer_request);
    if (s == OT_NEED_VALUE) {
        int v = n->inputs[c.need_input];
        if (ot_mark_input_ancestors(g, p, v, spec, seen) > 0) {
            *restart = true;
            s = OT_OK;
        } else {
            s = ot_error(OT_ERR_UNSUPPORTED, "node '%s' (%s): its output shape depends on the runtime value of '%s', which is not supported yet",
                         n->name, n->op_type, g->values[v].name);
        }
        goto done;
    }
    if (s) goto done;
    bool fold = (all_known && !(d->traits & (OT_TRAIT_RANDOM | OT_TRAIT_SIDE_EFFECT))) || (d->traits & OT_TRAIT_SHAPE_ONLY);
    for (int k = 0; k < n->n_outputs; k++) {
        if (!out[k]) continue;
        if (!ot_dtype_size(out[k]->dtype)) {
            s = ot_error(OT_ERR_INTERNAL, "node '%s' (%s): inference left output %d untyped", n->name, n->op_type, k);
            goto done;
        }
        size_t bytes;
        if ((s = ot_shape_bytes(out[k]->rank, out[k]->dims, ot_dtype_size(out[k]->dtype), &bytes))) goto done;
        int v = n->outputs[k];
        if (fold) {
            if ((s = ot_tensor_alloc_data(out[k]))) goto done;
            p->kinds[v] = OT_SLOT_CONST;
        } else {
            p->kinds[v] = OT_SLOT_BUFFER; /* data: an arena offset, once every step is known */
        }
    }
    if (fold) {
        if ((s = d->cpu(&c))) goto done;
        ot_free(st.attrs);
        ot_free(st.in);
        ot_free(st.out);
    } else {
        if (ot_grow((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof *p->steps)) {
            s = ot_error(OT_ERR_NOMEM, "out of memory");
            goto done;
        }
        p->steps[p->n_steps++] = st;
    }
    ot_free(in);
    ot_free(out);
    return OT_OK;
done:
    ot_free(st.attrs);
    ot_free(st.in);
    ot_free(st.out);
    ot_free(in);
    ot_free(out);
    return s;
}

static ot_status ot_compile_once(const ot_graph *g, ot_tensor *const *inputs, const ot_compile_options *opt,
                                 bool *spec, ot_program *p, bool *restart) {
    int nv = g->n_values;
    char *seen = ot_calloc((size_t)nv + 1, 1);
    ot_status s = OT_OK;
    if (!seen) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int v = 0; v < nv; v++) {
        const ot_value *val = &g->values[v];
        if (val->init && (val->role == OT_ROLE_INITIALIZER || val->role == OT_ROLE_CONSTANT)) {
            ot_tensor_set_shape(&p->slots[v], val->init->dtype, val->init->rank, val->init->dims);
            if (opt->mutable_values && opt->mutable_values[v]) {
                p->kinds[v] = OT_SLOT_PARAM; /* data attached after inference: it is not a constant */
            } else {
                p->slots[v].data = val->init->data; /* borrowed from the graph */
                p->kinds[v] = OT_SLOT_CONST;
            }
        }
    }
    if ((s = ot_bind_inputs(g, inputs, spec, p))) goto out;
    for (int i = 0; i < g->n_nodes && !*restart; i++)
        if ((s = ot_compile_node(g, i, opt, p, spec, seen, restart))) goto out;
    for (int k = 0; k < g->n_outputs && !*restart; k++)
        if (p->kinds[g->outputs[k]] == OT_SLOT_UNUSED) {
            s = ot_error(OT_ERR_PARSE, "graph output '%s' is never produced", g->values[g->outputs[k]].name);
            goto out;
        }
    if (*restart) goto out;
    for (int v = 0; v < nv; v++)
        if (p->kinds[v] == OT_SLOT_PARAM) p->slots[v].data = g->values[v].init->data;
    if (opt->shapes_only) goto out;
    p->naive_plan = opt->naive_plan;
    p->share = opt->share;
#ifdef OT_PLAN_POISON
    p->poison = true; /* debug builds: every run starts from garbage, not zeros */
#endif
    if (!opt->no_schedule && (s = ot_schedule(p, NULL))) goto out; /* step order: lowest peak */
    s = ot_program_plan_memory(p);
out:
    ot_free(seen);
    return s;
}

static ot_status ot_program_alloc(const ot_graph *g, int n_bound, ot_program **out) {
    ot_program *p = ot_calloc(1, sizeof *p);
    if (!p) return ot_error(OT_ERR_NOMEM, "out of memory");
    p->graph = g;
    p->backend = ot_backend_cpu();
    p->n_slots = g->n_values;
    p->slots = ot_calloc((size_t)g->n_values + 1, sizeof *p->slots);
    p->kinds = ot_calloc((size_t)g->n_values + 1, sizeof *p->kinds);
    p->n_bound = n_bound;
    p->bound_ids = ot_calloc((size_t)n_bound + 1, sizeof *p->bound_ids);
    p->bound = ot_calloc((size_t)n_bound + 1, sizeof *p->bound);
    p->specialised = ot_calloc((size_t)n_bound + 1, sizeof *p->specialised);
    if (!p->slots || !p->kinds || !p->bound_ids || !p->bound || !p->specialised) {
        ot_program_free(p);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    *out = p;
    return OT_OK;
}

int ot_graph_bound_input_count(const ot_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->values[g->inputs[i]].role != OT_ROLE_INITIALIZER) n++;
    return n;
}

ot_status ot_program_compile(const ot_graph *g, ot_tensor *const *inputs, const ot_compile_options *opt,
                             ot_program **out) {
    OT_TRY(ot_graph_check_supported(g));
    int nb = ot_graph_bound_input_count(g);
    bool *spec = ot_calloc((size_t)nb + 1, sizeof *spec);
    if (!spec) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = OT_OK;
    /* Each restart specialises at least one more input, so nb + 1 rounds suffice. */
    for (int round = 0; round <= nb; round++) {
        ot_program *p = NULL;
        if ((s = ot_program_alloc(g, nb, &p))) break;
        p->training = opt->training;
        p->seed = opt->seed;
        bool restart = false;
        s = ot_compile_once(g, inputs, opt, spec, p, &restart);
        if (s || restart) {
            ot_program_free(p);
            if (s) break;
            continue;
        }
        *out = p;
        ot_free(spec);
        return OT_OK;
    }
    ot_free(spec);
    return s ? s : ot_error(OT_ERR_INTERNAL, "compilation did not converge");
}

bool ot_program_matches(const ot_program *p, ot_tensor *const *inputs) {
    for (int k = 0; k < p->n_bound; k++) {
        const ot_tensor *t = inputs[k], *b = &p->bound[k];
        if (!t || t->dtype != b->dtype || !ot_shape_equal(t->rank, t->dims, b->rank, b->dims)) return false;
        if (p->specialised[k] && memcmp(t->data, b->data, ot_tensor_nbytes(b))) return false;
    }
    return true;
}
