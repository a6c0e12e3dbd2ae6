/* payram-updater: the upgrade service of a Payram host, and its
 * command-line client.  Without a subcommand it runs the service (usually
 * started by systemd through payram-updater.socket); with one it talks to
 * the running service. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "build-config.h"
#include "client/client.h"
#include "daemon/daemon.h"
#include "util/macros.h"

static void usage(void) {
        printf("Usage: payram-updater [--config PATH]            run the service\n"
               "       payram-updater status|logs|upgrade|health  talk to the running service\n"
               "                                                  (see payram-updater(8))\n"
               "\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n",
               DEFAULT_CONFIG_PATH);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config",  required_argument, NULL, 'c' },
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, 'V' },
                {}
        };
        const char *config_path = DEFAULT_CONFIG_PATH;
        int c;

        if (argc > 1 && client_is_command(argv[1]))
                return client_main(argc - 1, argv + 1);

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
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
                fprintf(stderr, "Unexpected argument '%s'; see --help\n", argv[optind]);
                return 2;
        }
        return daemon_run(config_path);
}
