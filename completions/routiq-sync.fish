# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_routiq_sync_global_optspecs
    string join \n c/config= v/verbose q/quiet no-progress log-format= h/help V/version
end

function __fish_routiq_sync_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_routiq_sync_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_routiq_sync_using_subcommand
    set -l cmd (__fish_routiq_sync_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "sync" -d 'Incremental sync of the selected orgs (full where no cursor exists or one is due)'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "full" -d 'Full sync of the selected orgs now, reconciling records deleted upstream'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "verify" -d 'Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "status" -d 'Show each org\'s last run, cursors and totals; exit 1 if any org is unhealthy'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "check" -d 'Validate the config, show where each setting came from, and probe each org\'s API key'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "forget" -d 'Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "demo" -d 'Run the real sync against a built-in fake Cliniko (no account needed)'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c routiq-sync -n "__fish_routiq_sync_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l org -d 'Only these org ids (repeat or separate with spaces)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l resource -d 'Only these resources (default: each org\'s configured resources)' -r -f -a "patients\t''
appointments\t''
appointment_types\t''
practitioners\t''
businesses\t''
group_appointments\t''
attendees\t''
invoices\t''
products\t''
billable_items\t''
invoice_items\t''
daily_availabilities\t''
availability_blocks\t''
unavailable_blocks\t''
contacts\t''
patient_cases\t''
referral_sources\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -s j -l jobs -d 'Sync up to N orgs at once (default: `jobs` from the config)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l max-run-time -d 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l all -d 'Every org in the config'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l force -d 'Sync even if the org was synced less than `min_interval` ago'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand sync" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -l org -d 'Only these org ids (repeat or separate with spaces)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -l resource -d 'Only these resources (default: each org\'s configured resources)' -r -f -a "patients\t''
appointments\t''
appointment_types\t''
practitioners\t''
businesses\t''
group_appointments\t''
attendees\t''
invoices\t''
products\t''
billable_items\t''
invoice_items\t''
daily_availabilities\t''
availability_blocks\t''
unavailable_blocks\t''
contacts\t''
patient_cases\t''
referral_sources\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -s j -l jobs -d 'Sync up to N orgs at once (default: `jobs` from the config)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -l max-run-time -d 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -l all -d 'Every org in the config'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand full" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -l org -d 'Only these org ids (repeat or separate with spaces)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -l resource -d 'Only these resources (default: each org\'s configured resources)' -r -f -a "patients\t''
appointments\t''
appointment_types\t''
practitioners\t''
businesses\t''
group_appointments\t''
attendees\t''
invoices\t''
products\t''
billable_items\t''
invoice_items\t''
daily_availabilities\t''
availability_blocks\t''
unavailable_blocks\t''
contacts\t''
patient_cases\t''
referral_sources\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -s j -l jobs -d 'Sync up to N orgs at once (default: `jobs` from the config)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -l max-run-time -d 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -l all -d 'Every org in the config'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand verify" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -l org -d 'Only these org ids' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -l format -d 'table for people, json for scripts, openmetrics for Prometheus (textfile collector)' -r -f -a "table\t''
json\t''
openmetrics\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -l max-age -d 'Also count an org as unhealthy when its last success is older than this (e.g. 6h)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -l json -d 'Print one JSON document instead of a table (same as --format json)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand status" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -l org -d 'Only these org ids (default: every org)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand check" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -l org -d 'The org whose data goes (it need not be in the config any more)' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -l yes -d 'Really delete; without it, print what would be deleted and exit 1'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand forget" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l orgs -d 'Number of fake clinic orgs' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l patients -d 'Patients per org' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l appointments-per-patient -d 'Appointments per patient' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l changes -d 'Upstream changes made between the full and the incremental run' -r
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l dir -d 'Keep the config and database in this folder (default: a temporary folder, removed after)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand demo" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -s c -l config -d 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)' -r -F
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -l log-format -d 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars' -r -f -a "text\t''
json\t''"
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -s v -l verbose -d 'More log output (-v debug, -vv trace); RUST_LOG overrides'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -s q -l quiet -d 'Less log output (-q warnings only, -qq errors only)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -l no-progress -d 'Never show progress bars (they only appear when stderr is a terminal anyway)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -s h -l help -d 'Print help'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand completions" -s V -l version -d 'Print version'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "sync" -d 'Incremental sync of the selected orgs (full where no cursor exists or one is due)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "full" -d 'Full sync of the selected orgs now, reconciling records deleted upstream'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "verify" -d 'Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "status" -d 'Show each org\'s last run, cursors and totals; exit 1 if any org is unhealthy'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "check" -d 'Validate the config, show where each setting came from, and probe each org\'s API key'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "forget" -d 'Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "demo" -d 'Run the real sync against a built-in fake Cliniko (no account needed)'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c routiq-sync -n "__fish_routiq_sync_using_subcommand help; and not __fish_seen_subcommand_from sync full verify status check forget demo completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
