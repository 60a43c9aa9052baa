#!/usr/bin/env python
"""Django's command-line entry point."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.umask(0o077)  # every file a command creates in the data dir is private (console/datadir.py)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
