"""What every function module shares at its edge: the HTTP and CloudEvent decorators, request
argument parsing, upload decoding, the legacy aliases' rewriting and the Server-Timing header.

Function modules (functions/*.py) are the deployed entry points; nothing here is one.
"""
