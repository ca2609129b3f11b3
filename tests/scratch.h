/* A scratch folder for tests that write files: scratch_begin("ot_data")
 * makes /tmp/ot_data_XXXXXX, tmp_path(name) names a file in it, and
 * scratch_end() removes it with everything inside.  Plus whole-file write
 * and read helpers. */
#ifndef OT_TESTS_SCRATCH_H
#define OT_TESTS_SCRATCH_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static inline bool scratch_begin(const char *tag) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/%s_XXXXXX", tag);
    if (mkdtemp(tmpdir)) return true;
    perror("mkdtemp");
    return false;
}

/* tmpdir/name, in a rotating buffer: the last four results stay valid. */
static inline const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Removes dir and everything below it (symbolic links are not followed). */
static inline void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void scratch_end(void) { remove_tree(tmpdir); }

/* A test that cannot write its input files cannot go on. */
static inline void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        abort();
    }
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

/* The whole file in a new malloc'ed buffer with a NUL after its *n bytes,
   or NULL when it cannot be opened. */
static inline void *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

#endif
