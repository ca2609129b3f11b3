/* onnxtrain: subcommand dispatch.  A new subcommand is one file defining a
 * cli_command plus one row in the table below. */
#include <string.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_info,
    &cli_cmd_run,
    &cli_cmd_train,
    &cli_cmd_eval,
    &cli_cmd_bench,
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static const cli_command *find_command(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i]->name, name)) return commands[i];
    return NULL;
}

static void print_usage(FILE *f) {
    fprintf(f,
            "usage: onnxtrain <command> [options]\n"
            "       onnxtrain --help | --version\n"
            "\n"
            "Train and run ONNX models.\n"
            "\n"
            "commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f,
            "  %-8s %s\n"
            "\n"
            "Run 'onnxtrain <command> --help' for a command's options.\n"
            "Exit status: 0 on success, 1 when the operation fails, 2 for a bad command line.\n",
            "help", "show the help of a command");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "onnxtrain: error: no command given (see 'onnxtrain --help')\n");
        return CLI_USAGE;
    }
    const char *first = argv[1];
    if (cli_is_help(first)) {
        if (argc > 2) {
            fprintf(stderr, "onnxtrain: error: unexpected argument '%s' after %s\n", argv[2], first);
            return CLI_USAGE;
        }
        print_usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(first, "--version") || !strcmp(first, "-V")) {
        if (argc > 2) {
            fprintf(stderr, "onnxtrain: error: unexpected argument '%s' after %s\n", argv[2], first);
            return CLI_USAGE;
        }
        printf("onnxtrain %s\n", ot_version());
        return CLI_OK;
    }
    if (!strcmp(first, "help")) {
        if (argc == 2) {
            print_usage(stdout);
            return CLI_OK;
        }
        const cli_command *c = find_command(argv[2]);
        if (!c || argc > 3) {
            fprintf(stderr, "onnxtrain: error: %s '%s' (see 'onnxtrain --help')\n",
                    c ? "unexpected argument" : "unknown command", c ? argv[3] : argv[2]);
            return CLI_USAGE;
        }
        return cli_print_help(c);
    }
    if (first[0] == '-') {
        fprintf(stderr, "onnxtrain: error: unknown option '%s' (see 'onnxtrain --help')\n", first);
        return CLI_USAGE;
    }
    const cli_command *c = find_command(first);
    if (!c) {
        fprintf(stderr, "onnxtrain: error: unknown command '%s' (see 'onnxtrain --help')\n", first);
        return CLI_USAGE;
    }
    int rc = c->main(argc - 1, argv + 1);
    /* A failed write to stdout (a full disk, a closed pipe) is a failure too. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_OK) fprintf(stderr, "onnxtrain: error: writing to standard output failed\n");
        return rc == CLI_OK ? CLI_FAIL : rc;
    }
    return rc;
}
