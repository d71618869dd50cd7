"""Threats to Accord and the answer to each: one module a threat area, one test a threat.

Read the test names as the list: each says what an attacker tries and what Accord does.
"""
