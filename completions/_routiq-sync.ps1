
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'routiq-sync' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'routiq-sync'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'routiq-sync' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Incremental sync of the selected orgs (full where no cursor exists or one is due)')
            [CompletionResult]::new('full', 'full', [CompletionResultType]::ParameterValue, 'Full sync of the selected orgs now, reconciling records deleted upstream')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each org''s last run, cursors and totals; exit 1 if any org is unhealthy')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config, show where each setting came from, and probe each org''s API key')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the real sync against a built-in fake Cliniko (no account needed)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'routiq-sync;sync' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only these org ids (repeat or separate with spaces)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only these resources (default: each org''s configured resources)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Sync up to N orgs at once (default: `jobs` from the config)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Sync up to N orgs at once (default: `jobs` from the config)')
            [CompletionResult]::new('--max-run-time', '--max-run-time', [CompletionResultType]::ParameterName, 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every org in the config')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Sync even if the org was synced less than `min_interval` ago')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;full' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only these org ids (repeat or separate with spaces)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only these resources (default: each org''s configured resources)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Sync up to N orgs at once (default: `jobs` from the config)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Sync up to N orgs at once (default: `jobs` from the config)')
            [CompletionResult]::new('--max-run-time', '--max-run-time', [CompletionResultType]::ParameterName, 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every org in the config')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;verify' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only these org ids (repeat or separate with spaces)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only these resources (default: each org''s configured resources)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Sync up to N orgs at once (default: `jobs` from the config)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Sync up to N orgs at once (default: `jobs` from the config)')
            [CompletionResult]::new('--max-run-time', '--max-run-time', [CompletionResultType]::ParameterName, 'Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not started by then are deferred to the next run (default: `max_run_time` from the config)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every org in the config')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;status' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only these org ids')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'table for people, json for scripts, openmetrics for Prometheus (textfile collector)')
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'Also count an org as unhealthy when its last success is older than this (e.g. 6h)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of a table (same as --format json)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;check' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only these org ids (default: every org)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;forget' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'The org whose data goes (it need not be in the config any more)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Really delete; without it, print what would be deleted and exit 1')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;demo' {
            [CompletionResult]::new('--orgs', '--orgs', [CompletionResultType]::ParameterName, 'Number of fake clinic orgs')
            [CompletionResult]::new('--patients', '--patients', [CompletionResultType]::ParameterName, 'Patients per org')
            [CompletionResult]::new('--appointments-per-patient', '--appointments-per-patient', [CompletionResultType]::ParameterName, 'Appointments per patient')
            [CompletionResult]::new('--changes', '--changes', [CompletionResultType]::ParameterName, 'Upstream changes made between the full and the incremental run')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Keep the config and database in this folder (default: a temporary folder, removed after)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml, then /etc/routiq-sync/config.toml)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in the config, then text); json writes one object per line and never shows progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v debug, -vv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q warnings only, -qq errors only)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress bars (they only appear when stderr is a terminal anyway)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'routiq-sync;help' {
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Incremental sync of the selected orgs (full where no cursor exists or one is due)')
            [CompletionResult]::new('full', 'full', [CompletionResultType]::ParameterValue, 'Full sync of the selected orgs now, reconciling records deleted upstream')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each org''s last run, cursors and totals; exit 1 if any org is unhealthy')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config, show where each setting came from, and probe each org''s API key')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the real sync against a built-in fake Cliniko (no account needed)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'routiq-sync;help;sync' {
            break
        }
        'routiq-sync;help;full' {
            break
        }
        'routiq-sync;help;verify' {
            break
        }
        'routiq-sync;help;status' {
            break
        }
        'routiq-sync;help;check' {
            break
        }
        'routiq-sync;help;forget' {
            break
        }
        'routiq-sync;help;demo' {
            break
        }
        'routiq-sync;help;completions' {
            break
        }
        'routiq-sync;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
