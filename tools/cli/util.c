/* Helpers shared by the subcommands: one-line diagnostics, GNU-style option
 * parsing, shape formatting, JSON strings, directory creation. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* ---- diagnostics ---------------------------------------------------------- */

/* Messages must stay on one line: scripts read the first line of stderr. */
static void put_one_line(const char *s) {
    for (; *s; s++) fputc(*s == '\n' || *s == '\r' ? ' ' : *s, stderr);
}

int cli_fail_lib(void) {
    const char *msg = ot_last_error();
    fputs("onnxtrain: error: ", stderr);
    put_one_line(msg && *msg ? msg : "unknown failure");
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_fail(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("onnxtrain: error: ", stderr);
    put_one_line(buf);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("onnxtrain: error: ", stderr);
    put_one_line(buf);
    fprintf(stderr, " (see 'onnxtrain %s --help')\n", cmd);
    return CLI_USAGE;
}

/* ---- argument parsing ----------------------------------------------------- */

void cli_args_init(cli_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->cmd = argv[0];
    a->argc = argc;
    a->argv = argv;
    a->next = 1;
}

int cli_args_next(cli_args *a, const char **pos) {
    a->opt = NULL;
    a->inline_val = NULL;
    while (a->next < a->argc) {
        const char *s = a->argv[a->next++];
        if (a->only_pos || s[0] != '-' || s[1] == 0) { /* "-" alone is a positional (stdin-like name) */
            *pos = s;
            return CLI_ARG_POS;
        }
        if (!strcmp(s, "--")) {
            a->only_pos = true;
            continue;
        }
        const char *eq = s[1] == '-' ? strchr(s, '=') : NULL;
        if (eq) {
            size_t n = (size_t)(eq - s);
            if (n >= sizeof a->opt_buf) n = sizeof a->opt_buf - 1;
            memcpy(a->opt_buf, s, n);
            a->opt_buf[n] = 0;
            a->opt = a->opt_buf;
            a->inline_val = eq + 1;
        } else {
            a->opt = s;
        }
        return CLI_ARG_OPT;
    }
    return CLI_ARG_END;
}

bool cli_args_value(cli_args *a, const char **val) {
    if (a->inline_val) {
        *val = a->inline_val;
        return true;
    }
    if (a->next >= a->argc) {
        cli_usage(a->cmd, "option '%s' needs a value", a->opt);
        return false;
    }
    *val = a->argv[a->next++];
    return true;
}

bool cli_args_no_value(cli_args *a) {
    if (!a->inline_val) return true;
    cli_usage(a->cmd, "option '%s' takes no value", a->opt);
    return false;
}

bool cli_is_help(const char *opt) { return !strcmp(opt, "-h") || !strcmp(opt, "--help"); }

int cli_print_help(const cli_command *c) {
    fputs(c->help, stdout);
    return CLI_OK;
}

bool cli_parse_int(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* ---- formatting ------------------------------------------------------------ */

static size_t append(char *buf, size_t cap, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t cap, size_t len, const char *fmt, ...) {
    if (len >= cap) return len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    return n < 0 ? len : len + (size_t)n;
}

void cli_format_shape(const ot_value_info *v, char *buf, size_t cap) {
    if (v->rank < 0) {
        snprintf(buf, cap, "[?]");
        return;
    }
    size_t len = append(buf, cap, 0, "[");
    for (int d = 0; d < v->rank && d < OT_MAX_RANK; d++) {
        if (d) len = append(buf, cap, len, ", ");
        if (v->dim_names[d] && v->dim_names[d][0])
            len = append(buf, cap, len, "%s", v->dim_names[d]);
        else if (v->dims[d] < 0)
            len = append(buf, cap, len, "?");
        else
            len = append(buf, cap, len, "%lld", (long long)v->dims[d]);
    }
    append(buf, cap, len, "]");
}

void cli_format_dims(int rank, const int64_t *dims, char *buf, size_t cap) {
    size_t len = append(buf, cap, 0, "[");
    for (int d = 0; d < rank; d++) len = append(buf, cap, len, "%s%lld", d ? ", " : "", (long long)dims[d]);
    append(buf, cap, len, "]");
}

void cli_put_text(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
    else return 0;
    unsigned cp = c & (0x3Fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    /* overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid */
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
    return n;
}

void cli_json_string(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default: fprintf(f, "\\u%04x", c);
            }
            p++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            p++;
        } else {
            int n = utf8_len(p);
            if (n) {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

/* ---- files ------------------------------------------------------------------ */

bool cli_mkdirs(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0) return true;
    if (n >= sizeof buf) {
        cli_fail("output directory path is too long: %s", path);
        return false;
    }
    memcpy(buf, path, n + 1);
    /* Create each missing ancestor in turn, then the directory itself. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char saved = buf[i];
        buf[i] = 0;
        struct stat st;
        /* An existing directory is fine whatever mkdir said (EEXIST, or EROFS
           and EACCES on some file systems). */
        if (mkdir(buf, 0777) != 0) {
            int err = errno;
            if (!(stat(buf, &st) == 0 && S_ISDIR(st.st_mode))) {
                cli_fail("cannot create directory '%s': %s", buf, strerror(err));
                return false;
            }
        }
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_fail("'%s' exists and is not a directory", path);
        return false;
    }
    return true;
}
