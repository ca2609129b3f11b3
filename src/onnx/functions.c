/* Model-local functions (ModelProto.functions), as newer PyTorch exporters
 * emit them, are inlined while the graph is read: a call node is replaced by
 * the function's body with
 *   - formal inputs/outputs renamed to the call's actual values,
 *   - every other name given the call's prefix ("<call name>/"), so repeated
 *     calls do not collide (names inside the body's subgraphs too: a body
 *     cannot capture anything but its own names),
 *   - attributes with ref_attr_name bound from the call site, else from the
 *     function's attribute defaults, else omitted (as the ONNX spec says),
 *   - the function's opset imports merged into the model's.
 * Calls inside bodies inline recursively; a scope chain tracks the nesting. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "pb.h"

#define OT_FN_MAX_DEPTH 32

typedef struct ot_fn_scope {
    const struct ot_fn_scope *parent; /* the scope of the call site; NULL at graph level */
    const Onnx__FunctionProto *fn;
    const Onnx__NodeProto *call;
    char *prefix;      /* "<call>/" including the parents' prefixes */
    char **actual_in;  /* per formal input: the caller's name ("" when not passed) */
    char **actual_out; /* per formal output: the caller's name, NULL when not bound */
    int depth;
} ot_fn_scope;

static const char *nz(const char *s) { return s ? s : ""; }

static int same_domain(const char *a, const char *b) {
    a = nz(a);
    b = nz(b);
    if (!strcmp(a, "ai.onnx")) a = "";
    if (!strcmp(b, "ai.onnx")) b = "";
    return !strcmp(a, b);
}

const Onnx__FunctionProto *ot_fn_find(const Onnx__ModelProto *mp, const Onnx__NodeProto *np) {
    if (!mp || !np->op_type) return NULL;
    for (size_t i = 0; i < mp->n_functions; i++) {
        const Onnx__FunctionProto *f = mp->functions[i];
        if (f->name && !strcmp(f->name, np->op_type) && same_domain(f->domain, np->domain) &&
            !strcmp(nz(f->overload), nz(np->overload)))
            return f;
    }
    return NULL;
}

const char *ot_fn_prefix(const ot_fn_scope *s) { return s ? s->prefix : ""; }

static char *join(const char *a, const char *b, const char *c) {
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = ot_malloc(na + nb + nc + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

ot_status ot_fn_rename(const ot_fn_scope *s, const char *name, char **out) {
    const char *r = name;
    char *owned = NULL;
    if (s && *name) {
        r = NULL;
        for (size_t i = 0; i < s->fn->n_input && !r; i++)
            if (!strcmp(s->fn->input[i], name)) r = s->actual_in[i];
        for (size_t i = 0; i < s->fn->n_output && !r; i++)
            if (!strcmp(s->fn->output[i], name)) r = s->actual_out[i];
        if (!r && !(r = owned = join(s->prefix, name, ""))) return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    *out = owned ? owned : ot_strdup(r);
    return *out ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
}

ot_status ot_fn_attr(const ot_loader *L, const ot_fn_scope *s, const Onnx__AttributeProto *a, const char *node_name,
                     const Onnx__AttributeProto **out, const ot_fn_scope **out_scope) {
    *out = a;
    *out_scope = s;
    const char *ref = a->ref_attr_name;
    if (!ref || !*ref) return OT_OK;
    if (!s)
        return ot_error(OT_ERR_PARSE, "%s: node '%s': attribute '%s' refers to function attribute '%s' outside of a function",
                        L->what, node_name, nz(a->name), ref);
    const Onnx__AttributeProto *r = NULL;
    const ot_fn_scope *rs = NULL;
    for (size_t i = 0; i < s->call->n_attribute && !r; i++)
        if (s->call->attribute[i]->name && !strcmp(s->call->attribute[i]->name, ref)) {
            /* The call site's own value may in turn refer to an enclosing function's attribute. */
            OT_TRY(ot_fn_attr(L, s->parent, s->call->attribute[i], nz(s->call->name), &r, &rs));
            if (!r) break;
        }
    if (!r)
        for (size_t i = 0; i < s->fn->n_attribute_proto && !r; i++)
            if (s->fn->attribute_proto[i]->name && !strcmp(s->fn->attribute_proto[i]->name, ref)) {
                r = s->fn->attribute_proto[i];
                rs = s;
            }
    if (!r) { /* unbound and no default: the attribute is omitted */
        *out = NULL;
        return OT_OK;
    }
    /* An int where a float is declared is accepted, as the attribute getters do. */
    int int_for_float = a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT && r->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->has_type && a->type && r->has_type && r->type && a->type != r->type && !int_for_float)
        return ot_error(OT_ERR_PARSE, "%s: node '%s': attribute '%s' refers to '%s' of function '%s', which has a different type (%d, not %d)",
                        L->what, node_name, nz(a->name), ref, nz(s->fn->name), (int)r->type, (int)a->type);
    *out = r;
    *out_scope = rs;
    return OT_OK;
}

/* The function's opset imports join the model's; one version per domain. */
static ot_status merge_opsets(const ot_loader *L, ot_graph *g, const Onnx__FunctionProto *fn) {
    while (g->parent) g = g->parent;
    for (size_t i = 0; i < fn->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = fn->opset_import[i];
        const char *dom = nz(o->domain);
        int64_t have = ot_graph_opset(g, dom);
        if (have == o->version) continue;
        if (have >= 0)
            return ot_error(OT_ERR_UNSUPPORTED,
                            "%s: function '%s' (domain '%s') uses opset '%s' version %lld but the model uses version %lld; "
                            "onnxtrain inlines functions and cannot mix two versions of one domain",
                            L->what, nz(fn->name), nz(fn->domain), dom, (long long)o->version, (long long)have);
        if (!o->has_version || o->version < 1)
            return ot_error(OT_ERR_PARSE, "%s: function '%s': opset_import for domain '%s' has no valid version", L->what,
                            nz(fn->name), dom);
        ot_opset *os = ot_realloc(g->opsets, sizeof *os * (size_t)(g->n_opsets + 1));
        if (!os) return ot_error(OT_ERR_NOMEM, "out of memory");
        g->opsets = os;
        if (!(os[g->n_opsets].domain = ot_strdup(dom))) return ot_error(OT_ERR_NOMEM, "out of memory");
        os[g->n_opsets++].version = o->version;
    }
    return OT_OK;
}

/* A prefix no earlier call received: "<outer prefix><call name or function name>[_k]/". */
static ot_status make_prefix(ot_loader *L, const ot_fn_scope *outer, const Onnx__NodeProto *call,
                             const Onnx__FunctionProto *fn, char **out) {
    const char *base = call->name && *call->name ? call->name : nz(fn->name);
    char *p = join(ot_fn_prefix(outer), base, "");
    if (!p) return ot_error(OT_ERR_NOMEM, "out of memory");
    while (ot_graph_find(L->prefixes, p) >= 0) {
        char num[32];
        snprintf(num, sizeof num, "_%d", ++L->counter);
        char *q = join(ot_fn_prefix(outer), base, num);
        ot_free(p);
        if (!(p = q)) return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    int id;
    ot_status s = ot_graph_value(L->prefixes, p, &id);
    char *full = s ? NULL : join(p, "/", "");
    ot_free(p);
    if (s) return s;
    if (!full) return ot_error(OT_ERR_NOMEM, "out of memory");
    *out = full;
    return OT_OK;
}

static void scope_free(ot_fn_scope *s) {
    for (size_t i = 0; s->actual_in && i < s->fn->n_input; i++) ot_free(s->actual_in[i]);
    for (size_t i = 0; s->actual_out && i < s->fn->n_output; i++) ot_free(s->actual_out[i]);
    ot_free(s->actual_in);
    ot_free(s->actual_out);
    ot_free(s->prefix);
}

ot_status ot_fn_inline(ot_loader *L, ot_graph *g, const Onnx__NodeProto *call, const Onnx__FunctionProto *fn,
                       const ot_fn_scope *outer, int index) {
    const char *cname = nz(call->name);
    int depth = outer ? outer->depth + 1 : 1;
    for (const ot_fn_scope *o = outer; o; o = o->parent)
        if (o->fn == fn)
            return ot_error(OT_ERR_PARSE, "%s: node %d '%s' calls function '%s' recursively, which cannot be inlined", L->what,
                            index, cname, nz(fn->name));
    if (depth > OT_FN_MAX_DEPTH)
        return ot_error(OT_ERR_PARSE, "%s: node '%s': function calls nest deeper than %d", L->what, cname, OT_FN_MAX_DEPTH);
    if (call->n_input > fn->n_input || call->n_output > fn->n_output)
        return ot_error(OT_ERR_PARSE, "%s: node '%s' calls function '%s' with %zu inputs and %zu outputs; it takes at most %zu and %zu",
                        L->what, cname, nz(fn->name), call->n_input, call->n_output, fn->n_input, fn->n_output);
    OT_TRY(merge_opsets(L, g, fn));
    ot_fn_scope s = {.parent = outer, .fn = fn, .call = call, .depth = depth};
    ot_status st = OT_OK;
    s.actual_in = ot_calloc(fn->n_input + 1, sizeof(char *));
    s.actual_out = ot_calloc(fn->n_output + 1, sizeof(char *));
    if (!s.actual_in || !s.actual_out) st = ot_error(OT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < fn->n_input; i++)
        st = ot_fn_rename(outer, i < call->n_input ? call->input[i] : "", &s.actual_in[i]);
    for (size_t i = 0; !st && i < fn->n_output; i++)
        if (i < call->n_output && *call->output[i]) st = ot_fn_rename(outer, call->output[i], &s.actual_out[i]);
    if (!st) st = make_prefix(L, outer, call, fn, &s.prefix);
    /* Unbound outputs become internal values: rename then finds no actual and prefixes them. */
    for (size_t i = 0; !st && i < fn->n_node; i++) {
        st = ot_load_node(L, g, fn->node[i], &s, (int)i);
        if (st) st = ot_error_context(st, "in function '%s' called by node '%s'", nz(fn->name), cname);
    }
    for (size_t i = 0; !st && i < fn->n_value_info; i++) st = ot_load_value_info(L, g, fn->value_info[i], &s);
    scope_free(&s);
    return st;
}
