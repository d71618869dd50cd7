"""The fault suite: real components broken on purpose, and what holds when they are.

One module a fault (Redis stopped, the worker killed, the mail server refusing, two sweeps at
once); each test is named for the fault and what holds: nothing is lost, nothing is sent
twice, and no page answers 500.
"""
