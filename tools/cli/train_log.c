/* The --log file (one row per optimizer step, CSV or JSON lines) and the
 * progress display on stderr: a redrawn bar on a terminal, plain lines
 * otherwise (docs/cli.md "train"). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "train.h"

/* ---- log file ------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* The step a log row records, or -1 for the CSV header and anything else. */
static long long row_step(const char *line, bool jsonl) {
    const char *p = line;
    if (jsonl) {
        p = strstr(line, "\"step\":");
        if (!p) return -1;
        p += 7;
    }
    char *end;
    long long v = strtoll(p, &end, 10);
    return end == p ? -1 : v;
}

/* After --resume, rows of steps past the checkpoint (written before a crash)
   are dropped, so the log reads like one uninterrupted run. */
static int trim_log(const char *path, bool jsonl, int64_t keep_until) {
    FILE *in = fopen(path, "r");
    if (!in) return cli_fail("--log %s: cannot read: %s", path, strerror(errno));
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fclose(in);
        return cli_fail("--log %s: cannot write: %s", tmp, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    bool first = true;
    while (getline(&line, &cap, in) > 0) {
        long long st = row_step(line, jsonl);
        if ((first && !jsonl && st < 0) || (st >= 0 && st <= keep_until)) fputs(line, out);
        first = false;
    }
    free(line);
    bool bad = ferror(in) != 0;
    fclose(in);
    if (fclose(out) != 0) bad = true;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return cli_fail("--log %s: cannot rewrite the log after --resume", path);
    }
    return CLI_OK;
}

int cli_log_open(cli_log *l, const char *path, int64_t resume_step, bool with_eval) {
    memset(l, 0, sizeof *l);
    if (!path) return CLI_OK;
    l->path = path;
    l->jsonl = ends_with(path, ".jsonl");
    l->with_eval = with_eval;
    struct stat st;
    bool has_rows = resume_step >= 0 && stat(path, &st) == 0 && st.st_size > 0;
    if (has_rows) {
        int rc = trim_log(path, l->jsonl, resume_step);
        if (rc) return rc;
    }
    l->f = fopen(path, has_rows ? "a" : "w");
    if (!l->f) return cli_fail("--log %s: cannot open for writing: %s", path, strerror(errno));
    if (!has_rows && !l->jsonl)
        fprintf(l->f, "step,epoch,loss,lr,samples_per_s%s\n", with_eval ? ",eval_loss,eval_accuracy" : "");
    if (fflush(l->f) != 0) return cli_fail("--log %s: write failed: %s", path, strerror(errno));
    return CLI_OK;
}

int cli_log_row(cli_log *l, int64_t step, int64_t epoch, double loss, double lr, double sps, const cli_eval_result *ev) {
    if (!l->f) return CLI_OK;
    if (l->jsonl) {
        fprintf(l->f, "{\"step\": %lld, \"epoch\": %lld, \"loss\": %.9g, \"lr\": %.9g, \"samples_per_s\": %.1f",
                (long long)step, (long long)epoch, loss, lr, sps);
        if (ev) {
            fprintf(l->f, ", \"eval_loss\": %.9g", ev->loss);
            if (ev->has_accuracy && isfinite(ev->accuracy)) fprintf(l->f, ", \"eval_accuracy\": %.6f", ev->accuracy);
        }
        fprintf(l->f, "}\n");
    } else {
        fprintf(l->f, "%lld,%lld,%.9g,%.9g,%.1f", (long long)step, (long long)epoch, loss, lr, sps);
        if (l->with_eval) {
            fputc(',', l->f);
            if (ev) fprintf(l->f, "%.9g", ev->loss);
            fputc(',', l->f);
            if (ev && ev->has_accuracy && isfinite(ev->accuracy)) fprintf(l->f, "%.6f", ev->accuracy);
        }
        fputc('\n', l->f);
    }
    /* a row per step reaches the disk at once: a crash keeps the history */
    if (fflush(l->f) != 0 || ferror(l->f)) return cli_fail("--log %s: write failed: %s", l->path, strerror(errno));
    return CLI_OK;
}

int cli_log_close(cli_log *l) {
    if (!l->f) return CLI_OK;
    int bad = ferror(l->f);
    if (fclose(l->f) != 0) bad = 1;
    l->f = NULL;
    return bad ? cli_fail("--log %s: write failed", l->path) : CLI_OK;
}

/* ---- progress ----------------------------------------------------------------- */

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *p, bool quiet, int64_t total, int64_t epochs, int64_t every, int64_t first_step) {
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->tty = !quiet && isatty(STDERR_FILENO);
    p->total = total;
    p->epochs = epochs;
    p->every = every > 0 ? every : 50;
    p->first_step = first_step;
    p->t_start = cli_now();
    p->t_drawn = -1;
}

/* "1:02:03", "2:03" */
static void fmt_duration(double s, char *buf, size_t cap) {
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

static void fmt_epoch(const cli_progress *p, char *buf, size_t cap) {
    if (p->epochs) snprintf(buf, cap, "epoch %lld/%lld", (long long)p->epoch, (long long)p->epochs);
    else snprintf(buf, cap, "epoch %lld", (long long)p->epoch);
}

static void clear_bar(cli_progress *p) {
    if (p->drawn) fputs("\r\033[K", stderr);
    p->drawn = false;
}

void cli_progress_step(cli_progress *p, int64_t step, int64_t epoch, double loss, double lr, int64_t samples,
                       bool epoch_end) {
    if (p->quiet) return;
    if (epoch != p->epoch) {
        p->epoch = epoch;
        p->epoch_loss = 0;
        p->epoch_steps = 0;
    }
    p->epoch_loss += loss;
    p->epoch_steps++;
    p->samples += samples;
    double now = cli_now(), elapsed = now - p->t_start;
    int64_t done = step - p->first_step;
    double sps = elapsed > 0 ? (double)p->samples / elapsed : 0;
    double eta = done > 0 ? elapsed / (double)done * (double)(p->total - step) : NAN;
    double mean = p->epoch_loss / (double)p->epoch_steps;
    char ep[64], eta_s[32];
    fmt_epoch(p, ep, sizeof ep);
    bool last = step >= p->total;
    if (p->tty) {
        /* redraw at most ten times a second, and always the last state */
        if (!last && !epoch_end && p->t_drawn >= 0 && now - p->t_drawn < 0.1) return;
        p->t_drawn = now;
        enum { W = 24 };
        int fill = p->total > 0 ? (int)((double)W * (double)step / (double)p->total) : 0;
        if (fill > W) fill = W;
        char bar[W + 1];
        for (int i = 0; i < W; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[W] = 0;
        fmt_duration(eta, eta_s, sizeof eta_s);
        fprintf(stderr, "\r\033[K%s [%s] %lld/%lld loss %.4f %.1f samples/s ETA %s", ep, bar, (long long)step,
                (long long)p->total, mean, sps, eta_s);
        p->drawn = true;
        fflush(stderr);
        return;
    }
    if (!last && step % p->every != 0) return;
    fmt_duration(elapsed, eta_s, sizeof eta_s);
    fprintf(stderr, "step %lld/%lld %s loss %.6f (epoch mean %.6f) lr %.6g %.1f samples/s elapsed %s\n",
            (long long)step, (long long)p->total, ep, loss, mean, lr, sps, eta_s);
    fflush(stderr);
}

void cli_progress_note(cli_progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    clear_bar(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void cli_progress_done(cli_progress *p) {
    if (p->drawn) fputc('\n', stderr);
    p->drawn = false;
    fflush(stderr);
}
