"""The engine conformance suite: every installed network engine against the same real servers.

The engines under test are discovered from ``kclient.engines.registry()`` (installed, and not
opted out of auto-selection as Mock is), so a newly registered engine is tested without any
change here. Each test runs once per engine and per async backend the engine supports; what
an engine cannot do is skipped with a reason naming the engine, never passed silently.
"""
