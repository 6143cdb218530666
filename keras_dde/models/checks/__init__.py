"""Argument checks of the models and networks, run before any work.

Each error names the argument and the fix.
"""
