/* The onnxtrain command-line tool: shared declarations.
 *
 * Each subcommand lives in one file (cmd_<name>.c) that defines a cli_command;
 * main.c lists them in its dispatch table.  The tool is a client of the public
 * API only: it includes onnxtrain.h and nothing from src/.
 *
 * Exit codes (docs/cli.md): 0 success, 1 the operation failed (the library's
 * message is printed), 2 the command line is wrong. */
#ifndef ONNXTRAIN_CLI_H
#define ONNXTRAIN_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "onnxtrain.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary; /* one line for `onnxtrain --help` */
    const char *help;    /* full text for `onnxtrain <name> --help` */
    /* argv[0] is the subcommand name; returns an exit code. */
    int (*main)(int argc, char **argv);
} cli_command;

extern const cli_command cli_cmd_info;
extern const cli_command cli_cmd_run;
extern const cli_command cli_cmd_train;
extern const cli_command cli_cmd_eval;
extern const cli_command cli_cmd_bench;

/* ---- diagnostics: always exactly one line on stderr ----------------------- */
/* "onnxtrain: error: <ot_last_error()>"; returns CLI_FAIL. */
int cli_fail_lib(void);
/* "onnxtrain: error: <formatted>"; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "onnxtrain <cmd>: <formatted> (see 'onnxtrain <cmd> --help')"; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- argument parsing -------------------------------------------------------
 * Options are GNU style: `--name VALUE`, `--name=VALUE`, `-h`; `--` ends the
 * options; options and positionals may be mixed. */
typedef struct cli_args {
    const char *cmd; /* for messages */
    int argc;
    char **argv;
    int next;           /* index of the next unread argument */
    bool only_pos;      /* seen `--` */
    const char *opt;    /* current option name, without its `=value` */
    char opt_buf[64];   /* storage for opt when it came as --name=value */
    const char *inline_val; /* the value after `=`, or NULL */
} cli_args;

enum { CLI_ARG_END, CLI_ARG_OPT, CLI_ARG_POS };

void cli_args_init(cli_args *a, int argc, char **argv);
/* CLI_ARG_OPT: a->opt is set ("--json", "-h"); CLI_ARG_POS: *pos is set. */
int cli_args_next(cli_args *a, const char **pos);
/* Fetches the current option's value; on failure prints a usage error and
 * returns false. */
bool cli_args_value(cli_args *a, const char **val);
/* Rejects `--flag=value` on an option that takes no value. */
bool cli_args_no_value(cli_args *a);
/* True for -h / --help. */
bool cli_is_help(const char *opt);
/* Prints the command's help to stdout; returns CLI_OK. */
int cli_print_help(const cli_command *c);

/* Parses a decimal integer in [lo, hi]; false if it is not one. */
bool cli_parse_int(const char *s, long lo, long hi, long *out);

/* ---- formatting ------------------------------------------------------------- */
/* Shape as "[batch, 1, 28, 28]"; "?" for an unknown dim, "[?]" for an
 * unknown rank. */
void cli_format_shape(const ot_value_info *v, char *buf, size_t cap);
void cli_format_dims(int rank, const int64_t *dims, char *buf, size_t cap);
/* Writes s for a human: control characters become \xHH so that one value
   stays on one line. */
void cli_put_text(FILE *f, const char *s);
/* Writes s as a JSON string literal (quotes included); invalid UTF-8 bytes
 * become U+FFFD so the output is always valid JSON. */
void cli_json_string(FILE *f, const char *s);

/* ---- files -------------------------------------------------------------------- */
/* mkdir -p; on failure prints an error and returns false. */
bool cli_mkdirs(const char *path);

#endif
