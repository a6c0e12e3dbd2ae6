/* payram-updater: the upgrade service of a Payram host, and its
 * command-line client.  Without a subcommand it runs the service (usually
 * started by systemd through payram-updater.socket); with one it talks to
 * the running service. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "client/client.h"
#include "daemon/daemon.h"
#include "util/macros.h"

static void usage(void) {
        printf("Usage: payram-updater [--config PATH]       run the service\n"
               "       payram-updater [--url URL] COMMAND   talk to the running service\n"
               "\n"
               "Service options:\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n"
               "\n"
               "Commands: %s; `payram-updater COMMAND --help` shows their options\n"
               "(see payram-updater(8)).\n",
               DEFAULT_CONFIG_PATH, client_commands_list());
}

/* The client may be given --url before its command ("payram-updater --url
 * URL status"): returns the index of the command when everything before it
 * is --url options, 0 otherwise. */
static int find_client_command(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                if (client_is_command(argv[i]))
                        return i;
                if (streq(argv[i], "--url") && i + 1 < argc)
                        i++;
                else if (strncmp(argv[i], "--url=", 6) != 0)
                        return 0;
        }
        return 0;
}

static int run_client(int argc, char **argv, int command) {
        _cleanup_free_ char **args = calloc((size_t) argc + 1, sizeof(char *));
        int n = 0;

        if (!args)
                return EXIT_FAILURE;

        /* The command first, then the --url options, then the rest. */
        args[n++] = argv[command];
        for (int i = 1; i < argc; i++)
                if (i != command)
                        args[n++] = argv[i];
        return client_main(n, args);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config",  required_argument, NULL, 'c' },
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, 'V' },
                {}
        };
        const char *config_path = DEFAULT_CONFIG_PATH;
        bool config_given = false;
        int c, command;

        command = find_client_command(argc, argv);
        if (command > 0)
                return run_client(argc, argv, command);

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        config_given = true;
                        break;
                case 'h':
                        usage();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("payram-updater %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                default:
                        usage();
                        return 2;
                }
        if (optind != argc) {
                if (client_is_command(argv[optind]))
                        fprintf(stderr, "--config belongs to the service; '%s' talks to it and takes --url "
                                        "(see 'payram-updater %s --help')\n", argv[optind], argv[optind]);
                else
                        fprintf(stderr, "Unknown command '%s'; commands: %s (see --help)\n", argv[optind],
                                client_commands_list());
                return 2;
        }
        return daemon_run(config_path, config_given);
}
