"""Parsers for the records that decide whether a domain's mail is trusted: SPF, DKIM, DMARC, MTA-STS.

Pure functions over record text: no I/O, no exceptions other than the module's own syntax error
types, so property tests can feed them anything and checks can quote exactly what was wrong.
"""
