
use builtin;
use str;

set edit:completion:arg-completer[routiq-sync] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'routiq-sync'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'routiq-sync'= {
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand sync 'Incremental sync of the selected orgs (full where no cursor exists or one is due)'
            cand full 'Full sync of the selected orgs now, reconciling records deleted upstream'
            cand verify 'Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone'
            cand status 'Show each org''s last run, cursors and totals; exit 1 if any org is unhealthy'
            cand check 'Validate the config, show where each setting came from, and probe each org''s API key'
            cand forget 'Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go'
            cand demo 'Run the real sync against a built-in fake Cliniko (no account needed)'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'routiq-sync;sync'= {
            cand --org 'Only these org ids (repeat or separate with spaces)'
            cand --resource 'Only these resources (default: each org''s configured resources)'
            cand -j 'Sync up to N orgs at once (default: `jobs` from the config)'
            cand --jobs 'Sync up to N orgs at once (default: `jobs` from the config)'
            cand --max-run-time 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand --all 'Every org in the config'
            cand --force 'Sync even if the org was synced less than `min_interval` ago'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;full'= {
            cand --org 'Only these org ids (repeat or separate with spaces)'
            cand --resource 'Only these resources (default: each org''s configured resources)'
            cand -j 'Sync up to N orgs at once (default: `jobs` from the config)'
            cand --jobs 'Sync up to N orgs at once (default: `jobs` from the config)'
            cand --max-run-time 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand --all 'Every org in the config'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;verify'= {
            cand --org 'Only these org ids (repeat or separate with spaces)'
            cand --resource 'Only these resources (default: each org''s configured resources)'
            cand -j 'Sync up to N orgs at once (default: `jobs` from the config)'
            cand --jobs 'Sync up to N orgs at once (default: `jobs` from the config)'
            cand --max-run-time 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand --all 'Every org in the config'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;status'= {
            cand --org 'Only these org ids'
            cand --format 'table for people, json for scripts, openmetrics for Prometheus (textfile collector)'
            cand --max-age 'Also count an org as unhealthy when its last success is older than this (e.g. 6h)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand --json 'Print one JSON document instead of a table (same as --format json)'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;check'= {
            cand --org 'Only these org ids (default: every org)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;forget'= {
            cand --org 'The org whose data goes (it need not be in the config any more)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand --yes 'Really delete; without it, print what would be deleted and exit 1'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;demo'= {
            cand --orgs 'Number of fake clinic orgs'
            cand --patients 'Patients per org'
            cand --appointments-per-patient 'Appointments per patient'
            cand --changes 'Upstream changes made between the full and the incremental run'
            cand --dir 'Keep the config and database in this folder (default: a temporary folder, removed after)'
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;completions'= {
            cand -c 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --config 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)'
            cand --log-format 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars'
            cand -v 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand --verbose 'More log output (-v debug, -vv trace); RUST_LOG overrides'
            cand -q 'Less log output (-q warnings only, -qq errors only)'
            cand --quiet 'Less log output (-q warnings only, -qq errors only)'
            cand --no-progress 'Never show progress bars (they only appear when stderr is a terminal anyway)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'routiq-sync;help'= {
            cand sync 'Incremental sync of the selected orgs (full where no cursor exists or one is due)'
            cand full 'Full sync of the selected orgs now, reconciling records deleted upstream'
            cand verify 'Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone'
            cand status 'Show each org''s last run, cursors and totals; exit 1 if any org is unhealthy'
            cand check 'Validate the config, show where each setting came from, and probe each org''s API key'
            cand forget 'Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go'
            cand demo 'Run the real sync against a built-in fake Cliniko (no account needed)'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'routiq-sync;help;sync'= {
        }
        &'routiq-sync;help;full'= {
        }
        &'routiq-sync;help;verify'= {
        }
        &'routiq-sync;help;status'= {
        }
        &'routiq-sync;help;check'= {
        }
        &'routiq-sync;help;forget'= {
        }
        &'routiq-sync;help;demo'= {
        }
        &'routiq-sync;help;completions'= {
        }
        &'routiq-sync;help;help'= {
        }
    ]
    $completions[$command]
}
