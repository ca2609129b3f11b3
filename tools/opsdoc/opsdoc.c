/* Writes docs/ops.md from the op table, so the support table cannot drift
 * from the code.  `opsdoc FILE` writes FILE; `opsdoc --check FILE` exits 1
 * when FILE differs from what the table says (a ctest runs this). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"

static int cmp_def(const void *a, const void *b) {
    const ot_op_def *x = *(const ot_op_def *const *)a, *y = *(const ot_op_def *const *)b;
    int c = strcmp(x->domain ? x->domain : "", y->domain ? y->domain : "");
    return c ? c : strcmp(x->name, y->name);
}

static char *render(size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    int n = ot_op_count();
    const ot_op_def **defs = malloc(sizeof *defs * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) defs[i] = ot_op_at(i);
    qsort(defs, (size_t)n, sizeof *defs, cmp_def);
    fprintf(f, "# Supported ops\n\n");
    fprintf(f, "Generated from the op table by `tools/opsdoc` (do not edit by hand).\n");
    fprintf(f, "%d ops. Domain `` is the default ONNX domain (ai.onnx).\n\n", n);
    fprintf(f, "| op | domain | schema versions | forward (CPU) | gradient rule | dtypes |\n");
    fprintf(f, "| --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < n; i++) {
        const ot_op_def *d = defs[i];
        fprintf(f, "| %s | %s | %d-%d | %s | %s | %s |\n", d->name, d->domain && d->domain[0] ? d->domain : "", d->min_opset,
                d->max_opset, d->cpu ? "yes" : "no", d->grad ? "yes" : "no", d->dtypes ? d->dtypes : "");
    }
    free(defs);
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    int check = argc == 3 && !strcmp(argv[1], "--check");
    if (argc != 2 && !check) {
        fprintf(stderr, "usage: opsdoc [--check] FILE\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    size_t len;
    char *doc = render(&len);
    if (check) {
        FILE *f = fopen(path, "rb");
        char *old = calloc(1, len + 2);
        size_t got = f ? fread(old, 1, len + 1, f) : 0;
        if (f) fclose(f);
        int same = got == len && !memcmp(old, doc, len);
        if (!same) fprintf(stderr, "%s is out of date: regenerate it with `build/tools/opsdoc/opsdoc %s`\n", path, path);
        else printf("1 passed, 0 failed\n");
        free(old);
        free(doc);
        return !same;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(doc, 1, len, f) != len) {
        fprintf(stderr, "opsdoc: cannot write %s\n", path);
        return 1;
    }
    fclose(f);
    free(doc);
    return 0;
}
