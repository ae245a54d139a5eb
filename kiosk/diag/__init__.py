"""The technician's diagnostics: `kiosk diag ...` and the maintenance menu's self-tests.

`command` is the scaffold every `kiosk diag` command stands on (shared options, one-line
failures, exit codes); each device module declares its command and its checks. `selftest` holds
the one self-test per device that both the menu and `kiosk diag selftest` run, and `checks` the
menu's network, configuration, log and outbox views.
"""
