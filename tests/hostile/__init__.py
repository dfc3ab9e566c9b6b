"""Hostile servers, files and flags: each case ends in a finding, "could not run" or a one-line error."""
